//! Keyword and pattern rules, compiled once into one [`regex::RegexSet`].
//!
//! A rules file is TOML with one `[[rules]]` table per rule:
//!
//! ```toml
//! [[rules]]
//! id = "pricing"                     # required, unique: letters, digits, '_', '-', '.'
//! priority = 30                      # optional, default 0: higher is tried first;
//!                                    # equal priorities keep file order
//! keywords = ["price", "precio", "السعر"]  # words or phrases
//! patterns = ['\bhow\s+much\b']      # optional regular expressions
//! action = "reply"                   # "reply" or "handoff"
//! text = "Prices are on each product page."
//! ```
//!
//! * **Keywords** match case-insensitively on word boundaries: `hi` matches `Hi!` but not
//!   `this`; `السعر` matches `كم السعر؟` but not `السعرات`. Spaces inside a keyword match
//!   any run of whitespace. A boundary is required only at an edge that is a word
//!   character, so a keyword like `👋` matches anywhere.
//! * **Patterns** are [`regex`] syntax, matched case-insensitively.
//! * Before matching, the message, the keywords and the patterns are *folded*
//!   ([`fold`]): Spanish/Latin accents are dropped (`envío` = `envio`), Arabic diacritics
//!   (harakat, tanwin) and tatweel are removed, hamza/madda forms of alef become a plain
//!   alef (`أهلاً` = `اهلا`), and `’` becomes `'`.
//! * A rule needs at least one keyword or pattern, and `text` (at most 1000 bytes, the
//!   Send API limit). `reply` answers with `text`; `handoff` sends `text` and puts the
//!   conversation in the hands of a human.
//! * Unknown keys are an error (a misspelt `keywrods` would otherwise disable a rule
//!   silently).
//!
//! All rules compile into one [`RegexSet`], ordered by priority, so a message is scanned
//! once and the first match by priority wins.
//!
//! ```
//! use bot_kit::rules::{Action, RuleSet};
//!
//! let rules = RuleSet::embedded_default();
//! let rule = rules.find("Hola, ¿cuánto cuesta el envío?").unwrap();
//! assert_eq!(rule.id(), "shipping"); // shipping (40) outranks pricing (30)
//! assert!(matches!(rule.action(), Action::Reply { .. }));
//! assert_eq!(rules.find("مرحبا").unwrap().id(), "greeting");
//! assert!(rules.find("what colours does the linen shirt come in").is_none());
//! ```

use std::fmt;
use std::path::Path;

use regex::{RegexBuilder, RegexSet, RegexSetBuilder};
use thiserror::Error;
use toml::{Table, Value};

/// The embedded default rules (`rules.default.toml`): greeting, pricing, shipping,
/// returns, hours and human handoff, with English, Spanish and Arabic keywords.
pub const DEFAULT_RULES_TOML: &str = include_str!("../rules.default.toml");

/// Maximum size of a message text accepted by the Send API, in bytes.
pub const MAX_TEXT_BYTES: usize = 1000;

/// Compiled size limit of one rule's regular expression and of the whole set.
const REGEX_SIZE_LIMIT: usize = 16 * 1024 * 1024;

/// What a matched rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Answer with `text`.
    Reply {
        /// The reply.
        text: String,
    },
    /// Send `text` (telling the user a human will follow up) and hand the conversation
    /// to a human.
    Handoff {
        /// The message sent to the user.
        text: String,
    },
}

impl Action {
    /// The text the bot sends for this action.
    pub fn text(&self) -> &str {
        match self {
            Self::Reply { text } | Self::Handoff { text } => text,
        }
    }

    /// `true` for [`Action::Handoff`].
    pub fn is_handoff(&self) -> bool {
        matches!(self, Self::Handoff { .. })
    }
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    id: String,
    priority: i64,
    keywords: Vec<String>,
    patterns: Vec<String>,
    action: Action,
}

impl Rule {
    /// The rule's id, unique within its set.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rule's priority (higher is tried first).
    pub fn priority(&self) -> i64 {
        self.priority
    }

    /// The keywords as written in the file.
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    /// The patterns as written in the file.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// What the rule does when it matches.
    pub fn action(&self) -> &Action {
        &self.action
    }
}

/// A set of rules compiled into one [`RegexSet`].
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Sorted by priority (descending), ties in file order; index = RegexSet index.
    rules: Vec<Rule>,
    set: RegexSet,
}

impl RuleSet {
    /// Parses and compiles a rules file.
    ///
    /// # Errors
    ///
    /// [`RulesError`] naming the rule (by id, or by position when it has none) and what
    /// is wrong: invalid TOML, missing or duplicate id, unknown key, wrong type, no
    /// keywords or patterns, empty keyword, invalid regular expression, unknown action,
    /// empty or over-long text.
    pub fn from_toml(source: &str) -> Result<Self, RulesError> {
        let table: Table = source.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|span| source.get(..span.start).unwrap_or("").matches('\n').count() + 1);
            let message = e.message().trim().replace('\n', " ");
            let detail = match line {
                Some(line) => format!("invalid TOML at line {line}: {message}"),
                None => format!("invalid TOML: {message}"),
            };
            RulesError::file(RulesErrorKind::Syntax, detail)
        })?;

        for key in table.keys() {
            if key != "rules" {
                return Err(RulesError::file(
                    RulesErrorKind::UnknownKey,
                    format!("unknown top-level key {key:?} (expected [[rules]] tables)"),
                ));
            }
        }
        let raw_rules = match table.get("rules") {
            None => &[][..],
            Some(Value::Array(items)) => items.as_slice(),
            Some(_) => {
                return Err(RulesError::file(
                    RulesErrorKind::WrongType,
                    "`rules` must be an array of tables ([[rules]])".to_owned(),
                ));
            }
        };

        let mut rules: Vec<Rule> = Vec::with_capacity(raw_rules.len());
        for (index, raw) in raw_rules.iter().enumerate() {
            let rule = parse_rule(index, raw)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(RulesError::rule(
                    Some(&rule.id),
                    index,
                    RulesErrorKind::DuplicateId,
                    "id is used by an earlier rule".to_owned(),
                ));
            }
            rules.push(rule);
        }
        // Stable sort: equal priorities keep file order.
        rules.sort_by_key(|r| std::cmp::Reverse(r.priority));

        let mut sources = Vec::with_capacity(rules.len());
        for (index, rule) in rules.iter().enumerate() {
            sources.push(compile_rule_source(rule, index)?);
        }
        let set = RegexSetBuilder::new(&sources)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                RulesError::file(
                    RulesErrorKind::TooLarge,
                    format!("the rules do not compile into one set: {}", one_line(&e)),
                )
            })?;
        Ok(Self { rules, set })
    }

    /// Reads and compiles a rules file.
    ///
    /// # Errors
    ///
    /// [`RulesErrorKind::Io`] when the file cannot be read, otherwise as
    /// [`RuleSet::from_toml`].
    pub fn from_file(path: &Path) -> Result<Self, RulesError> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            RulesError::file(
                RulesErrorKind::Io,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::from_toml(&source)
    }

    /// The embedded default set ([`DEFAULT_RULES_TOML`]).
    pub fn embedded_default() -> Self {
        #[allow(
            clippy::expect_used,
            reason = "compile-time constant, validated by the unit test `embedded_default_compiles`"
        )]
        Self::from_toml(DEFAULT_RULES_TOML).expect("the embedded rules.default.toml is valid")
    }

    /// An empty set: nothing matches.
    pub fn empty() -> Self {
        Self {
            rules: Vec::new(),
            set: RegexSet::empty(),
        }
    }

    /// The first rule (by priority, then file order) that matches `text`.
    pub fn find(&self, text: &str) -> Option<&Rule> {
        if self.rules.is_empty() {
            return None;
        }
        let folded = fold(text);
        let first = self.set.matches(&folded).into_iter().next()?;
        self.rules.get(first)
    }

    /// The rules in match order (priority descending, then file order).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// `true` when the set has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// What is wrong with a rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RulesErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not valid TOML.
    Syntax,
    /// A key that the schema does not know.
    UnknownKey,
    /// A value of the wrong type.
    WrongType,
    /// A rule without `id`, or an invalid id.
    InvalidId,
    /// Two rules with the same id.
    DuplicateId,
    /// A rule with neither keywords nor patterns.
    NoMatchers,
    /// An empty keyword.
    EmptyKeyword,
    /// A pattern that is not a valid regular expression.
    InvalidPattern,
    /// An action other than `reply` / `handoff`, or a missing action.
    InvalidAction,
    /// A missing, empty or over-long `text`.
    InvalidText,
    /// The rules do not fit the regex size limit.
    TooLarge,
}

/// A rules file that cannot be used. `Display` is one line naming the rule.
///
/// ```
/// use bot_kit::rules::{RuleSet, RulesErrorKind};
///
/// let err = RuleSet::from_toml(
///     r#"
///     [[rules]]
///     id = "pricing"
///     patterns = ["(unclosed"]
///     action = "reply"
///     text = "see the shop"
///     "#,
/// )
/// .unwrap_err();
/// assert_eq!(err.kind(), RulesErrorKind::InvalidPattern);
/// assert_eq!(err.rule_id(), Some("pricing"));
/// assert!(err.to_string().starts_with(r#"rule "pricing": patterns[0] is not a valid regular expression"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct RulesError {
    rule_id: Option<String>,
    index: Option<usize>,
    kind: RulesErrorKind,
    detail: String,
}

impl RulesError {
    fn file(kind: RulesErrorKind, detail: String) -> Self {
        Self {
            rule_id: None,
            index: None,
            kind,
            detail,
        }
    }

    fn rule(id: Option<&str>, index: usize, kind: RulesErrorKind, detail: String) -> Self {
        Self {
            rule_id: id.map(str::to_owned),
            index: Some(index),
            kind,
            detail,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> RulesErrorKind {
        self.kind
    }

    /// The id of the offending rule, when it has one.
    pub fn rule_id(&self) -> Option<&str> {
        self.rule_id.as_deref()
    }

    /// The position of the offending rule in the file (0-based), when the error is about
    /// one rule.
    pub fn rule_index(&self) -> Option<usize> {
        self.index
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rule_id, self.index) {
            (Some(id), _) => write!(f, "rule {id:?}: {}", self.detail),
            (None, Some(index)) => write!(f, "rule #{} (no id): {}", index + 1, self.detail),
            (None, None) => f.write_str(&self.detail),
        }
    }
}

fn parse_rule(index: usize, raw: &Value) -> Result<Rule, RulesError> {
    let Value::Table(table) = raw else {
        return Err(RulesError::rule(
            None,
            index,
            RulesErrorKind::WrongType,
            "must be a table ([[rules]])".to_owned(),
        ));
    };

    let id = match table.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(_) => {
            return Err(RulesError::rule(
                None,
                index,
                RulesErrorKind::InvalidId,
                "`id` must be a string".to_owned(),
            ));
        }
        None => {
            return Err(RulesError::rule(
                None,
                index,
                RulesErrorKind::InvalidId,
                "missing `id`".to_owned(),
            ));
        }
    };
    let err = |kind, detail: String| RulesError::rule(Some(&id), index, kind, detail);
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(err(
            RulesErrorKind::InvalidId,
            "`id` must be 1-64 letters, digits, '_', '-' or '.'".to_owned(),
        ));
    }

    for key in table.keys() {
        if !matches!(
            key.as_str(),
            "id" | "priority" | "keywords" | "patterns" | "action" | "text"
        ) {
            return Err(err(
                RulesErrorKind::UnknownKey,
                format!(
                    "unknown key {key:?} (expected id, priority, keywords, patterns, action, text)"
                ),
            ));
        }
    }

    let priority = match table.get("priority") {
        None => 0,
        Some(Value::Integer(p)) => *p,
        Some(_) => {
            return Err(err(
                RulesErrorKind::WrongType,
                "`priority` must be an integer".to_owned(),
            ));
        }
    };

    let string_list = |key: &str| -> Result<Vec<String>, RulesError> {
        match table.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(err(
                        RulesErrorKind::WrongType,
                        format!("{key}[{i}] must be a string"),
                    )),
                })
                .collect(),
            Some(_) => Err(err(
                RulesErrorKind::WrongType,
                format!("`{key}` must be an array of strings"),
            )),
        }
    };
    let keywords = string_list("keywords")?;
    let patterns = string_list("patterns")?;
    if keywords.is_empty() && patterns.is_empty() {
        return Err(err(
            RulesErrorKind::NoMatchers,
            "needs at least one keyword or pattern".to_owned(),
        ));
    }
    for (i, keyword) in keywords.iter().enumerate() {
        if fold(keyword).trim().is_empty() {
            return Err(err(
                RulesErrorKind::EmptyKeyword,
                format!("keywords[{i}] is empty"),
            ));
        }
    }
    for (i, pattern) in patterns.iter().enumerate() {
        if let Err(e) = RegexBuilder::new(&pattern_source(pattern))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            return Err(err(
                RulesErrorKind::InvalidPattern,
                format!(
                    "patterns[{i}] is not a valid regular expression: {}",
                    one_line(&e)
                ),
            ));
        }
    }

    let text = match table.get("text") {
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            return Err(err(
                RulesErrorKind::WrongType,
                "`text` must be a string".to_owned(),
            ));
        }
        None => {
            return Err(err(
                RulesErrorKind::InvalidText,
                "missing `text`".to_owned(),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(err(
            RulesErrorKind::InvalidText,
            "`text` is empty".to_owned(),
        ));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(err(
            RulesErrorKind::InvalidText,
            format!(
                "`text` is {} bytes; the Send API accepts at most {MAX_TEXT_BYTES}",
                text.len()
            ),
        ));
    }

    let action = match table.get("action") {
        Some(Value::String(a)) if a == "reply" => Action::Reply { text },
        Some(Value::String(a)) if a == "handoff" => Action::Handoff { text },
        Some(Value::String(a)) => {
            return Err(err(
                RulesErrorKind::InvalidAction,
                format!("unknown action {a:?} (expected \"reply\" or \"handoff\")"),
            ));
        }
        Some(_) => {
            return Err(err(
                RulesErrorKind::WrongType,
                "`action` must be a string".to_owned(),
            ));
        }
        None => {
            return Err(err(
                RulesErrorKind::InvalidAction,
                "missing `action` (\"reply\" or \"handoff\")".to_owned(),
            ));
        }
    };

    Ok(Rule {
        id,
        priority,
        keywords,
        patterns,
        action,
    })
}

/// The regex source of one user pattern: folded, case-insensitive.
fn pattern_source(pattern: &str) -> String {
    format!("(?i:{})", fold(pattern))
}

/// The regex source of one keyword: folded, escaped, whitespace-tolerant, bounded.
fn keyword_source(keyword: &str) -> String {
    let folded = fold(keyword);
    let words: Vec<String> = folded.split_whitespace().map(regex::escape).collect();
    let body = words.join(r"\s+");
    let trimmed = folded.trim();
    let start = if trimmed.chars().next().is_some_and(is_word_char) {
        r"\b"
    } else {
        ""
    };
    let end = if trimmed.chars().next_back().is_some_and(is_word_char) {
        r"\b"
    } else {
        ""
    };
    format!("(?i:{start}{body}{end})")
}

fn compile_rule_source(rule: &Rule, index: usize) -> Result<String, RulesError> {
    let alternatives: Vec<String> = rule
        .keywords
        .iter()
        .map(|k| keyword_source(k))
        .chain(rule.patterns.iter().map(|p| pattern_source(p)))
        .collect();
    let source = alternatives.join("|");
    // Compile the rule alone first so a size problem names the rule.
    RegexBuilder::new(&source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            RulesError::rule(
                Some(&rule.id),
                index,
                RulesErrorKind::TooLarge,
                format!("does not compile: {}", one_line(&e)),
            )
        })?;
    Ok(source)
}

/// Unicode `\w` as the regex crate defines it, close enough for deciding where a
/// keyword needs a boundary.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_mark(c)
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

fn one_line(e: &dyn fmt::Display) -> String {
    e.to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Folds text for matching (applied to messages, keywords and patterns alike).
///
/// * Latin letters with accents (á, é, í, ó, ú, ü, à, è, â, ê, ç, …) lose the accent;
///   `ñ` is kept (it is a different letter). Combining accents (U+0300–U+036F) are
///   removed.
/// * Arabic harakat and tanwin (U+064B–U+065F), the superscript alef (U+0670) and the
///   tatweel (U+0640) are removed; `أ إ آ ٱ` become `ا`.
/// * `’` and `‘` become `'`.
///
/// Case is left alone: matching is case-insensitive.
///
/// ```
/// use bot_kit::rules::fold;
///
/// assert_eq!(fold("Envío RÁPIDO"), "Envio RAPIDO");
/// assert_eq!(fold("أهلاً"), "اهلا");
/// assert_eq!(fold("what’s up"), "what's up");
/// assert_eq!(fold("año"), "año");
/// ```
pub fn fold(text: &str) -> String {
    text.chars().filter_map(fold_char).collect()
}

fn fold_char(c: char) -> Option<char> {
    Some(match c {
        '\u{0300}'..='\u{036F}' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => {
            return None;
        }
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        '’' | '‘' => '\'',
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'O',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        'ç' => 'c',
        'Ç' => 'C',
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(rule: &str) -> Result<RuleSet, RulesError> {
        RuleSet::from_toml(rule)
    }

    #[test]
    fn embedded_default_compiles() {
        let rules = RuleSet::from_toml(DEFAULT_RULES_TOML).unwrap();
        let ids: Vec<&str> = rules.rules().iter().map(Rule::id).collect();
        assert_eq!(
            ids,
            [
                "human_handoff",
                "returns",
                "shipping",
                "pricing",
                "hours",
                "greeting"
            ]
        );
        assert!(rules.get("human_handoff").unwrap().action().is_handoff());
        for rule in rules.rules() {
            assert!(
                rule.action().text().len() <= MAX_TEXT_BYTES,
                "{}",
                rule.id()
            );
        }
    }

    #[test]
    fn english_spanish_arabic_keywords_match() {
        let rules = RuleSet::embedded_default();
        let cases = [
            ("Hello there", "greeting"),
            ("HEY!", "greeting"),
            ("buenos dias", "greeting"),
            ("Buenos días 🙂", "greeting"),
            ("مرحبا", "greeting"),
            ("أهلاً وسهلاً", "greeting"),
            ("السلام عليكم", "greeting"),
            ("How much is the linen shirt?", "pricing"),
            ("¿Cuánto cuesta?", "pricing"),
            ("cuanto cuesta", "pricing"),
            ("كم السعر؟", "pricing"),
            ("بكم هذا", "pricing"),
            ("Do you ship to Spain?", "shipping"),
            ("¿Hacen envíos a México?", "shipping"),
            ("متى التوصيل", "shipping"),
            ("I want a refund", "returns"),
            ("quiero una devolución", "returns"),
            ("أريد استرجاع المنتج", "returns"),
            ("what are your opening hours", "hours"),
            ("¿Cuál es su horario?", "hours"),
            ("ما هي ساعات العمل", "hours"),
            ("Can I talk to a human?", "human_handoff"),
            ("quiero hablar con un humano", "human_handoff"),
            ("أريد التحدث مع موظف", "human_handoff"),
        ];
        for (text, want) in cases {
            let got = rules.find(text).map(Rule::id);
            assert_eq!(got, Some(want), "{text:?}");
        }
    }

    #[test]
    fn keywords_respect_word_boundaries_in_every_script() {
        let rules = RuleSet::embedded_default();
        // "hi" inside "this"/"shipping"; "ship" inside "relationship";
        // "السعر" inside "السعرات" (calories); "سلام" inside "سلامات"? (its own word) …
        for text in [
            "this is nice",
            "our relationship",
            "كم عدد السعرات",
            "holanda es bonita",
            "chicken",
        ] {
            assert_eq!(rules.find(text).map(Rule::id), None, "{text:?}");
        }
    }

    #[test]
    fn first_match_by_priority_then_file_order() {
        let rules = one(r#"
            [[rules]]
            id = "low"
            keywords = ["apple"]
            action = "reply"
            text = "low"

            [[rules]]
            id = "high"
            priority = 5
            keywords = ["apple pie"]
            action = "handoff"
            text = "high"

            [[rules]]
            id = "tie"
            keywords = ["apple"]
            action = "reply"
            text = "tie"
            "#)
        .unwrap();
        assert_eq!(rules.find("an apple").unwrap().id(), "low");
        assert_eq!(rules.find("APPLE   pie please").unwrap().id(), "high");
        assert_eq!(
            rules.rules().iter().map(Rule::id).collect::<Vec<_>>(),
            ["high", "low", "tie"]
        );
    }

    #[test]
    fn patterns_are_case_insensitive_and_folded() {
        let rules = one(r#"
            [[rules]]
            id = "order"
            patterns = ['\border\s*#?\d{4,}', 'envío\s+gratis']
            action = "reply"
            text = "checking"
            "#)
        .unwrap();
        assert!(rules.find("where is ORDER #12345").is_some());
        assert!(rules.find("hay envio GRATIS?").is_some());
        assert!(rules.find("order 12").is_none());
    }

    #[test]
    fn keyword_with_symbol_edges_needs_no_boundary() {
        let rules = one(r#"
            [[rules]]
            id = "wave"
            keywords = ["👋", "c++"]
            action = "reply"
            text = "hi"
            "#)
        .unwrap();
        assert!(rules.find("hey👋").is_some());
        assert!(rules.find("I like C++!").is_some());
        assert!(rules.find("I like c").is_none());
    }

    #[test]
    fn empty_set_matches_nothing() {
        assert!(RuleSet::empty().find("hi").is_none());
        let rules = one("").unwrap();
        assert!(rules.is_empty());
        assert!(rules.find("hi").is_none());
    }

    fn error_of(src: &str) -> RulesError {
        RuleSet::from_toml(src).unwrap_err()
    }

    #[test]
    fn invalid_files_name_the_rule_and_the_problem() {
        let e = error_of("[[rules]]\nid = \"a\"\nkeywords = [\"x\"\naction = \"reply\"");
        assert_eq!(e.kind(), RulesErrorKind::Syntax);
        assert!(e.to_string().starts_with("invalid TOML at line "), "{e}");
        assert!(!e.to_string().contains('\n'));

        let e = error_of("[[rules]]\nkeywords = [\"x\"]\naction = \"reply\"\ntext = \"t\"");
        assert_eq!(e.kind(), RulesErrorKind::InvalidId);
        assert_eq!(e.to_string(), "rule #1 (no id): missing `id`");

        let e = error_of(
            "[[rules]]\nid = \"a\"\nkeywords = [\"x\"]\naction = \"reply\"\ntext = \"t\"\n\
             [[rules]]\nid = \"a\"\nkeywords = [\"y\"]\naction = \"reply\"\ntext = \"t\"",
        );
        assert_eq!(e.kind(), RulesErrorKind::DuplicateId);
        assert_eq!(e.rule_index(), Some(1));
        assert_eq!(e.to_string(), "rule \"a\": id is used by an earlier rule");

        let e = error_of(
            "[[rules]]\nid = \"greet\"\nkeywrods = [\"x\"]\naction = \"reply\"\ntext = \"t\"",
        );
        assert_eq!(e.kind(), RulesErrorKind::UnknownKey);
        assert!(
            e.to_string()
                .starts_with("rule \"greet\": unknown key \"keywrods\""),
            "{e}"
        );

        let e = error_of("[[rules]]\nid = \"greet\"\naction = \"reply\"\ntext = \"t\"");
        assert_eq!(e.kind(), RulesErrorKind::NoMatchers);
        assert_eq!(e.rule_id(), Some("greet"));

        let e =
            error_of("[[rules]]\nid = \"g\"\nkeywords = [\" \"]\naction = \"reply\"\ntext = \"t\"");
        assert_eq!(e.kind(), RulesErrorKind::EmptyKeyword);
        assert_eq!(e.to_string(), "rule \"g\": keywords[0] is empty");

        let e =
            error_of("[[rules]]\nid = \"g\"\nkeywords = [\"x\"]\naction = \"shout\"\ntext = \"t\"");
        assert_eq!(e.kind(), RulesErrorKind::InvalidAction);
        assert!(e.to_string().contains("unknown action \"shout\""));

        let e = error_of("[[rules]]\nid = \"g\"\nkeywords = [\"x\"]\naction = \"reply\"");
        assert_eq!(e.kind(), RulesErrorKind::InvalidText);

        let long = "a".repeat(MAX_TEXT_BYTES + 1);
        let e = error_of(&format!(
            "[[rules]]\nid = \"g\"\nkeywords = [\"x\"]\naction = \"reply\"\ntext = \"{long}\""
        ));
        assert_eq!(e.kind(), RulesErrorKind::InvalidText);
        assert!(e.to_string().contains("1001 bytes"));

        let e = error_of(
            "[[rules]]\nid = \"g\"\npriority = \"high\"\nkeywords = [\"x\"]\naction = \"reply\"\ntext = \"t\"",
        );
        assert_eq!(e.kind(), RulesErrorKind::WrongType);
        assert_eq!(e.to_string(), "rule \"g\": `priority` must be an integer");

        let e = error_of(
            "[[rules]]\nid = \"has space\"\nkeywords = [\"x\"]\naction = \"reply\"\ntext = \"t\"",
        );
        assert_eq!(e.kind(), RulesErrorKind::InvalidId);

        let e = error_of("[rule]\nid = \"g\"");
        assert_eq!(e.kind(), RulesErrorKind::UnknownKey);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = RuleSet::from_file(Path::new("/nonexistent/rules.toml")).unwrap_err();
        assert_eq!(e.kind(), RulesErrorKind::Io);
        assert!(e.to_string().contains("/nonexistent/rules.toml"));
    }
}

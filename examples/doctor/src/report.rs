//! The outcome of a run: one line per check, the fix for every problem, as text or JSON,
//! and the exit code.

use std::fmt::Write as _;

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Checked and fine.
    Ok,
    /// Checked and wrong: the check carries the fix.
    Problem,
    /// Could not be checked (Meta unreachable, a missing setting, an answer the doctor does
    /// not understand).
    Unchecked,
}

impl Status {
    /// `✓`, `✗` or `?`.
    pub const fn mark(self) -> &'static str {
        match self {
            Self::Ok => "✓",
            Self::Problem => "✗",
            Self::Unchecked => "?",
        }
    }
}

/// One check's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked: `token`, `account`, `app webhooks`, `subscribed apps`, `callback`,
    /// `phone number`.
    pub check: &'static str,
    /// The outcome.
    pub status: Status,
    /// What the doctor found.
    pub detail: String,
    /// What to do about it (problems and unchecked checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn ok(check: &'static str, detail: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    /// A problem and its fix.
    pub fn problem(check: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            check,
            status: Status::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A check that could not be made, and how to make it possible.
    pub fn unchecked(
        check: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            check,
            status: Status::Unchecked,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The checks of one subject: the app, an Instagram account, a WhatsApp number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// `app`, `instagram` or `whatsapp`.
    pub kind: &'static str,
    /// The app id, Instagram account id or phone number id.
    pub id: String,
    /// The heading shown in text output.
    pub title: String,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

/// One change `--fix` made (or would make).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixOutcome {
    /// What the change does, e.g. `subscribe app 123 to Page 456's fields feed`.
    pub description: String,
    /// The Graph request, without any token: `POST /456/subscribed_apps?subscribed_fields=feed`.
    pub request: String,
    /// Whether it was made and Meta accepted it.
    pub applied: bool,
    /// Why not, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything a run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The sections, in order (the app first).
    pub sections: Vec<Section>,
    /// The changes `--fix` made; empty without `--fix`.
    pub fixes: Vec<FixOutcome>,
}

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything was checked and is fine: exit code 0.
    Healthy,
    /// At least one problem: exit code 1.
    Problems,
    /// No problem found, but something could not be checked: exit code 2.
    Incomplete,
}

impl Outcome {
    /// The process exit code: 0, 1 or 2.
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Healthy => 0,
            Self::Problems => 1,
            Self::Incomplete => 2,
        }
    }
}

impl Report {
    /// Every check, in order.
    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.sections.iter().flat_map(|s| s.checks.iter())
    }

    /// The overall outcome: problems win over unchecked checks; a report without any
    /// check (nothing configured) is incomplete.
    pub fn outcome(&self) -> Outcome {
        if self.checks().any(|c| c.status == Status::Problem) {
            Outcome::Problems
        } else if self.checks().next().is_none()
            || self.checks().any(|c| c.status == Status::Unchecked)
        {
            Outcome::Incomplete
        } else {
            Outcome::Healthy
        }
    }

    /// The text output: a heading per section, one line per check, the fix indented under
    /// it, and a summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            let _ = writeln!(out, "{}", section.title);
            for check in &section.checks {
                let _ = writeln!(
                    out,
                    "  {} {}: {}",
                    check.status.mark(),
                    check.check,
                    check.detail
                );
                if let Some(fix) = &check.fix {
                    let _ = writeln!(out, "      fix: {fix}");
                }
            }
        }
        for fix in &self.fixes {
            match (&fix.applied, &fix.error) {
                (true, _) => {
                    let _ = writeln!(out, "fixed: {} ({})", fix.description, fix.request);
                }
                (false, Some(error)) => {
                    let _ = writeln!(
                        out,
                        "not fixed: {} ({}): {error}",
                        fix.description, fix.request
                    );
                }
                (false, None) => {
                    let _ = writeln!(out, "not applied: {} ({})", fix.description, fix.request);
                }
            }
        }
        let problems = self
            .checks()
            .filter(|c| c.status == Status::Problem)
            .count();
        let unchecked = self
            .checks()
            .filter(|c| c.status == Status::Unchecked)
            .count();
        let _ = match self.outcome() {
            Outcome::Healthy => writeln!(out, "All checks passed."),
            Outcome::Problems => writeln!(
                out,
                "{problems} problem{} found{}.",
                if problems == 1 { "" } else { "s" },
                if unchecked > 0 {
                    format!(
                        ", {unchecked} check{} not made",
                        if unchecked == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            ),
            Outcome::Incomplete if self.sections.is_empty() => {
                writeln!(out, "Nothing to check: no account is configured.")
            }
            Outcome::Incomplete => writeln!(
                out,
                "No problem found, but {unchecked} check{} could not be made.",
                if unchecked == 1 { "" } else { "s" }
            ),
        };
        out
    }

    /// The JSON output: `{"outcome", "exit_code", "sections": [{"kind", "id", "title",
    /// "checks": [{"check", "status", "detail", "fix"?}]}], "fixes": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        let outcome = self.outcome();
        serde_json::json!({
            "outcome": outcome,
            "exit_code": outcome.exit_code(),
            "sections": self.sections,
            "fixes": self.fixes,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn report(statuses: &[Status]) -> Report {
        Report {
            sections: vec![Section {
                kind: "app",
                id: "1".into(),
                title: "App 1".into(),
                checks: statuses
                    .iter()
                    .map(|&status| Check {
                        check: "token",
                        status,
                        detail: "d".into(),
                        fix: (status != Status::Ok).then(|| "f".to_owned()),
                    })
                    .collect(),
            }],
            fixes: Vec::new(),
        }
    }

    #[test]
    fn outcomes_and_exit_codes() {
        use Status::*;
        assert_eq!(report(&[Ok, Ok]).outcome().exit_code(), 0);
        assert_eq!(report(&[Ok, Problem, Unchecked]).outcome().exit_code(), 1);
        assert_eq!(report(&[Ok, Unchecked]).outcome().exit_code(), 2);
        assert_eq!(Report::default().outcome().exit_code(), 2);
    }

    #[test]
    fn text_lines() {
        let text = report(&[Status::Ok, Status::Problem]).to_text();
        assert_eq!(
            text,
            "App 1\n  ✓ token: d\n  ✗ token: d\n      fix: f\n1 problem found.\n"
        );
    }
}

//! In-memory conversation store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use super::{
    Conversation, ConversationKey, ConversationState, ConversationStore, HistoryMessage,
    ResolveOutcome, Role, StoreError, StoreOptions,
};

/// Expired records are swept from the map once every this many writes.
const SWEEP_EVERY: u64 = 1024;

/// Conversation records in this process's memory, behind one mutex (held only for the
/// few microseconds of an update, never across an `.await`). Records expire `ttl` after
/// their last update; expired records are invisible at once and removed by a periodic
/// sweep. Cloning shares the records.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: StoreOptions,
    records: Mutex<HashMap<ConversationKey, Entry>>,
    writes: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    conversation: Conversation,
    expires: Instant,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(options: StoreOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                records: Mutex::new(HashMap::new()),
                writes: AtomicU64::new(0),
            }),
        }
    }

    /// Number of live (unexpired) records.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.lock().values().filter(|e| e.expires > now).count()
    }

    /// `true` when no live record exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConversationKey, Entry>> {
        // A panic while holding the lock cannot leave a record half-written (every
        // update builds the new record before storing it), so a poisoned lock is safe to
        // keep using.
        self.inner
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `update` on the live record (a fresh active one when there is none), stores
    /// the result with a refreshed TTL and returns what `update` returned.
    fn write<R>(&self, key: &ConversationKey, update: impl FnOnce(&mut Conversation) -> R) -> R {
        let now = Instant::now();
        let mut records = self.lock();
        if self.inner.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            records.retain(|_, e| e.expires > now);
        }
        let entry = records.entry(key.clone()).or_insert_with(|| Entry {
            conversation: fresh(),
            expires: now,
        });
        if entry.expires <= now {
            entry.conversation = fresh();
        }
        let result = update(&mut entry.conversation);
        entry.conversation.updated = SystemTime::now();
        entry.expires = now + self.inner.options.ttl;
        result
    }

    fn read<R>(&self, key: &ConversationKey, f: impl FnOnce(&Conversation) -> R) -> Option<R> {
        let now = Instant::now();
        let records = self.lock();
        records
            .get(key)
            .filter(|e| e.expires > now)
            .map(|e| f(&e.conversation))
    }
}

fn fresh() -> Conversation {
    Conversation {
        state: ConversationState::Active,
        history: Vec::new(),
        last_inbound: None,
        updated: SystemTime::now(),
    }
}

impl ConversationStore for MemoryStore {
    async fn load(&self, key: &ConversationKey) -> Result<Option<Conversation>, StoreError> {
        Ok(self.read(key, Clone::clone))
    }

    async fn append(
        &self,
        key: &ConversationKey,
        messages: &[HistoryMessage],
    ) -> Result<Conversation, StoreError> {
        let cap = self.inner.options.history_cap;
        Ok(self.write(key, |c| {
            for message in messages {
                // The same event handled again (a retry, a redelivery) appends nothing.
                if !c.history.contains(message) {
                    c.history.push(message.clone());
                }
            }
            let excess = c.history.len().saturating_sub(cap);
            c.history.drain(..excess);
            let latest_inbound = messages
                .iter()
                .filter(|m| m.role == Role::User)
                .map(|m| m.at)
                .max();
            if let Some(at) = latest_inbound {
                c.last_inbound = Some(c.last_inbound.map_or(at, |prev| prev.max(at)));
            }
            c.updated = SystemTime::now();
            c.clone()
        }))
    }

    async fn set_handoff(&self, key: &ConversationKey, reason: &str) -> Result<bool, StoreError> {
        Ok(self.write(key, |c| {
            if c.is_handoff() {
                return false;
            }
            c.state = ConversationState::Handoff {
                reason: reason.to_owned(),
                since: SystemTime::now(),
            };
            true
        }))
    }

    async fn resolve(&self, key: &ConversationKey) -> Result<ResolveOutcome, StoreError> {
        let now = Instant::now();
        let mut records = self.lock();
        let Some(entry) = records.get_mut(key).filter(|e| e.expires > now) else {
            return Ok(ResolveOutcome::NotFound);
        };
        if !entry.conversation.is_handoff() {
            return Ok(ResolveOutcome::AlreadyActive);
        }
        entry.conversation.state = ConversationState::Active;
        entry.conversation.updated = SystemTime::now();
        entry.expires = now + self.inner.options.ttl;
        Ok(ResolveOutcome::Resolved)
    }

    async fn last_inbound(&self, key: &ConversationKey) -> Result<Option<SystemTime>, StoreError> {
        Ok(self.read(key, |c| c.last_inbound).flatten())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key() -> ConversationKey {
        ConversationKey::new("17841400000000000", "6934581207719432")
    }

    #[tokio::test]
    async fn append_caps_history_and_tracks_last_inbound() {
        let store = MemoryStore::new(StoreOptions::default().history_cap(3));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for i in 0..5u64 {
            store
                .append(
                    &key(),
                    &[HistoryMessage::user(
                        format!("u{i}"),
                        t0 + Duration::from_secs(i),
                    )],
                )
                .await
                .unwrap();
        }
        let c = store
            .append(
                &key(),
                &[HistoryMessage::bot("b", t0 + Duration::from_secs(99))],
            )
            .await
            .unwrap();
        let texts: Vec<&str> = c.history.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["u3", "u4", "b"]);
        // A bot message does not move the inbound time; an older user message neither.
        assert_eq!(c.last_inbound, Some(t0 + Duration::from_secs(4)));
        store
            .append(&key(), &[HistoryMessage::user("late", t0)])
            .await
            .unwrap();
        assert_eq!(
            store.last_inbound(&key()).await.unwrap(),
            Some(t0 + Duration::from_secs(4))
        );
    }

    #[tokio::test]
    async fn handoff_and_resolve() {
        let store = MemoryStore::new(StoreOptions::default());
        assert_eq!(
            store.resolve(&key()).await.unwrap(),
            ResolveOutcome::NotFound
        );
        assert!(store.set_handoff(&key(), "human_handoff").await.unwrap());
        assert!(!store.set_handoff(&key(), "second").await.unwrap());
        let c = store.load(&key()).await.unwrap().unwrap();
        match c.state {
            ConversationState::Handoff { reason, .. } => assert_eq!(reason, "human_handoff"),
            ConversationState::Active => panic!("expected handoff"),
        }
        // Appending keeps the handoff.
        let c = store
            .append(&key(), &[HistoryMessage::user("hello?", SystemTime::now())])
            .await
            .unwrap();
        assert!(c.is_handoff());
        assert_eq!(
            store.resolve(&key()).await.unwrap(),
            ResolveOutcome::Resolved
        );
        assert_eq!(
            store.resolve(&key()).await.unwrap(),
            ResolveOutcome::AlreadyActive
        );
        let c = store.load(&key()).await.unwrap().unwrap();
        assert!(!c.is_handoff());
        assert_eq!(c.history.len(), 1);
    }

    #[tokio::test]
    async fn records_expire_after_ttl() {
        let store = MemoryStore::new(StoreOptions::default().ttl(Duration::from_millis(200)));
        store.set_handoff(&key(), "x").await.unwrap();
        assert_eq!(store.len(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.load(&key()).await.unwrap().is_none());
        assert!(store.is_empty());
        // An expired handoff is gone: the next append starts active and empty.
        let c = store
            .append(&key(), &[HistoryMessage::user("hi", SystemTime::now())])
            .await
            .unwrap();
        assert!(!c.is_handoff());
        assert_eq!(c.history.len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_lose_nothing() {
        let store = MemoryStore::new(StoreOptions::default().history_cap(1000));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .append(
                        &key(),
                        &[HistoryMessage::user(format!("m{i}"), SystemTime::now())],
                    )
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let c = store.load(&key()).await.unwrap().unwrap();
        let mut texts: Vec<String> = c.history.into_iter().map(|m| m.text).collect();
        texts.sort();
        let mut want: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        want.sort();
        assert_eq!(texts, want);
    }
}

//! The in-memory store, for a single server process: each operation runs under the lock of the one map
//! shard that holds its key (no global lock), entries expire by their deadline, and the number of entries
//! is bounded so memory is too.

use std::hash::Hash;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use super::{Claim, Fenced, FencingToken, IdempotencyStore, ScopedKey, StoreError, StoredResponse, ThrottleStore};
use crate::idempotency::fingerprint::Fingerprint;

#[derive(Clone)]
enum RecordState {
    Running { token: FencingToken },
    Done(StoredResponse),
}

#[derive(Clone)]
struct Record {
    fingerprint: Fingerprint,
    state: RecordState,
    expires_at: Instant,
}

struct Mark {
    token: FencingToken,
    expires_at: Instant,
}

/// Idempotency records and throttle marks in this process's memory.
pub struct MemoryStore {
    records: DashMap<ScopedKey, Record>,
    marks: DashMap<String, Mark>,
    capacity: usize,
}

impl MemoryStore {
    /// A store that holds at most `capacity` records and as many marks; past that it refuses new keys
    /// (the layers answer 503) rather than evict a live one, which could let a payment run twice.
    pub fn new(capacity: usize) -> Self {
        MemoryStore { records: DashMap::new(), marks: DashMap::new(), capacity }
    }
}

/// Makes room for `key` in `map`: nothing to do if it is there or there is space; otherwise drop the
/// expired entries, and fail if that was not enough.
fn make_room<K: Eq + Hash, V>(
    map: &DashMap<K, V>,
    key: &K,
    capacity: usize,
    expires_at: impl Fn(&V) -> Instant,
) -> Result<(), StoreError> {
    if map.len() < capacity || map.contains_key(key) {
        return Ok(());
    }
    let now = Instant::now();
    map.retain(|_, value| expires_at(value) > now);
    if map.len() < capacity {
        Ok(())
    } else {
        Err(StoreError::Full(capacity))
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(
        &self,
        key: &ScopedKey,
        fingerprint: &Fingerprint,
        token: &FencingToken,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        make_room(&self.records, key, self.capacity, |r| r.expires_at)?;
        let now = Instant::now();
        let running = Record {
            fingerprint: fingerprint.clone(),
            state: RecordState::Running { token: token.clone() },
            expires_at: now + lease,
        };
        match self.records.entry(key.clone()) {
            Entry::Vacant(vacant) => {
                vacant.insert(running);
                Ok(Claim::Claimed)
            }
            Entry::Occupied(mut occupied) => {
                let record = occupied.get();
                if record.expires_at <= now {
                    occupied.insert(running);
                    return Ok(Claim::Claimed);
                }
                if &record.fingerprint != fingerprint {
                    return Ok(Claim::Mismatch);
                }
                Ok(match &record.state {
                    RecordState::Running { .. } => Claim::InFlight { lease_left: record.expires_at - now },
                    RecordState::Done(response) => Claim::Replay(response.clone()),
                })
            }
        }
    }

    async fn save(
        &self,
        key: &ScopedKey,
        token: &FencingToken,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<Fenced, StoreError> {
        let now = Instant::now();
        let Some(mut record) = self.records.get_mut(key) else { return Ok(Fenced::Refused) };
        let owned = record.expires_at > now && matches!(&record.state, RecordState::Running { token: t } if t == token);
        if !owned {
            return Ok(Fenced::Refused);
        }
        record.state = RecordState::Done(response.clone());
        record.expires_at = now + ttl;
        Ok(Fenced::Done)
    }

    async fn release(&self, key: &ScopedKey, token: &FencingToken) -> Result<Fenced, StoreError> {
        let now = Instant::now();
        let removed = self.records.remove_if(key, |_, record| {
            record.expires_at > now && matches!(&record.state, RecordState::Running { token: t } if t == token)
        });
        Ok(if removed.is_some() { Fenced::Done } else { Fenced::Refused })
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn mark(&self, mark: &str, token: &FencingToken, window: Duration) -> Result<Option<Duration>, StoreError> {
        make_room(&self.marks, &mark.to_owned(), self.capacity, |m| m.expires_at)?;
        let now = Instant::now();
        let fresh = Mark { token: token.clone(), expires_at: now + window };
        match self.marks.entry(mark.to_owned()) {
            Entry::Vacant(vacant) => {
                vacant.insert(fresh);
                Ok(None)
            }
            Entry::Occupied(mut occupied) if occupied.get().expires_at <= now => {
                occupied.insert(fresh);
                Ok(None)
            }
            Entry::Occupied(occupied) => Ok(Some(occupied.get().expires_at - now)),
        }
    }

    async fn unmark(&self, mark: &str, token: &FencingToken) -> Result<Fenced, StoreError> {
        let removed = self.marks.remove_if(mark, |_, m| &m.token == token);
        Ok(if removed.is_some() { Fenced::Done } else { Fenced::Refused })
    }
}

//! Where the idempotency records and throttle marks live: one trait per concern, two implementations
//! (Redis for several processes, memory for one), proved alike by one conformance suite.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::idempotency::fingerprint::Fingerprint;
use crate::idempotency::key::IdempotencyKey;
use crate::session::UserId;

pub mod memory;
pub mod redis;

#[cfg(test)]
mod conformance;

/// The Redis the tests use: `PAYONCE_TEST_REDIS_URL`, or the local default.
#[cfg(test)]
pub fn test_redis_url() -> String {
    std::env::var("PAYONCE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub use memory::MemoryStore;
pub use redis::RedisStore;

/// An idempotency key as stored: always under its user, so two users' equal keys never meet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScopedKey {
    pub user: UserId,
    pub key: IdempotencyKey,
}

impl ScopedKey {
    pub fn new(user: UserId, key: IdempotencyKey) -> Self {
        ScopedKey { user, key }
    }

    /// `payonce:idem:{user:key}`: the braces are a Redis Cluster hash tag, so everything about one
    /// (user, key) sits in one slot. Braces and `%` inside the key are percent-escaped so that the tag
    /// always spans the whole scoped key and two keys never map to one name.
    pub fn storage_name(&self) -> String {
        let mut escaped = String::with_capacity(self.key.as_str().len());
        for c in self.key.as_str().chars() {
            match c {
                '%' => escaped.push_str("%25"),
                '{' => escaped.push_str("%7B"),
                '}' => escaped.push_str("%7D"),
                c => escaped.push(c),
            }
        }
        format!("payonce:idem:{{{}:{}}}", self.user, escaped)
    }
}

/// Proof of ownership of a claimed key: saving and releasing succeed only with the token that claimed it,
/// so an owner whose lease ran out cannot overwrite the record of the request that took over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FencingToken(String);

impl FencingToken {
    pub fn new_random() -> Self {
        FencingToken(hex::encode(rand::random::<[u8; 16]>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A finished response, kept for replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// Only headers safe to replay (see `idempotency::replayable_headers`).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The body was over the size cap and not kept; the replay carries status and headers only.
    pub body_omitted: bool,
}

impl StoredResponse {
    /// Headers and the omitted flag in one string for stores that keep flat fields.
    pub fn encode_meta(&self) -> String {
        serde_json::json!({ "headers": self.headers, "body_omitted": self.body_omitted }).to_string()
    }

    pub fn decode(status: u16, meta: &str, body: Bytes) -> Result<Self, StoreError> {
        #[derive(serde::Deserialize)]
        struct Meta {
            headers: Vec<(String, String)>,
            body_omitted: bool,
        }
        let meta: Meta = serde_json::from_str(meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(StoredResponse { status, headers: meta.headers, body, body_omitted: meta.body_omitted })
    }
}

/// What one atomic claim found: the zero2prod "next action", plus the in-flight and mismatch cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key was free and is now ours: run the request.
    Claimed,
    /// Another request with the same fingerprint holds the key; its lease has this long left.
    InFlight { lease_left: Duration },
    /// The key was used with a different request.
    Mismatch,
    /// The request already finished: answer with what it answered.
    Replay(StoredResponse),
}

/// Whether a fenced write took effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fenced {
    Done,
    /// The record no longer carries our token (the lease ran out and someone else claimed, or it expired).
    Refused,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unreachable: {0}")]
    Unavailable(String),
    #[error("store full: {0} records")]
    Full(usize),
    #[error("store returned an unexpected value: {0}")]
    Corrupt(String),
}

/// The idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// In one atomic step: claim `key` for a request with `fingerprint` under `token` for `lease`, or report
    /// what holds it.
    async fn claim(
        &self,
        key: &ScopedKey,
        fingerprint: &Fingerprint,
        token: &FencingToken,
        lease: Duration,
    ) -> Result<Claim, StoreError>;

    /// Stores the finished response, kept for `ttl`, only if `token` still owns the key.
    async fn save(
        &self,
        key: &ScopedKey,
        token: &FencingToken,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<Fenced, StoreError>;

    /// Frees a running claim (after a 5xx or a layer's own refusal), only if `token` still owns it.
    async fn release(&self, key: &ScopedKey, token: &FencingToken) -> Result<Fenced, StoreError>;
}

/// The throttle's short-lived marks.
#[async_trait]
pub trait ThrottleStore: Send + Sync + 'static {
    /// Sets `mark` for `window` unless it is set. `None`: it was free and is now ours; `Some(left)`: it was
    /// already set, with this long left.
    async fn mark(&self, mark: &str, token: &FencingToken, window: Duration) -> Result<Option<Duration>, StoreError>;

    /// Removes our mark early (the request it guarded failed, so a retry must not be throttled).
    async fn unmark(&self, mark: &str, token: &FencingToken) -> Result<Fenced, StoreError>;
}

/// Both stores behind one handle, as the server wires them.
#[derive(Clone)]
pub struct Stores {
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub throttle: Arc<dyn ThrottleStore>,
}

impl Stores {
    pub fn from_store<T: IdempotencyStore + ThrottleStore>(store: T) -> Self {
        let store = Arc::new(store);
        Stores { idempotency: store.clone(), throttle: store }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(key: &str) -> ScopedKey {
        ScopedKey::new(
            UserId::parse("3f1c1a4e-0000-4000-8000-000000000001").unwrap(),
            IdempotencyKey::parse(key).unwrap(),
        )
    }

    #[test]
    fn storage_name_is_one_hash_tag_around_user_and_key() {
        assert_eq!(scoped("k-1").storage_name(), "payonce:idem:{3f1c1a4e-0000-4000-8000-000000000001:k-1}");
    }

    #[test]
    fn braces_in_a_key_cannot_break_the_hash_tag_or_collide() {
        let name = scoped("a}b{c%").storage_name();
        assert_eq!(name, "payonce:idem:{3f1c1a4e-0000-4000-8000-000000000001:a%7Db%7Bc%25}");
        assert_ne!(scoped("%7D").storage_name(), scoped("}").storage_name());
    }

    #[test]
    fn stored_meta_round_trips() {
        let response = StoredResponse {
            status: 201,
            headers: vec![("location".into(), "/api/payments/1".into())],
            body: Bytes::from_static(b"{}"),
            body_omitted: false,
        };
        let decoded = StoredResponse::decode(201, &response.encode_meta(), response.body.clone()).unwrap();
        assert_eq!(decoded, response);
    }
}

//! The Redis store: every multi-step operation is one Lua script (atomic, one round trip), loaded once
//! and called by SHA. Each script touches one key, and every key carries a hash tag, so it runs on Redis
//! Cluster unchanged.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::{Claim, Fenced, FencingToken, IdempotencyStore, ScopedKey, StoreError, StoredResponse, ThrottleStore};
use crate::idempotency::fingerprint::Fingerprint;

static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/claim.lua")));
static SAVE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/save.lua")));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/release.lua")));
static MARK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/mark.lua")));
static UNMARK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/unmark.lua")));

/// Idempotency records and throttle marks in Redis, shared by every server process that points at it.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
}

impl RedisStore {
    /// Connects (the connection manager reconnects by itself later) and loads the scripts.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let mut connection = ConnectionManager::new(client).await.map_err(unavailable)?;
        for script in [&CLAIM, &SAVE, &RELEASE, &MARK, &UNMARK] {
            script.prepare_invoke().load_async(&mut connection).await.map_err(unavailable)?;
        }
        Ok(RedisStore { connection })
    }
}

fn unavailable(error: redis::RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn fenced(code: i64) -> Fenced {
    if code == 1 {
        Fenced::Done
    } else {
        Fenced::Refused
    }
}

impl TryFrom<Value> for Claim {
    type Error = StoreError;

    /// Maps claim.lua's reply (see its header) to a `Claim`.
    fn try_from(reply: Value) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("claim.lua: {what}"));
        let Value::Array(items) = reply else { return Err(corrupt("not an array")) };
        let int = |i: usize| match items.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Err(corrupt("expected an integer")),
        };
        let bytes = |i: usize| match items.get(i) {
            Some(Value::BulkString(b)) => Ok(Bytes::copy_from_slice(b)),
            _ => Err(corrupt("expected a string")),
        };
        match int(0)? {
            0 => Ok(Claim::Claimed),
            1 => Ok(Claim::InFlight { lease_left: Duration::from_millis(int(1)?.max(0) as u64) }),
            2 => Ok(Claim::Mismatch),
            3 => {
                let status = std::str::from_utf8(&bytes(1)?)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| corrupt("bad status"))?;
                let meta = bytes(2)?;
                let meta = std::str::from_utf8(&meta).map_err(|_| corrupt("meta is not UTF-8"))?;
                Ok(Claim::Replay(StoredResponse::decode(status, meta, bytes(3)?)?))
            }
            other => Err(corrupt(&format!("unknown code {other}"))),
        }
    }
}

#[async_trait]
impl IdempotencyStore for RedisStore {
    async fn claim(
        &self,
        key: &ScopedKey,
        fingerprint: &Fingerprint,
        token: &FencingToken,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let reply: Value = CLAIM
            .key(key.storage_name())
            .arg(fingerprint.as_str())
            .arg(token.as_str())
            .arg(lease.as_millis() as u64)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Claim::try_from(reply)
    }

    async fn save(
        &self,
        key: &ScopedKey,
        token: &FencingToken,
        response: &StoredResponse,
        ttl: Duration,
    ) -> Result<Fenced, StoreError> {
        let code: i64 = SAVE
            .key(key.storage_name())
            .arg(token.as_str())
            .arg(response.status)
            .arg(response.encode_meta())
            .arg(response.body.as_ref())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(fenced(code))
    }

    async fn release(&self, key: &ScopedKey, token: &FencingToken) -> Result<Fenced, StoreError> {
        let code: i64 = RELEASE
            .key(key.storage_name())
            .arg(token.as_str())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(fenced(code))
    }
}

#[async_trait]
impl ThrottleStore for RedisStore {
    async fn mark(&self, mark: &str, token: &FencingToken, window: Duration) -> Result<Option<Duration>, StoreError> {
        let left: i64 = MARK
            .key(mark)
            .arg(token.as_str())
            .arg(window.as_millis() as u64)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok((left >= 0).then(|| Duration::from_millis(left as u64)))
    }

    async fn unmark(&self, mark: &str, token: &FencingToken) -> Result<Fenced, StoreError> {
        let code: i64 = UNMARK
            .key(mark)
            .arg(token.as_str())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(fenced(code))
    }
}

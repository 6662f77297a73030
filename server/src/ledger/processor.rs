//! The simulated card processor: a stand-in for Stripe's side of the wire, with configurable latency and
//! decline rate. Like a real processor it is idempotent on the key it is given: asked twice with one key,
//! it charges once and answers the same both times. It keeps its own books in the `charges` table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row;

use super::db::{now_text, Db};

/// What the processor answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub succeeded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    #[error("the processor did not answer")]
    Unavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub struct Processor {
    db: Db,
    latency: Duration,
    decline_rate: f64,
    /// How many times the ledger asked for a charge; the proof, in tests, that it asked once.
    requests: AtomicU64,
    /// Outages still to simulate: the next this many requests fail before reaching the processor.
    outages: AtomicU64,
}

impl Processor {
    pub fn new(db: Db, latency: Duration, decline_rate: f64) -> Self {
        Processor { db, latency, decline_rate, requests: AtomicU64::new(0), outages: AtomicU64::new(0) }
    }

    /// Charges `amount_minor` in `currency` once per `key`, recording the charge against `payment_id`.
    pub async fn charge(
        &self,
        key: &str,
        payment_id: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<Charge, ProcessorError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        if self.outages.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(ProcessorError::Unavailable);
        }
        tokio::time::sleep(self.latency).await;
        let outcome = if rand::random::<f64>() < self.decline_rate { "declined" } else { "succeeded" };
        sqlx::query(
            "INSERT INTO charges (id, processor_key, payment_id, amount_minor, currency, outcome, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (processor_key) DO NOTHING",
        )
        .bind(format!("ch_{}", uuid::Uuid::new_v4().simple()))
        .bind(key)
        .bind(payment_id)
        .bind(amount_minor)
        .bind(currency)
        .bind(outcome)
        .bind(now_text())
        .execute(&self.db.pool)
        .await?;
        // Whoever inserted first decided the outcome; every request with this key gets that answer.
        let row = sqlx::query("SELECT id, outcome FROM charges WHERE processor_key = $1")
            .bind(key)
            .fetch_one(&self.db.pool)
            .await?;
        Ok(Charge { id: row.try_get("id")?, succeeded: row.try_get::<String, _>("outcome")? == "succeeded" })
    }

    /// How many charge requests the processor has received.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Makes the next `count` charge requests fail as if the processor were unreachable.
    pub fn fail_next(&self, count: u64) {
        self.outages.store(count, Ordering::SeqCst);
    }
}

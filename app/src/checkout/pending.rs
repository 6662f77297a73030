//! Payments the browser has sent but not yet heard a definitive answer for, kept in localStorage so a
//! page refresh resumes them with the same key instead of paying again.

use serde::{Deserialize, Serialize};

use crate::browser;
use crate::types::NewPayment;

const STORAGE_KEY: &str = "payonce.pending";

/// One Pay click: its key, what it pays, and when it started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingPayment {
    pub key: String,
    pub body: NewPayment,
    pub started_ms: f64,
}

impl PendingPayment {
    /// A new click: a fresh UUID v4 as its Idempotency-Key.
    pub fn new(body: NewPayment) -> Self {
        PendingPayment { key: browser::new_uuid().to_string(), body, started_ms: browser::now_ms() }
    }

    pub fn short_key(&self) -> String {
        self.key.chars().take(8).collect()
    }
}

/// Every pending payment, oldest first.
pub fn all() -> Vec<PendingPayment> {
    browser::load(STORAGE_KEY).unwrap_or_default()
}

/// Records `payment` as pending, before its first send.
pub fn remember(payment: &PendingPayment) {
    let mut pending = all();
    pending.retain(|p| p.key != payment.key);
    pending.push(payment.clone());
    browser::store(STORAGE_KEY, &pending);
}

/// Forgets `key` once its answer is definitive.
pub fn forget(key: &str) {
    let mut pending = all();
    pending.retain(|p| p.key != key);
    browser::store(STORAGE_KEY, &pending);
}

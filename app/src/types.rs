//! The JSON shapes the browser and the server exchange, defined once for both.

use serde::{Deserialize, Serialize};

/// Currencies the simulated processor accepts (ISO 4217 codes).
pub const SUPPORTED_CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "CHF", "JPY", "SEK"];

/// The largest amount one payment may carry, in minor units (1,000,000.00 in a two-decimal currency).
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000;

/// Longest description a payment may carry, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// The header that names one logical operation across all its retries.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Set on a response the idempotency layer replayed from its store rather than ran again.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Names the protection that decided a response, so the page can say which one acted.
pub const PROTECTION_HEADER: &str = "payonce-protection";

/// Request header the flaky-network panel sets; the server honours it only when chaos is enabled.
pub const CHAOS_HEADER: &str = "payonce-chaos";

/// How long the browser waits for one attempt before it gives up on it and retries.
pub const CLIENT_ATTEMPT_TIMEOUT_MS: u32 = 3_000;

/// How late the chaos layer's `slow-response` fault starts the handler: past the browser's timeout.
pub const CHAOS_SLOW_MS: u64 = 4_000;

/// Body of `POST /api/payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub amount_minor: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a payment is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(PaymentStatus::Pending),
            "succeeded" => Some(PaymentStatus::Succeeded),
            "failed" => Some(PaymentStatus::Failed),
            _ => None,
        }
    }
}

/// A payment as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: PaymentStatus,
    pub charge_id: Option<String>,
    pub created_at: String,
}

/// One row of the ledger: a payment and how many charges the processor recorded for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    #[serde(flatten)]
    pub payment: Payment,
    pub idempotency_key: String,
    pub charge_count: i64,
}

/// Body of `POST /api/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserEmail {
    pub email: String,
}

/// The session's user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: Option<String>,
}

/// What `POST /api/session` answers: who the session is, and what the server offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: User,
    /// Whether the fault-injection layer is on (`PAYONCE_CHAOS=1`).
    pub chaos: bool,
}

/// The page theme a user prefers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

/// Body of `PUT /api/preferences` and of its answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    pub theme: Theme,
}

/// Body of `POST /api/products` and `PUT /api/products/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub name: String,
    pub price_minor: i64,
}

/// A product as the API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub price_minor: i64,
}

/// An RFC 9457 problem document, as every error answer carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Milliseconds left in the throttle window (429 answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// Formats an amount in minor units for people: `1250` EUR → `12.50 EUR`.
pub fn format_amount(amount_minor: i64, currency: &str) -> String {
    if currency == "JPY" {
        return format!("{amount_minor} {currency}");
    }
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_two_decimal_and_zero_decimal_currencies() {
        assert_eq!(format_amount(1250, "EUR"), "12.50 EUR");
        assert_eq!(format_amount(5, "USD"), "0.05 USD");
        assert_eq!(format_amount(1250, "JPY"), "1250 JPY");
    }

    #[test]
    fn ledger_entry_flattens_the_payment() {
        let entry = LedgerEntry {
            payment: Payment {
                id: "p1".into(),
                amount_minor: 100,
                currency: "EUR".into(),
                description: None,
                status: PaymentStatus::Succeeded,
                charge_id: Some("ch_1".into()),
                created_at: "2026-01-01T00:00:00Z".into(),
            },
            idempotency_key: "k".into(),
            charge_count: 1,
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["status"], "succeeded");
        assert_eq!(json["charge_count"], 1);
    }
}

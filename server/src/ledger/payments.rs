//! Payments, in brandur's atomic phases: (1) insert the payment as `pending` under the UNIQUE (user, key)
//! constraint, holding it; (2) charge through the processor with the payment's id as the processor's key;
//! (3) record the outcome. A request that meets the constraint loads the payment instead: a finished one is
//! returned as it is, a pending one whose holder is gone is resumed, and nothing is ever checked before it
//! is inserted.

use std::time::Duration;

use app::types::{NewPayment, Payment, PaymentStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::db::{now_ms, now_text, Db};
use super::processor::{Processor, ProcessorError};
use crate::error::ApiError;
use crate::session::UserId;

/// How a create request ended.
#[derive(Debug)]
pub enum Created {
    /// This request inserted and charged the payment.
    New(Payment),
    /// The (user, key) already had a finished payment: the database constraint caught a repeat.
    Existing(Payment),
}

const PAYMENT_COLUMNS: &str = "id, idempotency_key, amount_minor, currency, description, status, charge_id, created_at";

fn payment_from_row(row: &AnyRow) -> Result<Payment, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Payment {
        id: row.try_get("id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        description: row.try_get("description")?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown payment status {status}").into()))?,
        charge_id: row.try_get("charge_id")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Creates (or finds, or resumes) the payment for `key`, charging at most once.
pub async fn create(
    db: &Db,
    processor: &Processor,
    charge_lease: Duration,
    user: &UserId,
    key: &str,
    new: &NewPayment,
) -> Result<Created, ApiError> {
    let payment_id = format!("pay_{}", uuid::Uuid::new_v4().simple());
    let hold_until = now_ms() + charge_lease.as_millis() as i64;
    let created_at = now_text();
    // Phase 1: insert, or meet the constraint.
    let inserted = sqlx::query(
        "INSERT INTO payments (id, user_id, idempotency_key, amount_minor, currency, description, status, \
         locked_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) \
         ON CONFLICT (user_id, idempotency_key) DO NOTHING",
    )
    .bind(&payment_id)
    .bind(user.as_str())
    .bind(key)
    .bind(new.amount_minor)
    .bind(&new.currency)
    .bind(&new.description)
    .bind(hold_until)
    .bind(&created_at)
    .execute(&db.pool)
    .await?
    .rows_affected()
        == 1;

    let payment = if inserted {
        Payment {
            id: payment_id,
            amount_minor: new.amount_minor,
            currency: new.currency.clone(),
            description: new.description.clone(),
            status: PaymentStatus::Pending,
            charge_id: None,
            created_at,
        }
    } else {
        let existing =
            find_by_key(db, user, key).await?.ok_or_else(|| ApiError::Internal("conflict without a row".into()))?;
        if existing.amount_minor != new.amount_minor
            || existing.currency != new.currency
            || existing.description != new.description
        {
            return Err(ApiError::KeyReused);
        }
        if existing.status != PaymentStatus::Pending {
            return Ok(Created::Existing(existing));
        }
        if !take_over(db, &existing.id, hold_until).await? {
            return Err(ApiError::Conflict(
                "this payment is being processed by another request; retry shortly with the same key".into(),
            ));
        }
        existing
    };

    // Phase 2: charge. The processor is idempotent on the payment id, so a resumed payment is not charged
    // twice even if the crashed request had reached the processor.
    let charge = match processor.charge(&payment.id, &payment.id, payment.amount_minor, &payment.currency).await {
        Ok(charge) => charge,
        Err(error) => {
            // Let the retry resume at once instead of waiting out the hold.
            sqlx::query("UPDATE payments SET locked_until = NULL WHERE id = $1")
                .bind(&payment.id)
                .execute(&db.pool)
                .await?;
            return Err(match error {
                ProcessorError::Unavailable => ApiError::ProcessorUnavailable,
                ProcessorError::Database(error) => error.into(),
            });
        }
    };

    // Phase 3: record the outcome and let go.
    let status = if charge.succeeded { PaymentStatus::Succeeded } else { PaymentStatus::Failed };
    sqlx::query("UPDATE payments SET status = $1, charge_id = $2, locked_until = NULL WHERE id = $3")
        .bind(status.as_str())
        .bind(&charge.id)
        .bind(&payment.id)
        .execute(&db.pool)
        .await?;
    let payment = Payment { status, charge_id: Some(charge.id), ..payment };
    if charge.succeeded {
        Ok(Created::New(payment))
    } else {
        Err(ApiError::PaymentDeclined { payment_id: payment.id })
    }
}

/// Takes over a pending payment whose holder let go or ran out of time. One statement, so of several
/// requests at most one wins.
async fn take_over(db: &Db, payment_id: &str, hold_until: i64) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE payments SET locked_until = $1 WHERE id = $2 AND status = 'pending' \
         AND (locked_until IS NULL OR locked_until < $3)",
    )
    .bind(hold_until)
    .bind(payment_id)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

async fn find_by_key(db: &Db, user: &UserId, key: &str) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query(&format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2"))
        .bind(user.as_str())
        .bind(key)
        .fetch_optional(&db.pool)
        .await?
        .map(|row| payment_from_row(&row))
        .transpose()
}

/// One of the user's payments; another user's is as absent as a missing one.
pub async fn find(db: &Db, user: &UserId, id: &str) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query(&format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 AND id = $2"))
        .bind(user.as_str())
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .map(|row| payment_from_row(&row))
        .transpose()
}

/// The user's payments, newest first, each with the number of successful charges recorded for it.
pub async fn ledger(db: &Db, user: &UserId) -> Result<Vec<app::types::LedgerEntry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.id, p.idempotency_key, p.amount_minor, p.currency, p.description, p.status, p.charge_id, \
         p.created_at, (SELECT COUNT(*) FROM charges c WHERE c.payment_id = p.id AND c.outcome = 'succeeded') \
         AS charge_count FROM payments p WHERE p.user_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT 100",
    )
    .bind(user.as_str())
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(app::types::LedgerEntry {
                payment: payment_from_row(row)?,
                idempotency_key: row.try_get("idempotency_key")?,
                charge_count: row.try_get("charge_count")?,
            })
        })
        .collect()
}

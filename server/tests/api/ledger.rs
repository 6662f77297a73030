//! The database as the fail-safe: what happens when the Redis layer is bypassed or has lost its data.

use std::sync::Arc;
use std::time::Duration;

use app::types::NewPayment;
use payonce::ledger::payments::{self, Created};
use payonce::session::UserId;
use serde_json::Value;

use crate::helpers::*;

fn new_payment() -> NewPayment {
    NewPayment { amount_minor: 2500, currency: "EUR".into(), description: None }
}

/// 50 concurrent identical payments straight into the ledger, no idempotency layer: one charge.
#[tokio::test]
async fn fifty_concurrent_payments_without_the_redis_layer_charge_once() {
    for database in DATABASES {
        let app = spawn_app(database).await;
        let user_id = app.sign_in(&app.client).await;
        let user = UserId::parse(&user_id).unwrap();
        let key = fresh_key();
        let outcomes = futures::future::join_all((0..50).map(|_| {
            let (state, user, key) = (app.state.clone(), user.clone(), key.clone());
            tokio::spawn(async move {
                payments::create(&state.db, &state.processor, Duration::from_secs(30), &user, &key, &new_payment())
                    .await
            })
        }))
        .await;
        let mut created = 0;
        for outcome in outcomes {
            match outcome.unwrap() {
                Ok(Created::New(_)) => created += 1,
                Ok(Created::Existing(_)) => {}
                Err(error) => assert_eq!(error.status(), 409, "{database:?}: {error}"),
            }
        }
        assert_eq!(created, 1, "{database:?}");
        assert_eq!(app.state.processor.requests(), 1, "{database:?}");
        assert_eq!(app.charges_for_key(&key).await, 1, "{database:?}");
    }
}

/// Redis forgets the key (flushed, failed over, expired): the retry meets the unique constraint, and the
/// answer says so.
#[tokio::test]
async fn when_redis_loses_the_key_the_database_constraint_answers() {
    for database in DATABASES {
        let redis = OwnRedis::start().await;
        let app = Setup::new(database).redis(redis.url()).spawn().await.signed_in().await;
        let key = fresh_key();
        let first: Value = app.pay(&app.client, &key, &payment(800)).await.json().await.unwrap();
        let _: () = redis::cmd("FLUSHALL").query_async(&mut redis.connection().await).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2_100)).await; // past the throttle window too
        let retry = app.pay(&app.client, &key, &payment(800)).await;
        assert_eq!(retry.status(), 200, "{database:?}");
        assert_eq!(header(retry.headers(), "payonce-protection"), Some("database-constraint"));
        let again: Value = retry.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(app.state.processor.requests(), 1);
        assert_eq!(app.charges_for_key(&key).await, 1);
    }
}

/// A failure after "pending" was written and before the charge: the retry resumes the same payment.
#[tokio::test]
async fn a_failure_between_pending_and_charged_is_resumed_by_the_retry_and_charged_once() {
    for database in DATABASES {
        let app = spawn_app(database).await.signed_in().await;
        let key = fresh_key();
        app.state.processor.fail_next(1);
        let failed = app.pay(&app.client, &key, &payment(650)).await;
        problem(failed, 502).await;
        let ledger = app.ledger(&app.client).await;
        assert_eq!(ledger[0]["status"], "pending", "{database:?}");
        let retry = app.pay(&app.client, &key, &payment(650)).await;
        assert_eq!(retry.status(), 201, "{database:?}");
        let resumed: Value = retry.json().await.unwrap();
        assert_eq!(resumed["id"], ledger[0]["id"], "the same payment is resumed, not a new one made");
        assert_eq!(resumed["status"], "succeeded");
        assert_eq!(app.charges_for_key(&key).await, 1);
        assert_eq!(app.ledger(&app.client).await.len(), 1);
    }
}

/// A request that died holding a pending payment (no clean-up ran): others are told 409 until its hold
/// runs out, then one resumes it.
#[tokio::test]
async fn a_pending_payment_held_by_a_dead_request_is_resumed_after_the_hold() {
    let app = spawn_app(Database::Sqlite).await;
    let user = UserId::parse(&app.sign_in(&app.client).await).unwrap();
    let key = fresh_key();
    sqlx::query(
        "INSERT INTO payments (id, user_id, idempotency_key, amount_minor, currency, status, locked_until, created_at) \
         VALUES ('pay_dead', $1, $2, 2500, 'EUR', 'pending', $3, '2026-01-01T00:00:00.000Z')",
    )
    .bind(user.as_str())
    .bind(&key)
    .bind(payonce::ledger::db::now_ms() + 300)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let state = Arc::new(app.state.clone());
    let held =
        payments::create(&state.db, &state.processor, Duration::from_secs(30), &user, &key, &new_payment()).await;
    assert_eq!(held.unwrap_err().status(), 409);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let resumed =
        payments::create(&state.db, &state.processor, Duration::from_secs(30), &user, &key, &new_payment()).await;
    match resumed.unwrap() {
        Created::New(payment) => assert_eq!(payment.id, "pay_dead"),
        other => panic!("expected the dead request's payment to be resumed, got {other:?}"),
    }
    assert_eq!(app.state.processor.requests(), 1);
}

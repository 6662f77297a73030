//! The fault-injection layer behind the flaky-network panel.

use serde_json::Value;

use crate::helpers::*;

async fn chaos_app() -> TestApp {
    Setup::new(Database::Sqlite).tweak(|c| c.chaos = true).spawn().await.signed_in().await
}

async fn pay_with_fault(app: &TestApp, key: &str, fault: &str) -> Result<reqwest::Response, reqwest::Error> {
    app.client
        .post(app.url("/api/payments"))
        .header("idempotency-key", key)
        .header("payonce-chaos", fault)
        .json(&payment(3000))
        .send()
        .await
}

#[tokio::test]
async fn without_chaos_the_fault_header_is_ignored() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let response = pay_with_fault(&app, &fresh_key(), "lose-request").await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(app.state.processor.requests(), 1);
}

#[tokio::test]
async fn a_lost_request_is_a_network_error_and_runs_nothing() {
    let app = chaos_app().await;
    let key = fresh_key();
    let lost = pay_with_fault(&app, &key, "lose-request").await;
    assert!(lost.is_err(), "the client must see a network error, got {lost:?}");
    assert_eq!(app.state.processor.requests(), 0);
    let retry = app.pay(&app.client, &key, &payment(3000)).await;
    assert_eq!(retry.status(), 201);
    assert!(retry.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.charges_for_key(&key).await, 1);
}

#[tokio::test]
async fn a_lost_response_charges_then_the_retry_replays() {
    let app = chaos_app().await;
    let key = fresh_key();
    let lost = pay_with_fault(&app, &key, "lose-response").await;
    assert!(lost.is_err(), "the client must see a network error, got {lost:?}");
    assert_eq!(app.state.processor.requests(), 1, "the charge happened before the response was lost");
    let retry = app.pay(&app.client, &key, &payment(3000)).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(header(retry.headers(), "idempotent-replayed"), Some("true"));
    let body: Value = retry.json().await.unwrap();
    assert_eq!(body["status"], "succeeded");
    assert_eq!(app.charges_for_key(&key).await, 1);
}

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_payment_is_created_charged_once_and_listed() {
    for database in DATABASES {
        let app = spawn_app(database).await.signed_in().await;
        let key = fresh_key();
        let response = app.pay(&app.client, &key, &payment(1250)).await;
        assert_eq!(response.status(), 201, "{database:?}");
        let location = header(response.headers(), "location").unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        assert_eq!(location, format!("/api/payments/{}", created["id"].as_str().unwrap()));
        assert_eq!(created["amount_minor"], 1250);
        assert_eq!(created["currency"], "EUR");
        assert_eq!(created["status"], "succeeded");
        assert!(created["charge_id"].as_str().unwrap().starts_with("ch_"));
        assert!(created["created_at"].as_str().is_some());

        let shown: Value = app.client.get(app.url(&location)).send().await.unwrap().json().await.unwrap();
        assert_eq!(shown, created);
        let ledger = app.ledger(&app.client).await;
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0]["charge_count"], 1);
        assert_eq!(ledger[0]["idempotency_key"], key.as_str());
        assert_eq!(app.charges_for_key(&key).await, 1);
    }
}

#[tokio::test]
async fn the_ledger_lists_newest_first() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    for amount in [100, 200, 300] {
        assert_eq!(app.pay(&app.client, &fresh_key(), &payment(amount)).await.status(), 201);
    }
    let amounts: Vec<i64> = app.ledger(&app.client).await.iter().map(|p| p["amount_minor"].as_i64().unwrap()).collect();
    assert_eq!(amounts, vec![300, 200, 100]);
}

#[tokio::test]
async fn another_users_payment_is_not_found() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let created: Value = app.pay(&app.client, &fresh_key(), &payment(100)).await.json().await.unwrap();
    let stranger = client();
    app.sign_in(&stranger).await;
    let response =
        stranger.get(app.url(&format!("/api/payments/{}", created["id"].as_str().unwrap()))).send().await.unwrap();
    problem(response, 404).await;
    assert!(app.ledger(&stranger).await.is_empty());
}

#[tokio::test]
async fn invalid_payments_are_refused_with_problems_and_write_nothing() {
    for database in DATABASES {
        let app = spawn_app(database).await.signed_in().await;
        let cases: Vec<(Value, u16)> = vec![
            (json!({"amount_minor": 0, "currency": "EUR"}), 422),
            (json!({"amount_minor": 100_000_001, "currency": "EUR"}), 422),
            (json!({"amount_minor": -5, "currency": "EUR"}), 422),
            (json!({"amount_minor": 100, "currency": "XXX"}), 422),
            (json!({"amount_minor": 100, "currency": "eur"}), 422),
            (json!({"amount_minor": "100", "currency": "EUR"}), 422),
            (json!({"amount_minor": 100}), 422),
            (json!({"amount_minor": 100, "currency": "EUR", "tip": 5}), 422),
            (json!({"amount_minor": 100, "currency": "EUR", "description": "x".repeat(201)}), 422),
        ];
        for (body, status) in cases {
            let response = app.pay(&app.client, &fresh_key(), &body).await;
            problem(response, status).await;
        }
        let malformed = app
            .client
            .post(app.url("/api/payments"))
            .header("idempotency-key", fresh_key())
            .header("content-type", "application/json")
            .body("{\"amount_minor\": 1")
            .send()
            .await
            .unwrap();
        problem(malformed, 400).await;
        let wrong_type = app
            .client
            .post(app.url("/api/payments"))
            .header("idempotency-key", fresh_key())
            .header("content-type", "text/plain")
            .body("{\"amount_minor\": 100, \"currency\": \"EUR\"}")
            .send()
            .await
            .unwrap();
        problem(wrong_type, 415).await;
        let huge = json!({"amount_minor": 100, "currency": "EUR", "description": "x".repeat(17 * 1024)});
        problem(app.pay(&app.client, &fresh_key(), &huge).await, 413).await;
        let no_key = app.client.post(app.url("/api/payments")).json(&payment(100)).send().await.unwrap();
        problem(no_key, 400).await;
        assert!(app.ledger(&app.client).await.is_empty(), "{database:?}: nothing may be written");
    }
}

#[tokio::test]
async fn a_declined_card_is_402_marked_failed_and_replayed_on_retry() {
    let app = Setup::new(Database::Sqlite).tweak(|c| c.processor_failure_rate = 1.0).spawn().await.signed_in().await;
    let key = fresh_key();
    let body = problem(app.pay(&app.client, &key, &payment(100)).await, 402).await;
    assert_eq!(body["title"], "Payment declined");
    let again = app.pay(&app.client, &key, &payment(100)).await;
    assert_eq!(header(again.headers(), "idempotent-replayed"), Some("true"));
    problem(again, 402).await;
    let ledger = app.ledger(&app.client).await;
    assert_eq!(ledger[0]["status"], "failed");
    assert_eq!(ledger[0]["charge_count"], 0);
    assert_eq!(app.state.processor.requests(), 1);
}

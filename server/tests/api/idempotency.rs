use std::sync::Arc;

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_payment() {
    let app = spawn_app(Database::Postgres).await.signed_in().await;
    let key = fresh_key();
    let first = app.pay(&app.client, &key, &payment(500)).await;
    let first_body: Value = first.json().await.unwrap();
    let retry = app.pay(&app.client, &key, &payment(500)).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(header(retry.headers(), "idempotent-replayed"), Some("true"));
    assert!(retry.headers().get("set-cookie").is_none());
    assert_eq!(retry.json::<Value>().await.unwrap(), first_body);
    assert_eq!(app.charges_for_key(&key).await, 1);
    assert_eq!(app.state.processor.requests(), 1);
}

#[tokio::test]
async fn a_reused_key_with_another_amount_is_422() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let key = fresh_key();
    app.pay(&app.client, &key, &payment(500)).await;
    let body = problem(app.pay(&app.client, &key, &payment(501)).await, 422).await;
    assert_eq!(body["type"], "urn:payonce:problem:idempotency-key-reused");
    assert_eq!(app.ledger(&app.client).await.len(), 1);
}

#[tokio::test]
async fn two_users_with_one_key_each_pay_and_see_only_their_own_answer() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let other = client();
    app.sign_in(&other).await;
    let key = "shared-key";
    let mine: Value = app.pay(&app.client, key, &payment(111)).await.json().await.unwrap();
    let theirs = app.pay(&other, key, &payment(111)).await;
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let theirs: Value = theirs.json().await.unwrap();
    assert_ne!(theirs["id"], mine["id"]);
    assert_eq!(app.state.processor.requests(), 2);
}

/// The storm: 200 concurrent requests, one key, through the real server and Redis.
#[tokio::test]
async fn two_hundred_concurrent_requests_with_one_key_charge_once() {
    let app = Arc::new(spawn_app(Database::Postgres).await.signed_in().await);
    let key = fresh_key();
    let responses = futures::future::join_all((0..200).map(|_| {
        let (app, key) = (app.clone(), key.clone());
        tokio::spawn(async move { app.pay(&app.client, &key, &payment(4200)).await.status().as_u16() })
    }))
    .await;
    let statuses: Vec<u16> = responses.into_iter().map(|r| r.unwrap()).collect();
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    assert_eq!(app.state.processor.requests(), 1);
    assert_eq!(app.charges_for_key(&key).await, 1);
    println!(
        "storm: {} created or replayed, {} told 409, 1 charge",
        statuses.iter().filter(|s| **s == 201).count(),
        statuses.iter().filter(|s| **s == 409).count()
    );
}

/// Two server processes' worth of state (separate memories, processors and pools) sharing one Redis and
/// one PostgreSQL: the key is claimed once across both.
#[tokio::test]
async fn two_servers_sharing_redis_charge_once() {
    let first = Arc::new(spawn_app(Database::Postgres).await);
    let second = Arc::new(spawn_app(Database::Postgres).await);
    let client = client();
    first.sign_in(&client).await; // the same secret signs for both, as in a real deployment
    let key = fresh_key();
    let responses = futures::future::join_all((0..100).map(|i| {
        let app = if i % 2 == 0 { first.clone() } else { second.clone() };
        let (client, key) = (client.clone(), key.clone());
        tokio::spawn(async move { app.pay(&client, &key, &payment(777)).await.status().as_u16() })
    }))
    .await;
    assert!(responses.into_iter().all(|r| [201, 409].contains(&r.unwrap())));
    assert_eq!(first.state.processor.requests() + second.state.processor.requests(), 1);
    assert_eq!(first.charges_for_key(&key).await, 1);
}

#[tokio::test]
async fn prefer_wait_turns_a_409_into_the_replay() {
    let app = Setup::new(Database::Sqlite).tweak(|c| c.processor_latency_ms = 600).spawn().await.signed_in().await;
    let app = Arc::new(app);
    let key = fresh_key();
    let first = tokio::spawn({
        let (app, key) = (app.clone(), key.clone());
        async move { app.pay(&app.client, &key, &payment(300)).await.status() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let impatient = app.pay(&app.client, &key, &payment(300)).await;
    assert_eq!(impatient.status(), 409);
    let retry_after: u64 = header(impatient.headers(), "retry-after").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    let patient = app
        .client
        .post(app.url("/api/payments"))
        .header("idempotency-key", &key)
        .header("prefer", "wait=5")
        .json(&payment(300))
        .send()
        .await
        .unwrap();
    assert_eq!(patient.status(), 201);
    assert_eq!(header(patient.headers(), "idempotent-replayed"), Some("true"));
    assert_eq!(first.await.unwrap(), 201);
    assert_eq!(app.state.processor.requests(), 1);
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_payment_gets_the_charge_on_retry_without_a_second_one() {
    let app = Setup::new(Database::Sqlite).tweak(|c| c.processor_latency_ms = 500).spawn().await.signed_in().await;
    let key = fresh_key();
    let impatient =
        reqwest::Client::builder().cookie_store(true).timeout(std::time::Duration::from_millis(100)).build().unwrap();
    app.sign_in(&impatient).await;
    let lost =
        impatient.post(app.url("/api/payments")).header("idempotency-key", &key).json(&payment(900)).send().await;
    assert!(lost.unwrap_err().is_timeout());
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let retry = app.pay(&impatient, &key, &payment(900)).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(header(retry.headers(), "idempotent-replayed"), Some("true"));
    assert_eq!(app.state.processor.requests(), 1);
    assert_eq!(app.charges_for_key(&key).await, 1);
}

#[tokio::test]
async fn the_memory_store_gives_the_same_guarantees_in_one_process() {
    let app = Arc::new(Setup::new(Database::Sqlite).memory_store().spawn().await.signed_in().await);
    let key = fresh_key();
    let responses = futures::future::join_all((0..100).map(|_| {
        let (app, key) = (app.clone(), key.clone());
        tokio::spawn(async move { app.pay(&app.client, &key, &payment(1)).await.status().as_u16() })
    }))
    .await;
    assert!(responses.into_iter().all(|r| [201, 409].contains(&r.unwrap())));
    assert_eq!(app.state.processor.requests(), 1);
    let replay = app.pay(&app.client, &key, &payment(1)).await;
    assert_eq!(header(replay.headers(), "idempotent-replayed"), Some("true"));
}

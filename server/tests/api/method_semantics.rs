//! Users, preferences and products: unique indexes, upserts and what GET, PUT, DELETE and POST promise.

use std::sync::Arc;

use payonce::ledger::preferences;
use payonce::session::UserId;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_make_one_201_and_nineteen_409() {
    for database in DATABASES {
        let app = Arc::new(spawn_app(database).await);
        let email = format!("ada+{}@example.com", fresh_key());
        let statuses = futures::future::join_all((0..20).map(|i| {
            let (app, email) = (app.clone(), email.clone());
            tokio::spawn(async move {
                let user = client();
                app.sign_in(&user).await;
                // Mixed case: the index is on lower(email).
                let email = if i % 2 == 0 { email.to_uppercase() } else { email };
                user.post(app.url("/api/users"))
                    .json(&json!({ "email": email }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        }))
        .await;
        let statuses: Vec<u16> = statuses.into_iter().map(|s| s.unwrap()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{database:?}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{database:?}: {statuses:?}");
    }
}

#[tokio::test]
async fn an_invalid_email_is_422() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let response =
        app.client.post(app.url("/api/users")).json(&json!({ "email": "not-an-address" })).send().await.unwrap();
    problem(response, 422).await;
}

#[tokio::test]
async fn preferences_are_upserted_and_fifty_concurrent_puts_leave_one_row() {
    for database in DATABASES {
        let app = Arc::new(spawn_app(database).await);
        let user = UserId::parse(&app.sign_in(&app.client).await).unwrap();
        let initial: Value = app.client.get(app.url("/api/preferences")).send().await.unwrap().json().await.unwrap();
        assert_eq!(initial["theme"], "light");
        let statuses = futures::future::join_all((0..50).map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let theme = if i % 2 == 0 { "dark" } else { "light" };
                app.client
                    .put(app.url("/api/preferences"))
                    .json(&json!({ "theme": theme }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        }))
        .await;
        assert!(statuses.into_iter().all(|s| s.unwrap() == 200), "{database:?}");
        assert_eq!(preferences::rows(&app.state.db, &user).await.unwrap(), 1, "{database:?}");
        app.client.put(app.url("/api/preferences")).json(&json!({ "theme": "dark" })).send().await.unwrap();
        let now: Value = app.client.get(app.url("/api/preferences")).send().await.unwrap().json().await.unwrap();
        assert_eq!(now["theme"], "dark");
        let bad = app.client.put(app.url("/api/preferences")).json(&json!({ "theme": "neon" })).send().await.unwrap();
        problem(bad, 422).await;
    }
}

#[tokio::test]
async fn post_twice_makes_two_products_unless_a_key_is_sent() {
    for database in DATABASES {
        let app = spawn_app(database).await.signed_in().await;
        let create =
            |name: &str| app.client.post(app.url("/api/products")).json(&json!({ "name": name, "price_minor": 999 }));
        let a: Value = create("Lamp").send().await.unwrap().json().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await; // past the throttle window
        let b: Value = create("Lamp").send().await.unwrap().json().await.unwrap();
        assert_ne!(a["id"], b["id"], "{database:?}: POST is not idempotent");

        let key = fresh_key();
        let c = create("Desk").header("idempotency-key", &key).send().await.unwrap();
        assert_eq!(c.status(), 201);
        let c: Value = c.json().await.unwrap();
        let d = create("Desk").header("idempotency-key", &key).send().await.unwrap();
        assert_eq!(header(d.headers(), "idempotent-replayed"), Some("true"));
        assert_eq!(d.json::<Value>().await.unwrap()["id"], c["id"], "{database:?}: with a key, POST is made safe");
    }
}

#[tokio::test]
async fn put_twice_leaves_one_state_and_delete_twice_is_204_then_404() {
    for database in DATABASES {
        let app = spawn_app(database).await.signed_in().await;
        let url = app.url(&format!("/api/products/{}", fresh_key()));
        let body = json!({ "name": "Chair", "price_minor": 4500 });
        let first = app.client.put(&url).json(&body).send().await.unwrap();
        assert_eq!(first.status(), 201, "{database:?}");
        let second = app.client.put(&url).json(&body).send().await.unwrap();
        assert_eq!(second.status(), 200);
        let shown: Value = app.client.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(shown["name"], "Chair");
        assert_eq!(shown["price_minor"], 4500);
        let replaced =
            app.client.put(&url).json(&json!({ "name": "Stool", "price_minor": 1200 })).send().await.unwrap();
        assert_eq!(replaced.status(), 200);
        assert_eq!(app.client.get(&url).send().await.unwrap().json::<Value>().await.unwrap()["name"], "Stool");

        assert_eq!(app.client.delete(&url).send().await.unwrap().status(), 204);
        problem(app.client.delete(&url).send().await.unwrap(), 404).await;
        problem(app.client.get(&url).send().await.unwrap(), 404).await;
    }
}

#[tokio::test]
async fn invalid_products_are_refused() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let empty_name =
        app.client.post(app.url("/api/products")).json(&json!({ "name": " ", "price_minor": 1 })).send().await.unwrap();
    problem(empty_name, 422).await;
    let bad_id = app
        .client
        .put(app.url("/api/products/a%20b"))
        .json(&json!({ "name": "x", "price_minor": 1 }))
        .send()
        .await
        .unwrap();
    problem(bad_id, 400).await;
}

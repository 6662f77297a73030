//! The throttle over HTTP, on the shared Redis.

use crate::helpers::*;

#[tokio::test]
async fn ten_clicks_with_ten_keys_in_the_window_charge_once_and_get_nine_429s() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(app.pay(&app.client, &fresh_key(), &payment(1999)).await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 9, "{statuses:?}");
    assert_eq!(app.state.processor.requests(), 1);
    assert_eq!(app.ledger(&app.client).await.len(), 1, "the throttled keys left no payment behind");
    println!("throttle storm: {statuses:?}");
}

#[tokio::test]
async fn a_throttled_click_gets_a_clear_problem() {
    let app = spawn_app(Database::Sqlite).await.signed_in().await;
    app.pay(&app.client, &fresh_key(), &payment(50)).await;
    let response = app.pay(&app.client, &fresh_key(), &payment(50)).await;
    assert_eq!(header(response.headers(), "payonce-protection"), Some("throttle"));
    let retry_after: u64 = header(response.headers(), "retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after));
    let body = problem(response, 429).await;
    assert_eq!(body["title"], "You are doing this too fast");
    assert!(body["retry_after_ms"].as_u64().unwrap() <= 2_000);
}

use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app(Database::Sqlite).await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_session_cookie_is_signed_http_only_and_lax() {
    let app = spawn_app(Database::Sqlite).await;
    let response = app.client.post(app.url("/api/session")).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let cookie = header(response.headers(), "set-cookie").unwrap().to_owned();
    assert!(cookie.starts_with("payonce_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let again = app.client.post(app.url("/api/session")).send().await.unwrap();
    assert_eq!(again.status(), 200, "a live session is renewed, not replaced");
}

#[tokio::test]
async fn every_api_route_needs_a_session() {
    let app = spawn_app(Database::Sqlite).await;
    let anonymous = client();
    for (method, path) in [
        ("GET", "/api/payments"),
        ("POST", "/api/payments"),
        ("GET", "/api/payments/x"),
        ("POST", "/api/users"),
        ("GET", "/api/preferences"),
        ("PUT", "/api/preferences"),
        ("POST", "/api/products"),
        ("GET", "/api/products/x"),
        ("PUT", "/api/products/x"),
        ("DELETE", "/api/products/x"),
    ] {
        let response = anonymous
            .request(method.parse().unwrap(), app.url(path))
            .header("idempotency-key", "k")
            .json(&payment(100))
            .send()
            .await
            .unwrap();
        problem(response, 401).await;
    }
}

#[tokio::test]
async fn a_forged_session_cookie_is_refused() {
    let app = spawn_app(Database::Sqlite).await;
    let response = client()
        .get(app.url("/api/payments"))
        .header("cookie", "payonce_session=00000000-0000-4000-8000-000000000001")
        .send()
        .await
        .unwrap();
    problem(response, 401).await;
}

#[tokio::test]
async fn the_checkout_page_is_server_rendered() {
    let app = spawn_app(Database::Sqlite).await;
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("payonce"), "{html}");
}

//! The fingerprint throttle: refuses, with 429, a second identical request from the same user within a
//! short window, key or no key. It stops the ten-clicks-a-second double submit that makes a new
//! Idempotency-Key per click.
//!
//! The fingerprint is the user, the method, the route and the canonical body, under the server's HMAC key
//! (the same canonicalisation as the idempotency layer). Placed beneath [`crate::idempotency`], a retry that
//! reuses its key is replayed (or told 409) before it gets here, so a legitimate retry is never throttled;
//! and the mark is lifted when the request it guarded fails with a 5xx, so the retry of a failure is not
//! throttled either.
//!
//! ```no_run
//! use std::{sync::Arc, time::Duration};
//! use axum::{routing::post, Router};
//! use payonce::{idempotency::fingerprint::FingerprintSecret, store::MemoryStore, throttle::ThrottleLayer};
//!
//! let throttle = ThrottleLayer::new(Arc::new(MemoryStore::new(10_000)), FingerprintSecret::new(b"secret"))
//!     .window(Duration::from_secs(2));
//! let app: Router = Router::new().route("/charge", post(|| async { "charged" }).layer(throttle));
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::response::Response;
use tower::{Service, ServiceExt};

use crate::error::ApiError;
use crate::guard::{Guard, GuardLayer};
use crate::idempotency::fingerprint::{canonical_body, FingerprintSecret};
use crate::idempotency::{buffer_body, infallible, reject, within};
use crate::session::UserId;
use crate::store::{FencingToken, ThrottleStore};

/// The throttle guard's settings; see the module documentation.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn ThrottleStore>,
    secret: FingerprintSecret,
    window: Duration,
    store_timeout: Duration,
    max_request_body: usize,
}

/// Refuses repeats within a window; see the module documentation.
pub type ThrottleLayer = GuardLayer<Throttle>;

impl ThrottleLayer {
    /// A 2-second window, a 500 ms store timeout and 16 KiB request bodies.
    pub fn new(store: Arc<dyn ThrottleStore>, secret: FingerprintSecret) -> Self {
        GuardLayer::from_guard(Throttle {
            store,
            secret,
            window: Duration::from_secs(2),
            store_timeout: Duration::from_millis(500),
            max_request_body: 16 * 1024,
        })
    }

    /// How long an identical request is refused after the first (set per route).
    pub fn window(self, window: Duration) -> Self {
        self.with(|s| s.window = window)
    }

    /// Time limit per store command; past it the request fails closed with 503.
    pub fn store_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.store_timeout = timeout)
    }

    /// Largest request body read (413 beyond).
    pub fn max_request_body(self, bytes: usize) -> Self {
        self.with(|s| s.max_request_body = bytes)
    }
}

impl Guard for Throttle {
    async fn handle<S>(self: Arc<Self>, inner: S, request: Request) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send + 'static,
    {
        let Some(user) = request.extensions().get::<UserId>().cloned() else {
            return reject(ApiError::Unauthorized);
        };
        let (parts, body) = request.into_parts();
        let body = match buffer_body(body, self.max_request_body).await {
            Ok(body) => body,
            Err(error) => return reject(error),
        };
        let route = parts.extensions.get::<MatchedPath>().map(|p| p.as_str()).unwrap_or(parts.uri.path());
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let fingerprint = self.secret.fingerprint(&[
            user.as_str().as_bytes(),
            parts.method.as_str().as_bytes(),
            route.as_bytes(),
            &canonical_body(content_type, &body),
        ]);
        // The user is the hash tag: one user's marks share a Redis Cluster slot.
        let mark = format!("payonce:throttle:{{{user}}}:{fingerprint}");
        let token = FencingToken::new_random();
        match within(self.store_timeout, self.store.mark(&mark, &token, self.window)).await {
            Ok(None) => {}
            Ok(Some(left)) => return reject(ApiError::Throttled { retry_after: left }),
            Err(error) => {
                tracing::warn!(%error, "throttle store failed; refusing the request");
                return reject(ApiError::StoreUnavailable);
            }
        }
        let response = infallible(inner.oneshot(Request::from_parts(parts, Body::from(body))).await);
        if response.status().is_server_error() {
            if let Err(error) = within(self.store_timeout, self.store.unmark(&mark, &token)).await {
                tracing::warn!(%error, "could not lift the throttle mark after a failure; it expires by itself");
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::middleware::{self, Next};
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Router;

    use super::*;
    use crate::idempotency::IdempotencyLayer;
    use crate::store::{MemoryStore, Stores};
    use app::types::{PROTECTION_HEADER, REPLAYED_HEADER};

    const USER_A: &str = "00000000-0000-4000-8000-00000000000a";
    const USER_B: &str = "00000000-0000-4000-8000-00000000000b";
    const BODY: &str = r#"{"amount_minor":1250,"currency":"EUR"}"#;

    async fn user_from_header(mut request: Request, next: Next) -> Response {
        if let Some(user) = request.headers().get("x-user").and_then(|v| UserId::parse(v.to_str().ok()?)) {
            request.extensions_mut().insert(user);
        }
        next.run(request).await
    }

    /// Counts runs; answers 500 when asked to.
    async fn handler(State(runs): State<Arc<AtomicUsize>>, headers: axum::http::HeaderMap) -> Response {
        runs.fetch_add(1, Ordering::SeqCst);
        if headers.contains_key("x-fail") {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        StatusCode::CREATED.into_response()
    }

    /// The payments stack in miniature: idempotency outside, throttle inside.
    fn router(window: Duration) -> (Router, Arc<AtomicUsize>) {
        let stores = Stores::from_store(MemoryStore::new(1_000));
        let secret = FingerprintSecret::new(b"test");
        let runs = Arc::new(AtomicUsize::new(0));
        let stack = tower::ServiceBuilder::new()
            .layer(IdempotencyLayer::new(stores.idempotency, secret.clone()))
            .layer(ThrottleLayer::new(stores.throttle, secret).window(window));
        let router = Router::new()
            .route("/pay", post(handler).layer(stack))
            .layer(middleware::from_fn(user_from_header))
            .with_state(runs.clone());
        (router, runs)
    }

    async fn send(router: &Router, user: &str, key: Option<&str>, body: &str) -> Response {
        let mut request = Request::post("/pay").header("content-type", "application/json").header("x-user", user);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn ten_keys_one_body_in_the_window_run_once_and_throttle_nine() {
        let (router, runs) = router(Duration::from_secs(2));
        let mut statuses = Vec::new();
        for click in 0..10 {
            statuses.push(send(&router, USER_A, Some(&format!("click-{click}")), BODY).await.status());
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1);
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 9);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_429_is_problem_json_with_retry_after_and_the_window_left() {
        let (router, _) = router(Duration::from_secs(2));
        send(&router, USER_A, None, BODY).await;
        let response = send(&router, USER_A, None, BODY).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()[PROTECTION_HEADER], "throttle");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let problem: app::types::Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.title, "You are doing this too fast");
        let left = problem.retry_after_ms.unwrap();
        assert!(left > 0 && left <= 2_000);
    }

    #[tokio::test]
    async fn a_retry_with_the_same_key_replays_instead_of_429() {
        let (router, runs) = router(Duration::from_secs(2));
        send(&router, USER_A, Some("k1"), BODY).await;
        let retry = send(&router, USER_A, Some("k1"), BODY).await;
        assert_eq!(retry.status(), StatusCode::CREATED);
        assert_eq!(retry.headers()[REPLAYED_HEADER], "true");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_throttled_key_is_not_poisoned() {
        let (router, runs) = router(Duration::from_millis(200));
        send(&router, USER_A, Some("k1"), BODY).await;
        assert_eq!(send(&router, USER_A, Some("k2"), BODY).await.status(), StatusCode::TOO_MANY_REQUESTS);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let later = send(&router, USER_A, Some("k2"), BODY).await;
        assert_eq!(later.status(), StatusCode::CREATED);
        assert!(later.headers().get(REPLAYED_HEADER).is_none());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn after_the_window_the_same_request_runs_again() {
        let (router, runs) = router(Duration::from_millis(100));
        send(&router, USER_A, None, BODY).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(send(&router, USER_A, None, BODY).await.status(), StatusCode::CREATED);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn two_users_with_the_same_body_both_run() {
        let (router, runs) = router(Duration::from_secs(2));
        assert_eq!(send(&router, USER_A, None, BODY).await.status(), StatusCode::CREATED);
        assert_eq!(send(&router, USER_B, None, BODY).await.status(), StatusCode::CREATED);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_different_body_runs() {
        let (router, runs) = router(Duration::from_secs(2));
        send(&router, USER_A, None, BODY).await;
        let other = r#"{"amount_minor":999,"currency":"EUR"}"#;
        assert_eq!(send(&router, USER_A, None, other).await.status(), StatusCode::CREATED);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_request_lifts_its_mark_so_the_retry_is_not_throttled() {
        let (router, runs) = router(Duration::from_secs(2));
        let request = Request::post("/pay")
            .header("content-type", "application/json")
            .header("x-user", USER_A)
            .header("idempotency-key", "k1")
            .header("x-fail", "1")
            .body(Body::from(BODY))
            .unwrap();
        assert_eq!(router.clone().oneshot(request).await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(send(&router, USER_A, Some("k1"), BODY).await.status(), StatusCode::CREATED);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}

//! Router tests of the layer alone, driven with `oneshot`, over the memory store (the Redis store passes the
//! same conformance suite; the API tests run this layer over Redis end to end).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use proptest::prelude::*;
use tower::ServiceExt;

use super::*;
use crate::store::MemoryStore;

const USER_A: &str = "00000000-0000-4000-8000-00000000000a";
const USER_B: &str = "00000000-0000-4000-8000-00000000000b";

#[derive(Clone, Default)]
struct Handler {
    runs: Arc<AtomicUsize>,
}

/// Echoes the body with 201 after `x-delay-ms`; `x-fail: 500|panic|reject|400` makes it fail that way.
async fn echo(State(handler): State<Handler>, headers: HeaderMap, body: String) -> Response {
    let run = handler.runs.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(delay) = headers.get("x-delay-ms").and_then(|v| v.to_str().ok()?.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match headers.get("x-fail").and_then(|v| v.to_str().ok()) {
        Some("500") => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some("panic") => panic!("handler blew up"),
        Some("reject") => return reject(ApiError::Throttled { retry_after: Duration::from_secs(1) }),
        Some("400") => return ApiError::BadRequest("bad amount".into()).into_response(),
        _ => {}
    }
    (
        StatusCode::CREATED,
        [
            ("location", "/pay/1".to_owned()),
            ("x-run", run.to_string()),
            ("set-cookie", "a=b".to_owned()),
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT".to_owned()),
            ("x-ratelimit-remaining", "9".to_owned()),
            ("content-type", "application/json".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Stands in for the session layer: the user comes from `x-user`.
async fn user_from_header(mut request: Request, next: Next) -> Response {
    if let Some(user) = request.headers().get("x-user").and_then(|v| UserId::parse(v.to_str().ok()?)) {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

fn layer(store: Arc<MemoryStore>) -> IdempotencyLayer {
    IdempotencyLayer::new(store, FingerprintSecret::new(b"test")).require_key(true)
}

fn router_with(layer: IdempotencyLayer) -> (Router, Handler) {
    let handler = Handler::default();
    let router = Router::new()
        .route("/pay", post(echo).layer(layer))
        .layer(middleware::from_fn(user_from_header))
        .with_state(handler.clone());
    (router, handler)
}

fn router() -> (Router, Handler) {
    router_with(layer(Arc::new(MemoryStore::new(10_000))))
}

fn pay_as(user: &str, key: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::post("/pay").header("content-type", "application/json").header("x-user", user);
    match key {
        Some(key) => builder.header("idempotency-key", key),
        None => builder,
    }
}

fn pay(key: Option<&str>) -> axum::http::request::Builder {
    pay_as(USER_A, key)
}

async fn send(router: &Router, request: axum::http::request::Builder, body: &str) -> Response {
    router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap()
}

async fn body_text(response: Response) -> String {
    String::from_utf8(axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap()
}

const BODY: &str = r#"{"amount_minor":1250,"currency":"EUR"}"#;

#[tokio::test]
async fn a_missing_key_on_a_required_route_is_400_and_runs_nothing() {
    let (router, handler) = router();
    let response = send(&router, pay(None), BODY).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert!(body_text(response).await.contains("Idempotency-Key header is required"));
    assert_eq!(handler.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_missing_key_passes_through_where_keys_are_optional() {
    let (router, handler) = router_with(layer(Arc::new(MemoryStore::new(10))).require_key(false));
    assert_eq!(send(&router, pay(None), BODY).await.status(), StatusCode::CREATED);
    assert_eq!(send(&router, pay(None), BODY).await.status(), StatusCode::CREATED);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn invalid_and_repeated_keys_are_400() {
    let (router, handler) = router();
    let long = "k".repeat(256);
    for bad in ["", "has space", long.as_str()] {
        let response = send(&router, pay(Some(bad)), BODY).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "key {bad:?}");
    }
    let twice = pay(Some("a")).header("idempotency-key", "b");
    assert_eq!(send(&router, twice, BODY).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_retry_replays_the_first_answer_without_running_again() {
    let (router, handler) = router();
    let first = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get(REPLAYED_HEADER).is_none());
    let first_body = body_text(first).await;

    let again = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()[REPLAYED_HEADER], "true");
    assert_eq!(again.headers()[PROTECTION_HEADER], "idempotency-replay");
    assert_eq!(again.headers()["location"], "/pay/1");
    assert_eq!(again.headers()["x-run"], "1");
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(body_text(again).await, first_body);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_replay_never_carries_set_cookie_date_or_rate_limit_headers() {
    let (router, _) = router();
    send(&router, pay(Some("k1")), BODY).await;
    let again = send(&router, pay(Some("k1")), BODY).await;
    for header in ["set-cookie", "date", "x-ratelimit-remaining"] {
        assert!(again.headers().get(header).is_none(), "{header} was replayed");
    }
}

#[tokio::test]
async fn the_same_json_in_another_key_order_and_spacing_replays() {
    let (router, handler) = router();
    send(&router, pay(Some("k1")), BODY).await;
    let reordered = r#"{ "currency": "EUR",  "amount_minor": 1250 }"#;
    let again = send(&router, pay(Some("k1")), reordered).await;
    assert_eq!(again.headers()[REPLAYED_HEADER], "true");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reused_key_with_another_body_is_422() {
    let (router, handler) = router();
    send(&router, pay(Some("k1")), BODY).await;
    let other = r#"{"amount_minor":9999,"currency":"EUR"}"#;
    let response = send(&router, pay(Some("k1")), other).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.headers()[PROTECTION_HEADER], "idempotency-mismatch");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reused_key_on_another_path_is_422() {
    let store = Arc::new(MemoryStore::new(100));
    let handler = Handler::default();
    let router = Router::new()
        .route("/pay", post(echo))
        .route("/refund", post(echo))
        .layer(layer(store))
        .layer(middleware::from_fn(user_from_header))
        .with_state(handler.clone());
    send(&router, pay(Some("k1")), BODY).await;
    let refund = Request::post("/refund")
        .header("content-type", "application/json")
        .header("x-user", USER_A)
        .header("idempotency-key", "k1");
    assert_eq!(send(&router, refund, BODY).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_retry_while_the_first_runs_is_409_with_retry_after() {
    let (router, handler) = router();
    let slow = tokio::spawn({
        let router = router.clone();
        async move { send(&router, pay(Some("k1")).header("x-delay-ms", "400"), BODY).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers()[PROTECTION_HEADER], "idempotency-in-flight");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after));
    assert_eq!(slow.await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn prefer_wait_waits_for_the_first_and_replays_it() {
    let (router, handler) = router();
    let slow = tokio::spawn({
        let router = router.clone();
        async move { send(&router, pay(Some("k1")).header("x-delay-ms", "300"), BODY).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let response = send(&router, pay(Some("k1")).header("prefer", "respond-async, wait=5"), BODY).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()[REPLAYED_HEADER], "true");
    slow.await.unwrap();
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn prefer_wait_gives_up_with_409_after_the_wait() {
    let (router, _) = router();
    let slow = tokio::spawn({
        let router = router.clone();
        async move { send(&router, pay(Some("k1")).header("x-delay-ms", "1500"), BODY).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let response = send(&router, pay(Some("k1")).header("prefer", "wait=1"), BODY).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    slow.await.unwrap();
}

#[tokio::test]
async fn another_user_with_the_same_key_gets_a_fresh_run_and_never_the_first_answer() {
    let (router, handler) = router();
    send(&router, pay(Some("shared")), BODY).await;
    let response = send(&router, pay_as(USER_B, Some("shared")), BODY).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get(REPLAYED_HEADER).is_none());
    assert_eq!(response.headers()["x-run"], "2");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_request_without_a_user_is_refused() {
    let (router, handler) = router();
    let request = Request::post("/pay").header("idempotency-key", "k").body(Body::from(BODY)).unwrap();
    assert_eq!(router.oneshot(request).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_5xx_releases_the_key_so_a_retry_runs() {
    let (router, handler) = router();
    let failed = send(&router, pay(Some("k1")).header("x-fail", "500"), BODY).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let retry = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert!(retry.headers().get(REPLAYED_HEADER).is_none());
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panic_is_a_500_problem_and_releases_the_key() {
    let (router, handler) = router();
    let failed = send(&router, pay(Some("k1")).header("x-fail", "panic"), BODY).await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.headers()["content-type"], "application/problem+json");
    assert_eq!(send(&router, pay(Some("k1")), BODY).await.status(), StatusCode::CREATED);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_layer_refusal_from_beneath_is_not_saved() {
    let (router, handler) = router();
    let refused = send(&router, pay(Some("k1")).header("x-fail", "reject"), BODY).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(send(&router, pay(Some("k1")), BODY).await.status(), StatusCode::CREATED);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_handlers_own_4xx_is_saved_and_replayed() {
    let (router, handler) = router();
    let first = send(&router, pay(Some("k1")).header("x-fail", "400"), BODY).await;
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let again = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.headers()[REPLAYED_HEADER], "true");
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_over_the_storage_cap_is_sent_once_then_replayed_without_body() {
    let (router, handler) = router_with(layer(Arc::new(MemoryStore::new(10))).max_stored_body(16));
    let first = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(body_text(first).await, BODY);
    let again = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()[BODY_OMITTED_HEADER], "true");
    assert_eq!(again.headers()["location"], "/pay/1");
    assert!(again.headers().get("content-type").is_none());
    assert_eq!(body_text(again).await, "");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_body_over_the_limit_is_413() {
    let (router, handler) = router_with(layer(Arc::new(MemoryStore::new(10))).max_request_body(8));
    let response = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn get_requests_pass_through_untouched() {
    let handler = Handler::default();
    let router = Router::new()
        .route("/pay", axum::routing::get(|| async { "listing" }))
        .layer(layer(Arc::new(MemoryStore::new(10))))
        .with_state(handler);
    let response = router.oneshot(Request::get("/pay").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_still_gets_one_run_and_a_replay() {
    let (router, handler) = router();
    let request = pay(Some("k1")).header("x-delay-ms", "300").body(Body::from(BODY)).unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), router.clone().oneshot(request)).await;
    assert!(gave_up.is_err(), "the client should have given up first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
    let retry = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()[REPLAYED_HEADER], "true");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn after_a_lease_runs_out_the_next_request_runs_and_the_late_owner_cannot_save() {
    let short_lease = layer(Arc::new(MemoryStore::new(10))).lease(Duration::from_millis(100));
    let (router, handler) = router_with(short_lease);
    // The first owner stalls past its lease, as a hung or crashed server would.
    let stalled = tokio::spawn({
        let router = router.clone();
        async move { send(&router, pay(Some("k1")).header("x-delay-ms", "400"), BODY).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let successor = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(successor.headers()["x-run"], "2");
    stalled.await.unwrap();
    let replay = send(&router, pay(Some("k1")), BODY).await;
    assert_eq!(replay.headers()[REPLAYED_HEADER], "true");
    assert_eq!(replay.headers()["x-run"], "2", "the stalled owner's late answer must not replace the successor's");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn two_hundred_concurrent_requests_with_one_key_run_the_handler_once() {
    let (router, handler) = router();
    let responses = futures::future::join_all((0..200).map(|_| {
        let router = router.clone();
        tokio::spawn(async move { send(&router, pay(Some("storm")).header("x-delay-ms", "50"), BODY).await })
    }))
    .await;
    let mut created = 0;
    for response in responses {
        let response = response.unwrap();
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(created >= 1);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[test]
fn prefer_wait_is_read_among_other_preferences() {
    let mut headers = HeaderMap::new();
    assert_eq!(prefer_wait(&headers), None);
    headers.insert("prefer", "respond-async, wait=7".parse().unwrap());
    assert_eq!(prefer_wait(&headers), Some(Duration::from_secs(7)));
    headers.insert("prefer", "handling=lenient; WAIT = 3".parse().unwrap());
    assert_eq!(prefer_wait(&headers), Some(Duration::from_secs(3)));
    headers.insert("prefer", "wait=soon".parse().unwrap());
    assert_eq!(prefer_wait(&headers), None);
}

/// The model the stores must agree with: what one key holds, from the outside.
#[derive(Clone, Debug, PartialEq)]
enum Model {
    Free,
    Running { owner: usize, fingerprint: u8 },
    Done { fingerprint: u8, answer: u16 },
}

#[derive(Clone, Debug)]
enum Op {
    Claim { client: usize, fingerprint: u8 },
    Save { client: usize, answer: u16 },
    Release { client: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..2u8).prop_map(|(client, fingerprint)| Op::Claim { client, fingerprint }),
        (0..3usize, 200..203u16).prop_map(|(client, answer)| Op::Save { client, answer }),
        (0..3usize).prop_map(|client| Op::Release { client }),
    ]
}

/// Replays `ops` against `store` and the model side by side; any difference fails the property.
async fn follows_the_model(store: &dyn IdempotencyStore, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let key = ScopedKey::new(UserId::new_random(), IdempotencyKey::parse("k").unwrap());
    let secret = FingerprintSecret::new(b"model");
    let tokens: Vec<FencingToken> = (0..3).map(|_| FencingToken::new_random()).collect();
    let lease = Duration::from_secs(60);
    let mut model = Model::Free;
    for op in ops {
        match op {
            Op::Claim { client, fingerprint } => {
                let got =
                    store.claim(&key, &secret.fingerprint(&[&[fingerprint]]), &tokens[client], lease).await.unwrap();
                let (expected, next) = match &model {
                    Model::Free => ("claimed", Model::Running { owner: client, fingerprint }),
                    Model::Running { fingerprint: f, .. } | Model::Done { fingerprint: f, .. } if *f != fingerprint => {
                        ("mismatch", model.clone())
                    }
                    Model::Running { .. } => ("in flight", model.clone()),
                    Model::Done { .. } => ("replay", model.clone()),
                };
                let got_name = match &got {
                    Claim::Claimed => "claimed",
                    Claim::Mismatch => "mismatch",
                    Claim::InFlight { .. } => "in flight",
                    Claim::Replay(_) => "replay",
                };
                prop_assert_eq!(got_name, expected);
                if let (Claim::Replay(stored), Model::Done { answer, .. }) = (&got, &model) {
                    prop_assert_eq!(stored.status, *answer);
                }
                model = next;
            }
            Op::Save { client, answer } => {
                let stored =
                    StoredResponse { status: answer, headers: vec![], body: Bytes::new(), body_omitted: false };
                let got = store.save(&key, &tokens[client], &stored, lease).await.unwrap();
                let owns = matches!(model, Model::Running { owner, .. } if owner == client);
                prop_assert_eq!(got == Fenced::Done, owns);
                if let (true, Model::Running { fingerprint, .. }) = (owns, &model) {
                    model = Model::Done { fingerprint: *fingerprint, answer };
                }
            }
            Op::Release { client } => {
                let got = store.release(&key, &tokens[client]).await.unwrap();
                let owns = matches!(model, Model::Running { owner, .. } if owner == client);
                prop_assert_eq!(got == Fenced::Done, owns);
                if owns {
                    model = Model::Free;
                }
            }
        }
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    /// Any sequence of claims, saves and releases by three clients leaves the memory store where the model
    /// says, and every answer matches the model's.
    #[test]
    fn the_memory_store_follows_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        runtime().block_on(follows_the_model(&MemoryStore::new(10), ops))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The same property over a real Redis.
    #[test]
    fn the_redis_store_follows_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = runtime();
        runtime.block_on(async {
            let store = crate::store::RedisStore::connect(&crate::store::test_redis_url()).await.unwrap();
            follows_the_model(&store, ops).await
        })?;
    }
}

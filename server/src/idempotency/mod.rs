//! The Idempotency-Key layer: the server half of the Stripe method, as a plain tower layer.
//!
//! For each POST or PATCH that carries `Idempotency-Key`, one atomic store step either claims the key for
//! this request or says what holds it:
//!
//! | the key is…                         | the answer                                                   |
//! |-------------------------------------|--------------------------------------------------------------|
//! | new                                 | the request runs; its answer is saved under the key, fenced  |
//! | running, same request               | 409 with `Retry-After` (or, with `Prefer: wait=N`, a wait)   |
//! | used with a different request       | 422                                                          |
//! | finished, same request              | the saved answer again, with `Idempotent-Replayed: true`     |
//!
//! Keys are scoped by the [`UserId`] an earlier layer put in the request extensions, so one user's key never
//! reaches another user's answer. The handler runs in its own task: a client that disconnects cannot stop
//! it, and its retry replays what it would have received. 5xx answers, panics and the refusals of layers
//! beneath (marked with [`LayerRejection`]) release the key instead, so the client can try again.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::post, Router};
//! use payonce::idempotency::{fingerprint::FingerprintSecret, IdempotencyLayer};
//! use payonce::store::MemoryStore;
//!
//! let layer = IdempotencyLayer::new(Arc::new(MemoryStore::new(10_000)), FingerprintSecret::new(b"secret"))
//!     .require_key(true);
//! let app: Router = Router::new().route("/charge", post(|| async { "charged" }).layer(layer));
//! ```

pub mod fingerprint;
pub mod key;

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use app::types::{PROTECTION_HEADER, REPLAYED_HEADER};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, request, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::FutureExt;
use tokio::time::Instant;
use tower::{Service, ServiceExt};

use crate::error::ApiError;
use crate::guard::{Guard, GuardLayer};
use crate::session::UserId;
use crate::store::{Claim, Fenced, FencingToken, IdempotencyStore, ScopedKey, StoreError, StoredResponse};
use fingerprint::{canonical_body, Fingerprint, FingerprintSecret};
use key::{IdempotencyKey, KeyError};

/// Marks a response that a layer made itself (a refusal such as 400, 409, 422, 429 or 503), as opposed to
/// one the handler made. Such responses are never saved under an idempotency key.
#[derive(Clone, Copy, Debug)]
pub struct LayerRejection;

/// A layer's own refusal: the problem response, marked as such.
pub fn reject(error: ApiError) -> Response {
    let mut response = error.into_response();
    response.extensions_mut().insert(LayerRejection);
    response
}

/// Set on a replay whose original body was over the size cap and so was not kept.
pub const BODY_OMITTED_HEADER: &str = "idempotent-body-omitted";

/// How often a `Prefer: wait` request looks again at a running key.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// Reads a request body whole, refusing one over `limit` bytes with 413.
pub async fn buffer_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::PayloadTooLarge { limit })
}

/// Runs one store command under the time limit; past it, the store counts as unavailable.
pub async fn within<T>(limit: Duration, command: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    tokio::time::timeout(limit, command)
        .await
        .unwrap_or_else(|_| Err(StoreError::Unavailable(format!("no answer within {limit:?}"))))
}

/// The idempotency guard's settings; see the module documentation.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    secret: FingerprintSecret,
    require_key: bool,
    lease: Duration,
    ttl: Duration,
    max_wait: Duration,
    store_timeout: Duration,
    max_stored_body: usize,
    max_request_body: usize,
}

/// Makes the routes it wraps safe to retry; see the module documentation.
pub type IdempotencyLayer = GuardLayer<Idempotency>;

impl IdempotencyLayer {
    /// A layer with the defaults: key optional, 30 s lease, 24 h replay, 500 ms store timeout, 10 s longest
    /// `Prefer: wait`, 256 KiB stored bodies, 16 KiB requests.
    pub fn new(store: Arc<dyn IdempotencyStore>, secret: FingerprintSecret) -> Self {
        GuardLayer::from_guard(Idempotency {
            store,
            secret,
            require_key: false,
            lease: Duration::from_secs(30),
            ttl: Duration::from_secs(24 * 60 * 60),
            max_wait: Duration::from_secs(10),
            store_timeout: Duration::from_millis(500),
            max_stored_body: 256 * 1024,
            max_request_body: 16 * 1024,
        })
    }

    /// Answer 400 to a POST or PATCH without a key (payments), instead of letting it through (other routes).
    pub fn require_key(self, required: bool) -> Self {
        self.with(|s| s.require_key = required)
    }

    /// How long a claim holds the key before another request may take over (a crashed owner's timeout).
    pub fn lease(self, lease: Duration) -> Self {
        self.with(|s| s.lease = lease)
    }

    /// How long a finished answer stays replayable.
    pub fn ttl(self, ttl: Duration) -> Self {
        self.with(|s| s.ttl = ttl)
    }

    /// The longest `Prefer: wait=N` honoured.
    pub fn max_wait(self, max_wait: Duration) -> Self {
        self.with(|s| s.max_wait = max_wait)
    }

    /// Time limit per store command; past it the request fails closed with 503.
    pub fn store_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.store_timeout = timeout)
    }

    /// Largest response body kept for replay; a larger one is sent once and replayed without its body.
    pub fn max_stored_body(self, bytes: usize) -> Self {
        self.with(|s| s.max_stored_body = bytes)
    }

    /// Largest request body read (413 beyond).
    pub fn max_request_body(self, bytes: usize) -> Self {
        self.with(|s| s.max_request_body = bytes)
    }
}

impl Guard for Idempotency {
    async fn handle<S>(self: Arc<Self>, inner: S, request: Request) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send + 'static,
    {
        if !matches!(*request.method(), Method::POST | Method::PATCH) {
            return infallible(inner.oneshot(request).await);
        }
        let key = match IdempotencyKey::from_headers(request.headers()) {
            Ok(Some(key)) => key,
            Ok(None) if self.require_key => return reject(ApiError::BadRequest(KeyError::Missing.to_string())),
            Ok(None) => return infallible(inner.oneshot(request).await),
            Err(error) => return reject(ApiError::BadRequest(error.to_string())),
        };
        let Some(user) = request.extensions().get::<UserId>().cloned() else {
            return reject(ApiError::Unauthorized);
        };
        let (parts, body) = request.into_parts();
        let body = match buffer_body(body, self.max_request_body).await {
            Ok(body) => body,
            Err(error) => return reject(error),
        };
        let fingerprint = self.fingerprint(&parts, &body);
        let scoped = ScopedKey::new(user, key);
        let token = FencingToken::new_random();
        let wait_until = prefer_wait(&parts.headers).map(|wait| Instant::now() + wait.min(self.max_wait));
        loop {
            let claim = within(self.store_timeout, self.store.claim(&scoped, &fingerprint, &token, self.lease)).await;
            match claim {
                Ok(Claim::Claimed) => {
                    let request = Request::from_parts(parts, Body::from(body));
                    return self.run(inner, scoped, token, request).await;
                }
                Ok(Claim::Replay(stored)) => return replay(stored),
                Ok(Claim::Mismatch) => return reject(ApiError::KeyReused),
                Ok(Claim::InFlight { lease_left }) => match wait_until {
                    Some(deadline) if Instant::now() < deadline => {
                        tokio::time::sleep(WAIT_POLL.min(deadline - Instant::now())).await;
                    }
                    _ => return reject(ApiError::KeyInFlight { retry_after: lease_left }),
                },
                Err(error) => {
                    tracing::warn!(%error, "idempotency store failed; refusing the request");
                    return reject(ApiError::StoreUnavailable);
                }
            }
        }
    }
}

impl Idempotency {
    /// Method, path and query, media type and canonical body, under the server's HMAC key.
    fn fingerprint(&self, parts: &request::Parts, body: &[u8]) -> Fingerprint {
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let path_and_query = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        self.secret.fingerprint(&[
            parts.method.as_str().as_bytes(),
            path_and_query.as_bytes(),
            fingerprint::media_type(content_type).as_bytes(),
            &canonical_body(content_type, body),
        ])
    }

    /// Runs the claimed request to the end in its own task, so a client that goes away cannot cut it short.
    async fn run<S>(self: Arc<Self>, inner: S, scoped: ScopedKey, token: FencingToken, request: Request) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send + 'static,
    {
        let task = tokio::spawn(async move {
            match AssertUnwindSafe(inner.oneshot(request)).catch_unwind().await {
                Ok(response) => self.finish(&scoped, &token, infallible(response)).await,
                Err(_) => {
                    self.release(&scoped, &token).await;
                    ApiError::Internal("the handler panicked; the key was released".into()).into_response()
                }
            }
        });
        task.await.unwrap_or_else(|error| ApiError::Internal(format!("request task failed: {error}")).into_response())
    }

    /// Saves a final answer under the key (fenced by our token), or releases the key when the answer is a
    /// 5xx or a layer's refusal, then hands the answer on.
    async fn finish(&self, scoped: &ScopedKey, token: &FencingToken, response: Response) -> Response {
        if response.status().is_server_error() || response.extensions().get::<LayerRejection>().is_some() {
            self.release(scoped, token).await;
            return response;
        }
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(error) => {
                self.release(scoped, token).await;
                return ApiError::Internal(format!("reading the handler's answer: {error}")).into_response();
            }
        };
        let body_omitted = body.len() > self.max_stored_body;
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: replayable_headers(&parts.headers),
            body: if body_omitted { Bytes::new() } else { body.clone() },
            body_omitted,
        };
        match within(self.store_timeout, self.store.save(scoped, token, &stored, self.ttl)).await {
            Ok(Fenced::Done) => {}
            // The lease ran out and another request owns the key now; its answer is the one kept.
            Ok(Fenced::Refused) => tracing::warn!(key = %scoped.key, "lease expired before the answer was saved"),
            // The answer still goes out; a retry runs again once the lease ends, and the ledger's
            // unique constraint keeps that from charging twice.
            Err(error) => tracing::warn!(%error, key = %scoped.key, "could not save the answer for replay"),
        }
        Response::from_parts(parts, Body::from(body))
    }

    async fn release(&self, scoped: &ScopedKey, token: &FencingToken) {
        if let Err(error) = within(self.store_timeout, self.store.release(scoped, token)).await {
            tracing::warn!(%error, key = %scoped.key, "could not release the key; it frees itself when the lease ends");
        }
    }
}

/// `Prefer: wait=N` (RFC 7240), among any other preferences.
fn prefer_wait(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split([',', ';']))
        .find_map(|preference| {
            let (name, seconds) = preference.trim().split_once('=')?;
            name.trim().eq_ignore_ascii_case("wait").then(|| seconds.trim().parse().ok().map(Duration::from_secs))?
        })
}

/// Headers that describe the answer itself. Left out: those about this one delivery (Date, Set-Cookie,
/// framing) or about the moment (rate limits, Retry-After), which would be false or harmful when replayed.
fn replayable_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    const NOT_REPLAYED: &[&str] = &[
        "set-cookie",
        "date",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "retry-after",
        "server",
        REPLAYED_HEADER,
    ];
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            !NOT_REPLAYED.contains(&name) && !name.starts_with("ratelimit") && !name.starts_with("x-ratelimit")
        })
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect()
}

/// The saved answer again, marked as a replay.
fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
            headers.append(name, value);
        }
    }
    if stored.body_omitted {
        headers.remove(header::CONTENT_TYPE);
        headers.insert(BODY_OMITTED_HEADER, HeaderValue::from_static("true"));
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    headers.insert(PROTECTION_HEADER, HeaderValue::from_static("idempotency-replay"));
    response
}

/// The value of a result that cannot fail (axum's services never do).
pub fn infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests;

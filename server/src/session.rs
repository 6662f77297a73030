//! Guest sessions: a signed, HttpOnly cookie carries the user id that every `/api` route (and the
//! idempotency and throttle layers) scope by.

use std::fmt;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};

use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "payonce_session";

/// The signed-in user, as the session cookie names them. Layers read it from the request extensions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub fn new_random() -> Self {
        UserId(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts only the ids this server hands out (UUIDs), so a user id never needs escaping in a store key.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text).ok().map(|id| UserId(id.to_string()))
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The session's user id, read from the signed cookie.
pub fn user_from_jar(jar: &SignedCookieJar) -> Option<UserId> {
    jar.get(SESSION_COOKIE).and_then(|cookie| UserId::parse(cookie.value()))
}

/// A jar that carries a fresh session cookie for `user`.
pub fn with_session(jar: SignedCookieJar, user: &UserId) -> SignedCookieJar {
    let cookie = Cookie::build((SESSION_COOKIE, user.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .permanent()
        .build();
    jar.add(cookie)
}

/// Middleware: refuses requests without a valid session (401) and puts their `UserId` in the extensions.
pub async fn require_user(State(key): State<Key>, mut request: Request, next: Next) -> Response {
    let jar = SignedCookieJar::from_headers(request.headers(), key);
    match user_from_jar(&jar) {
        Some(user) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        None => ApiError::Unauthorized.into_response(),
    }
}

/// Handlers take `CurrentUser` to learn who is asking; `require_user` must run first.
pub struct CurrentUser(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<UserId>().cloned().map(CurrentUser).ok_or(ApiError::Unauthorized)
    }
}

/// Derives the cookie-signing key (64 bytes) from the server secret, apart from the fingerprint key.
pub fn cookie_key(secret: &[u8]) -> Key {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"payonce cookie key v1");
    Key::from(&mac.finalize().into_bytes())
}

//! One error type for the API boundary, turned into an RFC 9457 `application/problem+json` answer in one place.

use std::time::Duration;

use app::types::{Problem, PROTECTION_HEADER};
use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Everything an API request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first: this route needs a session cookie (POST /api/session makes one)")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("the request body is larger than the {limit} bytes this API accepts")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the card was declined; payment {payment_id} is marked failed")]
    PaymentDeclined { payment_id: String },
    #[error("the card processor did not answer; retry with the same Idempotency-Key")]
    ProcessorUnavailable,
    #[error("a request with this Idempotency-Key is still running; retry after it finishes")]
    KeyInFlight { retry_after: Duration },
    #[error("this Idempotency-Key was already used with a different request")]
    KeyReused,
    #[error("an identical request from you arrived moments ago; wait before repeating it")]
    Throttled { retry_after: Duration },
    #[error("the idempotency store is unavailable, so nothing was run; retry shortly")]
    StoreUnavailable,
    #[error("an internal error occurred")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::KeyInFlight { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) | ApiError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PaymentDeclined { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::ProcessorUnavailable => StatusCode::BAD_GATEWAY,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable slug for the problem `type` and for clients that branch on it.
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::PaymentDeclined { .. } => "payment-declined",
            ApiError::ProcessorUnavailable => "processor-unavailable",
            ApiError::KeyInFlight { .. } => "idempotency-key-in-flight",
            ApiError::KeyReused => "idempotency-key-reused",
            ApiError::Throttled { .. } => "throttled",
            ApiError::StoreUnavailable => "store-unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "Bad request",
            ApiError::Unauthorized => "No session",
            ApiError::NotFound(_) => "Not found",
            ApiError::Conflict(_) => "Conflict",
            ApiError::Unprocessable(_) => "Invalid request",
            ApiError::PayloadTooLarge { .. } => "Request body too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::PaymentDeclined { .. } => "Payment declined",
            ApiError::ProcessorUnavailable => "Card processor unavailable",
            ApiError::KeyInFlight { .. } => "Request in progress",
            ApiError::KeyReused => "Idempotency-Key reused with a different request",
            ApiError::Throttled { .. } => "You are doing this too fast",
            ApiError::StoreUnavailable => "Temporarily unavailable",
            ApiError::Internal(_) => "Internal error",
        }
    }

    /// Which of payonce's protections produced this answer, for the `Payonce-Protection` header.
    fn protection(&self) -> Option<&'static str> {
        match self {
            ApiError::KeyInFlight { .. } => Some("idempotency-in-flight"),
            ApiError::KeyReused => Some("idempotency-mismatch"),
            ApiError::Throttled { .. } => Some("throttle"),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::KeyInFlight { retry_after } | ApiError::Throttled { retry_after } => Some(*retry_after),
            ApiError::StoreUnavailable | ApiError::ProcessorUnavailable => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:payonce:problem:{}", self.slug()),
            title: self.title().to_owned(),
            status: self.status().as_u16(),
            detail: self.to_string(),
            retry_after_ms: match self {
                ApiError::Throttled { retry_after } => Some(retry_after.as_millis() as u64),
                _ => None,
            },
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up and never 0 (a 0 invites an immediate hammering retry).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let body = serde_json::to_vec(&self.problem()).expect("a problem always serialises");
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(wait) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(wait)));
        }
        if let Some(protection) = self.protection() {
            headers.insert(PROTECTION_HEADER, HeaderValue::from_static(protection));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("send the body as `Content-Type: application/json`".into())
            }
            JsonRejection::JsonSyntaxError(e) => {
                ApiError::BadRequest(format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(format!("database: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(retry_after_secs(Duration::from_millis(0)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(30)), 30);
    }

    #[tokio::test]
    async fn errors_become_problem_json_with_type_title_status_detail() {
        let response = ApiError::Throttled { retry_after: Duration::from_millis(1500) }.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(response.headers()[PROTECTION_HEADER], "throttle");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let problem: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.title, "You are doing this too fast");
        assert_eq!(problem.status, 429);
        assert_eq!(problem.type_uri, "urn:payonce:problem:throttled");
        assert_eq!(problem.retry_after_ms, Some(1500));
        assert!(!problem.detail.is_empty());
    }
}

//! Fault injection for the flaky-network panel. It exists only when `PAYONCE_CHAOS=1`; otherwise these
//! layers are not installed and the `Payonce-Chaos` header means nothing.
//!
//! - `lose-request`: the connection drops before the server runs anything.
//! - `lose-response`: the request runs to the end (the card is charged and the answer saved), then the
//!   connection drops without an answer, so the browser sees a real network error.
//! - `slow-response`: the handler starts late, past the browser's per-attempt timeout, so its retry finds
//!   the key in flight.

use std::time::Duration;

use app::types::{CHAOS_HEADER, CHAOS_SLOW_MS};
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;

fn fault(request: &Request) -> Option<&str> {
    request.headers().get(CHAOS_HEADER).and_then(|value| value.to_str().ok())
}

/// A response whose body fails before its first byte: hyper then closes the connection without sending
/// anything, which the client sees as a network error.
fn dropped_connection() -> Response {
    let broken = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "chaos: connection dropped",
        ))
    });
    Response::new(Body::from_stream(broken))
}

/// Outermost on `/api`: loses the request or the response.
pub async fn network_faults(request: Request, next: Next) -> Response {
    match fault(&request) {
        Some("lose-request") => {
            tracing::info!(uri = %request.uri(), "chaos: request lost before it ran");
            dropped_connection()
        }
        Some("lose-response") => {
            let uri = request.uri().clone();
            let response = next.run(request).await;
            // Wait for the whole answer, so everything the request did (and the saving of its answer) is
            // done before the connection drops.
            let status = response.status();
            let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            tracing::info!(%uri, %status, "chaos: response lost after the request ran");
            dropped_connection()
        }
        _ => next.run(request).await,
    }
}

/// Innermost, right before the handler (inside the idempotency layer, so the key is in flight meanwhile).
pub async fn slow_handler(request: Request, next: Next) -> Response {
    if fault(&request) == Some("slow-response") {
        tokio::time::sleep(Duration::from_millis(CHAOS_SLOW_MS)).await;
    }
    next.run(request).await
}

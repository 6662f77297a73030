//! payonce's server: pay exactly once.
//!
//! A payment's path, outer to inner: session (cookie → [`session::UserId`]) → chaos (only when enabled) →
//! [`idempotency`] (claim | 409 | 422 | replay) → [`throttle`] (fingerprint mark → 429) → the payments
//! handler ([`ledger::payments`]: insert pending under a unique constraint → charge → record) → the answer
//! is saved under the key, then sent.

// The checkout page's view type is deep; the compiler needs more room to lay it out.
#![recursion_limit = "256"]

pub mod api;
pub mod chaos;
pub mod config;
pub mod error;
pub mod guard;
pub mod idempotency;
pub mod ledger;
pub mod session;
mod state;
pub mod store;
pub mod throttle;

use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

pub use state::{AppState, StartError};

/// The whole application: the API, `/healthz`, the server-rendered pages and the static site files.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .merge(api::router(&state))
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes(&state, routes, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

//! The shape the idempotency and throttle layers share, in tower-http's style: a layer holding its settings
//! (the guard), and a service that hands each request, with its own clone of the inner service, to the
//! guard's `handle`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use tower::{Layer, Service};

/// What a protective layer does with one request: answer it itself, or pass it to `inner`.
pub trait Guard: Clone + Send + Sync + 'static {
    fn handle<S>(self: Arc<Self>, inner: S, request: Request) -> impl Future<Output = Response> + Send
    where
        S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
        S::Future: Send + 'static;
}

/// A layer around a [`Guard`]; its builder methods live with each guard.
#[derive(Clone)]
pub struct GuardLayer<G> {
    guard: Arc<G>,
}

impl<G: Clone> GuardLayer<G> {
    pub(crate) fn from_guard(guard: G) -> Self {
        GuardLayer { guard: Arc::new(guard) }
    }

    /// A copy of the layer with changed settings (the routes already built keep theirs).
    pub(crate) fn with(mut self, change: impl FnOnce(&mut G)) -> Self {
        change(Arc::make_mut(&mut self.guard));
        self
    }
}

impl<G, S> Layer<S> for GuardLayer<G> {
    type Service = Guarded<G, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guarded { inner, guard: self.guard.clone() }
    }
}

/// The service a [`GuardLayer`] wraps around a route.
#[derive(Clone)]
pub struct Guarded<G, S> {
    inner: S,
    guard: Arc<G>,
}

impl<G, S> Service<Request> for Guarded<G, S>
where
    G: Guard,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Each call drives its own clone of the inner service to readiness (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let guard = self.guard.clone();
        let inner = self.inner.clone();
        Box::pin(async move { Ok(guard.handle(inner, request).await) })
    }
}

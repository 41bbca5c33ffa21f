//! The HTTP edge: routing, the envelope, CORS and request logging. The only module that
//! knows axum; handlers extract, call one service method and render.

mod client;
pub mod envelope;
pub mod listener;
pub mod params;
mod server;
mod socket;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::service::Service;
use envelope::{ApiError, BodyStatus};

/// A header's value; one that is not visible ASCII reads as a value no key or token matches,
/// rather than as absent.
pub(crate) fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// Shared handles every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: Service,
    /// Open connections and sockets against the cap; sockets count themselves in.
    pub connections: Arc<listener::Connections>,
    /// How sockets keep alive and how long they may block a write.
    pub sockets: SocketSettings,
}

/// Keepalive and write limits of WebSockets.
#[derive(Debug, Clone, Copy)]
pub struct SocketSettings {
    /// Interval between pings on a socket; two without any answer close it.
    pub ping_interval: Duration,
    /// How long one write may wait on a client that does not read.
    pub write_timeout: Duration,
}

/// The complete router: Server API, health check, CORS, body timeout and logging.
///
/// The web SDK sets non-safelisted headers (`App-Key`, `Authorization`, `Device-*`) on every
/// call, so every call is preflighted; preflights are answered without authentication, and any
/// origin may read every response (`*` suffices: the SDK sends no credentials).
pub fn router(state: AppState, body_timeout: Duration) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(server::routes())
        .merge(client::routes())
        .route("/connect", get(socket::connect))
        .fallback(|| async { ApiError::NoRoute })
        .method_not_allowed_fallback(|| async { ApiError::WrongMethod })
        .with_state(state)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(cors)
        .layer(middleware::from_fn(log_request))
}

/// One line per request: method, path, HTTP status, body status, time taken.
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let body_status = response.extensions().get::<BodyStatus>().map(|s| s.0);
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        body_status,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

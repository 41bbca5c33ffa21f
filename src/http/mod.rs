//! The HTTP edge: routing, the envelope, CORS and request logging. The only module that
//! knows axum; handlers extract, call one service method and render.

mod client;
pub mod envelope;
pub mod listener;
mod outgoing;
pub mod params;
pub mod rate;
mod server;
mod socket;
pub mod upload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

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
    /// Rate limits per key, user and socket.
    pub rates: Arc<rate::RateLimits>,
    /// Client syncs (a whole room list read and rendered) that may run at once; see
    /// [`sync_permits`].
    pub syncs: Arc<tokio::sync::Semaphore>,
    /// Where uploads go, and their size limit.
    pub media: Media,
}

/// The media store and the largest upload it takes.
#[derive(Clone, Debug)]
pub struct Media {
    /// Where the bytes go.
    pub store: crate::media::MediaStore,
    /// Largest upload, bytes.
    pub max_bytes: u64,
    /// Where clients reach this server, for photo links; `None`: from each request's `Host`.
    pub public_url: Option<String>,
    /// Turns of uploads at reading their file; see [`upload_turns`].
    pub uploads: Arc<tokio::sync::Semaphore>,
}

/// Turns for uploads to read their file: `configured`, or one per core when `0`. Receiving a
/// file is work for every chunk that arrives (reading the socket, parsing the form, copying
/// to the disk); with 64 uploads read at once a `room/get` waited behind them (p99 0.6 →
/// 81 ms on two cores). With a few at a time the others wait, their bytes held back by TCP,
/// and the disk, which bounds the total anyway, stays busy (BENCHMARKS.md). An upload gives
/// its turn back while its client is slow (`media::MediaStore::put`).
pub fn upload_turns(configured: usize) -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let turns = if configured == 0 { cores } else { configured };
    Arc::new(tokio::sync::Semaphore::new(turns))
}

/// Permits for client syncs, four per core. A sync is mostly CPU work, from the read to the
/// rendered body (a megabyte for a thousand rooms); when thousands of clients reconnect at
/// once and each sync runs as soon as it arrives, every other request waits in the runtime's
/// queue behind them. With a few per core the rest wait parked, costing nothing, and a message
/// sent meanwhile is answered in its turn. (One per core left the cores idle while each sync
/// waited for its sync point's commit.)
pub fn sync_permits() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    Arc::new(tokio::sync::Semaphore::new(4 * cores))
}

/// `GET /metrics`: every metric in the Prometheus text format, with the gauges of what is
/// open now.
async fn metrics(State(state): State<AppState>) -> Response {
    let m = crate::metrics::metrics();
    crate::metrics::set(&m.sockets, state.service.hub().socket_count());
    crate::metrics::set(&m.connections, state.connections.open());
    if let Some((in_use, open)) = state.service.store().pool_use() {
        crate::metrics::set(&m.pool_in_use, in_use);
        crate::metrics::set(&m.pool_open, open);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}

/// The OpenAPI 3.1 document of the Server API and the client API, compiled in.
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /openapi.json`: the API's contract, for tooling and client generators.
async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

/// Every path the router serves, but for the WebSocket (`/connect`): what the OpenAPI
/// document must describe, no more and no less.
pub fn documented_paths() -> Vec<&'static str> {
    let api = server::routes().into_iter().chain(client::routes());
    api.map(|(path, _)| path)
        .chain(["/healthz", "/metrics", "/openapi.json", "/media/{id}"])
        .collect()
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
    let api = server::routes().into_iter().chain(client::routes());
    let router = api
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/connect", get(socket::connect))
        .route("/media/{id}", get(client::public_media))
        .fallback(|| async { ApiError::NoRoute })
        .method_not_allowed_fallback(|| async { ApiError::WrongMethod })
        .with_state(state)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(cors)
        .layer(middleware::from_fn(record_metrics));
    // The request log costs 5 µs of CPU a request (a fifth of a `room/get`) even with its
    // level filtered out, so the layer is only there when the log level wants the lines;
    // /metrics counts every request either way.
    if tracing::enabled!(target: "confab::http", tracing::Level::DEBUG) {
        router.layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_answer),
        )
    } else {
        router
    }
}

/// The span of one request: its method and path (never the query string: the web SDK's
/// socket URL carries its credentials there).
fn request_span(req: &Request) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
}

/// The request's log line, at `debug` under `confab::http`: HTTP status, body status, time.
fn log_answer(response: &Response, latency: Duration, _: &tracing::Span) {
    let body_status = response.extensions().get::<BodyStatus>().map(|s| s.0);
    tracing::debug!(
        status = response.status().as_u16(),
        body_status,
        micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "answered"
    );
}

/// Counts the request in the metrics under the route it matched, with its body status and
/// the time taken.
async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(req).await;
    let body_status = response.extensions().get::<BodyStatus>().map(|s| s.0);
    crate::metrics::metrics().request(
        &endpoint,
        body_status.unwrap_or(response.status().as_u16()),
        started.elapsed().as_secs_f64(),
    );
    response
}

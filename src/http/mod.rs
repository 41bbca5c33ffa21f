//! The HTTP edge: routing, the envelope, CORS and request logging. The only module that
//! knows axum; handlers extract, call one service method and render.

mod client;
pub mod envelope;
pub mod params;
mod server;
mod socket;

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

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
}

/// The complete router: Server API, health check, CORS and logging.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(server::routes())
        .merge(client::routes())
        .route("/connect", get(socket::connect))
        .fallback(|| async { ApiError::NoRoute })
        .with_state(state)
        .layer(middleware::from_fn(cors))
        .layer(middleware::from_fn(log_request))
}

/// Answers preflights without authentication and lets browsers read every response.
///
/// The web SDK sets non-safelisted headers (`App-Key`, `Authorization`, `Device-*`) on every
/// call, so every call is preflighted; `*` suffices because it sends no credentials.
async fn cors(req: Request, next: Next) -> Response {
    let mut response = if req.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_static(
                    "App-Key, Authorization, Device-Identifier, Device-Model, Device-Platform, \
                     Content-Type, Server-Key",
                )
            });
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        preflight
    } else {
        next.run(req).await
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
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

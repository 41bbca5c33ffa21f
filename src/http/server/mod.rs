//! The Server API (`/v1/server/…`), called by the customer's backend with a `Server-Key`.

mod message;
mod room;
mod user;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::post;

use super::AppState;
use super::envelope::ApiError;
use crate::domain::AppId;
use crate::domain::secret::KeyKind;

/// Longest `xcUserID` / `xcRoomID`.
const MAX_XC_ID: usize = 50;
/// Longest name (user or room).
const MAX_NAME: usize = 200;
/// Longest URL.
const MAX_URL: usize = 2048;
/// Longest short string (email, phone, username, role code, tag).
const MAX_SHORT: usize = 200;
/// Most entries in one list parameter.
const MAX_LIST: usize = 10_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/server/auth_ticket/request",
            post(user::request_auth_ticket),
        )
        .route("/v1/server/user/update", post(user::update))
        .route(
            "/v1/server/user/revoke_sessions",
            post(user::revoke_sessions),
        )
        .route("/v1/server/contact/sync", post(user::sync_contacts))
        .route("/v1/server/message/send", post(message::send))
        .route(
            "/v1/server/room/create_or_update",
            post(room::create_or_update),
        )
        .route("/v1/server/room/get", post(room::get))
        .route(
            "/v1/server/room/participants/add",
            post(room::add_participants),
        )
        .route(
            "/v1/server/room/participants/remove",
            post(room::remove_participants),
        )
        .route(
            "/v1/server/room/get_list_by_user",
            post(room::get_list_by_user),
        )
        .route("/v1/server/room/lock", post(room::lock))
        .route("/v1/server/room/unlock", post(room::unlock))
}

/// The app of a request authenticated by its `Server-Key` header. Extracted before the body,
/// so header errors win over parameter errors.
pub(super) struct ServerApp(pub AppId);

impl FromRequestParts<AppState> for ServerApp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = super::header(&parts.headers, "server-key");
        let app = state
            .service
            .authenticate_key(KeyKind::Server, header)
            .await?
            .map_err(ApiError::ServerKey)?;
        state.rates.server_key(app)?;
        Ok(ServerApp(app))
    }
}

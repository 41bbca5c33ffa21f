//! The Server API (`/v1/server/…`), called by the customer's backend with a `Server-Key`.

mod message;
mod room;
mod user;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{MethodRouter, post};

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

/// The Server API's paths and handlers: a table, so that the OpenAPI document can be checked
/// against it.
pub(super) fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            "/v1/server/auth_ticket/request",
            post(user::request_auth_ticket),
        ),
        ("/v1/server/user/update", post(user::update)),
        (
            "/v1/server/user/revoke_sessions",
            post(user::revoke_sessions),
        ),
        ("/v1/server/contact/sync", post(user::sync_contacts)),
        ("/v1/server/message/send", post(message::send)),
        (
            "/v1/server/room/create_or_update",
            post(room::create_or_update),
        ),
        ("/v1/server/room/get", post(room::get)),
        (
            "/v1/server/room/participants/add",
            post(room::add_participants),
        ),
        (
            "/v1/server/room/participants/remove",
            post(room::remove_participants),
        ),
        (
            "/v1/server/room/get_list_by_user",
            post(room::get_list_by_user),
        ),
        ("/v1/server/room/lock", post(room::lock)),
        ("/v1/server/room/unlock", post(room::unlock)),
    ]
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

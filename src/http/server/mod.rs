//! The Server API (`/v1/server/…`), called by the customer's backend with a `Server-Key`.

mod file;
mod message;
mod report;
mod room;
mod user;
mod webhook;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{MethodRouter, post};

use super::AppState;
use super::envelope::{ApiError, on_param};
use crate::domain::secret::KeyKind;
use crate::domain::{AppId, ParamError};
use crate::service::{ServerDestination, ServiceError};

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

/// Where a send or an upload goes: exactly one of `recipientXCUserID` (a personal room) and
/// `xcRoomID`.
fn destination(
    recipient: Option<String>,
    room: Option<String>,
) -> Result<ServerDestination, ParamError> {
    match (recipient, room) {
        (Some(recipient), None) => Ok(ServerDestination::Recipient(recipient)),
        (None, Some(room)) => Ok(ServerDestination::XcRoom(room)),
        _ => Err(ParamError::invalid_because(
            "recipientXCUserID",
            "102",
            "give exactly one of recipientXCUserID and xcRoomID",
        )),
    }
}

/// How a send or an upload from `sender` is refused: the sender is looked up first, so an
/// unknown user who is the sender is reported as such; a sender who may not post into the
/// room is refused on the sender's parameter; any other unknown user is the recipient.
fn sender_refused(sender: &str) -> impl FnOnce(ServiceError) -> ApiError + '_ {
    move |err| match err {
        ServiceError::UnknownUser(ref id) if id == sender => {
            on_param("senderXCUserID", "101", "xcUserID")(err)
        }
        ServiceError::Forbidden(why) => {
            ParamError::invalid_because("senderXCUserID", "101", why).into()
        }
        other => on_param("recipientXCUserID", "102", "xcUserID")(other),
    }
}

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
            "/v1/server/file/upload",
            post(file::upload)
                .layer(DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(
                    crate::http::upload::finish_reading,
                )),
        ),
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
        ("/v1/server/chat_report/list", post(report::list)),
        ("/v1/server/chat_report/resolve", post(report::resolve)),
        ("/v1/server/webhook/create", post(webhook::create)),
        ("/v1/server/webhook/list", post(webhook::list)),
        ("/v1/server/webhook/delete", post(webhook::delete)),
        ("/v1/server/webhook/replay", post(webhook::replay)),
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

//! The client API (`/v1/auth/…`, `/v1/client/…`, `/v1/chat/…`) the SDKs call with an `App-Key`
//! and a bearer token.

mod auth;
mod contacts;
mod media;

pub(super) use media::{public_media, uploaded};
mod messages;
mod rooms;
mod scheduled;
mod users;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::routing::{MethodRouter, post};

use super::envelope::ApiError;
use super::{AppState, header};
use crate::domain::secret::KeyKind;
use crate::domain::{AppId, MessageId, ParamError, RoomRef, UserId};
use crate::http::params::Params;
use crate::service::{ClientSession, bearer};

/// The client API's paths and handlers: a table, so that the OpenAPI document can be checked
/// against it.
pub(super) fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (
            "/v1/auth/access_token/request",
            post(auth::request_access_token),
        ),
        (
            "/v1/auth/access_token/refresh",
            post(auth::refresh_access_token),
        ),
        ("/v1/client/project_configs", post(auth::project_configs)),
        ("/v1/client/logout", post(auth::logout)),
        (
            "/v1/client/push_notification/update",
            post(users::update_push),
        ),
        ("/v1/client/user/get_by_id", post(users::get_by_id)),
        (
            "/v1/client/user/get_by_xcuserid",
            post(users::get_by_xc_user_id),
        ),
        (
            "/v1/client/user/get_by_username",
            post(users::get_by_username),
        ),
        (
            "/v1/client/user/get_all_by_ids",
            post(users::get_all_by_ids),
        ),
        ("/v1/client/contact/list", post(users::contacts)),
        ("/v1/client/contact/add", post(contacts::add)),
        (
            "/v1/client/contact/add_by_phones",
            post(contacts::add_by_phones),
        ),
        ("/v1/client/contact/remove", post(contacts::remove)),
        ("/v1/client/contact/block", post(contacts::block)),
        ("/v1/client/contact/unblock", post(contacts::unblock)),
        (
            "/v1/client/contact/get_blocked_list",
            post(contacts::blocked_list),
        ),
        (
            "/v1/client/contact/get_blocked_user_ids",
            post(contacts::blocked_ids),
        ),
        (
            "/v1/client/chat_report/submit_user",
            post(contacts::report_user),
        ),
        (
            "/v1/client/chat_report/submit_message",
            post(contacts::report_message),
        ),
        (
            "/v1/client/user/photo/upload",
            post(media::upload_user_photo)
                .layer(DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(
                    crate::http::upload::finish_reading,
                )),
        ),
        ("/v1/client/user/photo/get_list", post(users::photos)),
        (
            "/v1/client/user/photo/set_main",
            post(users::set_main_photo),
        ),
        ("/v1/client/user/photo/delete", post(users::delete_photo)),
        ("/v1/client/user/update_bio", post(users::update_bio)),
        (
            "/v1/client/room/photo/upload",
            post(media::upload_room_photo)
                .layer(DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(
                    crate::http::upload::finish_reading,
                )),
        ),
        ("/v1/client/room/create", post(rooms::create)),
        ("/v1/client/room/get", post(rooms::get)),
        (
            "/v1/client/room/get_by_xc_room_id",
            post(rooms::get_by_xc_room_id),
        ),
        ("/v1/client/room/update", post(rooms::update)),
        ("/v1/client/room/leave", post(rooms::leave)),
        ("/v1/client/room/delete", post(rooms::delete)),
        (
            "/v1/client/room/participants/add",
            post(rooms::add_participants),
        ),
        (
            "/v1/client/room/participants/remove",
            post(rooms::remove_participants),
        ),
        ("/v1/client/room/admins/promote", post(rooms::promote)),
        ("/v1/client/room/admins/demote", post(rooms::demote)),
        (
            "/v1/client/room/groups_in_common",
            post(rooms::groups_in_common),
        ),
        ("/v1/client/room/mute", post(rooms::mute)),
        ("/v1/client/room/unmute", post(rooms::unmute)),
        ("/v1/client/room/pin", post(rooms::pin)),
        ("/v1/client/room/unpin", post(rooms::unpin)),
        (
            "/v1/client/room/mark_as_unread",
            post(rooms::mark_as_unread),
        ),
        ("/v1/client/room/clear_chat", post(rooms::clear_chat)),
        ("/v1/client/room/get_muted_room_ids", post(rooms::get_muted)),
        (
            "/v1/client/room/get_pinned_room_ids",
            post(rooms::get_pinned),
        ),
        (
            "/v1/client/room/get_unread_room_ids",
            post(rooms::get_unread),
        ),
        (
            "/v1/client/room/get_room_ids_with_state",
            post(rooms::get_with_state),
        ),
        (
            "/v1/chat/message/room_list_and_unread",
            post(messages::room_list_and_unread),
        ),
        (
            "/v1/chat/message/new_and_updated",
            post(messages::new_and_updated),
        ),
        (
            "/v1/chat/message/list_by_room/before",
            post(messages::before),
        ),
        ("/v1/chat/message/list_by_room/after", post(messages::after)),
        (
            "/v1/chat/message/feedback/delivered",
            post(messages::delivered),
        ),
        ("/v1/chat/message/feedback/read", post(messages::read)),
        ("/v1/chat/message/delete", post(messages::delete)),
        ("/v1/chat/message/get_details", post(messages::details)),
        ("/v1/chat/scheduled_message/create", post(scheduled::create)),
        (
            "/v1/chat/scheduled_message/get_scheduled_list",
            post(scheduled::list),
        ),
        (
            "/v1/chat/scheduled_message/send_now",
            post(scheduled::send_now),
        ),
        (
            "/v1/chat/scheduled_message/edit_scheduled_time",
            post(scheduled::edit_time),
        ),
        (
            "/v1/chat/scheduled_message/edit_content",
            post(scheduled::edit_content),
        ),
        ("/v1/chat/scheduled_message/delete", post(scheduled::delete)),
        (
            "/v1/chat/message/get_total_read",
            post(messages::total_read),
        ),
        ("/v1/chat/message/star", post(messages::star_messages)),
        ("/v1/chat/message/unstar", post(messages::unstar_messages)),
        (
            "/v1/chat/message/get_starred_ids",
            post(messages::starred_ids),
        ),
        (
            "/v1/chat/message/get_starred_list",
            post(messages::starred_list),
        ),
        ("/v1/chat/message/pin", post(messages::pin_messages)),
        ("/v1/chat/message/unpin", post(messages::unpin_messages)),
        (
            "/v1/chat/message/get_pinned_ids",
            post(messages::pinned_ids),
        ),
        (
            "/v1/chat/message/get_pinned_list",
            post(messages::pinned_list),
        ),
        // Uploads stream past axum's default body limit; the handler enforces its own.
        (
            "/v1/chat/file/upload",
            post(media::upload)
                .layer(DefaultBodyLimit::disable())
                .layer(axum::middleware::from_fn(
                    crate::http::upload::finish_reading,
                )),
        ),
        ("/v1/chat/file/download", post(media::download)),
        (
            "/v1/chat/room/get_shared_content",
            post(media::shared_content),
        ),
    ]
}

/// The app of a request authenticated only by its `App-Key` (token exchange, configs).
pub(super) struct ClientApp(pub AppId);

impl FromRequestParts<AppState> for ClientApp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        app_from_key(state, header(&parts.headers, "app-key"))
            .await
            .map(ClientApp)
    }
}

/// Checks an `App-Key` header value.
pub(super) async fn app_from_key(state: &AppState, key: Option<&str>) -> Result<AppId, ApiError> {
    state
        .service
        .authenticate_key(KeyKind::App, key)
        .await?
        .map_err(ApiError::AppKey)
}

/// An authenticated client call: `App-Key` first, then the bearer access token.
pub(super) struct Client(pub ClientSession);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let app = app_from_key(state, header(&parts.headers, "app-key")).await?;
        let token = bearer(header(&parts.headers, "authorization")).map_err(ApiError::Auth)?;
        let session = state.service.authenticate(app, token).await?;
        state.rates.client(app, session.user.id)?;
        Ok(Client(session))
    }
}

/// The calling device: `Device-Identifier`, or the device that opened the session.
pub(super) fn device(headers: &HeaderMap, session: &ClientSession) -> String {
    header(headers, "device-identifier")
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .map_or_else(|| session.device.clone(), str::to_owned)
}

/// A required `roomID` in canonical form.
pub(super) fn room_ref(p: &Params) -> Result<RoomRef, ParamError> {
    parse_room_id(&p.required_str("roomID", "roomID", 64)?)
}

/// A required `userID`: a platform user ID, as a string.
pub(super) fn user_id(p: &Params) -> Result<UserId, ParamError> {
    p.required_str("userID", "userID", 20)?
        .parse()
        .map_err(|_| ParamError::invalid_because("userID", "userID", "not a user ID"))
}

/// A required `messageID`: a message ID, as a string.
pub(super) fn message_id(p: &Params) -> Result<MessageId, ParamError> {
    p.required_str("messageID", "messageID", 20)?
        .parse()
        .map_err(|_| ParamError::invalid_because("messageID", "messageID", "not a message ID"))
}

/// A `roomID` in canonical form, `40002` on `roomID` otherwise.
pub(super) fn parse_room_id(id: &str) -> Result<RoomRef, ParamError> {
    RoomRef::parse(id)
        .ok_or_else(|| ParamError::invalid_because("roomID", "roomID", "not a room ID"))
}

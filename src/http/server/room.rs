//! The Room section of the Server API.

use axum::extract::State;
use serde_json::json;

use super::{MAX_LIST, MAX_NAME, MAX_SHORT, MAX_URL, MAX_XC_ID, ServerApp};
use crate::domain::{AppId, ParamError, RoomType, UserId};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data, on_param};
use crate::http::params::Params;
use crate::service::{RoomUpsert, ServiceError};
use crate::wire;

fn xc_room_id(p: &Params) -> Result<String, ParamError> {
    p.required_str("xcRoomID", "101", MAX_XC_ID)
}

fn participants(p: &Params) -> Result<Vec<String>, ParamError> {
    p.required_str_list("participantXCUserIDs", "107", MAX_LIST, MAX_XC_ID)
}

pub(super) async fn create_or_update(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let xc_room_id = xc_room_id(&p)?;
    let room_type = match p.required_int("type", "102")? {
        2 => RoomType::Group,
        4 => RoomType::Transaction,
        _ => return Err(ParamError::invalid_because("type", "102", "must be 2 or 4").into()),
    };
    let upsert = RoomUpsert {
        xc_room_id,
        room_type,
        name: p.required_str("name", "103", MAX_NAME)?,
        photo_thumbnail: p.optional_str("photoThumbnailURL", "104", MAX_URL)?,
        photo_fullsize: p.optional_str("photoFullsizeURL", "105", MAX_URL)?,
        tags: p.optional_str_list("tags", "106", MAX_LIST, MAX_SHORT)?,
        participant_xc_user_ids: p
            .optional_str_list("participantXCUserIDs", "107", MAX_LIST, MAX_XC_ID)?
            .unwrap_or_default(),
        participant_roles: p.optional_str_list(
            "participantUserRoles",
            "108",
            MAX_LIST,
            MAX_SHORT,
        )?,
    };
    let change = state
        .service
        .create_or_update_room(app, upsert)
        .await
        .map_err(|err| match err {
            ServiceError::Conflict(_) => on_param("type", "102", "")(err),
            other => on_param("participantXCUserIDs", "107", "xcUserID")(other),
        })?;
    Ok(Data::of(&wire::bundle(&change.bundle, UserId::NONE)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let bundle = state.service.room(app, &xc_room_id(&p)?).await?;
    Ok(Data::of(&wire::bundle(&bundle, UserId::NONE)))
}

pub(super) async fn add_participants(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let room = xc_room_id(&p)?;
    let change = state
        .service
        .add_participants(app, &room, participants(&p)?)
        .await
        .map_err(on_param("participantXCUserIDs", "107", "xcUserID"))?;
    Ok(Data::of(&wire::bundle(&change.bundle, UserId::NONE)))
}

pub(super) async fn remove_participants(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let room = xc_room_id(&p)?;
    let change = state
        .service
        .remove_participants(app, &room, participants(&p)?)
        .await
        .map_err(on_param("participantXCUserIDs", "107", "xcUserID"))?;
    Ok(Data::of(&wire::bundle(&change.bundle, UserId::NONE)))
}

pub(super) async fn get_list_by_user(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    // This endpoint defines no numeric codes, so `field` names the parameter.
    let user = p.required_str("xcUserID", "xcUserID", MAX_XC_ID)?;
    let only = p.optional_str_list("xcRoomIDs", "xcRoomIDs", MAX_LIST, MAX_XC_ID)?;
    let (viewer, entries) = state.service.rooms_of_user(app, &user, only).await?;
    let rooms = entries
        .iter()
        .map(|e| wire::RoomListItem {
            last_message: wire::message(&e.last_message, wire::Viewer::new(viewer.id, e.read_seq)),
            unread_count: e.unread_count,
        })
        .collect();
    Ok(Data::of(&wire::RoomList { rooms }))
}

async fn set_lock(state: AppState, app: AppId, p: Params, locked: bool) -> ApiResult {
    let room = xc_room_id(&p)?;
    let user = p.required_str("xcUserID", "109", MAX_XC_ID)?;
    let change = state
        .service
        .set_room_lock(app, &room, &user, locked)
        .await
        .map_err(on_param("xcUserID", "109", "xcUserID"))?;
    let message = match (locked, change.changed) {
        (true, true) => "The room has been locked succesfully",
        (true, false) => "The room is already locked",
        (false, true) => "The room has been unlocked succesfully",
        (false, false) => "The room is already unlocked",
    };
    Ok(Data::of(
        &json!({"success": change.changed, "message": message}),
    ))
}

pub(super) async fn lock(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    set_lock(state, app, p, true).await
}

pub(super) async fn unlock(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    set_lock(state, app, p, false).await
}

//! Room endpoints of the client API.

use axum::extract::State;

use super::{Client, room_ref};
use crate::domain::{ParamError, RoomType, UserId};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data, on_param};
use crate::http::params::Params;
use crate::service::{ClientRoomChange, ClientSession};
use crate::wire;

/// Most users in one room call.
const MAX_USERS: usize = 1000;

async fn apply(state: &AppState, session: &ClientSession, change: ClientRoomChange) -> ApiResult {
    let change = state
        .service
        .change_room(session, change)
        .await
        .map_err(on_param("userIDs", "", "user ID"))?;
    Ok(Data::of(&wire::bundle(&change.bundle, session.user.id)))
}

fn user_ids(p: &Params) -> Result<Vec<UserId>, ParamError> {
    let ids = p.id_list("userIDs", "userIDs", MAX_USERS, UserId)?;
    if ids.is_empty() {
        return Err(ParamError::empty("userIDs", "userIDs"));
    }
    Ok(ids)
}

pub(super) async fn create(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let name = p.required_str("name", "name", 200)?;
    let room_type = match p.optional_int("type", "type")?.unwrap_or(2) {
        2 => RoomType::Group,
        3 => RoomType::Channel,
        _ => return Err(ParamError::invalid_because("type", "type", "must be 2 or 3").into()),
    };
    let user_ids = p.id_list("userIDs", "userIDs", MAX_USERS, UserId)?;
    apply(
        &state,
        &session,
        ClientRoomChange::Create {
            name,
            room_type,
            user_ids,
        },
    )
    .await
}

pub(super) async fn get(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let bundle = state.service.client_room(&session, room_ref(&p)?).await?;
    Ok(Data::of(&wire::bundle(&bundle, session.user.id)))
}

pub(super) async fn get_by_xc_room_id(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let xc = p.required_str("xcRoomID", "xcRoomID", 50)?;
    let bundle = state.service.client_room_by_xc_id(&session, &xc).await?;
    Ok(Data::of(&wire::bundle(&bundle, session.user.id)))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    let name = p.required_str("name", "name", 200)?;
    apply(&state, &session, ClientRoomChange::Rename { room, name }).await
}

pub(super) async fn leave(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    apply(&state, &session, ClientRoomChange::Leave(room)).await
}

async fn participants(state: AppState, session: ClientSession, p: Params, add: bool) -> ApiResult {
    let room = room_ref(&p)?;
    let user_ids = user_ids(&p)?;
    apply(
        &state,
        &session,
        ClientRoomChange::Participants {
            room,
            user_ids,
            add,
        },
    )
    .await
}

pub(super) async fn add_participants(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    participants(state, session, p, true).await
}

pub(super) async fn remove_participants(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    participants(state, session, p, false).await
}

async fn admins(state: AppState, session: ClientSession, p: Params, promote: bool) -> ApiResult {
    let room = room_ref(&p)?;
    let user_ids = user_ids(&p)?;
    apply(
        &state,
        &session,
        ClientRoomChange::Admins {
            room,
            user_ids,
            promote,
        },
    )
    .await
}

pub(super) async fn promote(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    admins(state, session, p, true).await
}

pub(super) async fn demote(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    admins(state, session, p, false).await
}

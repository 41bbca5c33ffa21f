//! Room endpoints of the client API.

use axum::extract::State;
use serde_json::json;

use super::{Client, room_ref};
use crate::domain::{ParamError, RoomRef, RoomStateChange, RoomType, UserId, now_ms};
use crate::http::AppState;
use crate::http::envelope::{ApiError, ApiResult, Data, on_param};
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
    // The SDKs read `{success, message}` here (web `leaveGroupChatRoom`, Android
    // `TAPCommonResponse`), not the room: the caller is no longer in it.
    state
        .service
        .change_room(&session, ClientRoomChange::Leave(room))
        .await?;
    Ok(Data::of(
        &json!({"success": true, "message": "You left the room."}),
    ))
}

/// `{roomID, checksum}` → `{success, message}`: deletes a group or channel for everyone (its
/// admins only). The web SDK's `checksum` (an MD5 of the room, the user and the token's
/// expiry, a guard against a stray call) is accepted unread: the admin check is the rule.
pub(super) async fn delete(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    p.optional_str("checksum", "checksum", 64)?;
    state
        .service
        .change_room(&session, ClientRoomChange::Delete(room))
        .await?;
    Ok(Data::of(
        &json!({"success": true, "message": "The room was deleted."}),
    ))
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

/// Most rooms in one room-state call.
const MAX_ROOMS: usize = 1000;

/// A required, non-empty `roomIDs`, each in canonical form.
fn room_ids(p: &Params) -> Result<Vec<RoomRef>, ParamError> {
    p.required_str_list("roomIDs", "roomIDs", MAX_ROOMS, 64)?
        .iter()
        .map(|id| {
            RoomRef::parse(id)
                .ok_or_else(|| ParamError::invalid_because("roomIDs", "roomIDs", "not a room ID"))
        })
        .collect()
}

/// Applies `change` to the caller's state of the rooms `roomIDs` names; answers them under
/// `answer_key` (the Android SDK reads every one of these answers with one model, which knows
/// each key).
async fn change_states(
    state: &AppState,
    session: &ClientSession,
    rooms: Vec<RoomRef>,
    change: RoomStateChange,
    answer_key: &str,
) -> ApiResult {
    let ids: Vec<String> = rooms.iter().map(|room| room.wire_id()).collect();
    state
        .service
        .change_room_states(session, rooms, change)
        .await
        .map_err(on_param("roomIDs", "roomIDs", "room ID"))?;
    Ok(Data::of(&json!({ answer_key: ids })))
}

pub(super) async fn mute(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    let until = p.optional_int("expiredAt", "expiredAt")?.unwrap_or(0);
    if until < 0 {
        return Err(ParamError::invalid_because(
            "expiredAt",
            "expiredAt",
            "must be a time in Unix milliseconds, or 0 for no expiry",
        )
        .into());
    }
    let change = RoomStateChange::Mute { until };
    change_states(&state, &session, rooms, change, "mutedRoomIDs").await
}

pub(super) async fn unmute(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    change_states(
        &state,
        &session,
        rooms,
        RoomStateChange::Unmute,
        "unmutedRoomIDs",
    )
    .await
}

pub(super) async fn pin(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    let change = RoomStateChange::Pin { at: now_ms() };
    change_states(&state, &session, rooms, change, "pinnedRoomIDs").await
}

pub(super) async fn unpin(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    change_states(
        &state,
        &session,
        rooms,
        RoomStateChange::Unpin,
        "unpinnedRoomIDs",
    )
    .await
}

pub(super) async fn mark_as_unread(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    let change = RoomStateChange::MarkUnread;
    change_states(&state, &session, rooms, change, "unreadRoomIDs").await
}

/// `{roomIDs}` → `{clearedRoomIDs}`: clears the caller's history of the rooms.
pub(super) async fn clear_chat(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let rooms = room_ids(&p)?;
    let cleared = state.service.clear_chats(&session, rooms).await?;
    let ids: Vec<String> = cleared.iter().map(|r| r.wire_id()).collect();
    Ok(Data::of(&json!({ "clearedRoomIDs": ids })))
}

/// The caller's room states, as the lists the SDKs read.
struct StateLists {
    muted: Vec<serde_json::Value>,
    pinned: Vec<String>,
    unread: Vec<String>,
    cleared: Vec<serde_json::Value>,
}

async fn state_lists(state: &AppState, session: &ClientSession) -> Result<StateLists, ApiError> {
    let mut states = state.service.room_states(session, now_ms()).await?;
    // Newest pin first, as the SDKs put a room pinned live at the top.
    states.sort_by_key(|s| std::cmp::Reverse(s.pinned_at));
    let mut lists = StateLists {
        muted: Vec::new(),
        pinned: Vec::new(),
        unread: Vec::new(),
        cleared: Vec::new(),
    };
    for s in states {
        let id = s.room.wire_id();
        if let Some(until) = s.muted_until {
            lists
                .muted
                .push(json!({"roomID": id.clone(), "expiredAt": until}));
        }
        if s.pinned_at.is_some() {
            lists.pinned.push(id.clone());
        }
        if s.cleared_at > 0 {
            // Android deletes its local messages of the room created before `expiredAt`.
            lists
                .cleared
                .push(json!({"roomID": id.clone(), "expiredAt": s.cleared_at}));
        }
        if s.marked_unread {
            lists.unread.push(id);
        }
    }
    Ok(lists)
}

pub(super) async fn get_muted(State(state): State<AppState>, Client(session): Client) -> ApiResult {
    let lists = state_lists(&state, &session).await?;
    Ok(Data::of(&json!({"mutedRooms": lists.muted})))
}

pub(super) async fn get_pinned(
    State(state): State<AppState>,
    Client(session): Client,
) -> ApiResult {
    let lists = state_lists(&state, &session).await?;
    Ok(Data::of(&json!({"pinnedRoomIDs": lists.pinned})))
}

pub(super) async fn get_unread(
    State(state): State<AppState>,
    Client(session): Client,
) -> ApiResult {
    let lists = state_lists(&state, &session).await?;
    Ok(Data::of(&json!({"unreadRoomIDs": lists.unread})))
}

/// The Android SDK's one call for every state. `clearedRooms` lists the rooms whose history
/// the user cleared, with when (`expiredAt`).
pub(super) async fn get_with_state(
    State(state): State<AppState>,
    Client(session): Client,
) -> ApiResult {
    let lists = state_lists(&state, &session).await?;
    Ok(Data::of(&json!({
        "clearedRooms": lists.cleared,
        "pinnedRoomIDs": lists.pinned,
        "mutedRooms": lists.muted,
        "unreadRoomIDs": lists.unread,
    })))
}

pub(super) async fn groups_in_common(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let other = super::user_id(&p)?;
    let rooms = state
        .service
        .groups_in_common(&session, other)
        .await
        .map_err(on_param("userID", "userID", "user ID"))?;
    let views: Vec<_> = rooms
        .iter()
        .map(|r| wire::room(r, session.user.id))
        .collect();
    Ok(Data::of(&json!({ "rooms": views })))
}

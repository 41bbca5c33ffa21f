//! Scheduled messages: `/v1/chat/scheduled_message/…`.

use axum::extract::State;
use serde_json::{Value, json};

use super::{Client, room_ref};
use crate::domain::{ParamError, now_ms};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::outgoing::outgoing;
use crate::http::params::Params;
use crate::service::{OutgoingMessage, ScheduledView};
use crate::wire::{self, Viewer};

/// Most IDs one call names.
const MAX_IDS: usize = 1000;
/// How far ahead a message may be scheduled: about ten years.
const MAX_AHEAD_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

/// `{id, scheduledTime, createdTime, updatedTime, message}`, the message as it will be sent.
fn item(view: &ScheduledView) -> Value {
    let s = &view.scheduled;
    let viewer = Viewer::new(s.sender, view.message.seq);
    json!({
        "id": s.id,
        "scheduledTime": s.scheduled_time,
        "createdTime": s.created,
        "updatedTime": s.updated,
        "message": wire::message(&view.message, viewer),
    })
}

/// A time in the future, at most ten years ahead.
fn scheduled_time(p: &Params) -> Result<i64, ParamError> {
    let at = p.required_int("scheduledTime", "scheduledTime")?;
    let now = now_ms();
    if at <= now || at > now.saturating_add(MAX_AHEAD_MS) {
        return Err(ParamError::invalid_because(
            "scheduledTime",
            "scheduledTime",
            "must be a time in the future (Unix ms), at most ten years ahead",
        ));
    }
    Ok(at)
}

/// The message object the SDKs build, as a socket frame carries it.
fn message(p: &Params) -> Result<OutgoingMessage, ParamError> {
    match p.value("message") {
        Some(m @ Value::Object(_)) => outgoing(m),
        Some(_) => Err(ParamError::invalid_because(
            "message",
            "message",
            "must be a message object",
        )),
        None => Err(ParamError::required("message", "message")),
    }
}

fn scheduled_id(p: &Params) -> Result<i64, ParamError> {
    p.required_int("id", "id")
}

/// `{message, scheduledTime}` → `{success, message, createdItem}`.
pub(super) async fn create(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (m, at) = (message(&p)?, scheduled_time(&p)?);
    let made = state.service.schedule_message(&session, m, at).await?;
    Ok(Data::of(&json!({
        "success": true,
        "message": "Message scheduled",
        "createdItem": item(&made),
    })))
}

/// `{roomID}` → `{items}`: the caller's scheduled messages in the room, the soonest first.
pub(super) async fn list(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let found = state
        .service
        .scheduled_messages(&session, room_ref(&p)?)
        .await?;
    let items: Vec<Value> = found.iter().map(item).collect();
    Ok(Data::of(&json!({ "items": items })))
}

/// `{ids, roomID}` → `{ids}`: sent now.
pub(super) async fn send_now(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (room, ids) = (room_ref(&p)?, p.id_list("ids", "ids", MAX_IDS, |n| n)?);
    let sent = state
        .service
        .send_scheduled_now(&session, room, ids)
        .await?;
    Ok(Data::of(&json!({ "ids": sent })))
}

/// `{ids, roomID}` → `{ids}`: deleted.
pub(super) async fn delete(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (room, ids) = (room_ref(&p)?, p.id_list("ids", "ids", MAX_IDS, |n| n)?);
    let deleted = state.service.delete_scheduled(&session, room, ids).await?;
    Ok(Data::of(&json!({ "ids": deleted })))
}

/// `{id, scheduledTime}` → `{success, message}`.
pub(super) async fn edit_time(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (id, at) = (scheduled_id(&p)?, scheduled_time(&p)?);
    state
        .service
        .edit_scheduled(&session, id, Some(at), None)
        .await?;
    Ok(Data::of(
        &json!({"success": true, "message": "Scheduled time changed"}),
    ))
}

/// `{id, message}` → `{success, message}`: the content changes, the room and time stay.
pub(super) async fn edit_content(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (id, m) = (scheduled_id(&p)?, message(&p)?);
    state
        .service
        .edit_scheduled(&session, id, None, Some(m))
        .await?;
    Ok(Data::of(
        &json!({"success": true, "message": "Scheduled message changed"}),
    ))
}

//! `message/send`: confab's path for PowerTalk's "Send Custom Message", whose real path is
//! not public. Plain text in; confab encodes, splits and delivers.

use axum::extract::State;
use serde_json::json;

use super::{MAX_SHORT, MAX_XC_ID, ServerApp, destination, sender_refused};
use crate::domain::{ParamError, UserId};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::params::Params;
use crate::service::ServerMessage;
use crate::wire::{self, Viewer};

/// Longest body accepted in one call (it is split into parts of 4,000 UTF-16 units).
const MAX_BODY: usize = 64_000;
/// Longest `data`.
const MAX_DATA: usize = 64_000;

pub(super) async fn send(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let sender = p.required_str("senderXCUserID", "101", MAX_XC_ID)?;
    let recipient = p
        .optional_str("recipientXCUserID", "102", MAX_XC_ID)?
        .filter(|r| !r.is_empty());
    let room = p
        .optional_str("xcRoomID", "103", MAX_XC_ID)?
        .filter(|r| !r.is_empty());
    let kind = p.required_int("type", "104")?;
    if !matches!(kind, 1001..=1004 | 2001 | 3000..=3999) {
        return Err(ParamError::invalid_because(
            "type",
            "104",
            "must be 1001 to 1004, 2001 or 3xxx",
        )
        .into());
    }
    let body = p.required_str("body", "105", MAX_BODY)?;
    let data = p.optional_str("data", "106", MAX_DATA)?.unwrap_or_default();
    let filter_id = p
        .optional_str("filterID", "107", MAX_SHORT)?
        .unwrap_or_default();
    let is_hidden = p.optional_bool("isHidden", "108")?.unwrap_or(false);
    let local_id = p
        .optional_str("localID", "109", 32)?
        .filter(|l| !l.is_empty());
    if local_id
        .as_ref()
        .is_some_and(|l| !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(
            ParamError::invalid_because("localID", "109", "letters, digits and '_' only").into(),
        );
    }
    let to = destination(recipient, room)?;
    let message = ServerMessage {
        sender_xc_user_id: sender.clone(),
        to,
        kind,
        body,
        data,
        filter_id,
        is_hidden,
        local_id,
    };
    let (messages, duplicate) = state
        .service
        .send_from_server(app, message)
        .await
        .map_err(sender_refused(&sender))?;
    let rendered: Vec<_> = messages
        .iter()
        .map(|m| {
            let sender = m.sender.as_ref().map_or(UserId::NONE, |s| s.id);
            wire::message(m, Viewer::new(sender, m.seq))
        })
        .collect();
    Ok(Data::of(
        &json!({"messages": rendered, "duplicate": duplicate}),
    ))
}

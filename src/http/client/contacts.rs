//! The caller's contacts and blocks, and reports about users and messages.

use axum::extract::State;
use serde_json::json;

use super::users::user_view;
use super::{Client, message_id, parse_room_id, user_id};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::params::Params;
use crate::service::{MAX_PHONES, ReportAbout, ReportText};

/// Longest phone number.
const MAX_PHONE: usize = 200;
/// Longest report category.
const MAX_CATEGORY: usize = 200;
/// Longest report reason.
const MAX_REASON: usize = 5000;

/// `{userID}` → `{success, message, user}`.
pub(super) async fn add(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let user = state.service.add_contact(&session, user_id(&p)?).await?;
    Ok(Data::of(&json!({
        "success": true,
        "message": "Added to contacts",
        "user": user_view(&state.service, &user),
    })))
}

/// `{phones}` (a list, or one number as a string) → `{users}`: the users with those numbers,
/// now in the caller's contacts.
pub(super) async fn add_by_phones(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let phones = match p.optional_str("phones", "phones", MAX_PHONE) {
        Ok(Some(one)) if !one.is_empty() => vec![one],
        _ => p.required_str_list("phones", "phones", MAX_PHONES, MAX_PHONE)?,
    };
    let users = state
        .service
        .add_contacts_by_phones(&session, phones)
        .await?;
    let users: Vec<_> = users.iter().map(|u| user_view(&state.service, u)).collect();
    Ok(Data::of(&json!({ "users": users })))
}

/// `{userID}` → `{success, message}`.
pub(super) async fn remove(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    state.service.remove_contact(&session, user_id(&p)?).await?;
    Ok(Data::of(
        &json!({"success": true, "message": "Removed from contacts"}),
    ))
}

/// `{userID}` → `{success, message, user}`.
pub(super) async fn block(state: State<AppState>, client: Client, p: Params) -> ApiResult {
    set_block(state, client, p, true).await
}

/// `{userID}` → `{success, message, user}`.
pub(super) async fn unblock(state: State<AppState>, client: Client, p: Params) -> ApiResult {
    set_block(state, client, p, false).await
}

async fn set_block(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
    blocking: bool,
) -> ApiResult {
    let user = state
        .service
        .set_block(&session, user_id(&p)?, blocking)
        .await?;
    let message = if blocking {
        "User blocked"
    } else {
        "User unblocked"
    };
    Ok(Data::of(&json!({
        "success": true,
        "message": message,
        "user": user_view(&state.service, &user),
    })))
}

/// → `{blockedContacts}` (the web SDK's name; Android reads it as an alias of `users`).
pub(super) async fn blocked_list(
    State(state): State<AppState>,
    Client(session): Client,
) -> ApiResult {
    let users = state.service.blocked_users(&session).await?;
    let users: Vec<_> = users.iter().map(|u| user_view(&state.service, u)).collect();
    Ok(Data::of(&json!({ "blockedContacts": users })))
}

/// → `{blockedUserIDs}`.
pub(super) async fn blocked_ids(
    State(state): State<AppState>,
    Client(session): Client,
) -> ApiResult {
    let users = state.service.blocked_users(&session).await?;
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    Ok(Data::of(&json!({ "blockedUserIDs": ids })))
}

/// The reporter's words, shared by both report paths.
fn report_text(p: &Params) -> Result<ReportText, crate::domain::ParamError> {
    Ok(ReportText {
        category: p.required_str("category", "category", MAX_CATEGORY)?,
        is_other_category: p
            .optional_bool("isOtherCategory", "isOtherCategory")?
            .unwrap_or(false),
        reason: p
            .optional_str("reason", "reason", MAX_REASON)?
            .unwrap_or_default(),
    })
}

/// `{userID, category, isOtherCategory, reason}` → `{success, message, reportID}`.
pub(super) async fn report_user(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let about = ReportAbout::User(user_id(&p)?);
    let id = state
        .service
        .submit_report(&session, about, report_text(&p)?)
        .await?;
    Ok(reported(id))
}

/// `{messageID, roomID, category, isOtherCategory, reason}` → `{success, message, reportID}`.
pub(super) async fn report_message(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let message = message_id(&p)?;
    let room = parse_room_id(&p.required_str("roomID", "roomID", 64)?)?;
    let about = ReportAbout::Message(room, message);
    let id = state
        .service
        .submit_report(&session, about, report_text(&p)?)
        .await?;
    Ok(reported(id))
}

fn reported(id: i64) -> Data {
    Data::of(&json!({
        "success": true,
        "message": "Report submitted",
        "reportID": id.to_string(),
    }))
}

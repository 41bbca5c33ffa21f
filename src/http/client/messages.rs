//! Message sync, history, receipts and deletion.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::{Client, device, room_ref};
use crate::domain::{MessageId, ParamError, Viewed};
use crate::http::AppState;
use crate::http::envelope::{ApiError, ApiResult, Data};
use crate::http::params::Params;
use crate::service::ClientSession;
use crate::wire::{self, Viewer};

/// Most message IDs in one receipt or delete call.
const MAX_IDS: usize = 1000;
/// Largest history page.
const MAX_PAGE: i64 = 200;

fn messages<'a>(session: &ClientSession, list: &'a [Viewed]) -> Vec<wire::MessageView<'a>> {
    list.iter()
        .map(|v| wire::message(&v.message, Viewer::new(session.user.id, v.read_seq)))
        .collect()
}

/// `{"messages": [...]}`, serialized without an intermediate tree.
#[derive(serde::Serialize)]
struct Messages<'a> {
    messages: Vec<wire::MessageView<'a>>,
    #[serde(rename = "hasMore", skip_serializing_if = "Option::is_none")]
    has_more: Option<bool>,
}

fn page(session: &ClientSession, list: &[Viewed], has_more: Option<bool>) -> Data {
    Data::of(&Messages {
        messages: messages(session, list),
        has_more,
    })
}

fn ids(list: &[MessageId]) -> Vec<String> {
    list.iter().map(MessageId::to_string).collect()
}

pub(super) async fn room_list_and_unread(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
) -> ApiResult {
    let _turn = sync_turn(&state).await?;
    let list = state
        .service
        .room_list(&session, &device(&headers, &session))
        .await?;
    Ok(page(&session, &list, None))
}

pub(super) async fn new_and_updated(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
) -> ApiResult {
    let _turn = sync_turn(&state).await?;
    let list = state
        .service
        .new_and_updated(&session, &device(&headers, &session))
        .await?;
    Ok(page(&session, &list, None))
}

/// Waits for one of the sync permits (see [`crate::http::sync_permits`]), held until the
/// answer is rendered.
async fn sync_turn(state: &AppState) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    state.syncs.acquire().await.map_err(|_| ApiError::Internal)
}

pub(super) async fn before(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    let max_created = p.optional_int("maxCreated", "maxCreated")?.unwrap_or(0);
    let limit = p.optional_int("limit", "limit")?.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ParamError::invalid_because(
            "limit",
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        )
        .into());
    }
    let (list, has_more) = state
        .service
        .history_before(&session, room, max_created, limit)
        .await?;
    Ok(Data::of(
        &json!({"messages": messages(&session, &list), "hasMore": has_more}),
    ))
}

pub(super) async fn after(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    let min_created = p.optional_int("minCreated", "minCreated")?.unwrap_or(0);
    let last_updated = p
        .optional_int("lastUpdated", "lastUpdated")?
        .unwrap_or(min_created);
    let list = state
        .service
        .history_after(&session, room, min_created, last_updated)
        .await?;
    Ok(page(&session, &list, None))
}

async fn feedback(state: AppState, session: ClientSession, p: Params, read: bool) -> ApiResult {
    let requested = p.id_list("messageIDs", "messageIDs", MAX_IDS, MessageId)?;
    let changed = state
        .service
        .mark_messages(&session, requested, read)
        .await?;
    Ok(Data::of(&json!({"updatedMessageIDs": ids(&changed)})))
}

pub(super) async fn delivered(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    feedback(state, session, p, false).await
}

pub(super) async fn read(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    feedback(state, session, p, true).await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    let requested = p.id_list("messageIDs", "messageIDs", MAX_IDS, MessageId)?;
    // Deleting only for oneself is not supported: say so rather than delete for everyone.
    if p.optional_bool("forEveryone", "forEveryone")? == Some(false) {
        return Err(ParamError::invalid_because(
            "forEveryone",
            "forEveryone",
            "only deletion for everyone is supported",
        )
        .into());
    }
    let deleted = state
        .service
        .delete_messages(&session, room, requested)
        .await?;
    Ok(Data::of(&json!({"deletedMessageIDs": ids(&deleted)})))
}

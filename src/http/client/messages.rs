//! Message sync, history, receipts and deletion.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::{Client, device, room_ref};
use crate::domain::{MessageId, ParamError, Viewed};
use crate::http::AppState;
use crate::http::envelope::{ApiError, ApiResult, Data};
use crate::http::params::Params;
use crate::service::{ClientSession, Marked, Page};
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
    // About 1.4 KB a message: a 1,000-room list is written without regrowing its buffer.
    Data::sized(
        list.len() * 1_500,
        &Messages {
            messages: messages(session, list),
            has_more,
        },
    )
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
    let for_everyone = p
        .optional_bool("forEveryone", "forEveryone")?
        .unwrap_or(true);
    let deleted = if for_everyone {
        state
            .service
            .delete_messages(&session, room, requested)
            .await?
    } else {
        state
            .service
            .delete_for_me(&session, room, requested)
            .await?
    };
    Ok(Data::of(&json!({"deletedMessageIDs": ids(&deleted)})))
}

/// Largest page of starred or pinned messages. The web SDK asks for 99,999 at a time; a larger
/// page is served as this size, with `hasMore` and the next `pageNumber` as usual.
const MAX_MARKED_PAGE: i64 = 1000;

/// Stars or unstars (`on`) `messageIDs` of `roomID` for the caller; answers the IDs now so
/// under `answer_key`.
async fn star(state: AppState, session: ClientSession, p: Params, on: bool) -> ApiResult {
    let room = room_ref(&p)?;
    let requested = p.id_list("messageIDs", "messageIDs", MAX_IDS, MessageId)?;
    let done = state
        .service
        .star_messages(&session, room, requested, on)
        .await?;
    let key = if on {
        "starredMessageIDs"
    } else {
        "unstarredMessageIDs"
    };
    Ok(Data::of(&json!({ key: ids(&done) })))
}

pub(super) async fn star_messages(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    star(state, session, p, true).await
}

pub(super) async fn unstar_messages(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    star(state, session, p, false).await
}

/// Pins or unpins (`on`) `messageIDs` of `roomID`; answers the IDs now so.
async fn pin(state: AppState, session: ClientSession, p: Params, on: bool) -> ApiResult {
    let room = room_ref(&p)?;
    let requested = p.id_list("messageIDs", "messageIDs", MAX_IDS, MessageId)?;
    let done = state
        .service
        .pin_messages(&session, room, requested, on)
        .await?;
    let key = if on {
        "pinnedMessageIDs"
    } else {
        "unpinnedMessageIDs"
    };
    Ok(Data::of(&json!({ key: ids(&done) })))
}

pub(super) async fn pin_messages(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    pin(state, session, p, true).await
}

pub(super) async fn unpin_messages(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    pin(state, session, p, false).await
}

/// The IDs of a marked list of `roomID`, under `answer_key`.
async fn marked_ids(state: AppState, session: ClientSession, p: Params, list: Marked) -> ApiResult {
    let room = room_ref(&p)?;
    let found = state.service.marked_ids(&session, room, list).await?;
    // The web SDK reads `messageIDs` for stars and `pinnedMessageIDs` for pins; Android
    // reads either name for both.
    let key = match list {
        Marked::Starred => "messageIDs",
        Marked::Pinned => "pinnedMessageIDs",
    };
    Ok(Data::of(&json!({ key: ids(&found) })))
}

pub(super) async fn starred_ids(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    marked_ids(state, session, p, Marked::Starred).await
}

pub(super) async fn pinned_ids(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    marked_ids(state, session, p, Marked::Pinned).await
}

/// A page of a marked list of `roomID`: `pageNumber` (from 1) and `pageSize`.
async fn marked_page(
    state: AppState,
    session: ClientSession,
    p: Params,
    list: Marked,
) -> ApiResult {
    let room = room_ref(&p)?;
    let number = p.optional_int("pageNumber", "pageNumber")?.unwrap_or(1);
    let size = p.optional_int("pageSize", "pageSize")?.unwrap_or(50);
    if number < 1 {
        return Err(
            ParamError::invalid_because("pageNumber", "pageNumber", "must be 1 or more").into(),
        );
    }
    if size < 1 {
        return Err(
            ParamError::invalid_because("pageSize", "pageSize", "must be 1 or more").into(),
        );
    }
    let page = Page {
        number,
        size: size.min(MAX_MARKED_PAGE),
    };
    let (list, has_more) = state
        .service
        .marked_page(&session, room, list, page)
        .await?;
    Ok(Data::of(&Messages {
        messages: messages(&session, &list),
        has_more: Some(has_more),
    }))
}

pub(super) async fn starred_list(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    marked_page(state, session, p, Marked::Starred).await
}

pub(super) async fn pinned_list(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    marked_page(state, session, p, Marked::Pinned).await
}

/// `{messageID}` → `{message, readBy, deliveredTo}`: who read the message, and who it reached
/// but has not read it, each `{userID, xcUserID, fullname, userImageURL, deliveredTime,
/// readTime}`.
pub(super) async fn details(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let info = state
        .service
        .message_info(&session, super::message_id(&p)?)
        .await?;
    let people = |list: &[crate::service::Recipient]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|r| wire::recipient(&r.user, r.delivered_at, r.read_at))
            .collect()
    };
    let viewer = Viewer::new(session.user.id, info.viewer_read_seq);
    Ok(Data::of(&json!({
        "message": wire::message(&info.message, viewer),
        "readBy": people(&info.read_by),
        "deliveredTo": people(&info.delivered_to),
    })))
}

/// `{messageID}` → `{count}`: how many recipients read the message.
pub(super) async fn total_read(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let count = state
        .service
        .total_read(&session, super::message_id(&p)?)
        .await?;
    Ok(Data::of(&json!({ "count": count })))
}

//! `webhook/create`, `webhook/list`, `webhook/delete`, `webhook/replay`: confab's own Server
//! API paths for the app's webhook endpoints (the CLI's `confab webhook` does the same).

use axum::extract::State;
use serde_json::{Value, json};

use super::ServerApp;
use crate::domain::ParamError;
use crate::domain::webhook::Filter;
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::params::Params;

/// Most types one filter names.
const MAX_TYPES: usize = 100;

/// `{url, messageTypes?, roomTypes?}` → the endpoint with its `secret`, shown this once.
pub(super) async fn create(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let url = p.required_str("url", "url", 2_048)?;
    let filter = Filter {
        message_types: p
            .optional_int_list("messageTypes", "messageTypes", MAX_TYPES)?
            .unwrap_or_default(),
        room_types: p
            .optional_int_list("roomTypes", "roomTypes", MAX_TYPES)?
            .unwrap_or_default(),
    };
    if let Some(bad) = filter.room_types.iter().find(|t| !(1..=4).contains(*t)) {
        let why = format!("{bad} is not a room type (1 to 4)");
        return Err(ParamError::invalid_because("roomTypes", "roomTypes", why).into());
    }
    let added = state.service.add_webhook(app, &url, filter).await?;
    let mut view = crate::wire::webhook(&added.endpoint);
    view["secret"] = json!(added.secret);
    Ok(Data::of(&view))
}

/// `{}` → `{webhooks}`: the app's endpoints with their delivery status.
pub(super) async fn list(State(state): State<AppState>, ServerApp(app): ServerApp) -> ApiResult {
    let webhooks: Vec<Value> = state
        .service
        .webhooks(Some(app))
        .await?
        .iter()
        .map(crate::wire::webhook)
        .collect();
    Ok(Data::of(&json!({"webhooks": webhooks})))
}

/// `{webhookID}` → `{success, message}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let id = webhook_id(&p)?;
    if !state.service.remove_webhook(Some(app), id).await? {
        return Err(no_such_webhook());
    }
    Ok(Data::of(
        &json!({"success": true, "message": "Webhook removed"}),
    ))
}

/// `{webhookID, since}` → `{queued}`: every event recorded from `since` (Unix ms) on is
/// delivered again, in order.
pub(super) async fn replay(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let id = webhook_id(&p)?;
    let since = p.required_int("since", "since")?;
    let queued = state
        .service
        .replay_webhook(Some(app), id, since)
        .await?
        .ok_or_else(no_such_webhook)?;
    Ok(Data::of(&json!({"queued": queued})))
}

fn webhook_id(p: &Params) -> Result<i64, ParamError> {
    let id = p.required_str("webhookID", "webhookID", 20)?;
    id.parse()
        .map_err(|_| ParamError::invalid_because("webhookID", "webhookID", "not a webhook ID"))
}

fn no_such_webhook() -> crate::http::envelope::ApiError {
    ParamError::invalid_because(
        "webhookID",
        "webhookID",
        "no webhook of this app has this ID",
    )
    .into()
}

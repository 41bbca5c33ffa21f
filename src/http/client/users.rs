//! User look-ups, contacts and push tokens.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::{Client, device};
use crate::domain::{ParamError, User, UserId};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::params::Params;
use crate::service::Service;
use crate::wire;

/// A user object with live presence.
fn user_view<'a>(service: &Service, user: &'a User) -> wire::UserView<'a> {
    wire::user_online(user, service.is_online(user.id))
}

pub(super) async fn get_by_id(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let id = p.required_str("id", "id", 20)?;
    let id = id
        .parse()
        .map_err(|_| ParamError::invalid_because("id", "id", "not a user ID"))?;
    let user = state.service.user_by_id(&session, id).await?;
    Ok(Data::of(&json!({"user": user_view(&state.service, &user)})))
}

pub(super) async fn get_by_xc_user_id(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let xc = p.required_str("xcUserID", "xcUserID", 50)?;
    let user = state.service.user_by_xc_id(&session, &xc).await?;
    Ok(Data::of(&json!({"user": user_view(&state.service, &user)})))
}

pub(super) async fn get_by_username(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let username = p.required_str("username", "username", 200)?;
    let ignore_case = p
        .optional_bool("ignoreCase", "ignoreCase")?
        .unwrap_or(false);
    let user = state
        .service
        .user_by_username(&session, &username, ignore_case)
        .await?;
    Ok(Data::of(&json!({"user": user_view(&state.service, &user)})))
}

pub(super) async fn get_all_by_ids(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let ids = p.id_list("ids", "ids", 1000, UserId)?;
    let users = state.service.users_by_ids(&session, &ids).await?;
    let users: Vec<_> = users.iter().map(|u| user_view(&state.service, u)).collect();
    Ok(Data::of(&json!({"users": users})))
}

pub(super) async fn contacts(State(state): State<AppState>, Client(session): Client) -> ApiResult {
    let contacts = state.service.contacts(&session).await?;
    let contacts: Vec<_> = contacts
        .iter()
        .map(|u| json!({"user": user_view(&state.service, u), "isRequestPending": false, "isRequestAccepted": true}))
        .collect();
    Ok(Data::of(&json!({"contacts": contacts})))
}

pub(super) async fn update_push(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
    p: Params,
) -> ApiResult {
    let fcm = p
        .optional_str("fcmToken", "fcmToken", 4096)?
        .unwrap_or_default();
    let apn = p
        .optional_str("apnToken", "apnToken", 4096)?
        .unwrap_or_default();
    let device = device(&headers, &session);
    state
        .service
        .set_push_tokens(&session, &device, &fcm, &apn)
        .await?;
    Ok(Data::of(
        &json!({"success": true, "message": "Push notification token updated"}),
    ))
}

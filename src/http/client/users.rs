//! User look-ups, contacts and push tokens.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::{Client, device};
use crate::domain::{ParamError, StoredFile, User, UserId};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data, on_param};
use crate::http::params::Params;
use crate::service::Service;
use crate::wire;

/// A user object with live presence.
pub(super) fn user_view<'a>(service: &Service, user: &'a User) -> wire::UserView<'a> {
    wire::user_online(user, service.is_online(user.id))
}

/// `{user}` with the user's `bio`: the answer of every look-up of one user.
async fn one_user(state: &AppState, user: &User) -> ApiResult {
    let bio = state
        .service
        .bios(&[user.id])
        .await?
        .pop()
        .unwrap_or_default();
    Ok(own_profile(state, user, &bio))
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
    one_user(&state, &user).await
}

pub(super) async fn get_by_xc_user_id(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let xc = p.required_str("xcUserID", "xcUserID", 50)?;
    let user = state.service.user_by_xc_id(&session, &xc).await?;
    one_user(&state, &user).await
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
    one_user(&state, &user).await
}

/// `ids`: user IDs as decimal strings or integers, at most 1,000. Android puts a group's room
/// ID (`"g1"`) among them after loading its room list: a string that is no user ID names no
/// user, and is skipped like an unknown ID.
fn lenient_user_ids(p: &Params) -> Result<Vec<UserId>, ParamError> {
    let refuse = |why: &str| ParamError::invalid_because("ids", "ids", why);
    let items = match p.value("ids") {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) if items.len() <= 1000 => items,
        Some(serde_json::Value::Array(_)) => return Err(refuse("more than 1000 entries")),
        Some(_) => return Err(refuse("must be an array of user IDs")),
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        match item {
            serde_json::Value::String(s) if !s.is_empty() => ids.extend(s.parse().ok().map(UserId)),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(id) => ids.push(UserId(id)),
                None => return Err(refuse("entries must be numeric IDs")),
            },
            _ => return Err(refuse("entries must be numeric IDs or non-empty strings")),
        }
    }
    Ok(ids)
}

pub(super) async fn get_all_by_ids(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let ids = lenient_user_ids(&p)?;
    let users = state.service.users_by_ids(&session, &ids).await?;
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let bios = state.service.bios(&ids).await?;
    let users: Vec<_> = users
        .iter()
        .zip(&bios)
        .map(|(u, bio)| user_view(&state.service, u).with_bio(bio))
        .collect();
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

/// A photo ID, a number or a numeric string (the web SDK passes on what the app holds).
fn photo_id(p: &Params) -> Result<i64, ParamError> {
    match p.optional_int("id", "id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(ParamError::required("id", "id")),
        // Not an integer: a numeric string, or what the integer parse said.
        Err(not_integer) => match p.optional_str("id", "id", 20) {
            Ok(Some(text)) => text
                .parse()
                .map_err(|_| ParamError::invalid_because("id", "id", "not a photo ID")),
            _ => Err(not_integer),
        },
    }
}

/// `{user}` with the user's bio: the answers about one user (both SDKs store the caller's own
/// as the active user, and Android's account screen compares its bio).
fn own_profile(state: &AppState, user: &User, bio: &str) -> Data {
    Data::of(&json!({"user": user_view(&state.service, user).with_bio(bio)}))
}

/// `photo/get_list`: `{userID}` → `{photos: [{id, thumbnailImageURL, fullsizeImageURL,
/// createdTime}]}`, the user's picture first, then the newest first.
pub(super) async fn photos(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let id = super::user_id(&p)?;
    let photos = state.service.user_photos(&session, id).await?;
    let photos: Vec<_> = photos
        .iter()
        .map(|photo| {
            json!({"id": photo.id, "thumbnailImageURL": photo.url,
                   "fullsizeImageURL": photo.url, "createdTime": photo.created})
        })
        .collect();
    Ok(Data::of(&json!({ "photos": photos })))
}

/// `photo/set_main`: `{id}` → `{user}`.
pub(super) async fn set_main_photo(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let (user, bio) = state
        .service
        .set_main_photo(&session, photo_id(&p)?)
        .await?;
    Ok(own_profile(&state, &user, &bio))
}

/// `photo/delete`: `{id, createdTime?}` → `{user}`; the photo's file is removed once the
/// change has committed.
pub(super) async fn delete_photo(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let id = photo_id(&p)?;
    let created = p.optional_int("createdTime", "createdTime")?;
    let (user, bio, photo) = state
        .service
        .delete_photo(&session, id, created)
        .await
        .map_err(on_param("createdTime", "createdTime", "photo"))?;
    state
        .media
        .store
        .delete(&StoredFile::key(session.app, &photo.file_id))
        .await;
    Ok(own_profile(&state, &user, &bio))
}

/// `update_bio`: `{bio}` → `{user}`.
pub(super) async fn update_bio(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let bio = p
        .optional_str("bio", "bio", 1000)?
        .ok_or_else(|| ParamError::required("bio", "bio"))?;
    let (user, bio) = state.service.set_bio(&session, bio).await?;
    Ok(own_profile(&state, &user, &bio))
}

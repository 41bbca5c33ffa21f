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

/// `{user}` with the user's bio: the answers about the caller's own profile, which both SDKs
/// store as the active user.
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
    let id = p.required_str("userID", "userID", 20)?;
    let id = id
        .parse()
        .map_err(|_| ParamError::invalid_because("userID", "userID", "not a user ID"))?;
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

//! Token exchange and refresh, logout, project configuration.

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;

use super::{Client, ClientApp, header};
use crate::http::AppState;
use crate::http::envelope::{ApiError, ApiResult, Data};
use crate::service::{TokenBundle, bearer};
use crate::wire;

/// The tokens and the active user, with their bio (Android's account screen compares it).
async fn token_bundle(state: &AppState, t: &TokenBundle) -> ApiResult {
    let bio = state
        .service
        .bios(&[t.user.id])
        .await?
        .pop()
        .unwrap_or_default();
    Ok(Data::of(&json!({
        "accessToken": t.access_token,
        "accessTokenExpiry": t.access_expiry,
        "refreshToken": t.refresh_token,
        "refreshTokenExpiry": t.refresh_expiry,
        "user": wire::user(&t.user).with_bio(&bio),
    })))
}

pub(super) async fn request_access_token(
    State(state): State<AppState>,
    ClientApp(app): ClientApp,
    headers: HeaderMap,
) -> ApiResult {
    let ticket = bearer(header(&headers, "authorization")).map_err(ApiError::Auth)?;
    let device = header(&headers, "device-identifier").unwrap_or_default();
    let bundle = state.service.exchange_ticket(app, ticket, device).await?;
    token_bundle(&state, &bundle).await
}

pub(super) async fn refresh_access_token(
    State(state): State<AppState>,
    ClientApp(app): ClientApp,
    headers: HeaderMap,
) -> ApiResult {
    let refresh = bearer(header(&headers, "authorization")).map_err(ApiError::Auth)?;
    let bundle = state.service.refresh_session(app, refresh).await?;
    token_bundle(&state, &bundle).await
}

/// `Authorization` is not checked here: the web SDK sends it empty before login.
pub(super) async fn project_configs(
    State(state): State<AppState>,
    ClientApp(_): ClientApp,
) -> ApiResult {
    let photo_max = super::media::PHOTO_MAX_BYTES.min(state.media.max_bytes);
    Ok(Data::of(&json!({
        "core": {
            "chatMediaMaxFileSize": state.media.max_bytes.to_string(),
            "channelMaxParticipants": "5000",
            "groupMaxParticipants": "1000",
            "roomPhotoMaxFileSize": photo_max.to_string(),
            "userPhotoMaxFileSize": photo_max.to_string(),
            "roomMaxPinned": "10",
            "usernameIgnoreCase": "1",
        },
        "project": {},
        "custom": {},
    })))
}

pub(super) async fn logout(State(state): State<AppState>, Client(session): Client) -> ApiResult {
    state.service.logout(&session).await?;
    Ok(Data::of(
        &json!({"success": true, "message": "Logged out successfully"}),
    ))
}

//! `auth_ticket/request`, `user/update`, `contact/sync`.

use axum::extract::State;
use serde_json::json;

use super::{MAX_NAME, MAX_SHORT, MAX_URL, MAX_XC_ID, ServerApp};
use crate::domain::ParamError;
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data, on_param};
use crate::http::params::Params;
use crate::service::{ContactOp, ServiceError, UserProfile};

/// The user fields shared by `auth_ticket/request` and `user/update`, codes 105–112.
fn profile(p: &Params) -> Result<UserProfile, ParamError> {
    Ok(UserProfile {
        xc_user_id: p.required_str("xcUserID", "105", MAX_XC_ID)?,
        fullname: p.required_str("fullName", "106", MAX_NAME)?,
        email: p.optional_str("email", "107", MAX_SHORT)?,
        phone: p.optional_str("phone", "108", MAX_SHORT)?,
        username: p.optional_str("username", "109", MAX_SHORT)?,
        photo_thumbnail: p.optional_str("photoThumbnailURL", "110", MAX_URL)?,
        photo_fullsize: p.optional_str("photoFullsizeURL", "111", MAX_URL)?,
        role_code: p.optional_str("userRoleCode", "112", MAX_SHORT)?,
    })
}

pub(super) async fn request_auth_ticket(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    // Device details (101–104) are optional and only validated: nothing reads them yet.
    p.optional_str("userIPAddress", "101", MAX_SHORT)?;
    p.optional_str("userAgent", "102", MAX_URL)?;
    p.optional_str("userPlatform", "103", MAX_SHORT)?;
    p.optional_str("userDeviceID", "104", MAX_SHORT)?;
    let (ticket, user) = state.service.issue_auth_ticket(app, profile(&p)?).await?;
    Ok(Data::of(
        &json!({"ticket": ticket, "userID": user.id.to_string()}),
    ))
}

pub(super) async fn update(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let user = state.service.upsert_user(app, profile(&p)?).await?;
    Ok(Data::of(&json!({"userID": user.id.to_string()})))
}

pub(super) async fn sync_contacts(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let ops = p
        .required_object_list("contacts", "101", super::MAX_LIST)?
        .iter()
        .map(|c| {
            Ok(ContactOp {
                owner_xc_user_id: c.required_str("ownerXCUserID", "102", MAX_XC_ID)?,
                contact_xc_user_id: c.required_str("contactXCUserID", "103", MAX_XC_ID)?,
                deleted: c.optional_bool("isDeleted", "104")?.unwrap_or(false),
            })
        })
        .collect::<Result<Vec<_>, ParamError>>()?;
    let owners: Vec<String> = ops.iter().map(|op| op.owner_xc_user_id.clone()).collect();
    let counts = state
        .service
        .sync_contacts(app, ops)
        .await
        .map_err(|err| match &err {
            ServiceError::UnknownUser(id) if owners.contains(id) => {
                on_param("ownerXCUserID", "102", "xcUserID")(err)
            }
            _ => on_param("contactXCUserID", "103", "xcUserID")(err),
        })?;
    Ok(Data::of(
        &json!({"countInserted": counts.inserted, "countDeleted": counts.deleted}),
    ))
}

/// confab's own endpoint: ends every session of a user and closes their sockets.
pub(super) async fn revoke_sessions(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let user = p.required_str("xcUserID", "101", MAX_XC_ID)?;
    let revoked = state.service.revoke_user_sessions(app, &user).await?;
    Ok(Data::of(&json!({"revokedSessions": revoked})))
}

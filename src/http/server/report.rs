//! `chat_report/list`, `chat_report/resolve`: confab's own Server API paths for the reports
//! users submit through the client API.

use axum::extract::State;
use serde_json::{Value, json};

use super::ServerApp;
use crate::domain::{ParamError, ReportTarget, codec};
use crate::http::AppState;
use crate::http::envelope::{ApiResult, Data};
use crate::http::params::Params;
use crate::service::ListedReport;

/// Most reports one `list` answers.
const MAX_PAGE: i64 = 500;

/// `{beforeID?, limit?}` → `{reports, hasMore}`: newest first; page on with the last
/// `reportID` as `beforeID`.
pub(super) async fn list(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let before = p.optional_int("beforeID", "101")?.unwrap_or(i64::MAX);
    let limit = p.optional_int("limit", "102")?.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ParamError::invalid_because("limit", "102", "must be 1 to 500").into());
    }
    let mut reports = state.service.reports(app, before, limit + 1).await?;
    let has_more = reports.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    reports.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let reports: Vec<Value> = reports.iter().map(view).collect();
    Ok(Data::of(&json!({"reports": reports, "hasMore": has_more})))
}

/// `{reportID}` → `{success, message}`; a report that does not exist or is resolved already
/// is refused on `reportID` (`40002`, field `101`).
pub(super) async fn resolve(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    p: Params,
) -> ApiResult {
    let id = p.required_int("reportID", "101")?;
    if !state.service.resolve_report(app, id).await? {
        let why = "no open report with this reportID";
        return Err(ParamError::invalid_because("reportID", "101", why).into());
    }
    Ok(Data::of(
        &json!({"success": true, "message": "Report resolved"}),
    ))
}

fn view(listed: &ListedReport) -> Value {
    let r = &listed.report.report;
    let xc = |user: &Option<crate::domain::User>| {
        user.as_ref()
            .map(|u| u.xc_user_id.clone())
            .unwrap_or_default()
    };
    let mut view = json!({
        "reportID": listed.report.id,
        "reporterUserID": r.reporter.to_string(),
        "reporterXCUserID": xc(&listed.reporter),
        "category": r.category,
        "isOtherCategory": r.is_other_category,
        "reason": r.reason,
        "createdTime": r.created,
        "resolvedTime": listed.report.resolved.unwrap_or(0),
    });
    match r.target {
        ReportTarget::User(user) => {
            view["type"] = json!("user");
            view["userID"] = json!(user.to_string());
            view["xcUserID"] = json!(xc(&listed.user));
        }
        ReportTarget::Message { message, .. } => {
            view["type"] = json!("message");
            view["messageID"] = json!(message.to_string());
            if let Some(m) = &listed.message {
                view["roomID"] = json!(m.room.wire_id());
                view["xcRoomID"] = json!(m.room.xc_room_id());
                view["senderXCUserID"] = json!(xc(&m.sender));
                view["messageType"] = json!(m.kind);
                view["body"] = json!(codec::decode(&m.body, &m.local_id).unwrap_or_default());
            }
        }
    }
    view
}

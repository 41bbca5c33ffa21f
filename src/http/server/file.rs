//! `file/upload`: confab's own addition to the Server API (PowerTalk has no public path for
//! it), so that the customer's backend can send an image, a video or a document into a room:
//! upload the file here, then `message/send` a 1002, 1003 or 1004 message whose `data` carries
//! the answer (its `fileID` makes the file downloadable by the room's participants).

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::HeaderMap;

use super::{MAX_XC_ID, ServerApp, destination, sender_refused};
use crate::domain::{ParamError, UserId};
use crate::http::AppState;
use crate::http::client::uploaded;
use crate::http::envelope::{ApiError, ApiResult};
use crate::http::upload::{self, Texts};

/// Most characters of a caption.
const CAPTION_CHARS: usize = 16_384;

/// A text part that must be present and non-empty (field code `field`).
fn required<'a>(texts: &'a Texts, name: &str, field: &'static str) -> Result<&'a str, ParamError> {
    match texts.get(name).map(String::as_str) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(ParamError::required(name, field)),
    }
}

/// `POST /v1/server/file/upload`: multipart `senderXCUserID` (101), `recipientXCUserID` (102)
/// or `xcRoomID` (103), `file` (104), `caption` (105) → the file as the SDKs read it.
pub(super) async fn upload(
    State(state): State<AppState>,
    ServerApp(app): ServerApp,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let spec = upload::Spec {
        texts: &[
            ("senderXCUserID", MAX_XC_ID),
            ("recipientXCUserID", MAX_XC_ID),
            ("xcRoomID", MAX_XC_ID),
            ("caption", CAPTION_CHARS),
        ],
        limit: state.media.max_bytes,
        file_field: "104",
    };
    let form = upload::read(
        &state.media,
        app,
        &headers,
        multipart,
        spec,
        upload::no_check,
    )
    .await?;
    let recorded = async {
        let sender = required(&form.texts, "senderXCUserID", "101")?.to_owned();
        let optional = |name: &str| form.texts.get(name).filter(|v| !v.is_empty()).cloned();
        let to = destination(optional("recipientXCUserID"), optional("xcRoomID"))?;
        // The uploader is the sender, known once the service has found them.
        let file = form.record(app, UserId::NONE, false)?;
        state
            .service
            .record_server_upload(app, &sender, to, file.clone())
            .await
            .map_err(sender_refused(&sender))?;
        Ok::<_, ApiError>(file)
    };
    let file = form.keep(&state.media, recorded.await).await?;
    Ok(uploaded(&file, form.text("caption")))
}

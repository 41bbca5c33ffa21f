//! Media: chat file upload and download, and a room's shared media, files and links.
//!
//! Uploads are `multipart/form-data` with parts `roomID`, `file` and, from the web SDK,
//! `caption` and `fileType`, in any order (the Android SDK sends `file` first). The file part
//! streams into the media store as it arrives; when `roomID` came first, access is checked
//! before any byte is stored, and in every case again before the file is recorded. A refused
//! or broken upload leaves nothing behind.

use std::pin::pin;

use axum::body::Body;
use axum::extract::State;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Client, room_ref};
use crate::domain::file::{SharedKind, shared_kind};
use crate::domain::secret::random_token;
use crate::domain::{ParamError, RoomRef, StoredFile, now_ms};
use crate::http::envelope::{ApiError, ApiResult, BodyStatus, Data};
use crate::http::params::Params;
use crate::http::{AppState, header as header_value};
use crate::media::PutError;
use crate::wire;

/// Room for the multipart framing and the small parts around the file: a body longer than
/// the size limit plus this is refused before it is read.
const FRAMING_BYTES: u64 = 64 * 1024;
/// Longest caption, in bytes.
const CAPTION_BYTES: usize = 64 * 1024;
/// Most items `get_shared_content` returns: the SDKs ask once and have no way to page.
const SHARED_LIMIT: i64 = 1000;

fn too_large(limit: u64) -> ApiError {
    ParamError::invalid_because("file", "file", format!("larger than {limit} bytes")).into()
}

fn bad_body(why: impl std::fmt::Display) -> ApiError {
    ParamError::body(format!("Request body is not a valid multipart form: {why}")).into()
}

/// A small text part, refused past `max` bytes.
async fn small_text(mut field: Field<'_>, max: usize) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_body)? {
        if bytes.len() + chunk.len() > max {
            return Err(
                ParamError::invalid_because(&name, "", format!("longer than {max} bytes")).into(),
            );
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ParamError::invalid_because(&name, "", "not UTF-8 text").into())
}

/// What an upload's parts said.
#[derive(Default)]
struct Upload {
    room: Option<RoomRef>,
    caption: String,
    stored: Option<crate::media::Stored>,
}

/// `POST /v1/chat/file/upload`.
pub(super) async fn upload(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let limit = state.media.max_bytes;
    let declared = header_value(&headers, "content-length").and_then(|n| n.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + FRAMING_BYTES) {
        return Err(too_large(limit));
    }
    let mut multipart = multipart.map_err(|e| bad_body(e.body_text()))?;
    let id = random_token::<18>();
    let key = StoredFile::key(session.app, &id);
    let mut upload = Upload::default();
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(bad_body)? {
            match field.name().unwrap_or_default() {
                "roomID" => {
                    let text = small_text(field, 64).await?;
                    let room = RoomRef::parse(&text).ok_or_else(|| {
                        ParamError::invalid_because("roomID", "roomID", "not a room ID")
                    })?;
                    if upload.stored.is_none() {
                        state.service.check_upload(&session, room).await?;
                    }
                    upload.room = Some(room);
                }
                "caption" => upload.caption = small_text(field, CAPTION_BYTES).await?,
                "file" if upload.stored.is_none() => {
                    let stored = state.media.store.put(&key, pin!(field), limit).await;
                    upload.stored = Some(stored.map_err(|e| match e {
                        PutError::TooLarge => too_large(limit),
                        PutError::Empty => ParamError::required("file", "file").into(),
                        PutError::Body(why) => bad_body(why),
                        PutError::Store(why) => {
                            tracing::error!(%why, "media store refused an upload");
                            ApiError::Internal
                        }
                    })?);
                }
                // `fileType` is the client's guess; the type comes from the bytes.
                _ => drop(small_text(field, 1024).await?),
            }
        }
        let room = upload
            .room
            .ok_or_else(|| ParamError::required("roomID", "roomID"))?;
        let stored = upload
            .stored
            .as_ref()
            .ok_or_else(|| ParamError::required("file", "file"))?;
        let file = StoredFile {
            id: id.clone(),
            app: session.app,
            uploader: session.user.id,
            media_type: stored.sniffed.media_type.clone(),
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            width: stored.sniffed.size.0,
            height: stored.sniffed.size.1,
            created: now_ms(),
        };
        state
            .service
            .record_upload(&session, room, file.clone())
            .await?;
        Ok::<_, ApiError>(file)
    };
    let file = match read.await {
        Ok(file) => file,
        Err(err) => {
            if upload.stored.is_some() {
                state.media.store.delete(&key).await;
            }
            return Err(err);
        }
    };
    Ok(Data::of(&json!({
        // Android reads `id`, the web SDK `fileID`.
        "id": file.id,
        "fileID": file.id,
        // Empty: a URL here makes the Android SDK fetch it without credentials; both SDKs
        // download through `/v1/chat/file/download` instead.
        "fileURL": "",
        "mediaType": file.media_type,
        "size": file.size,
        "width": file.width,
        "height": file.height,
        "caption": upload.caption,
    })))
}

/// `POST /v1/chat/file/download`: the raw bytes with their content type, or an error
/// envelope, which the web SDK tells apart by its `Content-Type` of exactly
/// `application/json` (a stored file is never served as that).
pub(super) async fn download(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> Result<Response, ApiError> {
    let room = room_ref(&p)?;
    let id = p.required_str("fileID", "fileID", 64)?;
    let file = state.service.file_for_download(&session, room, id).await?;
    let (bytes, size) = state
        .media
        .store
        .get(&StoredFile::key(session.app, &file.id))
        .await
        .map_err(|why| {
            tracing::error!(%why, file = %file.id, "a recorded file cannot be read");
            ApiError::Internal
        })?;
    let media_type = HeaderValue::from_str(&file.media_type)
        .ok()
        .filter(|t| t.as_bytes() != b"application/json")
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, media_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response.extensions_mut().insert(BodyStatus(200));
    Ok(response)
}

/// `POST /v1/chat/room/get_shared_content`: `{roomID, minCreated?, maxCreated?, sortOrder?}`
/// (the web SDK's two callers and the Android SDK's each send some of these) → the room's
/// images and videos, files and links, each list in `created` order.
pub(super) async fn shared_content(
    State(state): State<AppState>,
    Client(session): Client,
    p: Params,
) -> ApiResult {
    let room = room_ref(&p)?;
    let min_created = p.optional_int("minCreated", "minCreated")?.unwrap_or(0);
    let max_created = p
        .optional_int("maxCreated", "maxCreated")?
        .filter(|max| *max > 0)
        .unwrap_or(i64::MAX);
    let ascending = match p.optional_str("sortOrder", "sortOrder", 4)?.as_deref() {
        None | Some("") => false,
        Some(order) if order.eq_ignore_ascii_case("desc") => false,
        Some(order) if order.eq_ignore_ascii_case("asc") => true,
        Some(_) => {
            return Err(
                ParamError::invalid_because("sortOrder", "sortOrder", "ASC or DESC").into(),
            );
        }
    };
    let found = state
        .service
        .shared_content(
            &session,
            room,
            min_created,
            max_created,
            ascending,
            SHARED_LIMIT,
        )
        .await?;
    let (mut media, mut files, mut links) = (Vec::new(), Vec::new(), Vec::new());
    // The web SDK decodes every item's `data`, so an item without any would break its list.
    for message in found.iter().filter(|m| !m.data.is_empty()) {
        let list = match shared_kind(message.kind) {
            Some(SharedKind::Media) => &mut media,
            Some(SharedKind::Files) => &mut files,
            Some(SharedKind::Links) => &mut links,
            None => continue,
        };
        list.push(wire::shared_item(message));
    }
    Ok(Data::of(
        &json!({"media": media, "files": files, "links": links}),
    ))
}

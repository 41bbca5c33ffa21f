//! Media: chat file upload and download, a room's shared media, files and links, profile and
//! room photos and the public links they are shown from.
//!
//! Chat uploads are `multipart/form-data` with parts `roomID`, `file` and, from the web SDK,
//! `caption` and `fileType`, in any order (see [`upload`]): when `roomID` came first, access
//! is checked before any byte is stored, and in every case again before the file is recorded.
//! A refused or broken upload leaves nothing behind.

use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Client, parse_room_id, room_ref};
use crate::domain::file::{SharedKind, shared_kind};
use crate::domain::{ParamError, RoomRef, StoredFile};
use crate::http::envelope::{ApiError, ApiResult, BodyStatus, Data};
use crate::http::params::Params;
use crate::http::{AppState, header as header_value, upload};
use crate::service::{ClientRoomChange, ClientSession};
use crate::wire;

/// Most characters of a caption.
const CAPTION_CHARS: usize = 16_384;
/// Most items `get_shared_content` returns: the SDKs ask once and have no way to page.
const SHARED_LIMIT: i64 = 1000;
/// Largest profile or room photo, bytes (what `project_configs` reports as
/// `userPhotoMaxFileSize` and `roomPhotoMaxFileSize`).
pub(super) const PHOTO_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The answer to an upload, as both SDKs read it into a media message's `data`.
pub(in crate::http) fn uploaded(file: &StoredFile, caption: &str) -> Data {
    Data::of(&json!({
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
        "caption": caption,
    }))
}

/// A room ID from a form's text part.
fn form_room(texts: &upload::Texts) -> Result<Option<RoomRef>, ParamError> {
    match texts.get("roomID").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => parse_room_id(text).map(Some),
    }
}

/// `POST /v1/chat/file/upload`.
pub(super) async fn upload(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let spec = upload::Spec {
        texts: &[("roomID", 64), ("caption", CAPTION_CHARS), ("fileType", 16)],
        limit: state.media.max_bytes,
        file_field: "file",
    };
    let check = |texts: &upload::Texts| {
        let (service, session) = (state.service.clone(), session.clone());
        let room = form_room(texts);
        Box::pin(async move {
            match room? {
                Some(room) => Ok(service.check_upload(&session, room).await?),
                None => Ok(()),
            }
        }) as futures_util::future::BoxFuture<'static, _>
    };
    let form = upload::read(&state.media, session.app, &headers, multipart, spec, check).await?;
    let recorded = async {
        let room =
            form_room(&form.texts)?.ok_or_else(|| ParamError::required("roomID", "roomID"))?;
        let file = form.record(session.app, session.user.id, false)?;
        state
            .service
            .record_upload(&session, room, file.clone())
            .await?;
        Ok::<_, ApiError>(file)
    };
    let file = form.keep(&state.media, recorded.await).await?;
    Ok(uploaded(&file, form.text("caption")))
}

/// A photo's link: the configured public address, else the upload request's own host.
fn photo_url(state: &AppState, headers: &HeaderMap, id: &str) -> String {
    let base = state.media.public_url.clone().unwrap_or_else(|| {
        let scheme = match header_value(headers, "x-forwarded-proto") {
            Some("https") => "https",
            _ => "http",
        };
        let host = header_value(headers, "host").unwrap_or("localhost");
        format!("{scheme}://{host}")
    });
    format!("{base}/media/{id}")
}

/// Reads a photo upload (an image of at most [`PHOTO_MAX_BYTES`]) into a public file; the
/// form's other text parts are `texts`.
async fn read_photo(
    state: &AppState,
    session: &ClientSession,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
    texts: &[(&'static str, usize)],
) -> Result<(upload::Form, StoredFile), ApiError> {
    let spec = upload::Spec {
        texts,
        limit: PHOTO_MAX_BYTES.min(state.media.max_bytes),
        file_field: "file",
    };
    let form = upload::read(
        &state.media,
        session.app,
        headers,
        multipart,
        spec,
        upload::no_check,
    )
    .await?;
    let file = form.record(session.app, session.user.id, true)?;
    if !file.media_type.starts_with("image/") {
        form.discard(&state.media).await;
        return Err(ParamError::invalid_because("file", "file", "not an image").into());
    }
    Ok((form, file))
}

/// `POST /v1/client/user/photo/upload`: `file` (an image) becomes the caller's newest photo
/// and their picture → `{user}`.
pub(super) async fn upload_user_photo(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let (form, file) =
        read_photo(&state, &session, &headers, multipart, &[("fileType", 16)]).await?;
    let url = photo_url(&state, &headers, &file.id);
    let added = state.service.add_user_photo(&session, file, url).await;
    let (user, bio) = form
        .keep(&state.media, added.map_err(ApiError::from))
        .await?;
    Ok(Data::of(&json!({"user": wire::user(&user).with_bio(&bio)})))
}

/// `POST /v1/client/room/photo/upload`: `roomID` and `file` (an image) → `{room}`; admins
/// only, and the room's participants hear a `room/update`.
pub(super) async fn upload_room_photo(
    State(state): State<AppState>,
    Client(session): Client,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let (form, file) = read_photo(&state, &session, &headers, multipart, &[("roomID", 64)]).await?;
    let changed = async {
        let room =
            form_room(&form.texts)?.ok_or_else(|| ParamError::required("roomID", "roomID"))?;
        let url = photo_url(&state, &headers, &file.id);
        let change = ClientRoomChange::Photo { room, file, url };
        Ok::<_, ApiError>(state.service.change_room(&session, change).await?)
    };
    let change = form.keep(&state.media, changed.await).await?;
    Ok(Data::of(&json!({
        "room": wire::room(&change.bundle.room, session.user.id)
    })))
}

/// `GET /media/<id>`: a photo, to anyone with its link (the SDKs show pictures with plain
/// image requests). Other files are never served here.
pub(crate) async fn public_media(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::FileNotFound);
    }
    let file = state.service.public_file(id).await?;
    let mut response = stream_file(&state, &file).await?;
    // A file's bytes never change under its ID.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}

/// The stored bytes of `file` as a response with its type and length.
async fn stream_file(state: &AppState, file: &StoredFile) -> Result<Response, ApiError> {
    let (bytes, size) = state
        .media
        .store
        .get(&StoredFile::key(file.app, &file.id))
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
    stream_file(&state, &file).await
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

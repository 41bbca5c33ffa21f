//! Multipart uploads, shared by every endpoint that takes a file (chat files, profile and room
//! photos, the Server API's upload): the small text parts are collected, and the part `file`
//! streams into the media store as it arrives, under a new random key.
//!
//! The parts may come in any order (the Android SDK sends `file` first). Just before the file
//! is stored, the endpoint's check runs on the text parts seen so far, so that a request that
//! names its room first is refused before any byte is kept; the endpoint checks again once
//! the form is complete. A form that fails after its file was stored removes the file.

use std::collections::BTreeMap;
use std::pin::pin;

use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::http::HeaderMap;
use futures_util::future::BoxFuture;

use super::envelope::ApiError;
use super::{Media, header};
use crate::domain::secret::random_token;
use crate::domain::{AppId, ParamError, StoredFile, UserId, now_ms};
use crate::media::{PutError, Stored};

/// Room for the multipart framing and the small parts around the file: a body longer than
/// the size limit plus this is refused before it is read.
const FRAMING_BYTES: u64 = 64 * 1024;
/// Most characters of a text part not named by the endpoint (read and ignored).
const OTHER_TEXT_CHARS: usize = 1024;

/// The text parts of a form, by name.
pub type Texts = BTreeMap<String, String>;

/// A form whose file is stored.
pub struct Form {
    /// The text parts.
    pub texts: Texts,
    /// The stored file's ID and what it is; `None` when the form had no file part.
    file: Option<(String, Stored)>,
    key: Option<String>,
    /// Field code of `file` in the endpoint's errors.
    file_field: &'static str,
}

impl Form {
    /// Removes the stored file: the endpoint refused the form after all.
    pub async fn discard(&self, media: &Media) {
        if let Some(key) = &self.key {
            media.store.delete(key).await;
        }
    }

    /// `result`, after removing the stored file if it is an error: what an endpoint does with
    /// the outcome of recording its form.
    pub async fn keep<T>(&self, media: &Media, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if result.is_err() {
            self.discard(media).await;
        }
        result
    }

    /// A text part, `""` when absent.
    pub fn text(&self, name: &str) -> &str {
        self.texts.get(name).map_or("", String::as_str)
    }

    /// The record of the stored file, uploaded in `app` by `uploader`; `40002` on `file` when
    /// the form had none.
    pub fn record(
        &self,
        app: AppId,
        uploader: UserId,
        public: bool,
    ) -> Result<StoredFile, ApiError> {
        let (id, stored) = self
            .file
            .as_ref()
            .ok_or_else(|| ParamError::required("file", self.file_field))?;
        Ok(StoredFile {
            id: id.clone(),
            app,
            uploader,
            media_type: stored.sniffed.media_type.clone(),
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            width: stored.sniffed.size.0,
            height: stored.sniffed.size.1,
            created: now_ms(),
            public,
        })
    }
}

/// The check of an endpoint that has nothing to check before the file is stored.
pub fn no_check(_: &Texts) -> BoxFuture<'static, Result<(), ApiError>> {
    Box::pin(async { Ok(()) })
}

/// `40002` on `file`: larger than `limit`.
pub fn too_large(limit: u64, field: &'static str) -> ApiError {
    ParamError::invalid_because("file", field, format!("larger than {limit} bytes")).into()
}

fn bad_body(why: impl std::fmt::Display) -> ApiError {
    ParamError::body(format!("Request body is not a valid multipart form: {why}")).into()
}

/// A text part of at most `max` characters (read no further than their largest UTF-8 size).
async fn text_part(mut field: Field<'_>, max: usize) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let too_long =
        || ParamError::invalid_because(&name, "", format!("longer than {max} characters"));
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_body)? {
        if bytes.len() + chunk.len() > 4 * max {
            return Err(too_long().into());
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ParamError::invalid_because(&name, "", "not UTF-8"))?;
    if text.chars().count() > max {
        return Err(too_long().into());
    }
    Ok(text)
}

/// What an endpoint takes: its text parts with their largest sizes, the largest file, and the
/// field code of `file` in its errors.
pub struct Spec<'a> {
    /// `(name, most characters)` of each text part it reads.
    pub texts: &'a [(&'static str, usize)],
    /// Largest file, bytes.
    pub limit: u64,
    /// Field code of `file`.
    pub file_field: &'static str,
}

/// Reads a multipart form of app `app`: text parts into [`Form::texts`], part `file` into the
/// media store after `check` accepts the text parts seen before it.
pub async fn read(
    media: &Media,
    app: AppId,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
    spec: Spec<'_>,
    check: impl Fn(&Texts) -> BoxFuture<'static, Result<(), ApiError>> + Send + Sync,
) -> Result<Form, ApiError> {
    let declared = header(headers, "content-length").and_then(|n| n.parse::<u64>().ok());
    if declared.is_some_and(|n| n > spec.limit + FRAMING_BYTES) {
        return Err(too_large(spec.limit, spec.file_field));
    }
    let mut multipart = multipart.map_err(|e| bad_body(e.body_text()))?;
    let mut form = Form {
        texts: Texts::new(),
        file: None,
        key: None,
        file_field: spec.file_field,
    };
    let read = async {
        while let Some(field) = multipart.next_field().await.map_err(bad_body)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" && form.file.is_none() {
                check(&form.texts).await?;
                let id = random_token::<18>();
                let key = StoredFile::key(app, &id);
                let stored = media
                    .store
                    .put(&key, pin!(field), spec.limit, &media.uploads)
                    .await;
                let stored = stored.map_err(|e| match e {
                    PutError::TooLarge => too_large(spec.limit, spec.file_field),
                    PutError::Empty => ParamError::required("file", spec.file_field).into(),
                    PutError::Body(why) => bad_body(why),
                    PutError::Store(why) => {
                        tracing::error!(%why, "media store refused an upload");
                        ApiError::Internal
                    }
                })?;
                form.key = Some(key);
                form.file = Some((id, stored));
            } else if let Some((_, max)) = spec.texts.iter().find(|(n, _)| *n == name) {
                let text = text_part(field, *max).await?;
                form.texts.insert(name, text);
            } else {
                text_part(field, OTHER_TEXT_CHARS).await?;
            }
        }
        Ok::<_, ApiError>(())
    };
    match read.await {
        Ok(()) => Ok(form),
        Err(err) => {
            form.discard(media).await;
            Err(err)
        }
    }
}

/// Most bytes of a refused upload read (and dropped) after its answer is ready; see
/// [`finish_reading`].
const DRAIN_BYTES: usize = 8 * 1024 * 1024;
/// Longest such a read may take.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Middleware for the upload endpoints: reads what is left of a request's body (at most
/// [`DRAIN_BYTES`], for at most [`DRAIN_TIME`]) before its answer goes out.
///
/// An upload refused before its body is read (an expired token, a room the caller is not
/// in, a bad part) is answered while the client may still be sending. The connection then
/// cannot serve another request and is closed with the client's bytes unread, which the
/// kernel answers with a reset; a browser still sending sees `ERR_CONNECTION_RESET` instead
/// of the envelope, and the web SDK, which refreshes its token on the envelope's code, gives
/// up silently. Reading the rest first lets the answer arrive and keeps the connection. A
/// body declared larger than [`DRAIN_BYTES`] is not read: a file over the size limit is
/// still refused before it is read.
pub async fn finish_reading(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures_util::StreamExt;
    let declared = header(request.headers(), "content-length").and_then(|n| n.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let shared = std::sync::Arc::new(std::sync::Mutex::new(body.into_data_stream()));
    let reader = shared.clone();
    let stream = futures_util::stream::poll_fn(move |cx| {
        reader
            .lock()
            .expect("only this request reads its body")
            .poll_next_unpin(cx)
    });
    let response = next
        .run(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from_stream(stream),
        ))
        .await;
    // The handler and its request are gone: the rest of the body is this middleware's alone.
    if let Ok(rest) = std::sync::Arc::try_unwrap(shared) {
        let mut rest = rest.into_inner().expect("only this request reads its body");
        let mut left = DRAIN_BYTES;
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(chunk)) = rest.next().await {
                if chunk.len() >= left {
                    break;
                }
                left -= chunk.len();
            }
        })
        .await;
    }
    response
}

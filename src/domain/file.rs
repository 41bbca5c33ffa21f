//! Uploaded files: what is recorded of each, what its first bytes say it is, and which message
//! carries one. Pure functions, no I/O; the bytes themselves are in [`crate::media`].

use crate::domain::{AppId, UserId, codec};

/// How many leading bytes of an upload are kept to tell its type and an image's size: a JPEG's
/// size can follow tens of kilobytes of EXIF and colour profiles.
pub const SNIFF_BYTES: usize = 256 * 1024;

/// A stored file's record; its bytes are under [`StoredFile::key`] in the media store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Random and unguessable: the wire `fileID`.
    pub id: String,
    /// The app it was uploaded in; other apps never see it.
    pub app: AppId,
    /// Who uploaded it.
    pub uploader: UserId,
    /// The content type found in its bytes ([`Sniffed`]), never the client's claim.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Pixels, for images; 0 otherwise.
    pub width: i64,
    /// Pixels, for images; 0 otherwise.
    pub height: i64,
    /// Upload time, Unix ms.
    pub created: i64,
    /// A photo, served to anyone who has its URL (`GET /media/<id>`); other files only to
    /// participants of their rooms.
    pub public: bool,
}

/// One of a user's profile photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPhoto {
    /// The wire photo ID (an int32 for the Android SDK).
    pub id: i64,
    /// Its file.
    pub file_id: String,
    /// Its public URL.
    pub url: String,
    /// Upload time, Unix ms.
    pub created: i64,
}

impl StoredFile {
    /// Where the bytes of file `id` of `app` live in the media store: built from IDs only, so
    /// no name a client sent is ever part of a path.
    pub fn key(app: AppId, id: &str) -> String {
        format!("{app}/{id}")
    }
}

/// What an upload's first bytes say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// A known file format's type; else `text/plain; charset=utf-8` for UTF-8 text (a JSON
    /// file included: the web SDK takes a download served as exactly `application/json` for an
    /// error envelope); else `application/octet-stream`.
    pub media_type: String,
    /// An image's size in pixels from its header; `(0, 0)` when it is not an image or its
    /// header cannot be read (the web SDK can upload a canvas that failed to draw).
    pub size: (i64, i64),
}

impl Sniffed {
    /// Sniffs `prefix`, the first [`SNIFF_BYTES`] of a file (or all of a shorter one).
    pub fn of(prefix: &[u8], complete: bool) -> Self {
        let media_type = match infer::get(prefix) {
            Some(kind) => kind.mime_type().to_owned(),
            None if looks_like_text(prefix, complete) => "text/plain; charset=utf-8".to_owned(),
            None => "application/octet-stream".to_owned(),
        };
        let size = if media_type.starts_with("image/") {
            imagesize::blob_size(prefix)
                .ok()
                .and_then(|s| Some((i64::try_from(s.width).ok()?, i64::try_from(s.height).ok()?)))
                .unwrap_or((0, 0))
        } else {
            (0, 0)
        };
        Self { media_type, size }
    }
}

/// UTF-8 without control characters other than whitespace; a multi-byte character cut off at
/// the end of a prefix still counts.
fn looks_like_text(prefix: &[u8], complete: bool) -> bool {
    let valid = match std::str::from_utf8(prefix) {
        Ok(text) => text,
        Err(e) if !complete && e.error_len().is_none() => {
            std::str::from_utf8(&prefix[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

/// Message types that carry an uploaded file in `data.fileID`: image, video, file, voice,
/// audio.
pub const FILE_MESSAGE_TYPES: [i64; 5] = [1002, 1003, 1004, 1008, 1009];

/// Message types a room's shared-content gallery lists, and under which key: media (images
/// and videos), files, links.
pub fn shared_kind(message_type: i64) -> Option<SharedKind> {
    match message_type {
        1002 | 1003 => Some(SharedKind::Media),
        1004 => Some(SharedKind::Files),
        1010 => Some(SharedKind::Links),
        _ => None,
    }
}

/// The three lists of `get_shared_content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedKind {
    /// Images and videos.
    Media,
    /// Files.
    Files,
    /// Links.
    Links,
}

/// The `fileID` a message of type `kind` carries in its encoded `data`, if any.
pub fn file_id_of(kind: i64, data: &str, local_id: &str) -> Option<String> {
    if !FILE_MESSAGE_TYPES.contains(&kind) || data.is_empty() {
        return None;
    }
    let plain = codec::decode(data, local_id).ok()?;
    let value: serde_json::Value = serde_json::from_str(&plain).ok()?;
    value
        .get("fileID")
        .and_then(|id| id.as_str())
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_and_images_report_their_size() {
        // A 3×2 PNG header (signature, IHDR length and type, width, height).
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x03\0\0\0\x02".to_vec();
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        let sniffed = Sniffed::of(&png, true);
        assert_eq!(sniffed.media_type, "image/png");
        assert_eq!(sniffed.size, (3, 2));

        let json = Sniffed::of(br#"{"a": 1}"#, true);
        assert_eq!(json.media_type, "text/plain; charset=utf-8");
        assert_eq!(json.size, (0, 0));
        assert_eq!(
            Sniffed::of(b"\0\x01\x02binary", true).media_type,
            "application/octet-stream"
        );
        // A canvas that failed to draw uploads the text "null" as an "image".
        assert_eq!(Sniffed::of(b"null", true).size, (0, 0));
        // "é" cut in half at the end of a prefix is still text; in a whole file it is not.
        assert!(
            Sniffed::of(b"caf\xc3", false)
                .media_type
                .starts_with("text/plain")
        );
        assert_eq!(
            Sniffed::of(b"caf\xc3", true).media_type,
            "application/octet-stream"
        );
    }

    #[test]
    fn a_file_message_names_its_file_in_its_data() {
        let local = "0123456789abcdef0123";
        let data = codec::encode(r#"{"fileID":"f1","size":3}"#, local).unwrap();
        assert_eq!(file_id_of(1004, &data, local), Some("f1".into()));
        assert_eq!(file_id_of(1001, &data, local), None, "text carries no file");
        assert_eq!(file_id_of(1002, "not encoded", local), None);
    }
}

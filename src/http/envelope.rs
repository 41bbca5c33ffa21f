//! The response envelope `{status, error{code, message, field}, data}` and the one error type
//! of the edge, mapped to codes in one table.
//!
//! HTTP status is always 200: the web SDK ignores any other status (neither its success nor its
//! error callback fires), so the real outcome travels in the body's `status`.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::ParamError;
use crate::service::{AuthError, KeyError, ServiceError};

/// The body `status` of a response, kept as a response extension for the request log.
#[derive(Debug, Clone, Copy)]
pub struct BodyStatus(pub u16);

/// A successful response, already serialized: the whole envelope around its `data`.
#[derive(Debug)]
pub struct Data(Vec<u8>);

/// The envelope of every successful response up to its `data`.
const SUCCESS_HEAD: &[u8] =
    b"{\"status\":200,\"error\":{\"code\":\"\",\"message\":\"\",\"field\":\"\"},\"data\":";

impl Data {
    /// Serializes `value` as the response's `data`, straight into the body (a room list is
    /// over a megabyte; it is written once, not copied into an envelope afterwards).
    pub fn of(value: &impl serde::Serialize) -> Self {
        Self::sized(4096, value)
    }

    /// [`Self::of`] into a buffer of `capacity` bytes to begin with, for answers whose size is
    /// known roughly in advance.
    pub fn sized(capacity: usize, value: &impl serde::Serialize) -> Self {
        let mut body = Vec::with_capacity(capacity);
        body.extend_from_slice(SUCCESS_HEAD);
        serde_json::to_writer(&mut body, value).expect("response data serializes");
        body.push(b'}');
        Self(body)
    }
}

/// Every way a request can fail at the edge.
#[derive(Debug)]
pub enum ApiError {
    /// `Server-Key` refused (`40001`).
    ServerKey(KeyError),
    /// `App-Key` refused (`491xx`).
    AppKey(KeyError),
    /// Bearer credential refused (`401xx`).
    Auth(AuthError),
    /// A parameter failed validation (`40002`).
    Param(ParamError),
    /// Not allowed (`40301`).
    Forbidden(String),
    /// A rate limit refused the request (`42901`, body status 429, HTTP 200).
    RateLimited(String),
    /// `40401` `Room is not found`.
    RoomNotFound,
    /// `40401` `User is not found`.
    UserNotFound,
    /// `40401` `File is not found`.
    FileNotFound,
    /// No such endpoint.
    NoRoute,
    /// The endpoint exists, for another HTTP method.
    WrongMethod,
    /// A fault inside confab, already logged; clients get a generic message.
    Internal,
}

impl From<ParamError> for ApiError {
    fn from(err: ParamError) -> Self {
        ApiError::Param(err)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Param(p) => ApiError::Param(p),
            ServiceError::RoomNotFound => ApiError::RoomNotFound,
            ServiceError::UserNotFound => ApiError::UserNotFound,
            ServiceError::FileNotFound => ApiError::FileNotFound,
            // A handler names the parameter (`on_param`); this is the fallback when none did.
            ServiceError::UnknownUser(id) => ApiError::Param(ParamError::invalid_because(
                "",
                "",
                format!("unknown user '{id}'"),
            )),
            ServiceError::Conflict(why) => {
                ApiError::Param(ParamError::invalid_because("", "", why))
            }
            ServiceError::Forbidden(why) => ApiError::Forbidden(why),
            ServiceError::Locked => ApiError::Forbidden("The room is locked".into()),
            ServiceError::Auth(why) => ApiError::Auth(why),
            ServiceError::Internal(cause) => {
                tracing::error!(%cause, "request failed inside confab");
                ApiError::Internal
            }
        }
    }
}

/// Reports a service refusal on the request parameter it is about: an unknown user named by
/// parameter `name` (field code `field`) as `Param 'name' is invalid: unknown {what} 'ID'`, a
/// conflict with the stored value as `Param 'name' is invalid: {why}`. Field codes belong to
/// each endpoint, so they are chosen here at the edge, never in the service.
pub fn on_param(
    name: &'static str,
    field: &'static str,
    what: &'static str,
) -> impl FnOnce(ServiceError) -> ApiError {
    move |err| match err {
        ServiceError::UnknownUser(id) => {
            ParamError::invalid_because(name, field, format!("unknown {what} '{id}'")).into()
        }
        ServiceError::Conflict(why) => ParamError::invalid_because(name, field, why).into(),
        other => other.into(),
    }
}

impl ApiError {
    /// `(body status, error.code, error.message, error.field)` — the whole mapping, for
    /// responses and for the socket's `error` events alike.
    pub fn parts(&self) -> (u16, &'static str, Cow<'_, str>, Cow<'_, str>) {
        let none = Cow::Borrowed("");
        match self {
            ApiError::ServerKey(why) => {
                let message = match why {
                    KeyError::Missing => "Request headers are required (Server-Key)",
                    KeyError::Malformed => {
                        "Request header 'Server-Key' is invalid: not Base64 of ID:SECRET"
                    }
                    KeyError::Unknown => "Request header 'Server-Key' is invalid: unknown key",
                    KeyError::Revoked => {
                        "Request header 'Server-Key' is invalid: the key has been revoked"
                    }
                    KeyError::WrongSecret => "Request header 'Server-Key' is invalid: wrong secret",
                };
                (400, "40001", message.into(), none)
            }
            ApiError::AppKey(why) => {
                let (code, message) = match why {
                    KeyError::Missing => ("49101", "Request headers are required (App-Key)"),
                    KeyError::Malformed => (
                        "49102",
                        "Request header 'App-Key' is invalid: not Base64 of ID:SECRET",
                    ),
                    KeyError::Unknown => ("49103", "App-Key is not found: unknown key"),
                    KeyError::WrongSecret => ("49103", "App-Key is not found: wrong secret"),
                    KeyError::Revoked => {
                        ("49103", "App-Key is not found: the key has been revoked")
                    }
                };
                (491, code, message.into(), none)
            }
            ApiError::Auth(why) => {
                let (code, message) = match why {
                    AuthError::Missing => ("40101", "Authorization header is required"),
                    AuthError::Malformed => {
                        ("40102", "Authorization header must be 'Bearer <token>'")
                    }
                    AuthError::Invalid => ("40103", "Token is invalid; request a new one"),
                    AuthError::Expired => ("40104", "Token has expired; refresh it"),
                    AuthError::OtherApp => ("40105", "Token belongs to another app"),
                    AuthError::UserGone => ("40106", "The token's user does not exist"),
                };
                (401, code, message.into(), none)
            }
            ApiError::Param(p) => (400, "40002", p.message.as_str().into(), p.field.clone()),
            ApiError::Forbidden(why) => (403, "40301", why.as_str().into(), none),
            ApiError::RateLimited(why) => (429, "42901", why.as_str().into(), none),
            ApiError::RoomNotFound => (404, "40401", "Room is not found".into(), none),
            ApiError::UserNotFound => (404, "40401", "User is not found".into(), none),
            ApiError::FileNotFound => (404, "40401", "File is not found".into(), none),
            ApiError::NoRoute => (404, "40400", "No such endpoint".into(), none),
            ApiError::WrongMethod => (
                405,
                "40500",
                "This endpoint takes another HTTP method (POST for the APIs)".into(),
                none,
            ),
            ApiError::Internal => (500, "99999", "Internal server error".into(), none),
        }
    }
}

/// Writes `{"status": …, "error": {…}, "data": …}` around already serialized `data`.
fn envelope(status: u16, code: &str, message: &str, field: &str, data: &[u8]) -> Response {
    #[derive(serde::Serialize)]
    struct Error<'a> {
        code: &'a str,
        message: &'a str,
        field: &'a str,
    }
    let mut body = Vec::with_capacity(data.len() + 96);
    body.extend_from_slice(b"{\"status\":");
    body.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    body.extend_from_slice(b",\"error\":");
    let error = Error {
        code,
        message,
        field,
    };
    serde_json::to_writer(&mut body, &error).expect("strings serialize");
    body.extend_from_slice(b",\"data\":");
    body.extend_from_slice(data);
    body.push(b'}');
    respond(status, body)
}

/// An HTTP 200 JSON response carrying an envelope with body status `status`.
fn respond(status: u16, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.extensions_mut().insert(BodyStatus(status));
    response
}

impl IntoResponse for Data {
    fn into_response(self) -> Response {
        respond(200, self.0)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = self.parts();
        let mut response = envelope(status, code, &message, &field, b"{}");
        match self {
            // Not an endpoint at all, or not with this method: say so at the HTTP level too.
            ApiError::NoRoute => *response.status_mut() = StatusCode::NOT_FOUND,
            ApiError::WrongMethod => *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED,
            _ => {}
        }
        response
    }
}

/// What every handler returns.
pub type ApiResult = Result<Data, ApiError>;

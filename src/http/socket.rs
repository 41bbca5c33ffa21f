//! `GET /connect`: the token check (`?check=1`) and the WebSocket.
//!
//! Credentials come from headers (Android) or, since browsers cannot set headers on a
//! WebSocket, from the query string (web SDK: `app_key`, `authorization`). Server frames are
//! binary, one JSON event each, never a trailing newline: a text frame or an empty segment
//! stops the web SDK's reader for good. Client frames may be text or binary.

use std::collections::HashMap;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde_json::{Value, json};

use std::time::Duration;

use tokio::time::timeout;

use super::client::app_from_key;
use super::envelope::{ApiError, Data};
use super::outgoing::{local_id, outgoing, room_of, string};
use super::rate::SocketRate;
use super::{AppState, SocketSettings};
use crate::service::{ClientSession, CloseReason, ServiceError, bearer};
use crate::wire;

/// Largest client frame; a larger one closes the socket (code 1009).
pub const MAX_FRAME: usize = 256 * 1024;
/// Most queued frames written together: one write per burst, not per frame, under load.
const COALESCE_FRAMES: usize = 32;
/// Bytes buffered before a write happens on its own, whatever the flush.
const COALESCE_BYTES: usize = 64 * 1024;
/// How long an error reply to a client frame may wait on a client that does not read.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

fn pick<'a>(
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
    header: &str,
    key: &str,
) -> Option<&'a str> {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .or_else(|| query.get(key).map(String::as_str))
}

/// What a socket authenticated with, kept so that it can check again whenever its access
/// may have changed (a new role, a revoked key): a socket is refused what a request would be.
struct Credentials {
    app_key: Option<String>,
    authorization: Option<String>,
}

impl Credentials {
    fn of(headers: &HeaderMap, query: &HashMap<String, String>) -> Self {
        Self {
            app_key: pick(headers, query, "app-key", "app_key").map(str::to_owned),
            authorization: pick(headers, query, "authorization", "authorization")
                .map(str::to_owned),
        }
    }

    /// The session these credentials open now, as a request would check them.
    async fn session(&self, state: &AppState) -> Result<ClientSession, ApiError> {
        let app = app_from_key(state, self.app_key.as_deref()).await?;
        let token = bearer(self.authorization.as_deref()).map_err(ApiError::Auth)?;
        Ok(state.service.authenticate(app, token).await?)
    }
}

/// `GET /connect?check=1` answers an envelope; any other `GET /connect` must upgrade.
pub(super) async fn connect(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let credentials = Credentials::of(&headers, &query);
    if query.get("check").is_some_and(|v| v == "1") {
        return match credentials.session(&state).await {
            Ok(_) => Data::of(&json!({})).into_response(),
            Err(err) => err.into_response(),
        };
    }
    let Ok(upgrade) = upgrade else {
        return (StatusCode::BAD_REQUEST, "expected a WebSocket upgrade").into_response();
    };
    match credentials.session(&state).await {
        // Small buffers: an idle socket should cost little memory (the default read buffer
        // alone is 128 KiB). Frames queued together are buffered and written at once, so the
        // write buffer holds at most a burst of them, and nothing on an idle socket.
        Ok(session) => upgrade
            .max_message_size(MAX_FRAME)
            .max_frame_size(MAX_FRAME)
            .read_buffer_size(4096)
            .write_buffer_size(COALESCE_BYTES)
            .max_write_buffer_size(2 * MAX_FRAME)
            .on_upgrade(move |socket| run(state, credentials, session, socket)),
        // No upgrade for a bad credential: the SDKs validate tokens with ?check=1 first.
        Err(err) => {
            let mut response = err.into_response();
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
    }
}

/// Queued frames, written together: frames already queued behind the first leave in the same
/// write. `false` when the socket is gone.
async fn write_queued(
    socket: &mut WebSocket,
    first: bytes::Bytes,
    queue: &mut tokio::sync::mpsc::Receiver<bytes::Bytes>,
) -> bool {
    let mut sent = socket.feed(Message::Binary(first)).await.is_ok();
    let mut queued = 1;
    while sent
        && queued < COALESCE_FRAMES
        && let Ok(next) = queue.try_recv()
    {
        sent = socket.feed(Message::Binary(next)).await.is_ok();
        queued += 1;
    }
    sent && socket.flush().await.is_ok()
}

/// Serves one socket until either side closes it. Every write is bounded by the write
/// timeout, so a client that stops reading loses its socket (and its descriptor and buffers)
/// instead of holding them; a client that answers nothing for two ping intervals is closed.
async fn run(
    state: AppState,
    credentials: Credentials,
    mut session: ClientSession,
    mut socket: WebSocket,
) {
    let _counted = state.connections.socket();
    let SocketSettings {
        ping_interval,
        write_timeout,
    } = state.sockets;
    let mut registration = state.service.connect(&session).await;
    let rate = state.rates.socket();
    let mut ping =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut heard, mut silent_intervals) = (false, 0);
    let close = loop {
        tokio::select! {
            frame = registration.frames.recv() => {
                let Some(frame) = frame else { break None };
                let written = timeout(write_timeout, write_queued(&mut socket, frame, &mut registration.frames));
                if !matches!(written.await, Ok(true)) {
                    break None;
                }
            }
            () = registration.recheck.notified() => match credentials.session(&state).await {
                Ok(fresh) => session = fresh,
                Err(_) => break Some(CloseReason::Revoked.close_frame()),
            },
            changed = registration.close.changed() => {
                let reason = if changed.is_ok() { *registration.close.borrow() } else { None };
                break Some(reason.unwrap_or(CloseReason::Shutdown).close_frame());
            }
            _ = ping.tick() => {
                silent_intervals = if heard { 0 } else { silent_intervals + 1 };
                heard = false;
                if silent_intervals >= 2 {
                    break Some(CloseReason::Unresponsive.close_frame());
                }
                let pinged = timeout(write_timeout, socket.send(Message::Ping(bytes::Bytes::new())));
                if !matches!(pinged.await, Ok(Ok(()))) {
                    break None;
                }
            }
            incoming = socket.recv() => {
                heard = true;
                match incoming {
                    Some(Ok(Message::Text(text))) => handle(&state, &session, rate.as_ref(), &mut socket, text.as_bytes()).await,
                    Some(Ok(Message::Binary(bytes))) => handle(&state, &session, rate.as_ref(), &mut socket, &bytes).await,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(err)) => {
                        tracing::info!(error = %err, user = %session.user.id, "closing a socket after a bad frame");
                        break Some((1009, "frame too large or malformed"));
                    }
                }
            }
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        // Behind frames the client never read, the close may never leave: bounded, too.
        let _ = timeout(write_timeout, socket.send(Message::Close(Some(frame)))).await;
    }
    state.service.disconnect(&session, registration).await;
}

/// Answers a frame the server could not act on, without closing the socket. The SDKs ignore
/// event names they do not know, so this never disturbs them.
async fn refuse(socket: &mut WebSocket, event: &str, data: &Value, code: &str, message: &str) {
    let reply = wire::event(
        "error",
        &json!({
            "eventName": event,
            "code": code,
            "message": message,
            "localID": data.get("localID").cloned().unwrap_or(json!("")),
            "roomID": data.pointer("/room/roomID").or_else(|| data.get("roomID")).cloned().unwrap_or(json!("")),
        }),
    );
    // A client that does not read loses the refusal; the socket's next write closes it.
    let _ = timeout(REFUSAL_WRITE_TIMEOUT, socket.send(Message::Binary(reply))).await;
}

async fn handle(
    state: &AppState,
    session: &ClientSession,
    rate: Option<&SocketRate>,
    socket: &mut WebSocket,
    frame: &[u8],
) {
    let parsed: Result<Value, _> = serde_json::from_slice(frame);
    let (event, data) = match &parsed {
        Ok(v) => (
            v.get("eventName").and_then(Value::as_str).unwrap_or(""),
            v.get("data").cloned().unwrap_or(Value::Null),
        ),
        Err(_) => ("", Value::Null),
    };
    if event.is_empty() || !data.is_object() {
        let message = "a frame must be JSON {\"eventName\": string, \"data\": object}";
        return refuse(socket, event, &data, "40002", message).await;
    }
    let limited = rate
        .map_or(Ok(()), SocketRate::check)
        .and_then(|()| state.rates.client(session.app, session.user.id));
    if let Err(err) = limited {
        let (_, code, message, _) = err.parts();
        tracing::debug!(user = %session.user.id, event, %message, "refusing a socket frame over its rate");
        return refuse(socket, event, &data, code, &message).await;
    }
    let outcome = match event {
        "chat/sendMessage" => match outgoing(&data) {
            Ok(message) => state
                .service
                .send_from_client(session, message)
                .await
                .map(drop),
            Err(err) => Err(ServiceError::Param(err)),
        },
        "chat/updateMessage" => edit(state, session, &data).await,
        "chat/startTyping" | "chat/stopTyping" => match room_of(&data) {
            Ok(room) => {
                state
                    .service
                    .relay_typing(session, room, event == "chat/startTyping")
                    .await
            }
            Err(err) => Err(ServiceError::Param(err)),
        },
        // Events the SDKs define but a server need not act on.
        _ => Ok(()),
    };
    if let Err(err) = outcome {
        // The same table as the HTTP envelope: one refusal, one code, wherever it is reported.
        let err = ApiError::from(err);
        let (_, code, message, _) = err.parts();
        refuse(socket, event, &data, code, &message).await;
    }
}

async fn edit(state: &AppState, session: &ClientSession, data: &Value) -> Result<(), ServiceError> {
    let local_id = local_id(data)?;
    state
        .service
        .edit_message(
            session,
            local_id,
            string(data, "body"),
            string(data, "data"),
        )
        .await
        .map(drop)
}

//! Logged-in WebSocket clients that time every message they receive against when it was sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::load::{Api, Samples};

/// Send times by `localID`, shared by senders and receivers.
#[derive(Clone, Default)]
pub struct Clock {
    sent: Arc<Mutex<HashMap<String, Instant>>>,
    latencies: Arc<Mutex<Vec<u64>>>,
    waiters: Arc<Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>>,
    pub deliveries: Arc<AtomicU64>,
}

impl Clock {
    pub fn sent(&self, local_id: String) {
        self.sent
            .lock()
            .expect("clock")
            .insert(local_id, Instant::now());
    }

    /// Resolves when a socket of this clock receives `local_id` (a sender's echo).
    pub fn wait_for(&self, local_id: &str) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.waiters
            .lock()
            .expect("clock")
            .insert(local_id.to_owned(), tx);
        rx
    }

    fn received(&self, local_id: &str) {
        if let Some(waiter) = self.waiters.lock().expect("clock").remove(local_id) {
            let _ = waiter.send(());
        }
        let started = self.sent.lock().expect("clock").get(local_id).copied();
        if let Some(started) = started {
            self.deliveries.fetch_add(1, Ordering::Relaxed);
            self.latencies
                .lock()
                .expect("clock")
                .push(started.elapsed().as_micros() as u64);
        }
    }

    /// Delivery latencies so far.
    pub fn samples(&self) -> Samples {
        Samples {
            micros: std::mem::take(&mut *self.latencies.lock().expect("clock")),
            errors: 0,
        }
    }
}

/// The `App-Key` header value.
pub fn app_key(id: &str, secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

/// Logs a user in: Server API ticket, then the client token exchange.
pub async fn login(api: &Api, app_key: &str, xc_user_id: &str) -> Result<String, String> {
    let ticket = api
        .json(
            "/v1/server/auth_ticket/request",
            serde_json::json!({"xcUserID": xc_user_id, "fullName": format!("User {xc_user_id}")}),
        )
        .await?;
    let response = api
        .client
        .post(format!("{}/v1/auth/access_token/request", api.base()))
        .header("App-Key", app_key)
        .header(
            "Authorization",
            format!("Bearer {}", ticket["ticket"].as_str().unwrap_or_default()),
        )
        .body("")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let envelope: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    envelope["data"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no token: {envelope}"))
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// A connected socket whose incoming messages are timed by `clock`.
pub struct Socket {
    pub sink: Sink,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Connects a socket with credentials in headers.
pub async fn connect(
    base: &str,
    app_key: &str,
    token: &str,
    clock: Clock,
) -> Result<Socket, String> {
    let url = format!("{}/connect", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request
        .headers_mut()
        .insert("App-Key", app_key.parse().map_err(|_| "bad key")?);
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().map_err(|_| "bad token")?,
    );
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let (sink, mut stream) = ws.split();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Binary(bytes) = &frame
                && bytes.starts_with(br#"{"eventName":"error""#)
            {
                // Refusals are not expected under load: say so rather than only time out.
                eprintln!(
                    "confab-bench: error event: {}",
                    String::from_utf8_lossy(bytes)
                );
            }
            if let Message::Close(close) = &frame {
                eprintln!("confab-bench: socket closed by the server: {close:?}");
            }
            if let Message::Binary(bytes) = frame
                && let Some(local_id) = sent_message_local_id(&bytes)
            {
                clock.received(local_id);
            }
        }
    });
    Ok(Socket { sink, reader })
}

/// The `localID` of a `chat/sendMessage` event, found without parsing the frame: a full JSON
/// parse of every delivered frame made the load generator, not confab, the busiest process.
/// confab writes `eventName` first and the message's own `localID` before any quoted one.
fn sent_message_local_id(frame: &[u8]) -> Option<&str> {
    const EVENT: &[u8] = br#"{"eventName":"chat/sendMessage","#;
    const KEY: &[u8] = br#""localID":""#;
    if !frame.starts_with(EVENT) {
        return None;
    }
    let start = frame.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = frame[start..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&frame[start..start + len]).ok()
}

/// Logs in and connects every user in `users`, `parallel` at a time.
pub async fn connect_all(
    api: &Api,
    app_key: &str,
    users: &[String],
    clock: &Clock,
    parallel: usize,
) -> Result<Vec<(String, Socket)>, String> {
    let mut sockets = Vec::with_capacity(users.len());
    for chunk in users.chunks(parallel.max(1)) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|user| {
                let (api, key, user, clock) =
                    (api.clone(), app_key.to_owned(), user.clone(), clock.clone());
                tokio::spawn(async move {
                    let token = login(&api, &key, &user).await?;
                    let socket = connect(api.base(), &key, &token, clock).await?;
                    Ok::<_, String>((user, socket))
                })
            })
            .collect();
        for task in tasks {
            sockets.push(task.await.map_err(|e| e.to_string())??);
        }
    }
    Ok(sockets)
}

/// Sends a text message over a socket.
pub async fn send_text(socket: &mut Socket, room_id: &str, local_id: &str) -> bool {
    let frame = serde_json::json!({
        "eventName": "chat/sendMessage",
        "data": {
            "localID": local_id, "type": 1001,
            "body": confab::codec::encode_with("bench", local_id, 3).unwrap_or_default(),
            "data": "", "room": {"roomID": room_id},
        }
    });
    socket
        .sink
        .send(Message::text(frame.to_string()))
        .await
        .is_ok()
}

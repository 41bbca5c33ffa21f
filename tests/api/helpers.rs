//! `TestApp`: a real confab on an ephemeral port with its own database, and a small client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use confab::app::App;
use confab::config::Config;
use confab::domain::secret::KeyKind;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// An HTTP client for the tests (its TLS provider chosen first, as confab's build needs).
pub fn http_client() -> reqwest::Client {
    confab::media::install_tls();
    reqwest::Client::new()
}

/// A folder of its own for one test's files, removed when the test ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "confab-test-{}-{n}-{}",
            std::process::id(),
            confab::domain::secret::random_token::<6>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}/confab.db", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The storage backend the suite runs against, from `CONFAB_TEST_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default (also when the variable is unset).
    Sqlite,
    /// A PostgreSQL server named by `CONFAB_TEST_POSTGRES`.
    Postgres,
}

/// The selected backend. An unknown name, or PostgreSQL without a server to use, fails the
/// test rather than quietly testing something else.
pub fn backend() -> Backend {
    match std::env::var("CONFAB_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("CONFAB_TEST_BACKEND={other}: expected sqlite or postgres"),
    }
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CONFAB_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "PostgreSQL tests need CONFAB_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/postgres \
             (a role allowed to create databases)"
        )
    })
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

pub async fn admin_client(admin_url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"));
    tokio::spawn(connection);
    client
}

/// One test's own database on the selected backend, removed when the test ends.
pub struct TestDb {
    url: String,
    _dir: Option<TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        match backend() {
            Backend::Sqlite => {
                let dir = TempDir::new();
                Self {
                    url: dir.database_url(),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh PostgreSQL database whatever the selected backend (for multi-node tests).
    pub async fn postgres() -> Self {
        let admin = postgres_admin_url();
        let name = format!(
            "confab_test_{:016x}",
            u64::from_le_bytes(confab::domain::secret::random_bytes::<8>())
        );
        admin_client(&admin)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Self {
            url: with_database(&admin, &name),
            // For the uploads of servers on it (beside an SQLite database they go by default).
            _dir: Some(TempDir::new()),
            postgres: Some((admin, name)),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A media folder for servers on a PostgreSQL database; `None` on SQLite, where the
    /// default beside the database is the test's own.
    pub fn media_dir(&self) -> Option<String> {
        let dir = self._dir.as_ref().filter(|_| self.postgres.is_some())?;
        Some(dir.0.join("media").display().to_string())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside the test's runtime, so the cleanup gets a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let client = admin_client(&admin).await;
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}

/// A running server plus what a test needs to talk to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// Ready `Server-Key` header value of the app `default`.
    pub server_key: String,
    /// `App-Key` ID and secret of the app `default`.
    pub app_key: (String, String),
    config: Config,
    database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<JoinHandle<std::io::Result<()>>>,
    db: Option<Arc<TestDb>>,
}

impl TestApp {
    /// A server on a fresh database with one server key and one app key.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with configuration changes.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(TestDb::new().await, configure).await
    }

    /// A server on the given database, with configuration changes.
    pub async fn spawn_on(db: TestDb, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_database(db.url());
        config.media.store = db.media_dir();
        configure(&mut config);
        let mut app = Self::start(config, None).await;
        app.db = Some(Arc::new(db));
        app
    }

    /// A second node: another server on this one's database, with its keys.
    pub async fn another_node(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.config.clone();
        configure(&mut config);
        let keys = (self.server_key.clone(), self.app_key.clone());
        let mut app = Self::start(config, Some(keys)).await;
        app.db = self.db.clone();
        app
    }

    async fn start(config: Config, keys: Option<(String, (String, String))>) -> Self {
        let database_url = config.database.url.clone();
        let app = App::open(&config).await.unwrap();
        let (server_key, app_key) = match keys {
            Some(keys) => keys,
            None => {
                let service = app.service();
                let server = service
                    .create_key("default", KeyKind::Server)
                    .await
                    .unwrap()
                    .1;
                let client = service.create_key("default", KeyKind::App).await.unwrap().1;
                (server.header_value(), (client.id, client.secret))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let served = tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        Self {
            addr,
            client: http_client(),
            server_key,
            app_key,
            config,
            database_url,
            shutdown: Some(tx),
            served: Some(served),
            db: None,
        }
    }

    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let db = self.db.take();
        let keys = (self.server_key.clone(), self.app_key.clone());
        let mut app = Self::start(self.config.clone(), Some(keys)).await;
        app.db = db;
        app
    }

    /// Stops the server gracefully (its database stays for other nodes).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
    }

    /// The service layer of another process on this server's database, as the key commands
    /// open it (without serving); close its store when done.
    pub async fn admin(&self) -> confab::service::Service {
        let database = confab::config::DatabaseArgs::new(self.database_url.clone());
        confab::service::Service::new(
            confab::app::open_store(&database, None).await.unwrap(),
            confab::realtime::Fanout::default(),
            confab::config::ServiceConfig::default(),
        )
    }

    /// Creates a key of `kind` for another app (tenant) on this server's database.
    pub async fn key_for_app(&self, app_name: &str, kind: KeyKind) -> String {
        let admin = self.admin().await;
        let (_, key) = admin.create_key(app_name, kind).await.unwrap();
        admin.store().close().await;
        key.header_value()
    }

    /// Creates a server key for another app (tenant) on this server's database.
    pub async fn server_key_for_app(&self, app_name: &str) -> String {
        self.key_for_app(app_name, KeyKind::Server).await
    }

    /// The database this server runs on.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a raw body with the given `Server-Key` (or none) and returns the envelope.
    pub async fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Value {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(key) = key {
            req = req.header("Server-Key", key);
        }
        let response = req.send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "HTTP status is always 200 on {path}"
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        response.json().await.unwrap()
    }

    /// POSTs JSON with this app's server key and returns the envelope.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.post_raw(path, Some(&self.server_key.clone()), body.to_string())
            .await
    }

    /// POSTs and returns `data`, failing the test unless the envelope says success.
    pub async fn ok(&self, path: &str, body: Value) -> Value {
        let envelope = self.post(path, body).await;
        assert_success(&envelope);
        envelope["data"].clone()
    }

    /// Creates or updates a user.
    pub async fn user(&self, xc_user_id: &str, fullname: &str) -> String {
        let data = self
            .ok(
                "/v1/server/user/update",
                json!({"xcUserID": xc_user_id, "fullName": fullname}),
            )
            .await;
        data["userID"].as_str().unwrap().to_owned()
    }

    /// Creates a group room with participants.
    pub async fn room(&self, xc_room_id: &str, participants: &[&str]) -> Value {
        self.ok(
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": xc_room_id, "type": 2, "name": xc_room_id,
                   "participantXCUserIDs": participants}),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts a success envelope.
pub fn assert_success(envelope: &Value) {
    assert_eq!(
        envelope["error"],
        json!({"code": "", "message": "", "field": ""}),
        "expected success, got {envelope}"
    );
    assert_eq!(envelope["status"], 200, "{envelope}");
    assert!(envelope["data"].is_object(), "{envelope}");
}

/// Asserts an error envelope with this status, code and field, and `data` `{}`.
pub fn assert_error(envelope: &Value, status: u16, code: &str, field: &str) {
    assert_eq!(envelope["status"], status, "{envelope}");
    assert_eq!(envelope["error"]["code"], code, "{envelope}");
    assert_eq!(envelope["error"]["field"], field, "{envelope}");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{envelope}"
    );
    assert_eq!(envelope["data"], json!({}), "{envelope}");
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts that `actual` has every key of `expected`, recursively, with the same JSON type
/// (arrays are compared by their first element).
pub fn assert_same_shape(actual: &Value, expected: &Value, path: &str) {
    assert_eq!(
        kind(actual),
        kind(expected),
        "type of {path}: {actual} vs {expected}"
    );
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, value) in e {
                let child = format!("{path}.{key}");
                let Some(found) = a.get(key) else {
                    panic!("{child} is missing from {actual}");
                };
                assert_same_shape(found, value, &child);
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if let (Some(a0), Some(e0)) = (a.first(), e.first()) {
                assert_same_shape(a0, e0, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

/// A logged-in client: its user and tokens.
#[derive(Debug, Clone)]
pub struct Login {
    pub user_id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    /// The ready `App-Key` header value.
    pub fn app_key_header(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.app_key.0, self.app_key.1))
    }

    /// POSTs to the client API with this app's `App-Key` and the given bearer token.
    pub async fn client(&self, path: &str, token: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.url(path))
            .header("App-Key", self.app_key_header())
            .header("Authorization", format!("Bearer {token}"))
            .header("Device-Identifier", "test-device")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "HTTP status is always 200 on {path}"
        );
        response.json().await.unwrap()
    }

    /// Like [`TestApp::client`], requiring success; returns `data`.
    pub async fn client_ok(&self, path: &str, token: &str, body: Value) -> Value {
        let envelope = self.client(path, token, body).await;
        assert_success(&envelope);
        envelope["data"].clone()
    }

    /// The newest `limit` messages of a room as `who` reads them (`list_by_room/before`): the
    /// page, with `messages` and `hasMore`.
    pub async fn newest(&self, who: &Login, room: &str, limit: i64) -> Value {
        self.client_ok(
            "/v1/chat/message/list_by_room/before",
            &who.access,
            json!({"roomID": room, "maxCreated": 0, "limit": limit}),
        )
        .await
    }

    /// The bodies of the newest 50 messages of a room as `who` reads them, newest first, and
    /// whether older ones remain.
    pub async fn newest_bodies(&self, who: &Login, room: &str) -> (Vec<String>, bool) {
        let page = self.newest(who, room, 50).await;
        let bodies = page["messages"].as_array().unwrap().iter().map(body_of);
        (bodies.collect(), page["hasMore"].as_bool().unwrap())
    }

    /// Creates the user if needed and logs them in through a ticket.
    pub async fn login(&self, xc_user_id: &str, fullname: &str) -> Login {
        let ticket = self
            .ok(
                "/v1/server/auth_ticket/request",
                json!({"xcUserID": xc_user_id, "fullName": fullname}),
            )
            .await;
        let data = self
            .client_ok(
                "/v1/auth/access_token/request",
                ticket["ticket"].as_str().unwrap(),
                json!(""),
            )
            .await;
        Login {
            user_id: data["user"]["userID"].as_str().unwrap().to_owned(),
            access: data["accessToken"].as_str().unwrap().to_owned(),
            refresh: data["refreshToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Opens a WebSocket the way Android does (credentials in headers).
    pub async fn socket(&self, login: &Login) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}/connect", self.addr)
            .into_client_request()
            .unwrap();
        let headers = request.headers_mut();
        headers.insert("App-Key", self.app_key_header().parse().unwrap());
        headers.insert(
            "Authorization",
            format!("Bearer {}", login.access).parse().unwrap(),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        Socket { ws }
    }

    /// Opens a WebSocket the way the web SDK does (credentials in the query string).
    pub async fn web_socket(&self, login: &Login) -> Socket {
        let url = format!(
            "ws://{}/connect?content_type=undefined&app_key={}&authorization=Bearer%20{}&device_identifier=d&device_model=Netscape&device_platform=web",
            self.addr,
            self.app_key_header()
                .replace('=', "%3D")
                .replace('+', "%2B")
                .replace('/', "%2F"),
            login.access
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Socket { ws }
    }
}

/// A test's WebSocket client.
pub struct Socket {
    pub ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// How long a test waits for an event it expects.
pub const EVENT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Socket {
    /// Sends an event as a text frame (as the web SDK does).
    pub async fn send(&mut self, event: &str, data: Value) {
        use futures_util::SinkExt;
        let frame = json!({"eventName": event, "data": data}).to_string();
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::text(frame))
            .await
            .unwrap();
    }

    /// Sends a text message over this socket and waits for its echo, the server's
    /// acknowledgement; returns the stored message.
    pub async fn send_text(&mut self, room_id: &str, local_id: &str, text: &str) -> Value {
        self.send("chat/sendMessage", text_message(room_id, local_id, text))
            .await;
        self.expect("chat/sendMessage", |m| m["localID"] == local_id)
            .await
    }

    /// The next frame, which must be a binary frame holding one JSON event without a
    /// trailing newline; `None` when the socket closed.
    pub async fn next(&mut self) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(EVENT_WAIT, self.ws.next())
                .await
                .expect("no event in time")?;
            match frame.ok()? {
                Message::Binary(bytes) => {
                    assert!(!bytes.ends_with(b"\n"), "no trailing newline");
                    return Some(serde_json::from_slice(&bytes).expect("one JSON event per frame"));
                }
                Message::Text(text) => panic!("server sent a text frame: {text}"),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Waits for an event of this name whose data satisfies `test`, skipping others.
    pub async fn expect(&mut self, event: &str, test: impl Fn(&Value) -> bool) -> Value {
        loop {
            let next = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed while waiting for {event}"));
            if next["eventName"] == event && test(&next["data"]) {
                return next["data"].clone();
            }
        }
    }

    /// The close frame's code, skipping events before it.
    pub async fn closed_with(&mut self) -> u16 {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match tokio::time::timeout(EVENT_WAIT, self.ws.next())
                .await
                .expect("no close in time")
            {
                Some(Ok(Message::Close(Some(frame)))) => return frame.code.into(),
                Some(Ok(Message::Close(None))) | None => return 1005,
                Some(Err(_)) => return 1006,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// A text message as the web SDK sends it: encoded body, client `localID`.
pub fn text_message(room_id: &str, local_id: &str, text: &str) -> Value {
    json!({
        "messageID": "0",
        "localID": local_id,
        "type": 1001,
        "body": confab::codec::encode(text, local_id).unwrap(),
        "data": "",
        "filterID": "",
        "isHidden": false,
        "quote": {"title": "", "content": "", "imageURL": "", "fileID": "", "fileType": ""},
        "replyTo": {"userID": "0", "xcUserID": "", "fullname": "", "messageID": "0", "localID": "", "messageType": 0},
        "forwardFrom": {"userID": "0", "xcUserID": "", "fullname": "", "messageID": "0", "localID": ""},
        "room": {"roomID": room_id, "name": "", "type": 1},
        "user": null,
        "recipientID": "0",
        "action": "",
        "target": {"targetType": "", "targetID": "0", "targetXCID": "", "targetName": ""},
        "isSending": true,
        "isDelivered": false,
        "isRead": false,
        "isDeleted": false,
        "created": 1,
        "updated": 1
    })
}

/// Decodes a message's body.
pub fn body_of(message: &Value) -> String {
    confab::codec::decode(
        message["body"].as_str().unwrap(),
        message["localID"].as_str().unwrap(),
    )
    .unwrap()
}

/// The personal room ID of two users.
pub fn personal(a: &Login, b: &Login) -> String {
    let (x, y): (i64, i64) = (a.user_id.parse().unwrap(), b.user_id.parse().unwrap());
    format!("{}-{}", x.min(y), x.max(y))
}

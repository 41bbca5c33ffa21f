//! What the Android SDK sends and reads, at the wire level: its request shapes accepted as it
//! sends them, and what its models read present in the answers.

use serde_json::json;

use crate::helpers::{TestApp, personal};

#[tokio::test]
async fn a_quote_with_a_null_file_id_is_kept() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut anns = app.socket(&ann).await;
    let mut bobs = app.socket(&bob).await;
    let mut reply = crate::helpers::text_message(&room, "q1", "agreed");
    reply["quote"] =
        json!({"title": "Ann", "content": "", "imageURL": "", "fileID": null, "fileType": null});
    anns.send("chat/sendMessage", reply).await;
    let got = bobs
        .expect("chat/sendMessage", |m| m["localID"] == "q1")
        .await;
    assert_eq!(got["quote"]["title"], "Ann");
    assert_eq!(got["quote"]["fileID"], "");
}

#[tokio::test]
async fn user_look_ups_skip_room_ids_and_carry_the_bio() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    app.client_ok(
        "/v1/client/user/update_bio",
        &bob.access,
        json!({"bio": "Hi there"}),
    )
    .await;
    let found = app
        .client_ok(
            "/v1/client/user/get_all_by_ids",
            &ann.access,
            json!({"ids": [bob.user_id, "g1", "999999"]}),
        )
        .await;
    let users = found["users"].as_array().unwrap();
    assert_eq!(users.len(), 1, "{found}");
    assert_eq!(users[0]["userID"], bob.user_id.as_str());
    assert_eq!(users[0]["bio"], "Hi there");
    for (path, body) in [
        ("/v1/client/user/get_by_id", json!({"id": bob.user_id})),
        (
            "/v1/client/user/get_by_xcuserid",
            json!({"xcUserID": "bob"}),
        ),
    ] {
        let one = app.client_ok(path, &ann.access, body).await;
        assert_eq!(one["user"]["bio"], "Hi there", "{path}");
    }
    let refreshed = app
        .client_ok("/v1/auth/access_token/refresh", &bob.refresh, json!(""))
        .await;
    assert_eq!(refreshed["user"]["bio"], "Hi there");
}

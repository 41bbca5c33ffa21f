//! Contacts, blocks and reports through the client API.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, personal, text_message};

fn user_ids(users: &Value) -> Vec<String> {
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userID"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn contacts_are_added_by_id_and_by_phone_and_removed() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "cat", "fullName": "Cat", "phone": "+6281200000003"}),
    )
    .await;

    let added = app
        .client_ok(
            "/v1/client/contact/add",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    assert_eq!(added["success"], true);
    assert_eq!(added["user"]["userID"], bob.user_id.as_str());
    let by_phone = app
        .client_ok(
            "/v1/client/contact/add_by_phones",
            &ann.access,
            json!({"phones": ["+6281200000003", "+100"]}),
        )
        .await;
    assert_eq!(user_ids(&by_phone["users"]), vec![cat.user_id.clone()]);
    // The web SDK passes what the app gives it: one number as a string works too.
    let one = app
        .client_ok(
            "/v1/client/contact/add_by_phones",
            &ann.access,
            json!({"phones": "+6281200000003"}),
        )
        .await;
    assert_eq!(user_ids(&one["users"]), vec![cat.user_id.clone()]);
    let list = app
        .client_ok("/v1/client/contact/list", &ann.access, json!(""))
        .await;
    let mut listed: Vec<String> = list["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["userID"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut expected = vec![bob.user_id.clone(), cat.user_id.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    // One-way: Bob's list is still empty.
    let bobs = app
        .client_ok("/v1/client/contact/list", &bob.access, json!(""))
        .await;
    assert_eq!(bobs["contacts"], json!([]));

    let removed = app
        .client_ok(
            "/v1/client/contact/remove",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    assert_eq!(removed["success"], true);
    let list = app
        .client_ok("/v1/client/contact/list", &ann.access, json!(""))
        .await;
    assert_eq!(list["contacts"].as_array().unwrap().len(), 1);

    let unknown = app
        .client(
            "/v1/client/contact/add",
            &ann.access,
            json!({"userID": "999999"}),
        )
        .await;
    assert_error(&unknown, 404, "40401", "");
    let own = app
        .client(
            "/v1/client/contact/add",
            &ann.access,
            json!({"userID": ann.user_id}),
        )
        .await;
    assert_error(&own, 403, "40301", "");
    let bad = app
        .client(
            "/v1/client/contact/add",
            &ann.access,
            json!({"userID": "x"}),
        )
        .await;
    assert_error(&bad, 400, "40002", "userID");
    let empty = app
        .client(
            "/v1/client/contact/add_by_phones",
            &ann.access,
            json!({"phones": []}),
        )
        .await;
    assert_error(&empty, 400, "40002", "phones");
}

#[tokio::test]
async fn a_block_stops_client_sends_and_adds_both_ways_until_it_is_lifted() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let room = personal(&ann, &bob);
    let mut anns = app.socket(&ann).await;
    let mut anns_other_device = app.socket(&ann).await;
    let mut bobs = app.socket(&bob).await;
    bobs.send_text(&room, "b0", "hello before").await;
    app.client_ok(
        "/v1/client/contact/add",
        &ann.access,
        json!({"userID": bob.user_id}),
    )
    .await;

    let blocked = app
        .client_ok(
            "/v1/client/contact/block",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    assert_eq!(blocked["user"]["userID"], bob.user_id.as_str());
    // The blocker's other devices hear of it; blocking took Bob out of Ann's contacts.
    let told = anns_other_device.expect("user/block", |_| true).await;
    assert_eq!(told["user"]["userID"], bob.user_id.as_str());
    anns.expect("user/block", |_| true).await;
    let contacts = app
        .client_ok("/v1/client/contact/list", &ann.access, json!(""))
        .await;
    assert_eq!(contacts["contacts"], json!([]));
    let ids = app
        .client_ok(
            "/v1/client/contact/get_blocked_user_ids",
            &ann.access,
            json!(""),
        )
        .await;
    assert_eq!(ids["blockedUserIDs"], json!([bob.user_id]));
    let list = app
        .client_ok(
            "/v1/client/contact/get_blocked_list",
            &ann.access,
            json!(""),
        )
        .await;
    assert_eq!(
        user_ids(&list["blockedContacts"]),
        vec![bob.user_id.clone()]
    );

    // Neither may send into their personal room over the socket…
    bobs.send(
        "chat/sendMessage",
        text_message(&room, "b1", "are you there?"),
    )
    .await;
    let refused = bobs.expect("error", |e| e["localID"] == "b1").await;
    assert_eq!(refused["code"], "40301");
    anns.send("chat/sendMessage", text_message(&room, "a1", "go away"))
        .await;
    let refused = anns.expect("error", |e| e["localID"] == "a1").await;
    assert_eq!(refused["code"], "40301");
    // …nor add the other to a group.
    let group = app
        .client_ok(
            "/v1/client/room/create",
            &bob.access,
            json!({"name": "Bob's", "type": 2, "userIDs": [cat.user_id]}),
        )
        .await;
    let group_id = group["room"]["roomID"].as_str().unwrap().to_owned();
    let add = app
        .client(
            "/v1/client/room/participants/add",
            &bob.access,
            json!({"roomID": group_id, "userIDs": [ann.user_id]}),
        )
        .await;
    assert_error(&add, 403, "40301", "");
    let create = app
        .client(
            "/v1/client/room/create",
            &ann.access,
            json!({"name": "Ann's", "type": 2, "userIDs": [bob.user_id, cat.user_id]}),
        )
        .await;
    assert_error(&create, 403, "40301", "");
    // The Server API acts for the operator and is not bound.
    app.ok(
        "/v1/server/message/send",
        json!({"senderXCUserID": "bob", "recipientXCUserID": "ann", "type": 1001, "body": "from the backend"}),
    )
    .await;
    anns.expect("chat/sendMessage", |m| {
        m["user"]["userID"] == bob.user_id.as_str()
    })
    .await;
    // Nothing refused was stored.
    let history = app.newest(&ann, &room, 50).await;
    let locals: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["localID"].as_str().unwrap())
        .collect();
    assert!(
        !locals.contains(&"a1") && !locals.contains(&"b1"),
        "{locals:?}"
    );

    let unblocked = app
        .client_ok(
            "/v1/client/contact/unblock",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    assert_eq!(unblocked["success"], true);
    anns_other_device.expect("user/unblock", |_| true).await;
    let sent = bobs.send_text(&room, "b2", "friends again").await;
    assert_eq!(sent["localID"], "b2");
    app.client_ok(
        "/v1/client/room/participants/add",
        &bob.access,
        json!({"roomID": group_id, "userIDs": [ann.user_id]}),
    )
    .await;
    let ids = app
        .client_ok(
            "/v1/client/contact/get_blocked_user_ids",
            &ann.access,
            json!(""),
        )
        .await;
    assert_eq!(ids["blockedUserIDs"], json!([]));
}

#[tokio::test]
async fn reports_are_stored_for_the_operator_and_resolved() {
    let app = TestApp::spawn().await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let cat = app.login("cat", "Cat").await;
    let room = personal(&ann, &bob);
    let mut bobs = app.socket(&bob).await;
    let message = bobs.send_text(&room, "r1", "buy my stuff").await;
    let message_id = message["messageID"].as_str().unwrap().to_owned();

    let by_user = app
        .client_ok(
            "/v1/client/chat_report/submit_user",
            &ann.access,
            json!({"userID": bob.user_id, "category": "Spam", "isOtherCategory": false, "reason": "ads"}),
        )
        .await;
    assert_eq!(by_user["success"], true);
    let by_message = app
        .client_ok(
            "/v1/client/chat_report/submit_message",
            &ann.access,
            json!({"messageID": message_id, "roomID": room, "category": "Scam", "isOtherCategory": true, "reason": ""}),
        )
        .await;
    assert_eq!(by_message["success"], true);
    // A message of a room the reporter cannot see is refused, and so is reporting oneself.
    let unseen = app
        .client(
            "/v1/client/chat_report/submit_message",
            &cat.access,
            json!({"messageID": message_id, "roomID": room, "category": "Spam"}),
        )
        .await;
    assert_error(&unseen, 403, "40301", "");
    let own = app
        .client(
            "/v1/client/chat_report/submit_user",
            &ann.access,
            json!({"userID": ann.user_id, "category": "Spam"}),
        )
        .await;
    assert_error(&own, 403, "40301", "");
    let no_category = app
        .client(
            "/v1/client/chat_report/submit_user",
            &ann.access,
            json!({"userID": bob.user_id}),
        )
        .await;
    assert_error(&no_category, 400, "40002", "category");

    let listed = app.ok("/v1/server/chat_report/list", json!({})).await;
    let reports = listed["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2, "{listed}");
    assert_eq!(listed["hasMore"], false);
    let newest = &reports[0];
    assert_eq!(newest["type"], "message");
    assert_eq!(newest["reporterXCUserID"], "ann");
    assert_eq!(newest["messageID"], message_id.as_str());
    assert_eq!(newest["roomID"], room.as_str());
    assert_eq!(newest["senderXCUserID"], "bob");
    assert_eq!(newest["body"], "buy my stuff");
    assert_eq!(newest["category"], "Scam");
    assert_eq!(newest["isOtherCategory"], true);
    assert_eq!(newest["resolvedTime"], 0);
    let oldest = &reports[1];
    assert_eq!(oldest["type"], "user");
    assert_eq!(oldest["xcUserID"], "bob");
    assert_eq!(oldest["reason"], "ads");

    let page = app
        .ok("/v1/server/chat_report/list", json!({"limit": 1}))
        .await;
    assert_eq!(page["hasMore"], true);
    let next = app
        .ok(
            "/v1/server/chat_report/list",
            json!({"limit": 1, "beforeID": page["reports"][0]["reportID"]}),
        )
        .await;
    assert_eq!(next["reports"][0]["type"], "user");
    assert_eq!(next["hasMore"], false);

    let id = oldest["reportID"].clone();
    app.ok("/v1/server/chat_report/resolve", json!({"reportID": id}))
        .await;
    let again = app
        .post("/v1/server/chat_report/resolve", json!({"reportID": id}))
        .await;
    assert_error(&again, 400, "40002", "101");
    let listed = app.ok("/v1/server/chat_report/list", json!({})).await;
    assert!(listed["reports"][1]["resolvedTime"].as_i64().unwrap() > 0);
}

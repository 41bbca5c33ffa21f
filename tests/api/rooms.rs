//! The Room section of the Server API: the seed's examples and the semantics around them.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_same_shape, assert_success};

/// The seed's request example for `create_or_update`.
fn seed_request() -> Value {
    json!({
        "xcRoomID": "6A02C41D",
        "type": 2,
        "name": "Order #6A02C41D",
        "photoThumbnailURL": "http://www.example.com/photo/thumb/6a02c41d6.jpg",
        "photoFullsizeURL": "http://www.example.com/photo/full/6a02c41d6.jpg",
        "participantXCUserIDs": ["6"],
        "participantUserRoles": ["agent:1"],
        "tags": ["category:1"]
    })
}

/// The seed's success example for the room bundle (made valid JSON), plus `adminUserIDs`
/// from its success table.
fn seed_bundle() -> Value {
    json!({
        "room": {
            "roomID": "g456", "xcRoomID": "6A02C41D", "name": "Order #6A02C41D", "type": 2,
            "imageURL": {"thumbnail": "http://www.example.com/photo/thumb/6a02c41d6.jpg",
                         "fullsize": "http://www.example.com/photo/full/6a02c41d6.jpg"},
            "color": "", "isLocked": false, "lockedTime": 0, "deleted": 0, "isDeleted": false
        },
        "participants": [{
            "userID": "6", "xcUserID": "6", "fullname": "Jony Lim", "email": "",
            "isEmailVerified": false, "countryID": 1, "countryCallingCode": "", "phone": "",
            "phoneWithCode": "", "isPhoneVerified": false, "username": "jony",
            "imageURL": {"thumbnail": "", "fullsize": ""},
            "userRole": {"code": "", "name": "", "iconURL": ""},
            "lastLogin": 1538303501000_i64, "lastActivity": 1538308225000_i64, "isOnline": false,
            "created": 1537965673709_i64, "updated": 1538304466005_i64
        }],
        "adminUserIDs": ["6"]
    })
}

async fn seed_app() -> TestApp {
    let app = TestApp::spawn().await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "6", "fullName": "Jony Lim", "username": "jony"}),
    )
    .await;
    app
}

fn assert_seed_bundle(data: &Value) {
    assert_same_shape(data, &seed_bundle(), "data");
    let mut room = data["room"].clone();
    let room_id = room["roomID"].as_str().unwrap().to_owned();
    assert!(
        !room_id.is_empty() && !room_id.contains('-'),
        "roomID {room_id}"
    );
    room["roomID"] = json!("g456");
    assert_eq!(
        room,
        seed_bundle()["room"],
        "room fields as in the seed example"
    );
    let participant = &data["participants"][0];
    assert_eq!(participant["xcUserID"], "6");
    assert_eq!(participant["fullname"], "Jony Lim");
    assert_eq!(participant["username"], "jony");
    assert_eq!(data["participants"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn create_or_update_answers_the_seed_example_field_by_field() {
    let app = seed_app().await;
    let data = app
        .ok("/v1/server/room/create_or_update", seed_request())
        .await;
    assert_seed_bundle(&data);
}

#[tokio::test]
async fn a_new_room_is_answered_exactly_as_room_get_reads_it_back() {
    let app = TestApp::spawn().await;
    for user in ["9", "3", "12", "7"] {
        app.ok(
            "/v1/server/user/update",
            json!({"xcUserID": user, "fullName": format!("User {user}")}),
        )
        .await;
    }
    let created = app
        .ok(
            "/v1/server/room/create_or_update",
            json!({
                "xcRoomID": "shape", "type": 2, "name": "Shape \"quoted\"",
                "photoThumbnailURL": "t.jpg",
                "participantXCUserIDs": ["12", "3", "9", "3", "7"],
                "participantUserRoles": ["agent", "agent", "lead"],
                "tags": ["b", "a", "b"]
            }),
        )
        .await;
    let read = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "shape"}))
        .await;
    assert_eq!(created, read, "the create answer and room/get agree");
    let ids: Vec<&str> = read["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["xcUserID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "a repeated participant joins once");
}

#[tokio::test]
async fn get_participants_add_and_remove_answer_the_seed_example_shape() {
    let app = seed_app().await;
    app.ok("/v1/server/room/create_or_update", seed_request())
        .await;
    let got = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"}))
        .await;
    assert_seed_bundle(&got);
    let added = app
        .ok(
            "/v1/server/room/participants/add",
            json!({"xcRoomID": "6A02C41D", "participantXCUserIDs": ["6"]}),
        )
        .await;
    assert_seed_bundle(&added);
    app.user("7", "Seven").await;
    app.ok(
        "/v1/server/room/participants/add",
        json!({"xcRoomID": "6A02C41D", "participantXCUserIDs": ["7"]}),
    )
    .await;
    let removed = app
        .ok(
            "/v1/server/room/participants/remove",
            json!({"xcRoomID": "6A02C41D", "participantXCUserIDs": ["7"]}),
        )
        .await;
    assert_seed_bundle(&removed);
}

#[tokio::test]
async fn the_seed_error_examples_are_answered_exactly() {
    let app = seed_app().await;
    let required = json!({"status": 400,
        "error": {"code": "40002", "message": "Param 'xcRoomID' is required", "field": "101"},
        "data": {}});
    let not_found = json!({"status": 404,
        "error": {"code": "40401", "message": "Room is not found", "field": ""},
        "data": {}});
    for path in [
        "/v1/server/room/create_or_update",
        "/v1/server/room/get",
        "/v1/server/room/participants/add",
        "/v1/server/room/participants/remove",
        "/v1/server/room/lock",
        "/v1/server/room/unlock",
    ] {
        assert_eq!(
            app.post(path, json!({"xcUserID": "6"})).await,
            required,
            "{path}"
        );
    }
    assert_eq!(
        app.post("/v1/server/room/get", json!({"xcRoomID": "nope"}))
            .await,
        not_found
    );
    for path in [
        "/v1/server/room/participants/add",
        "/v1/server/room/participants/remove",
    ] {
        let body = json!({"xcRoomID": "nope", "participantXCUserIDs": ["6"]});
        assert_eq!(app.post(path, body).await, not_found, "{path}");
    }
    for path in ["/v1/server/room/lock", "/v1/server/room/unlock"] {
        let body = json!({"xcRoomID": "nope", "xcUserID": "6"});
        assert_eq!(app.post(path, body).await, not_found, "{path}");
    }
    assert_eq!(
        app.post("/v1/server/room/get_list_by_user", json!({}))
            .await,
        json!({"status": 400,
            "error": {"code": "40002", "message": "Param 'xcUserID' is required", "field": "xcUserID"},
            "data": {}})
    );
    // lock/unlock define code 109 for xcUserID, which confab reports (the seed's example
    // shows the parameter name instead; see the README's protocol notes).
    app.room("R", &[]).await;
    for path in ["/v1/server/room/lock", "/v1/server/room/unlock"] {
        let envelope = app.post(path, json!({"xcRoomID": "R"})).await;
        assert_eq!(
            envelope,
            json!({"status": 400,
                "error": {"code": "40002", "message": "Param 'xcUserID' is required", "field": "109"},
                "data": {}})
        );
    }
}

#[tokio::test]
async fn create_or_update_validates_every_parameter_by_its_code() {
    let app = seed_app().await;
    let base = seed_request();
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("xcRoomID", json!("")), "101"),
        (with("xcRoomID", json!("x".repeat(51))), "101"),
        (with("xcRoomID", json!(42)), "101"),
        (with("type", json!(1)), "102"),
        (with("type", json!(3)), "102"),
        (with("type", json!("2")), "102"),
        (with("type", Value::Null), "102"),
        (with("name", json!("")), "103"),
        (with("photoThumbnailURL", json!(1)), "104"),
        (with("photoFullsizeURL", json!([])), "105"),
        (with("tags", json!("category:1")), "106"),
        (with("tags", json!([1])), "106"),
        (with("participantXCUserIDs", json!("6")), "107"),
        (with("participantXCUserIDs", json!(["6", "ghost"])), "107"),
        (with("participantUserRoles", json!([""])), "108"),
    ];
    for (body, field) in cases {
        let envelope = app
            .post("/v1/server/room/create_or_update", body.clone())
            .await;
        assert_error(&envelope, 400, "40002", field);
    }
    let fifty = with("xcRoomID", json!("x".repeat(50)));
    assert_success(&app.post("/v1/server/room/create_or_update", fifty).await);
    // None of the refused requests created the room.
    let got = app
        .post("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"}))
        .await;
    assert_error(&got, 404, "40401", "");
}

#[tokio::test]
async fn an_unknown_participant_is_named_and_nothing_changes() {
    let app = seed_app().await;
    let body =
        json!({"xcRoomID": "R", "type": 2, "name": "R", "participantXCUserIDs": ["6", "ghost"]});
    let envelope = app.post("/v1/server/room/create_or_update", body).await;
    assert_error(&envelope, 400, "40002", "107");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'ghost'")
    );
    assert_error(
        &app.post("/v1/server/room/get", json!({"xcRoomID": "R"}))
            .await,
        404,
        "40401",
        "",
    );

    app.room("R", &["6"]).await;
    app.user("7", "Seven").await;
    let add = json!({"xcRoomID": "R", "participantXCUserIDs": ["7", "ghost"]});
    let envelope = app.post("/v1/server/room/participants/add", add).await;
    assert_error(&envelope, 400, "40002", "107");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'ghost'")
    );
    let room = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "R"}))
        .await;
    assert_eq!(
        room["participants"].as_array().unwrap().len(),
        1,
        "7 was not added"
    );
    let remove = json!({"xcRoomID": "R", "participantXCUserIDs": ["6", "ghost"]});
    assert_error(
        &app.post("/v1/server/room/participants/remove", remove)
            .await,
        400,
        "40002",
        "107",
    );
    let room = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "R"}))
        .await;
    assert_eq!(
        room["participants"][0]["xcUserID"], "6",
        "6 was not removed"
    );
}

#[tokio::test]
async fn participant_lists_are_required_and_not_empty() {
    let app = seed_app().await;
    app.room("R", &[]).await;
    for path in [
        "/v1/server/room/participants/add",
        "/v1/server/room/participants/remove",
    ] {
        let missing = app.post(path, json!({"xcRoomID": "R"})).await;
        assert_error(&missing, 400, "40002", "107");
        assert_eq!(
            missing["error"]["message"],
            "Param 'participantXCUserIDs' is required"
        );
        let empty = app
            .post(path, json!({"xcRoomID": "R", "participantXCUserIDs": []}))
            .await;
        assert_error(&empty, 400, "40002", "107");
        assert_eq!(
            empty["error"]["message"],
            "Param 'participantXCUserIDs' cannot be empty"
        );
    }
}

#[tokio::test]
async fn adding_a_participant_twice_and_removing_a_stranger_are_no_ops() {
    let app = seed_app().await;
    app.user("7", "Seven").await;
    app.room("R", &["6"]).await;
    let twice = json!({"xcRoomID": "R", "participantXCUserIDs": ["7", "7", "6"]});
    let data = app
        .ok("/v1/server/room/participants/add", twice.clone())
        .await;
    let ids: Vec<_> = data["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["xcUserID"].clone())
        .collect();
    assert_eq!(ids, vec![json!("6"), json!("7")]);
    let again = app.ok("/v1/server/room/participants/add", twice).await;
    assert_eq!(again["participants"], data["participants"]);
    let data = app
        .ok(
            "/v1/server/room/participants/remove",
            json!({"xcRoomID": "R", "participantXCUserIDs": ["7"]}),
        )
        .await;
    assert_eq!(data["participants"].as_array().unwrap().len(), 1);
    let data = app
        .ok(
            "/v1/server/room/participants/remove",
            json!({"xcRoomID": "R", "participantXCUserIDs": ["7"]}),
        )
        .await;
    assert_eq!(data["participants"][0]["xcUserID"], "6");
}

#[tokio::test]
async fn two_thousand_participants_are_added_and_removed_in_one_request_each() {
    use futures_util::StreamExt;
    let app = seed_app().await;
    let ids: Vec<String> = (0..2_000).map(|i| format!("many-{i}")).collect();
    futures_util::stream::iter(&ids)
        .for_each_concurrent(16, |id| {
            let app = &app;
            async move {
                app.user(id, id).await;
            }
        })
        .await;
    app.room("BIG", &["6"]).await;
    let body = json!({"xcRoomID": "BIG", "participantXCUserIDs": ids});
    let added = app
        .ok("/v1/server/room/participants/add", body.clone())
        .await;
    assert_eq!(added["participants"].as_array().unwrap().len(), 2_001);
    // Every user added has their system message, in order: page back through the history.
    let reader = app.login("6", "Six").await;
    let (mut targets, mut before) = (Vec::new(), 0);
    loop {
        let page = app
            .client_ok(
                "/v1/chat/message/list_by_room/before",
                &reader.access,
                json!({"roomID": added["room"]["roomID"], "maxCreated": before, "limit": 200}),
            )
            .await;
        let messages = page["messages"].as_array().unwrap();
        for m in messages
            .iter()
            .filter(|m| m["action"] == "room/addParticipant")
        {
            targets.push(m["target"]["targetXCID"].as_str().unwrap().to_owned());
        }
        match messages.last() {
            Some(oldest) if page["hasMore"] == true => before = oldest["created"].as_i64().unwrap(),
            _ => break,
        }
    }
    targets.reverse();
    assert_eq!(targets, ids, "one system message per user added, in order");
    let removed = app.ok("/v1/server/room/participants/remove", body).await;
    assert_eq!(removed["participants"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn updates_keep_type_replace_tags_and_roles_and_ignore_participants() {
    let app = seed_app().await;
    app.user("7", "Seven").await;
    app.user("agent", "Agent").await;
    app.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "agent", "fullName": "Agent", "userRoleCode": "agent:1"}),
    )
    .await;
    let created = app
        .ok("/v1/server/room/create_or_update", seed_request())
        .await;
    let room_id = created["room"]["roomID"].clone();

    let wrong_type = json!({"xcRoomID": "6A02C41D", "type": 4, "name": "x"});
    assert_error(
        &app.post("/v1/server/room/create_or_update", wrong_type)
            .await,
        400,
        "40002",
        "102",
    );

    // Absent tags and roles are kept; participants are ignored on update; photos are kept.
    let update = json!({"xcRoomID": "6A02C41D", "type": 2, "name": "Renamed",
                        "participantXCUserIDs": ["7", "ghost"]});
    let data = app.ok("/v1/server/room/create_or_update", update).await;
    assert_eq!(data["room"]["roomID"], room_id);
    assert_eq!(data["room"]["name"], "Renamed");
    assert_eq!(
        data["room"]["imageURL"]["thumbnail"],
        "http://www.example.com/photo/thumb/6a02c41d6.jpg"
    );
    assert_eq!(data["participants"].as_array().unwrap().len(), 1);
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "agent"}),
        )
        .await;
    assert_eq!(
        listed["rooms"].as_array().unwrap().len(),
        1,
        "the role is kept"
    );

    // An empty role list clears the roles: the agent no longer sees the room.
    let clear = json!({"xcRoomID": "6A02C41D", "type": 2, "name": "Renamed",
                       "participantUserRoles": [], "tags": []});
    app.ok("/v1/server/room/create_or_update", clear).await;
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "agent"}),
        )
        .await;
    assert_eq!(listed["rooms"], json!([]));

    // A new role list replaces the old one.
    let replace = json!({"xcRoomID": "6A02C41D", "type": 2, "name": "Renamed",
                         "participantUserRoles": ["agent:1"]});
    app.ok("/v1/server/room/create_or_update", replace).await;
    let listed = app
        .ok(
            "/v1/server/room/get_list_by_user",
            json!({"xcUserID": "agent"}),
        )
        .await;
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_new_room_make_exactly_one_room() {
    let app = seed_app().await;
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/v1/server/room/create_or_update"))
                .header("Server-Key", &app.server_key)
                .body(seed_request().to_string());
            tokio::spawn(
                async move { request.send().await.unwrap().json::<Value>().await.unwrap() },
            )
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        let envelope = task.await.unwrap();
        assert_success(&envelope);
        ids.insert(
            envelope["data"]["room"]["roomID"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        created += 1;
    }
    assert_eq!(created, 24);
    assert_eq!(ids.len(), 1, "one room: {ids:?}");
    let listed = app
        .ok("/v1/server/room/get_list_by_user", json!({"xcUserID": "6"}))
        .await;
    assert_eq!(listed["rooms"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn lock_and_unlock_report_changes_and_repeats() {
    let app = seed_app().await;
    app.room("R", &["6"]).await;
    let lock = json!({"xcRoomID": "R", "xcUserID": "6"});
    let before = confab::domain::now_ms();
    assert_eq!(
        app.ok("/v1/server/room/lock", lock.clone()).await,
        json!({"success": true, "message": "The room has been locked succesfully"})
    );
    assert_eq!(
        app.ok("/v1/server/room/lock", lock.clone()).await,
        json!({"success": false, "message": "The room is already locked"})
    );
    let room = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "R"}))
        .await["room"]
        .clone();
    assert_eq!(room["isLocked"], true);
    let locked_time = room["lockedTime"].as_i64().unwrap();
    assert!(
        locked_time >= before && locked_time <= confab::domain::now_ms(),
        "Unix ms"
    );
    assert_eq!(
        app.ok("/v1/server/room/unlock", lock.clone()).await,
        json!({"success": true, "message": "The room has been unlocked succesfully"})
    );
    assert_eq!(
        app.ok("/v1/server/room/unlock", lock).await,
        json!({"success": false, "message": "The room is already unlocked"})
    );
    let room = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "R"}))
        .await["room"]
        .clone();
    assert_eq!(
        (room["isLocked"].clone(), room["lockedTime"].clone()),
        (json!(false), json!(0))
    );
}

#[tokio::test]
async fn locking_needs_an_existing_user() {
    let app = seed_app().await;
    app.room("R", &["6"]).await;
    for path in ["/v1/server/room/lock", "/v1/server/room/unlock"] {
        let envelope = app
            .post(path, json!({"xcRoomID": "R", "xcUserID": "ghost"}))
            .await;
        assert_error(&envelope, 400, "40002", "109");
        let envelope = app
            .post(path, json!({"xcRoomID": "R", "xcUserID": 6}))
            .await;
        assert_error(&envelope, 400, "40002", "109");
    }
    let room = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "R"}))
        .await;
    assert_eq!(room["room"]["isLocked"], false);
}

#[tokio::test]
async fn apps_are_tenants_that_cannot_see_each_other() {
    let app = seed_app().await;
    app.ok("/v1/server/room/create_or_update", seed_request())
        .await;
    let other = app.server_key_for_app("other").await;
    let post = |path: &'static str, body: Value| {
        let key = other.clone();
        let app = &app;
        async move { app.post_raw(path, Some(&key), body.to_string()).await }
    };
    assert_error(
        &post("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"})).await,
        404,
        "40401",
        "",
    );
    assert_error(
        &post(
            "/v1/server/room/lock",
            json!({"xcRoomID": "6A02C41D", "xcUserID": "6"}),
        )
        .await,
        404,
        "40401",
        "",
    );
    assert_error(
        &post("/v1/server/room/get_list_by_user", json!({"xcUserID": "6"})).await,
        404,
        "40401",
        "",
    );
    // The other app's user "6" is a different user; its room with the same xcRoomID is its own.
    let user = post(
        "/v1/server/user/update",
        json!({"xcUserID": "6", "fullName": "Other Six"}),
    )
    .await;
    assert_success(&user);
    let mut request = seed_request();
    request["name"] = json!("Other app's room");
    let created = post("/v1/server/room/create_or_update", request).await;
    assert_success(&created);
    assert_eq!(created["data"]["participants"][0]["fullname"], "Other Six");
    let ours = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"}))
        .await;
    assert_eq!(ours["room"]["name"], "Order #6A02C41D");
    assert_eq!(ours["participants"][0]["fullname"], "Jony Lim");
    assert_ne!(ours["room"]["roomID"], created["data"]["room"]["roomID"]);
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = seed_app().await;
    app.ok("/v1/server/room/create_or_update", seed_request())
        .await;
    app.ok(
        "/v1/server/room/lock",
        json!({"xcRoomID": "6A02C41D", "xcUserID": "6"}),
    )
    .await;
    let before = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"}))
        .await;
    let app = app.restart().await;
    let after = app
        .ok("/v1/server/room/get", json!({"xcRoomID": "6A02C41D"}))
        .await;
    assert_eq!(before, after);
    let listed = app
        .ok("/v1/server/room/get_list_by_user", json!({"xcUserID": "6"}))
        .await;
    assert_eq!(listed["rooms"][0]["lastMessage"]["action"], "room/lock");
}

//! Several confab nodes as one service: two nodes on loopback sharing one PostgreSQL database
//! and one `nats-server`. These tests need both (`CONFAB_TEST_POSTGRES`, `nats-server`); when
//! either is missing they fail.

use std::time::Duration;

use serde_json::{Value, json};

use super::nats::NatsServer;
use crate::access;
use crate::helpers::{Login, Socket, TestApp, TestDb, body_of, personal};

/// Two nodes, A and B, on one fresh PostgreSQL database and one bus.
async fn two_nodes(nats: &NatsServer) -> (TestApp, TestApp) {
    let url = nats.url();
    let a = TestApp::spawn_on(TestDb::postgres().await, |c| c.bus = Some(url.clone())).await;
    let b = a.another_node(|_| {}).await;
    (a, b)
}

/// The next `chat/sendMessage` whose sender is not `me`.
async fn next_from_others(socket: &mut Socket, me: &Login) -> Value {
    socket
        .expect("chat/sendMessage", |m| {
            m["user"]["userID"] != me.user_id.as_str()
        })
        .await
}

async fn sync(node: &TestApp, login: &Login) -> Vec<String> {
    let synced = node
        .client_ok("/v1/chat/message/new_and_updated", &login.access, json!(""))
        .await;
    let mut bodies: Vec<String> = synced["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] != 9001)
        .map(body_of)
        .collect();
    bodies.reverse(); // newest first on the wire
    bodies
}

#[tokio::test]
async fn a_client_on_node_b_hears_node_a_in_order() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    let ann = a.login("ann", "Ann").await;
    let bob = b.login("bob", "Bob").await;
    let mut bob_socket = b.socket(&bob).await;
    let mut ann_socket = a.socket(&ann).await;
    ann_socket
        .send_text(&personal(&ann, &bob), "L1", "from a socket on A")
        .await;
    a.ok(
        "/v1/server/message/send",
        json!({"senderXCUserID": "ann", "recipientXCUserID": "bob", "type": 1001,
               "body": "from A's Server API"}),
    )
    .await;
    let first = next_from_others(&mut bob_socket, &bob).await;
    let second = next_from_others(&mut bob_socket, &bob).await;
    assert_eq!(body_of(&first), "from a socket on A");
    assert_eq!(body_of(&second), "from A's Server API");
}

#[tokio::test]
async fn receipts_typing_and_presence_cross_nodes() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    let ann = a.login("ann", "Ann").await;
    let bob = b.login("bob", "Bob").await;
    a.room("R", &["ann", "bob"]).await;
    let room = personal(&ann, &bob);
    let mut ann_socket = a.socket(&ann).await;
    // Presence goes to personal-room partners: their room exists once Ann has written.
    ann_socket.send_text(&room, "L0", "hello").await;
    let mut bob_socket = b.socket(&bob).await;

    let online = ann_socket
        .expect("user/status", |s| {
            s["user"]["userID"] == bob.user_id.as_str()
        })
        .await;
    assert_eq!(online["isOnline"], true);

    ann_socket
        .send("chat/startTyping", json!({"roomID": room}))
        .await;
    let typing = bob_socket.expect("chat/startTyping", |_| true).await;
    assert_eq!(typing["user"]["userID"], ann.user_id.as_str());

    let sent = ann_socket.send_text(&room, "L1", "read me").await;
    next_from_others(&mut bob_socket, &bob).await;
    b.client_ok(
        "/v1/chat/message/feedback/read",
        &bob.access,
        json!({"messageIDs": [sent["messageID"]]}),
    )
    .await;
    let receipt = ann_socket
        .expect("chat/updateMessage", |m| m["localID"] == "L1")
        .await;
    assert_eq!(receipt["isRead"], true);

    drop(bob_socket);
    let offline = ann_socket
        .expect("user/status", |s| s["isOnline"] == false)
        .await;
    assert_eq!(offline["user"]["userID"], bob.user_id.as_str());
}

#[tokio::test]
async fn server_api_changes_and_revocations_on_a_reach_sockets_on_b() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    let bob = b.login("bob", "Bob").await;
    a.user("ann", "Ann").await;
    let mut bob_socket = b.socket(&bob).await;
    a.room("R", &["bob"]).await;
    let created = bob_socket
        .expect("chat/sendMessage", |m| m["action"] == "room/create")
        .await;
    assert_eq!(created["room"]["xcRoomID"], "R");
    a.ok(
        "/v1/server/room/participants/add",
        json!({"xcRoomID": "R", "participantXCUserIDs": ["ann"]}),
    )
    .await;
    let added = bob_socket
        .expect("chat/sendMessage", |m| m["action"] == "room/addParticipant")
        .await;
    assert_eq!(added["target"]["targetXCID"], "ann");
    a.ok(
        "/v1/server/user/revoke_sessions",
        json!({"xcUserID": "bob"}),
    )
    .await;
    assert_eq!(bob_socket.closed_with().await, 4001);
}

#[tokio::test]
async fn a_role_change_on_a_takes_the_room_from_a_socket_on_b_at_once() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    let (mut socket, _) = access::agent_on_a_ticket(&a, &b).await;
    a.ok(
        "/v1/server/user/update",
        json!({"xcUserID": "ann", "fullName": "Ann", "userRoleCode": "sales"}),
    )
    .await;
    access::say(&a, "cus", "T", "anyone?").await;
    access::say(&a, "cus", "MARKER", "marker").await;
    let seen = access::events_until_marker(&mut socket, "marker").await;
    assert!(access::in_room(&seen, "T").is_empty(), "{seen:?}");
}

#[tokio::test]
async fn a_node_restart_loses_and_repeats_nothing_for_clients() {
    let nats = NatsServer::start(&[]).await;
    let (a, mut b) = two_nodes(&nats).await;
    let ann = a.login("ann", "Ann").await;
    let bob = b.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut ann_socket = a.socket(&ann).await;
    let mut bob_socket = b.socket(&bob).await;
    ann_socket.send_text(&room, "L1", "m1").await;
    assert_eq!(
        body_of(&next_from_others(&mut bob_socket, &bob).await),
        "m1"
    );
    assert_eq!(sync(&b, &bob).await, vec!["m1"]);

    // Node B goes away mid-conversation; the conversation goes on through node A.
    b.stop().await;
    assert!(bob_socket.closed_with().await > 0);
    ann_socket.send_text(&room, "L2", "m2").await;
    ann_socket.send_text(&room, "L3", "m3").await;

    let b = b.restart().await;
    let mut bob_socket = b.socket(&bob).await;
    assert_eq!(
        sync(&b, &bob).await,
        vec!["m2", "m3"],
        "exactly what was missed, once"
    );
    ann_socket.send_text(&room, "L4", "m4").await;
    assert_eq!(
        body_of(&next_from_others(&mut bob_socket, &bob).await),
        "m4"
    );
    assert_eq!(sync(&b, &bob).await, vec!["m4"]);
}

#[tokio::test]
async fn a_bus_restart_loses_and_repeats_nothing_for_clients() {
    let nats = NatsServer::start(&[]).await;
    let port = nats.port;
    let (a, b) = two_nodes(&nats).await;
    let ann = a.login("ann", "Ann").await;
    let bob = b.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let mut ann_socket = a.socket(&ann).await;
    let mut bob_socket = b.socket(&bob).await;
    ann_socket.send_text(&room, "L1", "m1").await;
    assert_eq!(
        body_of(&next_from_others(&mut bob_socket, &bob).await),
        "m1"
    );
    assert_eq!(sync(&b, &bob).await, vec!["m1"]);

    nats.stop().await;
    // Acknowledged while the bus is down: stored, though node B cannot hear of it.
    ann_socket.send_text(&room, "L2", "m2").await;
    let nats = NatsServer::start_on(port, &[]).await;
    assert_eq!(
        sync(&b, &bob).await,
        vec!["m2"],
        "recovered from the database"
    );

    // Once both nodes have reconnected to the bus, live delivery resumes.
    let mut n = 3;
    let live = loop {
        let text = format!("m{n}");
        ann_socket.send_text(&room, &format!("L{n}"), &text).await;
        let heard = tokio::time::timeout(
            Duration::from_millis(500),
            next_from_others(&mut bob_socket, &bob),
        )
        .await;
        if let Ok(message) = heard {
            break body_of(&message);
        }
        n += 1;
        assert!(
            n < 40,
            "live delivery never resumed after the bus restarted"
        );
    };
    let recovered = sync(&b, &bob).await;
    let expected: Vec<String> = (3..=n).map(|i| format!("m{i}")).collect();
    assert!(expected.contains(&live), "{live} heard live");
    assert_eq!(recovered, expected, "every message once, none twice");
    drop(nats);
}

#[tokio::test]
async fn nodes_racing_one_new_room_make_one_room() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    a.user("ann", "Ann").await;
    let mut calls = Vec::new();
    for i in 0..16 {
        let node = if i % 2 == 0 { &a } else { &b };
        calls.push(node.post(
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": "race", "type": 2, "name": "Race", "participantXCUserIDs": ["ann"]}),
        ));
    }
    let answers = futures_util::future::join_all(calls).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer["status"], 200, "{answer}");
            answer["data"]["room"]["roomID"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one room: {ids:?}");
}

#[tokio::test]
async fn concurrent_senders_on_two_nodes_keep_one_gapless_order() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    a.user("ann", "Ann").await;
    a.user("bob", "Bob").await;
    a.room("R", &["ann", "bob"]).await;
    let mut sends = Vec::new();
    for i in 0..40 {
        let (node, sender) = if i % 2 == 0 { (&a, "ann") } else { (&b, "bob") };
        sends.push(node.post(
            "/v1/server/message/send",
            json!({"senderXCUserID": sender, "xcRoomID": "R", "type": 1001,
                   "body": format!("n{i}")}),
        ));
    }
    for answer in futures_util::future::join_all(sends).await {
        assert_eq!(answer["status"], 200, "{answer}");
    }
    let (client, connection) = tokio_postgres::connect(a.database_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT m.seq, m.created FROM messages m JOIN rooms r ON r.id = m.room_id \
             WHERE r.xc_room_id = 'R' ORDER BY m.seq",
            &[],
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let created: Vec<i64> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!(
        seqs,
        (1..=41).collect::<Vec<i64>>(),
        "room/create plus 40, no gaps"
    );
    assert!(
        created.windows(2).all(|w| w[0] < w[1]),
        "times strictly increase in sequence order"
    );
}

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let db = TestDb::postgres().await;
    let pool = confab::config::Config::for_database(db.url())
        .database
        .pool();
    let opens = (0..3).map(|_| confab::store::postgres::PgStore::open(db.url(), pool, None));
    let stores: Vec<_> = futures_util::future::join_all(opens)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    let applied: Vec<usize> = stores.iter().map(|s| s.migrations_applied()).collect();
    assert_eq!(
        applied.iter().sum::<usize>(),
        migrations,
        "between them the nodes apply each migration once: {applied:?}"
    );
    let later = confab::store::postgres::PgStore::open(db.url(), pool, None)
        .await
        .unwrap();
    assert_eq!(
        later.migrations_applied(),
        0,
        "a node starting later applies none"
    );
}

#[tokio::test]
async fn a_refused_postgresql_login_stops_start_up_with_the_reason() {
    let db = TestDb::postgres().await;
    let (scheme, rest) = db.url().split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let url = format!("{scheme}://nobody:wrong@{host}");
    let opened = confab::app::App::open(&confab::config::Config::for_database(url)).await;
    let error = opened.err().expect("start-up must fail");
    assert!(
        error.contains("cannot connect to PostgreSQL") && error.contains("28P01"),
        "{error}"
    );
}

#[tokio::test]
async fn scheduled_messages_due_on_two_nodes_are_each_sent_once() {
    let nats = NatsServer::start(&[]).await;
    let (a, b) = two_nodes(&nats).await;
    let ann = a.login("ann", "Ann").await;
    let bob = a.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    let at = confab::domain::now_ms() + 3_000;
    let requests = (0..200).map(|n| {
        let node = if n % 2 == 0 { &a } else { &b };
        let (ann, room) = (&ann, &room);
        async move {
            node.client_ok(
                "/v1/chat/scheduled_message/create",
                &ann.access,
                json!({"message": crate::helpers::text_message(room, &format!("c{n}"), "due"),
                       "scheduledTime": at}),
            )
            .await
        }
    });
    futures_util::future::join_all(requests).await;
    let wait = at + 3_000 - confab::domain::now_ms();
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
    let page = b
        .client_ok(
            "/v1/chat/message/list_by_room/before",
            &bob.access,
            json!({"roomID": room, "maxCreated": 0, "limit": 200}),
        )
        .await;
    let locals: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["localID"].as_str().unwrap())
        .collect();
    let distinct: std::collections::HashSet<&&str> = locals.iter().collect();
    assert_eq!(locals.len(), 200, "every one sent, none twice");
    assert_eq!(distinct.len(), 200);
    assert_eq!(page["hasMore"], false);
}

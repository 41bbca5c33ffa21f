//! The time to serialize the value the server writes most bytes of: a user's room list
//! (`get_list_by_user`), each entry a full message object with its room and sender, written by
//! `serde_json::to_writer` as responses are. In this process, without a server: the figure is
//! the serialization alone, median of many runs.

use std::time::{Duration, Instant};

use confab::domain::model::{ForwardFrom, Quote, ReplyTo};
use confab::domain::{Message, MessageId, Room, RoomId, RoomKind, RoomType, Target, User, UserId};
use confab::wire;

fn user(id: i64) -> User {
    User {
        id: UserId(id),
        xc_user_id: format!("customer-{id}"),
        fullname: format!("Customer Number {id}"),
        email: format!("customer{id}@example.com"),
        phone: format!("+6281234{id:05}"),
        username: format!("customer_{id}"),
        photo_thumbnail: format!("https://cdn.example.com/u/{id}/thumb.jpg"),
        photo_fullsize: format!("https://cdn.example.com/u/{id}/full.jpg"),
        role_code: String::new(),
        last_login: 1_767_225_600_000,
        last_activity: 1_767_225_600_000 + id,
        created: 1_767_000_000_000,
        updated: 1_767_000_000_000,
        deleted: 0,
    }
}

/// A room's newest message as the list carries it, with a body encoded as the SDKs store it.
fn last_message(n: i64) -> Message {
    let room = Room {
        id: RoomId(n),
        kind: RoomKind::Shared {
            xc_room_id: Some(format!("ORDER-{n:08X}")),
        },
        room_type: RoomType::Transaction,
        name: format!("Order #{n:08X}"),
        photo_thumbnail: String::new(),
        photo_fullsize: String::new(),
        color: String::new(),
        tags: vec!["category:1".into(), format!("store:{}", n % 50)],
        participant_roles: vec!["agent:1".into()],
        locked_time: 0,
        deleted: 0,
        peers: None,
    };
    let local_id = format!("{n:032x}");
    let text = "Hello, is my order on its way? I paid this morning and have not heard back yet.";
    Message {
        id: MessageId(10_000_000 + n),
        seq: 50,
        room,
        sender: Some(user(n % 1000 + 1)),
        body: confab::codec::encode_with(text, &local_id, 3).expect("encodes"),
        local_id,
        kind: 1001,
        data: String::new(),
        filter_id: String::new(),
        is_hidden: false,
        quote: Quote::default(),
        reply_to: ReplyTo::default(),
        forward_from: ForwardFrom::default(),
        action: String::new(),
        target: Target::default(),
        is_delivered: true,
        is_read: false,
        is_deleted: false,
        is_edited: false,
        created: 1_767_225_600_000 + n,
        updated: 1_767_225_600_000 + n,
        deleted: 0,
        renders: Default::default(),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Serializes a `rooms`-entry list `runs` times; prints the median and the size.
pub fn run(rooms: usize, runs: usize) -> Result<(), String> {
    let messages: Vec<Message> = (1..=rooms as i64).map(last_message).collect();
    let viewer = UserId(1);
    let list = wire::RoomList {
        rooms: messages
            .iter()
            .map(|m| wire::RoomListItem {
                last_message: wire::message(m, wire::Viewer::new(viewer, 0)),
                unread_count: 3,
            })
            .collect(),
    };
    let mut out = Vec::with_capacity(2 << 20);
    let mut times = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        out.clear();
        let start = Instant::now();
        serde_json::to_writer(&mut out, &list).map_err(|e| e.to_string())?;
        times.push(start.elapsed());
    }
    let per_list = median(times);
    println!(
        "json: a {rooms}-room list, {} bytes ({} per entry): {:.1} µs to serialize \
         (serde_json::to_writer, median of {runs} runs), {:.2} µs per entry",
        out.len(),
        out.len() / rooms.max(1),
        per_list.as_secs_f64() * 1e6,
        per_list.as_secs_f64() * 1e6 / rooms.max(1) as f64,
    );
    Ok(())
}

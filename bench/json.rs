//! confab's JSON writer (`confab::json`) against `serde_json::to_writer`, on the value the
//! server writes most bytes of: a user's room list (`get_list_by_user`), each entry a full
//! message object with its room and sender. Both write the same bytes (checked before timing);
//! the figure is the time to serialize one list, median of alternating runs.

use std::time::{Duration, Instant};

use confab::domain::model::{ForwardFrom, Quote, ReplyTo};
use confab::domain::{Message, Room, RoomKind, RoomType, Target, User};
use confab::wire;

fn user(id: i64) -> User {
    User {
        id,
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
        id: n,
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
        id: 10_000_000 + n,
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
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Serializes a `rooms`-entry list with both writers, `runs` times each, alternating; prints
/// the medians and their ratio.
pub fn run(rooms: usize, runs: usize) -> Result<(), String> {
    let messages: Vec<Message> = (1..=rooms as i64).map(last_message).collect();
    let viewer = 1;
    let list = wire::RoomList {
        rooms: messages
            .iter()
            .map(|m| wire::RoomListItem {
                last_message: wire::message(m, wire::Viewer::new(viewer, 0)),
                unread_count: 3,
            })
            .collect(),
    };
    let mut ours = Vec::with_capacity(2 << 20);
    confab::json::write(&mut ours, &list).map_err(|e| e.to_string())?;
    let mut theirs = Vec::with_capacity(2 << 20);
    serde_json::to_writer(&mut theirs, &list).map_err(|e| e.to_string())?;
    if ours != theirs {
        return Err("confab::json and serde_json wrote different bytes".into());
    }
    let (mut confab_times, mut serde_times) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        ours.clear();
        let start = Instant::now();
        confab::json::write(&mut ours, &list).map_err(|e| e.to_string())?;
        confab_times.push(start.elapsed());
        theirs.clear();
        let start = Instant::now();
        serde_json::to_writer(&mut theirs, &list).map_err(|e| e.to_string())?;
        serde_times.push(start.elapsed());
    }
    let (confab_median, serde_median) = (median(confab_times), median(serde_times));
    println!(
        "json: a {rooms}-room list, {} bytes; median of {runs} alternating runs:\n  \
         confab::json          {:>9.1} µs\n  serde_json::to_writer {:>9.1} µs\n  \
         serde_json / confab::json = {:.2}",
        ours.len(),
        confab_median.as_secs_f64() * 1e6,
        serde_median.as_secs_f64() * 1e6,
        serde_median.as_secs_f64() / confab_median.as_secs_f64(),
    );
    Ok(())
}

//! The rules of `service/messages.rs`, what happens to a message once its parts are built:
//! sending (`send`, given the parts directly; turning a client's or the Server API's input into
//! parts is the `Service` methods' work, not a rule's), editing (`edit`), receipts (`mark`) and
//! deleting (`delete`).

use super::{APP, MemoryTx, Team, hearers, ids, lock, run_now, team, text};
use crate::domain::{
    FeedKind, Message, MessageId, RoomRef, RoomStateChange, RoomType, User, now_ms,
};
use crate::service::messages::{delete, edit, mark, send};
use crate::service::{Destination, Origin};
use crate::store::{ChatRead, ChatTx, StoreError};

// Editing (messages::edit).

#[test]
fn edit_of_someone_elses_local_id_is_refused() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "original");
    let before = tx.clone();

    let result = run_now(edit(
        &mut tx,
        APP,
        member.id,
        "m1".into(),
        "hijacked".into(),
        String::new(),
    ));
    assert!(
        matches!(result, Err(StoreError::Forbidden(_))),
        "{result:?}"
    );
    assert!(tx.unchanged_since(&before));
    assert_eq!(tx.message(sent.id).body, "original");
}

#[test]
fn edit_of_a_deleted_message_is_refused() {
    let Team {
        mut tx,
        room,
        admin,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "original");
    run_now(tx.delete_message(APP, sent.id, now_ms())).unwrap();
    let before = tx.clone();

    let result = run_now(edit(
        &mut tx,
        APP,
        admin.id,
        "m1".into(),
        "revived".into(),
        String::new(),
    ));
    assert!(
        matches!(result, Err(StoreError::Forbidden(_))),
        "{result:?}"
    );
    assert!(tx.unchanged_since(&before));
    assert!(!tx.message(sent.id).is_edited);
}

#[test]
fn an_edit_replaces_the_content_and_the_whole_room_hears_it_as_an_update() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "original");

    let edited = run_now(edit(
        &mut tx,
        APP,
        admin.id,
        "m1".into(),
        "fixed".into(),
        "{\"a\":1}".into(),
    ))
    .unwrap();
    assert_eq!((edited.id, edited.seq), (sent.id, sent.seq));
    assert_eq!(
        (edited.body.as_str(), edited.data.as_str()),
        ("fixed", "{\"a\":1}")
    );
    assert!(edited.is_edited);
    assert!(edited.updated > sent.updated);
    assert_eq!(tx.message(sent.id).body, "fixed");
    assert_eq!(tx.feed.len(), 2);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::Updated);
    assert_eq!(item.message, edited);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

// Sending (messages::send).

/// `sender` sends one text part under `local_id`.
fn send_text(
    tx: &mut MemoryTx,
    sender: &User,
    destination: Destination,
    local_id: &str,
    origin: Origin,
) -> Result<(Vec<Message>, bool), StoreError> {
    let part = text(sender, local_id, "hello");
    run_now(send(
        tx,
        APP,
        sender.clone(),
        destination,
        vec![part],
        origin,
    ))
}

#[test]
fn a_client_cannot_send_into_a_locked_room_but_the_server_api_can() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    lock(&mut tx, "team", "alice", true).unwrap();
    let before = tx.clone();

    let shared = Destination::Room(RoomRef::Shared(room.id));
    let refused = send_text(&mut tx, &member, shared, "c1", Origin::Client);
    assert_eq!(refused.unwrap_err(), StoreError::Locked);
    assert!(tx.unchanged_since(&before));
    let by_server = Destination::XcRoom("team".into());
    let (sent, duplicate) = send_text(&mut tx, &admin, by_server, "s1", Origin::ServerApi).unwrap();
    assert!(!duplicate);
    assert_eq!(sent[0].seq, 2);
}

#[test]
fn a_repeated_local_id_returns_the_stored_message_and_appends_nothing() {
    let Team {
        mut tx,
        room,
        member,
        ..
    } = team();
    let shared = || Destination::Room(RoomRef::Shared(room.id));

    let (first, duplicate) = send_text(&mut tx, &member, shared(), "m1", Origin::Client).unwrap();
    assert!(!duplicate);
    let before = tx.clone();
    let (again, duplicate) = send_text(&mut tx, &member, shared(), "m1", Origin::Client).unwrap();
    assert!(duplicate);
    // The same message; its sender as they are now (the send itself recorded their activity).
    let without_sender = |sent: &[Message]| -> Vec<Message> {
        sent.iter()
            .map(|m| Message {
                sender: None,
                ..m.clone()
            })
            .collect()
    };
    assert_eq!(without_sender(&again), without_sender(&first));
    assert_eq!(again[0].sender.as_ref().map(|s| s.id), Some(member.id));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_user_who_does_not_take_part_in_a_room_cannot_send_to_it() {
    let Team {
        mut tx,
        room,
        outsider,
        ..
    } = team();
    let before = tx.clone();

    let shared = Destination::Room(RoomRef::Shared(room.id));
    let result = send_text(&mut tx, &outsider, shared, "m1", Origin::ServerApi);
    assert!(
        matches!(result, Err(StoreError::Forbidden(_))),
        "{result:?}"
    );
    assert!(tx.unchanged_since(&before));
}

#[test]
fn the_first_message_of_a_personal_room_creates_it_for_its_two_users() {
    let Team {
        mut tx,
        admin,
        member,
        outsider,
        ..
    } = team();
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };

    let (sent, _) = send_text(
        &mut tx,
        &member,
        Destination::Room(personal),
        "m1",
        Origin::Client,
    )
    .unwrap();
    let room = &sent[0].room;
    assert_eq!(room.room_type, RoomType::Personal);
    assert_eq!(sent[0].seq, 1);
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false)]
    );
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
    // A third user's message to their room is refused.
    let result = send_text(
        &mut tx,
        &outsider,
        Destination::Room(personal),
        "m2",
        Origin::Client,
    );
    assert!(
        matches!(result, Err(StoreError::Forbidden(_))),
        "{result:?}"
    );
}

// Receipts (messages::mark).

/// `reader` marks the messages `ids` delivered, or read (`read`); the IDs whose state changed.
fn mark_as(tx: &mut MemoryTx, reader: &User, ids: Vec<MessageId>, read: bool) -> Vec<MessageId> {
    run_now(mark(tx, APP, reader.clone(), ids, read))
        .unwrap()
        .changed
}

#[test]
fn only_recipients_mark_a_message_and_each_change_is_reported_once_to_sender_and_reader() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        outsider,
    } = team();
    let dave = tx.user(APP, "dave");
    tx.join(&room, &dave, false);
    let sent = tx.post(&room, &admin, "m1", "hello");

    // Skipped, not refused: the sender's own message, a reader not in the room, an unknown ID.
    assert!(mark_as(&mut tx, &admin, vec![sent.id], true).is_empty());
    assert!(mark_as(&mut tx, &outsider, vec![sent.id], false).is_empty());
    assert!(mark_as(&mut tx, &member, vec![MessageId(9999)], false).is_empty());
    assert_eq!(
        mark_as(&mut tx, &member, vec![sent.id, sent.id], false),
        [sent.id]
    );
    // Already delivered: another recipient's delivery changes nothing.
    assert!(mark_as(&mut tx, &dave, vec![sent.id], false).is_empty());
    assert!(tx.message(sent.id).is_delivered);
    assert!(!tx.message(sent.id).is_read);
    assert_eq!(tx.feed.len(), 2);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::Receipt);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
    assert!(item.audience.roles.is_empty());
}

#[test]
fn receipts_reach_a_sender_and_a_reader_who_take_part_by_role() {
    let mut tx = MemoryTx::default();
    let customer = tx.user(APP, "customer");
    let mut agent = tx.user(APP, "agent");
    agent.role_code = "support".into();
    tx.users.last_mut().unwrap().1 = agent.clone();
    let room = tx.group("ticket", &["support".to_owned()]);
    tx.join(&room, &customer, false);

    // The agent, a participant by role alone, reads the customer's message, and the
    // customer reads the agent's reply: each receipt goes to its sender and its reader.
    let question = tx.post(&room, &customer, "q", "where is my order?");
    assert_eq!(
        mark_as(&mut tx, &agent, vec![question.id], true),
        [question.id]
    );
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&customer, &agent]));
    let answer = tx.post(&room, &agent, "a", "on its way");
    assert_eq!(
        mark_as(&mut tx, &customer, vec![answer.id], true),
        [answer.id]
    );
    let item = tx.feed.last().unwrap();
    assert_eq!(hearers(item), ids(&[&customer, &agent]));
    assert!(item.audience.roles.is_empty(), "not the whole role");
}

#[test]
fn reading_a_message_reads_everything_before_it_and_implies_delivered() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    tx.post(&room, &admin, "m1", "one");
    let second = tx.post(&room, &admin, "m2", "two");

    let changed = mark_as(&mut tx, &member, vec![second.id], true);
    assert_eq!(changed, [second.id]);
    assert_eq!(tx.read_positions.get(&(member.id, room.id)), Some(&(2, 2)));
    let read = tx.message(second.id);
    assert!(read.is_delivered && read.is_read);
}

#[test]
fn a_system_message_is_born_read_so_a_receipt_for_it_changes_and_reports_nothing() {
    let Team {
        mut tx,
        room,
        member,
        ..
    } = team();
    let locked = lock(&mut tx, "team", "alice", true).unwrap();
    let id = locked.messages[0].id;
    let before = tx.clone();

    let changed = mark_as(&mut tx, &member, vec![id], true);
    assert!(changed.is_empty());
    assert_eq!(tx.messages, before.messages);
    assert_eq!(tx.feed, before.feed);
    // Reading it still moves the reader's position to it (it counts no unread message).
    assert_eq!(tx.read_positions.get(&(member.id, room.id)), Some(&(1, 0)));
}

// Deleting (messages::delete).

/// `user` deletes the messages `ids` through `room`.
fn delete_as(
    tx: &mut MemoryTx,
    user: &User,
    room: RoomRef,
    ids: Vec<MessageId>,
) -> Result<Vec<MessageId>, StoreError> {
    run_now(delete(tx, APP, user.clone(), room, ids))
}

#[test]
fn only_the_sender_deletes_a_message_and_the_whole_room_hears_of_it() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "hello");
    let shared = RoomRef::Shared(room.id);

    assert!(
        delete_as(&mut tx, &member, shared, vec![sent.id])
            .unwrap()
            .is_empty()
    );
    assert!(!tx.message(sent.id).is_deleted);
    assert_eq!(
        delete_as(&mut tx, &admin, shared, vec![sent.id]).unwrap(),
        [sent.id]
    );
    assert!(
        delete_as(&mut tx, &admin, shared, vec![sent.id])
            .unwrap()
            .is_empty()
    );
    assert!(tx.message(sent.id).is_deleted);
    assert_eq!(tx.feed.len(), 2);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::Deleted);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn a_message_is_deleted_only_through_its_own_room() {
    let Team {
        mut tx,
        room,
        admin,
        ..
    } = team();
    let elsewhere = tx.group("elsewhere", &[]);
    tx.join(&elsewhere, &admin, false);
    let sent = tx.post(&room, &admin, "m1", "hello");

    let deleted = delete_as(
        &mut tx,
        &admin,
        RoomRef::Shared(elsewhere.id),
        vec![sent.id],
    );
    assert!(deleted.unwrap().is_empty());
    assert!(!tx.message(sent.id).is_deleted);
}

#[test]
fn deleting_in_a_personal_room_not_created_yet_deletes_and_creates_nothing() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();
    let before = tx.clone();
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };

    let deleted = delete_as(&mut tx, &admin, personal, vec![MessageId(1), MessageId(2)]);
    assert!(deleted.unwrap().is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn deleting_in_a_room_one_does_not_take_part_in_is_refused() {
    let Team {
        mut tx,
        room,
        admin,
        outsider,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "hello");

    let result = delete_as(&mut tx, &outsider, RoomRef::Shared(room.id), vec![sent.id]);
    assert!(
        matches!(result, Err(StoreError::Forbidden(_))),
        "{result:?}"
    );
    assert!(!tx.message(sent.id).is_deleted);
}

#[test]
fn reading_a_room_clears_the_readers_unread_mark_only() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let sent = tx.post(&room, &admin, "m1", "hello");
    for user in [&admin, &member] {
        run_now(tx.change_room_states(user.id, &[room.id], RoomStateChange::MarkUnread)).unwrap();
    }
    // Delivery is not reading: the mark stays.
    let delivered = run_now(mark(&mut tx, APP, member.clone(), vec![sent.id], false)).unwrap();
    assert!(delivered.unmarked.is_empty());
    let read = run_now(mark(&mut tx, APP, member.clone(), vec![sent.id], true)).unwrap();
    assert_eq!(
        read.unmarked.iter().map(|r| r.id).collect::<Vec<_>>(),
        [room.id]
    );
    // Read again: nothing left to clear. The sender's own mark is untouched.
    let again = run_now(mark(&mut tx, APP, member.clone(), vec![sent.id], true)).unwrap();
    assert!(again.unmarked.is_empty());
    let marked = |tx: &mut MemoryTx, user: &User| {
        run_now(tx.room_states(APP, user))
            .unwrap()
            .iter()
            .any(|s| s.marked_unread)
    };
    assert!(marked(&mut tx, &admin));
    assert!(!marked(&mut tx, &member));
}

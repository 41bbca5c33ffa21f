//! The chat model's write rules, tested without a database.
//!
//! Each rule of `service` (who may change a room or a message, which system message a change
//! appends and who hears it, locks, idempotent sends) is written once over `&mut dyn ChatTx`,
//! so it can run here over [`MemoryTx`]: rows in vectors, every primitive ready at once, a
//! rule's future done in one poll. These tests say what a rule decides; whether each backend
//! keeps the `ChatTx` contract (its SQL, row locks, rollback, commit order) is tested against
//! real SQLite and PostgreSQL by the API suite in `tests/api`, which these tests do not
//! replace.
//!
//! Every rule is `pub(super)` in its module and is called here directly on a `MemoryTx` with
//! [`run_now`], so a test sees the rule's own [`StoreError`] (which `Service` only maps to a
//! `ServiceError` of the same name) and no store, service or realtime hub is needed. Nothing is
//! rolled back: a rule that fails leaves what it did in the `MemoryTx` (the real stores roll
//! it back), so a test also sees whether a refused rule wrote anything before refusing.
//!
//! This module holds what every area shares: [`MemoryTx`] and its rows, the fixtures (a
//! [`Team`] to work in) and the assertions' helpers. `memory` implements [`ChatTx`] for
//! `MemoryTx`; `access`, `contacts`, `rooms`, `membership` and `messages` test the rules of the `service`
//! modules of the same names.

mod access;
mod contacts;
mod membership;
mod memory;
mod messages;
mod rooms;

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{
    AppId, Audience, FeedItem, Message, MessageId, NewMessage, Receipt, Report, Room, RoomId,
    RoomType, Scheduled, StoredFile, Target, User, UserId, UserPhoto, now_ms,
};
use crate::store::{ChatTx, Joining, LockChange, NewRoom, StoreError};

/// The app every test works in.
const APP: AppId = AppId(1);

/// Message type of a plain text message.
const TEXT: i64 = 1001;

/// Polls a future once, like the SQLite writer's `run_now`: every [`MemoryTx`] primitive is
/// ready at once, so a rule that is still pending waited on something else, a test failure.
fn run_now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a rule waited on something other than MemoryTx"),
    }
}

/// A text message from `sender` under `local_id`.
fn text(sender: &User, local_id: &str, body: &str) -> NewMessage {
    NewMessage {
        sender: Some(sender.id),
        local_id: local_id.into(),
        kind: TEXT,
        body: body.into(),
        data: String::new(),
        filter_id: String::new(),
        is_hidden: false,
        quote: Quote::default(),
        reply_to: ReplyTo::default(),
        forward_from: ForwardFrom::default(),
        action: String::new(),
        target: Target::default(),
    }
}

/// A room's row: the room as rules see it and the columns only the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoomRow {
    app: AppId,
    room: Room,
    locked_by: Option<UserId>,
    last_seq: i64,
    chat_count: i64,
    last_activity: i64,
    updated: i64,
}

/// A row of `room_states`: `(muted_until, pinned_at, marked_unread)`.
type StateRow = (Option<i64>, Option<i64>, bool);

/// An explicit participant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    room: RoomId,
    user: UserId,
    admin: bool,
    joined: i64,
}

/// The tables a rule reaches through [`ChatTx`], in memory, and the feed it fills. Rooms,
/// users and messages take their IDs from one counter, so no two rows share an ID even
/// across kinds (the ID types already keep a rule from passing one kind for another).
#[derive(Debug, Clone, Default)]
struct MemoryTx {
    rooms: Vec<RoomRow>,
    users: Vec<(AppId, User)>,
    members: Vec<Member>,
    /// `(user, room)` to `(read_seq, read_count)`, which only ever move forward.
    read_positions: HashMap<(UserId, RoomId), (i64, i64)>,
    messages: Vec<Message>,
    /// `(owner, contact)` pairs of contact lists.
    contacts: Vec<(UserId, UserId)>,
    /// Message ID to its ordinal: the room's unread-counting messages up to and including it.
    ordinals: HashMap<MessageId, i64>,
    feed: Vec<FeedItem>,
    last_id: i64,
    /// Rooms whose row was read with [`RowLock::Update`](crate::store::RowLock::Update), in
    /// order; not data, so [`MemoryTx::unchanged_since`] ignores it.
    locked: Vec<RoomId>,
    /// Uploaded files, and the rooms each belongs to.
    files: Vec<StoredFile>,
    file_rooms: Vec<(String, RoomId)>,
    /// `(user, photo)` of profile photos, and bios.
    photos: Vec<(UserId, UserPhoto)>,
    bios: HashMap<UserId, String>,
    /// `(user, room)` to the user's state of the room.
    room_states: HashMap<(UserId, RoomId), StateRow>,
    /// `(user, message, room, created)` of stars.
    stars: Vec<(UserId, MessageId, RoomId, i64)>,
    /// `(room, message)` of pins, in pinning order.
    pins: Vec<(RoomId, MessageId)>,
    /// `(blocker, blocked)` pairs, in blocking order.
    blocks: Vec<(UserId, UserId)>,
    /// Reports, in arrival order.
    reports: Vec<Report>,
    /// `(user, room)` to `(seq, at)` of a cleared history.
    cleared: HashMap<(UserId, RoomId), (i64, i64)>,
    /// `(user, message, room)` of messages deleted for one user.
    hidden: Vec<(UserId, MessageId, RoomId)>,
    /// Scheduled messages.
    scheduled: Vec<Scheduled>,
    /// `(message, receipt, room, seq)` of each recipient's receipts.
    receipts: Vec<(MessageId, Receipt, RoomId, i64)>,
    /// The webhook events recorded.
    webhook_events: Vec<(crate::domain::webhook::NewEvent, Vec<i64>)>,
}

impl MemoryTx {
    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// Adds a user to `app`.
    fn user(&mut self, app: AppId, xc_user_id: &str) -> User {
        let now = now_ms();
        let user = User {
            id: UserId(self.next_id()),
            xc_user_id: xc_user_id.into(),
            fullname: format!("{xc_user_id} (name)"),
            email: String::new(),
            phone: String::new(),
            username: String::new(),
            photo_thumbnail: String::new(),
            photo_fullsize: String::new(),
            role_code: String::new(),
            last_login: 0,
            last_activity: now,
            created: now,
            updated: now,
            deleted: 0,
        };
        self.users.push((app, user.clone()));
        user
    }

    /// Adds a Server API group (it has an `xcRoomID`) with no participants yet.
    fn group(&mut self, xc_room_id: &str, roles: &[String]) -> Room {
        let mut new_room = NewRoom::client_group("Team", RoomType::Group);
        new_room.xc_room_id = Some(xc_room_id);
        new_room.roles = roles;
        run_now(self.insert_shared_room(APP, &new_room))
            .map(|id| new_room.room(id))
            .unwrap()
    }

    /// Makes `user` an explicit participant of `room` (an admin if `admin`).
    fn join(&mut self, room: &Room, user: &User, admin: bool) {
        let joined = run_now(self.add_member(room.id, user.id, admin, now_ms(), Joining::NewRoom));
        assert!(joined.unwrap());
    }

    /// A text message `sender` sends to `room` under `local_id`.
    fn post(&mut self, room: &Room, sender: &User, local_id: &str, body: &str) -> Message {
        run_now(self.append_message(APP, room, text(sender, local_id, body), &[])).unwrap()
    }

    fn row(&self, room: RoomId) -> &RoomRow {
        self.rooms.iter().find(|r| r.room.id == room).unwrap()
    }

    fn message(&self, id: MessageId) -> &Message {
        self.messages.iter().find(|m| m.id == id).unwrap()
    }

    /// The explicit participants of `room` and whether each is an admin, by user ID.
    fn members_of(&self, room: RoomId) -> Vec<(UserId, bool)> {
        let mut members: Vec<_> = self
            .members
            .iter()
            .filter(|m| m.room == room)
            .map(|m| (m.user, m.admin))
            .collect();
        members.sort_unstable();
        members
    }

    /// Whether no row and no feed item changed since `before` (row locks taken are no change).
    fn unchanged_since(&self, before: &MemoryTx) -> bool {
        self.rooms == before.rooms
            && self.users == before.users
            && self.members == before.members
            && self.read_positions == before.read_positions
            && self.messages == before.messages
            && self.ordinals == before.ordinals
            && self.feed == before.feed
            && self.last_id == before.last_id
            && self.files == before.files
            && self.file_rooms == before.file_rooms
            && self.photos == before.photos
            && self.bios == before.bios
            && self.room_states == before.room_states
            && self.stars == before.stars
            && self.pins == before.pins
            && self.blocks == before.blocks
            && self.reports == before.reports
            && self.receipts == before.receipts
            && self.cleared == before.cleared
            && self.scheduled == before.scheduled
            && self.hidden == before.hidden
    }

    fn user_by_id(&self, id: UserId) -> Option<&User> {
        self.users.iter().map(|(_, u)| u).find(|u| u.id == id)
    }

    /// A message as reading it back gives it: with its room and sender as they are now.
    fn stored_message(&self, app: AppId, id: MessageId) -> Option<Message> {
        let mut message = self.messages.iter().find(|m| m.id == id)?.clone();
        let row = self.row(message.room.id);
        if row.app != app {
            return None;
        }
        message.room = row.room.clone();
        message.sender = message.sender.and_then(|s| self.user_by_id(s.id).cloned());
        Some(message)
    }

    /// A changed message's `updated` moves strictly forward (the stores' `touch`); then the
    /// message as reading it back gives it.
    fn touched(&mut self, app: AppId, id: MessageId) -> Option<Message> {
        let message = self.messages.iter_mut().find(|m| m.id == id)?;
        message.updated = now_ms().max(message.updated + 1);
        self.stored_message(app, id)
    }

    /// Moves a read position forward, never back.
    fn read_up_to(&mut self, user: UserId, room: RoomId, seq: i64, count: i64) {
        let position = self.read_positions.entry((user, room)).or_default();
        *position = (position.0.max(seq), position.1.max(count));
    }

    /// The explicit participants of `room` with `read_seq`, plus `extra` users at 0.
    fn audience_of(
        &self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
        read_seq: impl Fn(UserId) -> i64,
    ) -> Audience {
        let members: Vec<(UserId, i64)> = self
            .members
            .iter()
            .filter(|m| m.room == room.id)
            .map(|m| (m.user, read_seq(m.user)))
            .collect();
        Audience::with_extra(app, members, extra, room.participant_roles.clone())
    }
}

/// A group `team` with an admin (`alice`), a participant (`bob`), and a user of the app who
/// is not in it (`carol`).
struct Team {
    tx: MemoryTx,
    room: Room,
    admin: User,
    member: User,
    outsider: User,
}

fn team() -> Team {
    let mut tx = MemoryTx::default();
    let admin = tx.user(APP, "alice");
    let member = tx.user(APP, "bob");
    let outsider = tx.user(APP, "carol");
    let room = tx.group("team", &[]);
    tx.join(&room, &admin, true);
    tx.join(&room, &member, false);
    Team {
        tx,
        room,
        admin,
        member,
        outsider,
    }
}

/// `xc_user_id` locks (`locked`) or unlocks room `xc_room_id`, as the Server API's lock does.
fn lock(
    tx: &mut MemoryTx,
    xc_room_id: &str,
    xc_user_id: &str,
    locked: bool,
) -> Result<LockChange, StoreError> {
    run_now(crate::service::rooms::set_lock(
        tx,
        APP,
        xc_room_id.into(),
        xc_user_id.into(),
        locked,
    ))
}

/// The system actions of the messages, in order.
fn actions(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.action.as_str()).collect()
}

/// Who a feed item goes to (its explicit members), by user ID.
fn hearers(item: &FeedItem) -> Vec<UserId> {
    let mut ids: Vec<UserId> = item.audience.members.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids
}

fn ids(users: &[&User]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    ids.sort_unstable();
    ids
}

fn forbidden<T>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Forbidden(_)))
}

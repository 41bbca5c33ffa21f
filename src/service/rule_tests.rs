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
//! Rules reachable from here (`pub(super)`) are called directly on a `MemoryTx`; the private
//! ones (lock, room upsert, send, edit, receipts, delete) through the [`Service`] method that
//! runs them, over [`MemoryStore`], a [`Store`] whose only working method is `write`.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;

use super::membership::{self, ClientRoomChange};
use super::{ClientSession, Destination, Origin, Service, ServiceConfig, ServiceError};
use crate::domain::message::SYSTEM_MESSAGE_TYPE;
use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::{
    AppId, Audience, FeedItem, FeedKind, Message, NewMessage, Participation, Room, RoomBundle,
    RoomKind, RoomListEntry, RoomRef, RoomType, Target, User, UserId, Viewed, now_ms,
};
use crate::realtime::Fanout;
use crate::store::{
    ApiKeyRecord, ChatTx, ContactCounts, ContactOp, Joining, NewRoom, NewTokens, RoomChange,
    RoomUpsert, RowLock, SessionRecord, Store, StoreError, UserProfile, WriteWork,
};

/// The app every test works in.
const APP: AppId = 1;

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

/// An explicit participant.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    room: i64,
    user: UserId,
    admin: bool,
    joined: i64,
}

/// The tables a rule reaches through [`ChatTx`], in memory, and the feed it fills. Rooms,
/// users and messages take their IDs from one counter, so a rule that passes one kind of ID
/// where another is meant finds nothing instead of the wrong row.
#[derive(Debug, Clone, Default)]
struct MemoryTx {
    rooms: Vec<RoomRow>,
    users: Vec<(AppId, User)>,
    members: Vec<Member>,
    /// `(user, room)` to `(read_seq, read_count)`, which only ever move forward.
    read_positions: HashMap<(UserId, i64), (i64, i64)>,
    messages: Vec<Message>,
    /// Message ID to its ordinal: the room's unread-counting messages up to and including it.
    ordinals: HashMap<i64, i64>,
    feed: Vec<FeedItem>,
    last_id: i64,
    /// Rooms whose row was read with [`RowLock::Update`], in order; not data, so
    /// [`MemoryTx::unchanged_since`] ignores it.
    locked: Vec<i64>,
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
            id: self.next_id(),
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

    fn row(&self, room: i64) -> &RoomRow {
        self.rooms.iter().find(|r| r.room.id == room).unwrap()
    }

    fn message(&self, id: i64) -> &Message {
        self.messages.iter().find(|m| m.id == id).unwrap()
    }

    /// The explicit participants of `room` and whether each is an admin, by user ID.
    fn members_of(&self, room: i64) -> Vec<(UserId, bool)> {
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
    }

    fn user_by_id(&self, id: UserId) -> Option<&User> {
        self.users.iter().map(|(_, u)| u).find(|u| u.id == id)
    }

    /// A message as reading it back gives it: with its room and sender as they are now.
    fn stored_message(&self, app: AppId, id: i64) -> Option<Message> {
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
    fn touched(&mut self, app: AppId, id: i64) -> Option<Message> {
        let message = self.messages.iter_mut().find(|m| m.id == id)?;
        message.updated = now_ms().max(message.updated + 1);
        self.stored_message(app, id)
    }

    /// Moves a read position forward, never back.
    fn read_up_to(&mut self, user: UserId, room: i64, seq: i64, count: i64) {
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
        let mut members: Vec<(UserId, i64)> = self
            .members
            .iter()
            .filter(|m| m.room == room.id)
            .map(|m| (m.user, read_seq(m.user)))
            .collect();
        for user in extra {
            if !members.iter().any(|(id, _)| id == user) {
                members.push((*user, 0));
            }
        }
        Audience {
            app,
            members,
            roles: room.participant_roles.clone(),
        }
    }
}

#[async_trait]
impl ChatTx for MemoryTx {
    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        lock: RowLock,
    ) -> Result<Option<Room>, StoreError> {
        let room = self
            .rooms
            .iter()
            .find(|r| {
                r.app == app
                    && matches!(&r.room.kind,
                        RoomKind::Shared { xc_room_id: Some(id) } if id == xc_room_id)
            })
            .map(|r| r.room.clone());
        if let (Some(room), RowLock::Update) = (&room, lock) {
            self.locked.push(room.id);
        }
        Ok(room)
    }

    async fn room_by_id(&mut self, app: AppId, id: i64, lock: RowLock) -> Result<Room, StoreError> {
        let room = self
            .rooms
            .iter()
            .find(|r| r.app == app && r.room.id == id)
            .map(|r| r.room.clone())
            .ok_or(StoreError::RoomNotFound)?;
        if lock == RowLock::Update {
            self.locked.push(room.id);
        }
        Ok(room)
    }

    async fn bundle(&mut self, room: Room) -> Result<RoomBundle, StoreError> {
        let mut members: Vec<&Member> = self.members.iter().filter(|m| m.room == room.id).collect();
        members.sort_unstable_by_key(|m| (m.joined, m.user));
        // A join with the users table: a member without a user row is not listed.
        let members: Vec<(User, bool)> = members
            .into_iter()
            .filter_map(|m| self.user_by_id(m.user).map(|u| (u.clone(), m.admin)))
            .collect();
        Ok(RoomBundle {
            room,
            admin_ids: members
                .iter()
                .filter(|(_, admin)| *admin)
                .map(|(u, _)| u.id)
                .collect(),
            participants: members.into_iter().map(|(u, _)| u).collect(),
        })
    }

    async fn insert_shared_room(
        &mut self,
        app: AppId,
        room: &NewRoom<'_>,
    ) -> Result<i64, StoreError> {
        if let Some(xc) = room.xc_room_id
            && self.rooms.iter().any(|r| {
                r.app == app
                    && matches!(&r.room.kind, RoomKind::Shared { xc_room_id: Some(id) } if id == xc)
            })
        {
            return Err(StoreError::Other(
                "UNIQUE constraint failed: rooms.xc_room_id".into(),
            ));
        }
        let id = self.next_id();
        let now = now_ms();
        self.rooms.push(RoomRow {
            app,
            room: room.room(id),
            locked_by: None,
            last_seq: 0,
            chat_count: 0,
            last_activity: now,
            updated: now,
        });
        Ok(id)
    }

    async fn update_shared_room(
        &mut self,
        _app: AppId,
        room: i64,
        upsert: &RoomUpsert,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            let room = &mut row.room;
            room.name.clone_from(&upsert.name);
            if let Some(thumbnail) = &upsert.photo_thumbnail {
                room.photo_thumbnail.clone_from(thumbnail);
            }
            if let Some(fullsize) = &upsert.photo_fullsize {
                room.photo_fullsize.clone_from(fullsize);
            }
            if let Some(tags) = &upsert.tags {
                room.tags.clone_from(tags);
            }
            if let Some(roles) = &upsert.participant_roles {
                room.participant_roles.clone_from(roles);
            }
            row.updated = now;
        }
        Ok(())
    }

    async fn rename_room(&mut self, room: i64, name: &str, now: i64) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.name = name.into();
            row.updated = now;
        }
        Ok(())
    }

    async fn add_member(
        &mut self,
        room: i64,
        user: UserId,
        admin: bool,
        now: i64,
        joining: Joining,
    ) -> Result<bool, StoreError> {
        if self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user)
        {
            return Ok(false);
        }
        self.members.push(Member {
            room,
            user,
            admin,
            joined: now,
        });
        // A room with history: the newcomer's position starts at its present. A new room has
        // none, and a missing position reads as its start.
        if joining == Joining::ExistingRoom
            && let Some(row) = self.rooms.iter().find(|r| r.room.id == room)
        {
            let (seq, count) = (row.last_seq, row.chat_count);
            self.read_up_to(user, room, seq, count);
        }
        Ok(true)
    }

    async fn remove_member(&mut self, room: i64, user: UserId) -> Result<bool, StoreError> {
        let before = self.members.len();
        self.members.retain(|m| !(m.room == room && m.user == user));
        Ok(self.members.len() < before)
    }

    async fn is_admin(&mut self, room: i64, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user && m.admin))
    }

    async fn set_admin(
        &mut self,
        room: i64,
        user: UserId,
        admin: bool,
    ) -> Result<bool, StoreError> {
        match self
            .members
            .iter_mut()
            .find(|m| m.room == room && m.user == user && m.admin != admin)
        {
            Some(member) => {
                member.admin = admin;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|(a, u)| *a == app && u.xc_user_id == xc_user_id)
            .map(|(_, u)| u.clone()))
    }

    async fn users_by_xc_ids(
        &mut self,
        app: AppId,
        xc_user_ids: &[String],
    ) -> Result<Vec<User>, StoreError> {
        let mut users = Vec::with_capacity(xc_user_ids.len());
        for xc in xc_user_ids {
            let user = self.user_by_xc_id(app, xc).await?;
            users.push(user.ok_or_else(|| StoreError::UnknownUser(xc.clone()))?);
        }
        Ok(users)
    }

    async fn user_in_app(&mut self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self
            .users
            .iter()
            .find(|(a, u)| *a == app && u.id == id)
            .map(|(_, u)| u.clone()))
    }

    async fn set_room_lock(
        &mut self,
        room: i64,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.rooms.iter_mut().find(|r| r.room.id == room) {
            row.room.locked_time = locked_time;
            row.locked_by = locked_by;
            row.updated = now;
        }
        Ok(())
    }

    /// What `store/sqlite/append.rs` does: the next ID, the room's next `seq`, a `created`
    /// strictly after the room's previous message, the unread counter, the sender's read
    /// position, and a new feed item for the room's members (read positions 0) and `extra`.
    async fn append_message(
        &mut self,
        app: AppId,
        room: &Room,
        new: NewMessage,
        extra: &[UserId],
    ) -> Result<Message, StoreError> {
        let counts = new.counts_as_unread();
        let id = self.next_id();
        let row = self
            .rooms
            .iter_mut()
            .find(|r| r.room.id == room.id)
            .ok_or_else(|| StoreError::Other("append to a room without a row".into()))?;
        row.last_seq += 1;
        row.chat_count += i64::from(counts);
        row.last_activity = now_ms().max(row.last_activity + 1);
        let (seq, chat_count, created) = (row.last_seq, row.chat_count, row.last_activity);
        let sender = match new.sender {
            Some(sender) => {
                self.read_up_to(sender, room.id, seq, chat_count);
                Some(
                    self.user_by_id(sender)
                        .cloned()
                        .ok_or(StoreError::UserNotFound)?,
                )
            }
            None => None,
        };
        // Messages that never count as unread are born delivered and read.
        let settled = !counts;
        let message = Message {
            id,
            seq,
            room: room.clone(),
            sender,
            local_id: new.local_id,
            kind: new.kind,
            body: new.body,
            data: new.data,
            filter_id: new.filter_id,
            is_hidden: new.is_hidden,
            quote: new.quote,
            reply_to: new.reply_to,
            forward_from: new.forward_from,
            action: new.action,
            target: new.target,
            is_delivered: settled,
            is_read: settled,
            is_deleted: false,
            is_edited: false,
            created,
            updated: created,
            deleted: 0,
        };
        self.messages.push(message.clone());
        self.ordinals.insert(id, chat_count);
        let audience = self.audience_of(app, room, extra, |_| 0);
        self.feed.push(FeedItem {
            kind: FeedKind::New,
            message: message.clone(),
            audience,
        });
        Ok(message)
    }

    async fn resolve_room(
        &mut self,
        app: AppId,
        user: &User,
        room: RoomRef,
        create: bool,
    ) -> Result<Option<Room>, StoreError> {
        let not_theirs = || StoreError::Forbidden("not a participant of this room".into());
        match room {
            RoomRef::Personal { a, b } => {
                if user.id != a && user.id != b {
                    return Err(not_theirs());
                }
                let existing = self
                    .rooms
                    .iter()
                    .find(|r| r.app == app && r.room.kind == RoomKind::Personal { a, b });
                if let Some(row) = existing {
                    return Ok(Some(row.room.clone()));
                }
                let other = if user.id == a { b } else { a };
                if self.user_in_app(app, other).await?.is_none() {
                    return Err(StoreError::RoomNotFound);
                }
                if !create {
                    return Ok(None);
                }
                let peers = match (self.user_by_id(a), self.user_by_id(b)) {
                    (Some(a), Some(b)) => Some(Box::new((a.clone(), b.clone()))),
                    _ => None,
                };
                let mut room = NewRoom::client_group("", RoomType::Personal).room(self.next_id());
                room.kind = RoomKind::Personal { a, b };
                room.peers = peers;
                let now = now_ms();
                self.rooms.push(RoomRow {
                    app,
                    room: room.clone(),
                    locked_by: None,
                    last_seq: 0,
                    chat_count: 0,
                    last_activity: now,
                    updated: now,
                });
                for member in [a, b] {
                    self.add_member(room.id, member, false, now, Joining::NewRoom)
                        .await?;
                }
                Ok(Some(room))
            }
            RoomRef::Shared(id) => {
                let room = self.room_by_id(app, id, RowLock::None).await?;
                let admitted = match room.participation(user) {
                    Participation::Yes => true,
                    Participation::No => false,
                    Participation::IfMember => self.is_member(room.id, user.id).await?,
                };
                if !admitted {
                    return Err(not_theirs());
                }
                Ok(Some(room))
            }
        }
    }

    async fn is_member(&mut self, room: i64, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .members
            .iter()
            .any(|m| m.room == room && m.user == user))
    }

    async fn message_by_id(&mut self, app: AppId, id: i64) -> Result<Option<Message>, StoreError> {
        Ok(self.stored_message(app, id))
    }

    async fn message_ordinal(&mut self, id: i64) -> Result<i64, StoreError> {
        self.ordinals
            .get(&id)
            .copied()
            .ok_or_else(|| StoreError::Other("no message with this ID".into()))
    }

    async fn set_read_position(
        &mut self,
        user: UserId,
        room: i64,
        seq: i64,
        count: i64,
    ) -> Result<(), StoreError> {
        self.read_up_to(user, room, seq, count);
        Ok(())
    }

    async fn set_receipt(
        &mut self,
        app: AppId,
        id: i64,
        read: bool,
    ) -> Result<Option<Message>, StoreError> {
        // Changed only if it was not delivered yet, or is read now and was not before.
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && (!m.is_delivered || (read && !m.is_read)))
        else {
            return Ok(None);
        };
        message.is_delivered = true;
        message.is_read |= read;
        Ok(self.touched(app, id))
    }

    async fn delete_message(
        &mut self,
        app: AppId,
        id: i64,
        now: i64,
    ) -> Result<Option<Message>, StoreError> {
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && !m.is_deleted)
        else {
            return Ok(None);
        };
        message.is_deleted = true;
        message.deleted = now;
        Ok(self.touched(app, id))
    }

    async fn own_messages_by_local_ids(
        &mut self,
        sender: UserId,
        local_ids: &[String],
    ) -> Result<Vec<Message>, StoreError> {
        let mut found: Vec<(i64, AppId)> = self
            .messages
            .iter()
            .filter(|m| {
                local_ids.contains(&m.local_id) && m.sender.as_ref().is_some_and(|s| s.id == sender)
            })
            .map(|m| (m.id, self.row(m.room.id).app))
            .collect();
        found.sort_unstable();
        Ok(found
            .into_iter()
            .filter_map(|(id, app)| self.stored_message(app, id))
            .collect())
    }

    async fn set_last_activity(&mut self, user: UserId, at: i64) -> Result<(), StoreError> {
        if let Some((_, user)) = self.users.iter_mut().find(|(_, u)| u.id == user) {
            user.last_activity = at;
        }
        Ok(())
    }

    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: i64,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError> {
        // The check and the change are one step, as in the one UPDATE of the stores.
        let Some(message) = self
            .messages
            .iter_mut()
            .find(|m| m.id == id && !m.is_deleted)
        else {
            return Ok(None);
        };
        message.body = body.into();
        message.data = data.into();
        message.is_edited = true;
        Ok(self.touched(app, id))
    }

    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<Audience, StoreError> {
        let positions = &self.read_positions;
        Ok(self.audience_of(app, room, extra, |user| {
            positions.get(&(user, room.id)).map_or(0, |p| p.0)
        }))
    }

    fn emit(&mut self, item: FeedItem) {
        self.feed.push(item);
    }
}

/// A [`Store`] over one [`MemoryTx`], for the rules reachable only through [`Service`]. It
/// keeps whatever a rule did even when the rule fails (the real stores roll it back), so a
/// test also sees whether a refused rule wrote anything before refusing.
struct MemoryStore {
    tx: Mutex<MemoryTx>,
}

/// What the rule tests never call: they reach the store only through `write`.
const NOT_A_RULE: &str = "the rule tests use only Store::write";

#[async_trait]
impl Store for MemoryStore {
    async fn write(&self, work: WriteWork) -> Result<Box<dyn Any + Send>, StoreError> {
        let mut tx = self.tx.lock().unwrap();
        run_now(work(&mut *tx))
    }

    async fn close(&self) {}

    async fn create_api_key(
        &self,
        _app_name: &str,
        _kind: KeyKind,
        _key_id: &str,
        _secret_hash: SecretHash,
    ) -> Result<ApiKeyRecord, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn list_api_keys(&self, _kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn revoke_api_key(&self, _kind: KeyKind, _key_id: &str) -> Result<bool, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn find_api_key(
        &self,
        _kind: KeyKind,
        _key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn upsert_user(&self, _app: AppId, _profile: UserProfile) -> Result<User, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn issue_auth_ticket(
        &self,
        _app: AppId,
        _profile: UserProfile,
        _ticket_hash: SecretHash,
        _expires: i64,
    ) -> Result<User, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn sync_contacts(
        &self,
        _app: AppId,
        _ops: Vec<ContactOp>,
    ) -> Result<ContactCounts, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn room_by_xc_id(
        &self,
        _app: AppId,
        _xc_room_id: &str,
    ) -> Result<RoomBundle, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn rooms_of_user(
        &self,
        _app: AppId,
        _xc_user_id: &str,
        _only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<(User, Vec<RoomListEntry>), StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn exchange_ticket(
        &self,
        _app: AppId,
        _ticket_hash: SecretHash,
        _device: &str,
        _tokens: NewTokens,
    ) -> Result<User, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn refresh_session(
        &self,
        _app: AppId,
        _refresh_hash: SecretHash,
        _tokens: NewTokens,
    ) -> Result<User, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn session_by_access(
        &self,
        _access_hash: SecretHash,
    ) -> Result<Option<SessionRecord>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn revoke_session(&self, _session: i64) -> Result<bool, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn revoke_user_sessions(
        &self,
        _app: AppId,
        _xc_user_id: &str,
    ) -> Result<Vec<i64>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn user_by_id(&self, _app: AppId, _id: UserId) -> Result<Option<User>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn user_by_xc_id(
        &self,
        _app: AppId,
        _xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn user_by_username(
        &self,
        _app: AppId,
        _username: &str,
        _ignore_case: bool,
    ) -> Result<Option<User>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn contacts_of(&self, _user: UserId) -> Result<Vec<User>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn set_push_tokens(
        &self,
        _user: UserId,
        _device: &str,
        _fcm: &str,
        _apn: &str,
    ) -> Result<(), StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn touch_user(&self, _user: UserId, _at: i64) -> Result<(), StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn room_sharers(&self, _user: UserId, _limit: i64) -> Result<Vec<UserId>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn client_room(
        &self,
        _app: AppId,
        _user: User,
        _room: RoomRef,
    ) -> Result<RoomBundle, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn room_audience(
        &self,
        _app: AppId,
        _user: User,
        _room: RoomRef,
    ) -> Result<Audience, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn history_before(
        &self,
        _app: AppId,
        _user: User,
        _room: RoomRef,
        _max_created: i64,
        _limit: i64,
    ) -> Result<(Vec<Viewed>, bool), StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn history_after(
        &self,
        _app: AppId,
        _user: User,
        _room: RoomRef,
        _min_created: i64,
        _last_updated: i64,
    ) -> Result<Vec<Viewed>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn room_list(
        &self,
        _app: AppId,
        _user: User,
        _device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        unreachable!("{NOT_A_RULE}")
    }

    async fn new_and_updated(
        &self,
        _app: AppId,
        _user: User,
        _device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        unreachable!("{NOT_A_RULE}")
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

/// `actor`'s client room operation, run as the client API runs it.
fn client_change(
    tx: &mut MemoryTx,
    actor: &User,
    change: ClientRoomChange,
) -> Result<RoomChange, StoreError> {
    run_now(membership::client_change(tx, APP, actor.clone(), change))
}

/// A Server API participant change of room `team`.
fn server_change(
    tx: &mut MemoryTx,
    xc_user_ids: &[&str],
    add: bool,
) -> Result<RoomChange, StoreError> {
    let ids = xc_user_ids.iter().map(|&id| id.to_owned()).collect();
    run_now(membership::server_change_participants(
        tx,
        APP,
        "team".into(),
        ids,
        add,
    ))
}

/// A service over `tx`, and the store to look into afterwards.
fn serve(tx: MemoryTx) -> (Arc<MemoryStore>, Service) {
    let store = Arc::new(MemoryStore { tx: Mutex::new(tx) });
    let service = Service::new(store.clone(), Fanout::default(), ServiceConfig::default());
    (store, service)
}

fn session(user: &User) -> ClientSession {
    ClientSession {
        app: APP,
        session: 1,
        device: "phone".into(),
        user: user.clone(),
    }
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

// Locking (the lock rule of rooms.rs, through Service::set_room_lock).

#[test]
fn locking_twice_changes_nothing_and_appends_nothing_the_second_time() {
    let Team {
        tx, room, admin, ..
    } = team();
    let (store, service) = serve(tx);

    let first = run_now(service.set_room_lock(APP, "team", "alice", true)).unwrap();
    assert!(first.changed);
    assert_eq!(actions(&first.messages), ["room/lock"]);
    let before = store.tx.lock().unwrap().clone();

    let second = run_now(service.set_room_lock(APP, "team", "alice", true)).unwrap();
    assert!(!second.changed);
    assert!(second.messages.is_empty());
    let tx = store.tx.lock().unwrap();
    assert!(tx.unchanged_since(&before));
    assert_ne!(tx.row(room.id).room.locked_time, 0);
    assert_eq!(tx.row(room.id).locked_by, Some(admin.id));
}

#[test]
fn unlocking_a_room_that_is_not_locked_changes_nothing() {
    let Team { tx, .. } = team();
    let before = tx.clone();
    let (store, service) = serve(tx);

    let change = run_now(service.set_room_lock(APP, "team", "bob", false)).unwrap();
    assert!(!change.changed);
    assert!(change.messages.is_empty());
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
}

#[test]
fn a_lock_is_stored_with_who_set_it_and_the_whole_room_hears_it_from_them() {
    let Team {
        tx,
        room,
        admin,
        member,
        ..
    } = team();
    let (store, service) = serve(tx);

    let change = run_now(service.set_room_lock(APP, "team", "bob", true)).unwrap();
    let lock = &change.messages[0];
    assert_eq!(lock.sender.as_ref().map(|s| s.id), Some(member.id));
    assert_eq!(lock.kind, SYSTEM_MESSAGE_TYPE);
    let tx = store.tx.lock().unwrap();
    assert_eq!(tx.row(room.id).locked_by, Some(member.id));
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::New);
    assert_eq!(item.message.id, lock.id);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn unlocking_a_locked_room_clears_the_lock_and_says_so() {
    let Team { tx, room, .. } = team();
    let (store, service) = serve(tx);
    run_now(service.set_room_lock(APP, "team", "alice", true)).unwrap();

    let change = run_now(service.set_room_lock(APP, "team", "bob", false)).unwrap();
    assert!(change.changed);
    assert_eq!(actions(&change.messages), ["room/unlock"]);
    let tx = store.tx.lock().unwrap();
    assert_eq!(tx.row(room.id).room.locked_time, 0);
    assert_eq!(tx.row(room.id).locked_by, None);
}

#[test]
fn a_missing_room_is_reported_before_an_unknown_user() {
    let Team { tx, .. } = team();
    let before = tx.clone();
    let (store, service) = serve(tx);

    let missing = run_now(service.set_room_lock(APP, "no-such-room", "nobody", true));
    assert_eq!(missing.unwrap_err(), ServiceError::RoomNotFound);
    let unknown = run_now(service.set_room_lock(APP, "team", "nobody", true));
    assert_eq!(
        unknown.unwrap_err(),
        ServiceError::UnknownUser("nobody".into())
    );
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
}

// Server API participant changes (membership::server_change_participants).

#[test]
fn adding_an_existing_participant_appends_nothing() {
    let Team { mut tx, room, .. } = team();
    let before = tx.clone();

    let change = server_change(&mut tx, &["bob"], true).unwrap();
    assert!(change.messages.is_empty());
    assert_eq!(change.bundle.participants.len(), 2);
    assert!(tx.unchanged_since(&before));
    assert_eq!(tx.row(room.id).last_seq, 0);
}

#[test]
fn removing_a_user_who_is_not_a_participant_appends_nothing() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let change = server_change(&mut tx, &["carol"], false).unwrap();
    assert!(change.messages.is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn each_user_added_gets_a_message_of_their_own_sent_by_the_server() {
    let Team {
        mut tx,
        room,
        outsider,
        ..
    } = team();
    let dave = tx.user(APP, "dave");

    let change = server_change(&mut tx, &["carol", "dave"], true).unwrap();
    assert_eq!(
        actions(&change.messages),
        ["room/addParticipant", "room/addParticipant"]
    );
    let targets: Vec<&str> = change
        .messages
        .iter()
        .map(|m| m.target.target_id.as_str())
        .collect();
    assert_eq!(targets, [outsider.id.to_string(), dave.id.to_string()]);
    assert!(change.messages.iter().all(|m| m.sender.is_none()));
    assert_eq!(
        change.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(change.bundle.participants.len(), 4);
    assert_eq!(tx.members_of(room.id).len(), 4);
}

#[test]
fn a_user_named_twice_is_changed_once() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        outsider,
    } = team();

    let added = server_change(&mut tx, &["carol", "carol"], true).unwrap();
    assert_eq!(actions(&added.messages), ["room/addParticipant"]);
    let removed = server_change(&mut tx, &["carol", "carol"], false).unwrap();
    assert_eq!(actions(&removed.messages), ["room/removeParticipant"]);
    let promoted = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![member.id, member.id],
            promote: true,
        },
    )
    .unwrap();
    assert_eq!(actions(&promoted.messages), ["room/promoteAdmin"]);
    assert!(
        !tx.members_of(room.id)
            .iter()
            .any(|(id, _)| *id == outsider.id)
    );
}

#[test]
fn a_removed_participant_is_in_the_audience_of_the_message_that_removes_them() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = server_change(&mut tx, &["bob"], false).unwrap();
    assert_eq!(actions(&change.messages), ["room/removeParticipant"]);
    assert_eq!(change.messages[0].target.target_id, member.id.to_string());
    assert!(change.bundle.participants.iter().all(|p| p.id != member.id));
    assert_eq!(tx.members_of(room.id), [(admin.id, true)]);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.message.id, change.messages[0].id);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn one_unknown_user_fails_the_whole_server_request_and_changes_nothing() {
    let Team { mut tx, .. } = team();
    let before = tx.clone();

    let result = server_change(&mut tx, &["carol", "ghost"], true);
    assert_eq!(result.unwrap_err(), StoreError::UnknownUser("ghost".into()));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_participant_added_to_a_room_with_history_starts_reading_at_its_present() {
    let Team {
        mut tx,
        room,
        admin,
        outsider,
        ..
    } = team();
    tx.post(&room, &admin, "m1", "hello");
    tx.post(&room, &admin, "m2", "again");

    server_change(&mut tx, &["carol"], true).unwrap();
    assert_eq!(
        tx.read_positions.get(&(outsider.id, room.id)),
        Some(&(2, 2))
    );
}

// Client room operations (membership::client_change).

#[test]
fn only_admins_manage_a_group() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        outsider,
    } = team();
    let shared = RoomRef::Shared(room.id);
    let before = tx.clone();

    for change in [
        ClientRoomChange::Rename {
            room: shared,
            name: "Mine".into(),
        },
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![outsider.id],
            add: true,
        },
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![admin.id],
            add: false,
        },
        ClientRoomChange::Admins {
            room: shared,
            user_ids: vec![member.id],
            promote: true,
        },
    ] {
        assert!(
            forbidden(client_change(&mut tx, &member, change.clone())),
            "{change:?}"
        );
        assert!(
            forbidden(client_change(&mut tx, &outsider, change.clone())),
            "{change:?}"
        );
        assert!(tx.unchanged_since(&before), "{change:?}");
    }

    let added = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Participants {
            room: shared,
            user_ids: vec![outsider.id],
            add: true,
        },
    )
    .unwrap();
    assert_eq!(actions(&added.messages), ["room/addParticipant"]);
    assert_eq!(
        added.messages[0].sender.as_ref().map(|s| s.id),
        Some(admin.id)
    );
}

#[test]
fn personal_rooms_have_nobody_to_manage() {
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
    let before = tx.clone();

    for change in [
        ClientRoomChange::Rename {
            room: personal,
            name: "Us".into(),
        },
        ClientRoomChange::Participants {
            room: personal,
            user_ids: vec![outsider.id],
            add: true,
        },
        ClientRoomChange::Admins {
            room: personal,
            user_ids: vec![member.id],
            promote: true,
        },
    ] {
        assert!(
            forbidden(client_change(&mut tx, &admin, change.clone())),
            "{change:?}"
        );
    }
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_rule_locks_the_rooms_row_before_it_decides_on_it() {
    let Team {
        mut tx,
        room,
        member,
        ..
    } = team();

    let refused = client_change(
        &mut tx,
        &member,
        ClientRoomChange::Rename {
            room: RoomRef::Shared(room.id),
            name: "Mine".into(),
        },
    );
    assert!(forbidden(refused));
    assert_eq!(tx.locked, [room.id]);
    server_change(&mut tx, &["carol"], true).unwrap();
    assert_eq!(tx.locked, [room.id, room.id]);
}

#[test]
fn a_renamed_room_is_announced_under_its_new_name() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Rename {
            room: RoomRef::Shared(room.id),
            name: "Renamed".into(),
        },
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/update"]);
    assert_eq!(change.messages[0].room.name, "Renamed");
    assert_eq!(change.bundle.room.name, "Renamed");
    assert_eq!(tx.row(room.id).room.name, "Renamed");
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
}

#[test]
fn leaving_a_room_one_is_not_an_explicit_participant_of_is_refused_and_changes_nothing() {
    let mut tx = MemoryTx::default();
    let admin = tx.user(APP, "alice");
    let outsider = tx.user(APP, "carol");
    let mut agent = tx.user(APP, "agent");
    agent.role_code = "support".into();
    tx.users.last_mut().unwrap().1 = agent.clone();
    let room = tx.group("ticket", &["support".to_owned()]);
    tx.join(&room, &admin, true);
    let before = tx.clone();

    // Neither a user of the app who is not in the room nor one who is in it only by their
    // role is an explicit participant to remove.
    for user in [&outsider, &agent] {
        let result = client_change(
            &mut tx,
            user,
            ClientRoomChange::Leave(RoomRef::Shared(room.id)),
        );
        assert!(forbidden(result), "{}", user.xc_user_id);
    }
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_personal_room_cannot_be_left() {
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

    assert!(forbidden(client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Leave(personal)
    )));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn a_leaver_hears_the_message_that_says_they_left() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &member,
        ClientRoomChange::Leave(RoomRef::Shared(room.id)),
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/leave"]);
    assert_eq!(
        change.messages[0].sender.as_ref().map(|s| s.id),
        Some(member.id)
    );
    assert_eq!(tx.members_of(room.id), [(admin.id, true)]);
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
}

#[test]
fn the_creator_of_a_group_is_its_admin_and_the_other_users_are_not() {
    let Team {
        mut tx,
        admin,
        member,
        outsider,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &outsider,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![admin.id, member.id],
        },
    )
    .unwrap();
    let room = &change.bundle.room;
    assert_eq!(change.bundle.admin_ids, [outsider.id]);
    let mut participants: Vec<UserId> = change.bundle.participants.iter().map(|u| u.id).collect();
    participants.sort_unstable();
    assert_eq!(participants, ids(&[&admin, &member, &outsider]));
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false), (outsider.id, true)]
    );
    assert_eq!(
        (room.name.as_str(), room.room_type),
        ("New", RoomType::Group)
    );
    assert_eq!(actions(&change.messages), ["room/create"]);
    assert_eq!(
        change.messages[0].sender.as_ref().map(|s| s.id),
        Some(outsider.id)
    );
    assert_eq!(
        hearers(tx.feed.last().unwrap()),
        ids(&[&admin, &member, &outsider])
    );
}

#[test]
fn creating_a_group_with_an_unknown_user_creates_nothing() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();
    let before = tx.clone();

    let result = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![member.id, 9999],
        },
    );
    assert_eq!(result.unwrap_err(), StoreError::UnknownUser("9999".into()));
    assert!(tx.unchanged_since(&before));
}

#[test]
fn promoting_an_admin_twice_appends_one_message() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    let promote = ClientRoomChange::Admins {
        room: RoomRef::Shared(room.id),
        user_ids: vec![member.id],
        promote: true,
    };

    let first = client_change(&mut tx, &admin, promote.clone()).unwrap();
    assert_eq!(actions(&first.messages), ["room/promoteAdmin"]);
    assert_eq!(first.messages[0].target.target_id, member.id.to_string());
    let second = client_change(&mut tx, &admin, promote).unwrap();
    assert!(second.messages.is_empty());
    let mut admins = second.bundle.admin_ids.clone();
    admins.sort_unstable();
    assert_eq!(admins, ids(&[&admin, &member]));
    assert_eq!(tx.row(room.id).last_seq, 1);
}

#[test]
fn promoting_a_user_who_is_not_a_participant_appends_nothing() {
    let Team {
        mut tx,
        room,
        admin,
        outsider,
        ..
    } = team();
    let before = tx.clone();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![outsider.id],
            promote: true,
        },
    )
    .unwrap();
    assert!(change.messages.is_empty());
    assert!(tx.unchanged_since(&before));
}

#[test]
fn demoting_an_admin_appends_one_message_and_leaves_them_a_participant() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Admins {
            room: RoomRef::Shared(room.id),
            user_ids: vec![admin.id],
            promote: false,
        },
    )
    .unwrap();
    assert_eq!(actions(&change.messages), ["room/demoteAdmin"]);
    assert!(change.bundle.admin_ids.is_empty());
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false)]
    );
}

// Editing (the edit rule of messages.rs, through Service::edit_message).

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
    let (store, service) = serve(tx);

    let result = run_now(service.edit_message(
        &session(&member),
        "m1".into(),
        "hijacked".into(),
        String::new(),
    ));
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "{result:?}"
    );
    let tx = store.tx.lock().unwrap();
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
    let (store, service) = serve(tx);

    let result = run_now(service.edit_message(
        &session(&admin),
        "m1".into(),
        "revived".into(),
        String::new(),
    ));
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "{result:?}"
    );
    let tx = store.tx.lock().unwrap();
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
    let (store, service) = serve(tx);

    let edited = run_now(service.edit_message(
        &session(&admin),
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
    let tx = store.tx.lock().unwrap();
    assert_eq!(tx.message(sent.id).body, "fixed");
    assert_eq!(tx.feed.len(), 2);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::Updated);
    assert_eq!(item.message, edited);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
}

#[test]
fn a_creator_who_names_themselves_or_a_user_twice_joins_once_and_stays_the_admin() {
    let Team {
        mut tx,
        admin,
        member,
        ..
    } = team();

    let change = client_change(
        &mut tx,
        &admin,
        ClientRoomChange::Create {
            name: "New".into(),
            room_type: RoomType::Group,
            user_ids: vec![member.id, admin.id, member.id],
        },
    )
    .unwrap();
    let room = change.bundle.room.id;
    assert_eq!(tx.members_of(room), [(admin.id, true), (member.id, false)]);
    assert_eq!(change.bundle.participants.len(), 2);
    assert_eq!(change.bundle.admin_ids, [admin.id]);
    assert_eq!(actions(&change.messages), ["room/create"]);
}

// The Server API's room upsert (rooms.rs, through Service::create_or_update_room).

fn upsert(xc_room_id: &str, room_type: RoomType, name: &str, users: &[&str]) -> RoomUpsert {
    RoomUpsert {
        xc_room_id: xc_room_id.into(),
        room_type,
        name: name.into(),
        photo_thumbnail: None,
        photo_fullsize: None,
        tags: None,
        participant_xc_user_ids: users.iter().map(|&u| u.to_owned()).collect(),
        participant_roles: None,
    }
}

#[test]
fn a_new_room_lists_each_named_user_once_with_no_admin_and_the_server_announces_it() {
    let Team {
        tx, admin, member, ..
    } = team();
    let (store, service) = serve(tx);

    let new = upsert(
        "order-7",
        RoomType::Transaction,
        "Order 7",
        &["bob", "alice", "bob"],
    );
    let change = run_now(service.create_or_update_room(APP, new)).unwrap();
    let participants: Vec<UserId> = change.bundle.participants.iter().map(|u| u.id).collect();
    assert_eq!(participants, ids(&[&admin, &member]));
    assert!(change.bundle.admin_ids.is_empty());
    assert_eq!(actions(&change.messages), ["room/create"]);
    assert!(change.messages[0].sender.is_none());
    let tx = store.tx.lock().unwrap();
    assert_eq!(
        tx.members_of(change.bundle.room.id),
        [(admin.id, false), (member.id, false)]
    );
}

#[test]
fn an_existing_room_cannot_change_its_type_and_nothing_changes() {
    let Team { tx, room, .. } = team();
    let before = tx.clone();
    let (store, service) = serve(tx);

    let retyped = upsert("team", RoomType::Channel, "Renamed", &[]);
    let result = run_now(service.create_or_update_room(APP, retyped));
    assert!(
        matches!(result, Err(ServiceError::Conflict(_))),
        "{result:?}"
    );
    let tx = store.tx.lock().unwrap();
    assert!(tx.unchanged_since(&before));
    assert_eq!(tx.row(room.id).room.name, "Team");
}

#[test]
fn an_existing_room_takes_the_given_fields_keeps_the_others_and_appends_room_update() {
    let Team {
        mut tx,
        room,
        admin,
        member,
        ..
    } = team();
    tx.rooms[0].room.tags = vec!["kept".into()];
    let (store, service) = serve(tx);

    let mut update = upsert("team", RoomType::Group, "Renamed", &["carol"]);
    update.photo_thumbnail = Some("thumb.png".into());
    let change = run_now(service.create_or_update_room(APP, update)).unwrap();
    assert_eq!(actions(&change.messages), ["room/update"]);
    assert!(change.messages[0].sender.is_none());
    let updated = &change.bundle.room;
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.photo_thumbnail, "thumb.png");
    assert_eq!(updated.tags, ["kept"]);
    // The participants of an upsert are for new rooms only.
    let tx = store.tx.lock().unwrap();
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, true), (member.id, false)]
    );
}

// Sending (the send rule of messages.rs, through Service::send_parts).

/// `sender` sends one text part under `local_id`.
fn send(
    service: &Service,
    sender: &User,
    destination: Destination,
    local_id: &str,
    origin: Origin,
) -> Result<(Vec<Message>, bool), ServiceError> {
    let part = text(sender, local_id, "hello");
    run_now(service.send_parts(APP, sender.clone(), destination, vec![part], origin))
}

#[test]
fn a_client_cannot_send_into_a_locked_room_but_the_server_api_can() {
    let Team {
        tx,
        room,
        admin,
        member,
        ..
    } = team();
    let (store, service) = serve(tx);
    run_now(service.set_room_lock(APP, "team", "alice", true)).unwrap();
    let before = store.tx.lock().unwrap().clone();

    let shared = Destination::Room(RoomRef::Shared(room.id));
    let refused = send(&service, &member, shared, "c1", Origin::Client);
    assert_eq!(refused.unwrap_err(), ServiceError::Locked);
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
    let by_server = Destination::XcRoom("team".into());
    let (sent, duplicate) = send(&service, &admin, by_server, "s1", Origin::ServerApi).unwrap();
    assert!(!duplicate);
    assert_eq!(sent[0].seq, 2);
}

#[test]
fn a_repeated_local_id_returns_the_stored_message_and_appends_nothing() {
    let Team {
        tx, room, member, ..
    } = team();
    let (store, service) = serve(tx);
    let shared = || Destination::Room(RoomRef::Shared(room.id));

    let (first, duplicate) = send(&service, &member, shared(), "m1", Origin::Client).unwrap();
    assert!(!duplicate);
    let before = store.tx.lock().unwrap().clone();
    let (again, duplicate) = send(&service, &member, shared(), "m1", Origin::Client).unwrap();
    assert!(duplicate);
    assert_eq!(again, first);
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
}

#[test]
fn a_user_who_does_not_take_part_in_a_room_cannot_send_to_it() {
    let Team {
        tx, room, outsider, ..
    } = team();
    let before = tx.clone();
    let (store, service) = serve(tx);

    let shared = Destination::Room(RoomRef::Shared(room.id));
    let result = send(&service, &outsider, shared, "m1", Origin::ServerApi);
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "{result:?}"
    );
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
}

#[test]
fn the_first_message_of_a_personal_room_creates_it_for_its_two_users() {
    let Team {
        tx,
        admin,
        member,
        outsider,
        ..
    } = team();
    let (store, service) = serve(tx);
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };

    let (sent, _) = send(
        &service,
        &member,
        Destination::Room(personal),
        "m1",
        Origin::Client,
    )
    .unwrap();
    let room = &sent[0].room;
    assert_eq!(room.room_type, RoomType::Personal);
    assert_eq!(sent[0].seq, 1);
    let tx = store.tx.lock().unwrap();
    assert_eq!(
        tx.members_of(room.id),
        [(admin.id, false), (member.id, false)]
    );
    assert_eq!(hearers(tx.feed.last().unwrap()), ids(&[&admin, &member]));
    drop(tx);
    // A third user's message to their room is refused.
    let result = send(
        &service,
        &outsider,
        Destination::Room(personal),
        "m2",
        Origin::Client,
    );
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "{result:?}"
    );
}

// Receipts (the receipt rule of messages.rs, through Service::mark_messages).

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
    let (store, service) = serve(tx);
    let mark = |user: &User, ids: Vec<i64>, read: bool| {
        run_now(service.mark_messages(&session(user), ids, read)).unwrap()
    };

    // Skipped, not refused: the sender's own message, a reader not in the room, an unknown ID.
    assert!(mark(&admin, vec![sent.id], true).is_empty());
    assert!(mark(&outsider, vec![sent.id], false).is_empty());
    assert!(mark(&member, vec![9999], false).is_empty());
    assert_eq!(mark(&member, vec![sent.id, sent.id], false), [sent.id]);
    // Already delivered: another recipient's delivery changes nothing.
    assert!(mark(&dave, vec![sent.id], false).is_empty());
    let tx = store.tx.lock().unwrap();
    assert!(tx.message(sent.id).is_delivered);
    assert!(!tx.message(sent.id).is_read);
    assert_eq!(tx.feed.len(), 2);
    let item = tx.feed.last().unwrap();
    assert_eq!(item.kind, FeedKind::Updated);
    assert_eq!(hearers(item), ids(&[&admin, &member]));
    assert!(item.audience.roles.is_empty());
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
    let (store, service) = serve(tx);

    let changed = run_now(service.mark_messages(&session(&member), vec![second.id], true)).unwrap();
    assert_eq!(changed, [second.id]);
    let tx = store.tx.lock().unwrap();
    assert_eq!(tx.read_positions.get(&(member.id, room.id)), Some(&(2, 2)));
    let read = tx.message(second.id);
    assert!(read.is_delivered && read.is_read);
}

#[test]
fn a_system_message_is_born_read_so_a_receipt_for_it_changes_and_reports_nothing() {
    let Team {
        tx, room, member, ..
    } = team();
    let (store, service) = serve(tx);
    let lock = run_now(service.set_room_lock(APP, "team", "alice", true)).unwrap();
    let id = lock.messages[0].id;
    let before = store.tx.lock().unwrap().clone();

    let changed = run_now(service.mark_messages(&session(&member), vec![id], true));
    assert!(changed.unwrap().is_empty());
    let tx = store.tx.lock().unwrap();
    assert_eq!(tx.messages, before.messages);
    assert_eq!(tx.feed, before.feed);
    // Reading it still moves the reader's position to it (it counts no unread message).
    assert_eq!(tx.read_positions.get(&(member.id, room.id)), Some(&(1, 0)));
}

// Deleting (the delete rule of messages.rs, through Service::delete_messages).

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
    let (store, service) = serve(tx);
    let shared = RoomRef::Shared(room.id);
    let delete = |user: &User| {
        run_now(service.delete_messages(&session(user), shared, vec![sent.id])).unwrap()
    };

    assert!(delete(&member).is_empty());
    assert!(!store.tx.lock().unwrap().message(sent.id).is_deleted);
    assert_eq!(delete(&admin), [sent.id]);
    assert!(delete(&admin).is_empty());
    let tx = store.tx.lock().unwrap();
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
    let (store, service) = serve(tx);

    let deleted = run_now(service.delete_messages(
        &session(&admin),
        RoomRef::Shared(elsewhere.id),
        vec![sent.id],
    ));
    assert!(deleted.unwrap().is_empty());
    assert!(!store.tx.lock().unwrap().message(sent.id).is_deleted);
}

#[test]
fn deleting_in_a_personal_room_not_created_yet_deletes_and_creates_nothing() {
    let Team {
        tx, admin, member, ..
    } = team();
    let before = tx.clone();
    let (store, service) = serve(tx);
    let personal = RoomRef::Personal {
        a: admin.id.min(member.id),
        b: admin.id.max(member.id),
    };

    let deleted = run_now(service.delete_messages(&session(&admin), personal, vec![1, 2]));
    assert!(deleted.unwrap().is_empty());
    assert!(store.tx.lock().unwrap().unchanged_since(&before));
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
    let (store, service) = serve(tx);

    let result = run_now(service.delete_messages(
        &session(&outsider),
        RoomRef::Shared(room.id),
        vec![sent.id],
    ));
    assert!(
        matches!(result, Err(ServiceError::Forbidden(_))),
        "{result:?}"
    );
    assert!(!store.tx.lock().unwrap().message(sent.id).is_deleted);
}

//! The data access a use case's rule runs on, inside one write transaction.
//!
//! A rule of the chat model (who may lock a room, which system message a change appends, who
//! may edit a message) is written once, in `service`, as an async function over
//! `&mut dyn ChatTx`. Each backend runs it where its writes are atomic: SQLite on its writer
//! thread, in the request's savepoint of a group-committed batch; PostgreSQL in one
//! transaction, run again from the start when it lost a race (a unique violation, a deadlock),
//! so a rule must have no effect outside `tx`. A backend implements the primitives below: SQL
//! and row locks, never a decision.

use std::any::Any;

use async_trait::async_trait;
use futures_util::future::BoxFuture;

use super::{NewRoom, RoomUpsert};
use super::{Store, StoreError};
use crate::domain::webhook;
use crate::domain::{
    AppId, FeedItem, Hidden, Message, MessageId, NewMessage, NewReport, Receipt, Report, Room,
    RoomBundle, RoomId, RoomState, RoomStateChange, Scheduled, ScheduledContent, StoredFile, User,
    UserId, UserPhoto, Viewed,
};

/// How many rows a write may change, as its caller can tell before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteSize {
    /// A handful: the common case.
    Small,
    /// Many (a `participants/add` of thousands of users): SQLite runs it in a transaction of
    /// its own rather than in a savepoint of a shared batch, where every statement's journal
    /// is kept beside the savepoint's and the cost of a statement grows with the job.
    Large,
}

impl WriteSize {
    /// The size of a write that changes about `rows` rows.
    pub fn of(rows: usize) -> Self {
        if rows > 64 { Self::Large } else { Self::Small }
    }
}

/// Whether a read takes the row's lock (PostgreSQL: `FOR UPDATE`, held until commit; SQLite's
/// single writer holds every row already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// Read only.
    None,
    /// Lock the row until commit, before any decision is made on what was read.
    Update,
}

/// Which room a participant joins, which says where their read position starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// A room with history: the position starts at its present, so earlier messages are not
    /// unread for the newcomer.
    ExistingRoom,
    /// A room created in this transaction: it has no history, and a missing position reads as
    /// the start of the room, so a backend may write none.
    NewRoom,
}

/// The reads a rule uses, inside the caller's transaction (or a read-only one).
#[async_trait]
pub trait ChatRead: Send {
    /// The room with this `xcRoomID` in this app.
    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        lock: RowLock,
    ) -> Result<Option<Room>, StoreError>;

    /// The room with this ID in this app; [`StoreError::RoomNotFound`] if there is none or it
    /// was deleted.
    async fn room_by_id(
        &mut self,
        app: AppId,
        id: RoomId,
        lock: RowLock,
    ) -> Result<Room, StoreError>;

    /// The personal room of users `a` and `b` (lower ID first), if it exists yet.
    async fn personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
    ) -> Result<Option<Room>, StoreError>;

    /// The room with its explicit participants (in joining order) and admins.
    async fn bundle(&mut self, room: Room) -> Result<RoomBundle, StoreError>;

    /// Whether `user` is an explicit participant of `room`.
    async fn is_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError>;

    /// Whether `user` is an admin of `room`.
    async fn is_admin(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError>;

    /// The user with this `xcUserID` in this app.
    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError>;

    /// Users by `xcUserID`, in the order given; [`StoreError::UnknownUser`] for the first that
    /// is not in this app.
    async fn users_by_xc_ids(
        &mut self,
        app: AppId,
        xc_user_ids: &[String],
    ) -> Result<Vec<User>, StoreError>;

    /// The user with this platform ID, if they are in this app.
    async fn user_in_app(&mut self, app: AppId, id: UserId) -> Result<Option<User>, StoreError>;

    /// A message of this app by ID, with its room and sender.
    async fn message_by_id(
        &mut self,
        app: AppId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError>;

    /// How many unread-counting messages the room had up to and including this one (what a
    /// read position records).
    async fn message_ordinal(&mut self, id: MessageId) -> Result<i64, StoreError>;

    /// The messages `sender` stored under these local IDs, in sequence order.
    async fn own_messages_by_local_ids(
        &mut self,
        sender: UserId,
        local_ids: &[String],
    ) -> Result<Vec<Message>, StoreError>;

    /// How far `user` has read `room` (its `seq`; 0 when they never have).
    async fn read_seq(&mut self, user: UserId, room: RoomId) -> Result<i64, StoreError>;

    /// Who hears about changes to `room`.
    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<crate::domain::Audience, StoreError>;

    /// A page of `room`'s history before `max_created` (`0`: from the newest), newest first, as
    /// `viewer` sees it, and whether more exists.
    async fn history_before(
        &mut self,
        room: &Room,
        viewer: &User,
        max_created: i64,
        limit: i64,
    ) -> Result<(Vec<Viewed>, bool), StoreError>;

    /// `room`'s messages created at or after `min_created` and changed after `last_updated`,
    /// newest first, as `viewer` sees them.
    async fn history_after(
        &mut self,
        room: &Room,
        viewer: &User,
        min_created: i64,
        last_updated: i64,
    ) -> Result<Vec<Viewed>, StoreError>;

    /// A file of this app by ID.
    async fn file_by_id(&mut self, app: AppId, id: &str) -> Result<Option<StoredFile>, StoreError>;

    /// A public file (a photo) by ID, whatever its app: its URL is its credential.
    async fn public_file(&mut self, id: &str) -> Result<Option<StoredFile>, StoreError>;

    /// A user's profile photos, oldest first.
    async fn user_photos(&mut self, user: UserId) -> Result<Vec<UserPhoto>, StoreError>;

    /// The users' bios, in the order asked (empty for a user without one or not found): one
    /// look-up however many users a listing shows.
    async fn user_bios(&mut self, users: &[UserId]) -> Result<Vec<String>, StoreError>;

    /// The rooms file `id` belongs to (uploaded into, or sent into by message).
    async fn rooms_of_file(&mut self, id: &str) -> Result<Vec<RoomId>, StoreError>;

    /// `room`'s images, videos, files and links created in `[min_created, max_created)`, in
    /// `created` order (newest first unless `ascending`), at most `limit`.
    async fn shared_content(
        &mut self,
        room: RoomId,
        min_created: i64,
        max_created: i64,
        ascending: bool,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError>;

    /// The user's states of the rooms they take part in (personal, explicit or by role), with
    /// any state set; rooms they have left keep their row but are not listed.
    async fn room_states(&mut self, app: AppId, user: &User) -> Result<Vec<RoomState>, StoreError>;

    /// The messages `user` starred in `room`, the newest star first.
    async fn starred_ids(
        &mut self,
        user: UserId,
        room: RoomId,
    ) -> Result<Vec<MessageId>, StoreError>;

    /// The messages pinned in `room`, the newest message first.
    async fn pinned_ids(&mut self, room: RoomId) -> Result<Vec<MessageId>, StoreError>;

    /// The groups, channels and transaction rooms both `a` and `b` take part in (explicitly or
    /// by role), newest first, at most `limit`.
    async fn groups_in_common(
        &mut self,
        app: AppId,
        a: &User,
        b: &User,
        limit: i64,
    ) -> Result<Vec<Room>, StoreError>;

    /// Of `others`, those with a block between them and `user`, whichever of the two blocked.
    async fn blocks_between(
        &mut self,
        user: UserId,
        others: &[UserId],
    ) -> Result<Vec<UserId>, StoreError>;

    /// What `user` no longer sees: of `room` alone, or of all their rooms when `None`.
    async fn hidden(&mut self, user: UserId, room: Option<RoomId>) -> Result<Hidden, StoreError>;

    /// The recipients' own receipts of a message.
    async fn receipts(&mut self, message: MessageId) -> Result<Vec<Receipt>, StoreError>;

    /// The users whose read position in `room` is at `seq` or past it.
    async fn readers(&mut self, room: RoomId, seq: i64) -> Result<Vec<UserId>, StoreError>;

    /// When `user` first read `room` at or after `seq`: their first read receipt there, or
    /// their first message after it (sending moves the sender's read position), whichever
    /// came first; `None` if neither exists.
    async fn first_read_after(
        &mut self,
        room: RoomId,
        user: UserId,
        seq: i64,
    ) -> Result<Option<i64>, StoreError>;

    /// The time of the soonest scheduled message, if any.
    async fn next_scheduled_time(&mut self) -> Result<Option<i64>, StoreError>;

    /// `sender`'s scheduled messages in `room`, the soonest first.
    async fn scheduled_in_room(
        &mut self,
        sender: UserId,
        room: RoomId,
    ) -> Result<Vec<Scheduled>, StoreError>;

    /// The users of `app` whose phone number is one of `phones`, exactly as stored.
    async fn users_by_phones(
        &mut self,
        app: AppId,
        phones: &[String],
    ) -> Result<Vec<User>, StoreError>;

    /// The users `blocker` blocked, the latest block first.
    async fn blocked_users(&mut self, blocker: UserId) -> Result<Vec<User>, StoreError>;

    /// The app's reports with an ID below `before`, newest first, at most `limit`.
    async fn reports(
        &mut self,
        app: AppId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<Report>, StoreError>;
}

/// The writes a rule uses, inside the caller's write transaction.
#[async_trait]
pub trait ChatTx: ChatRead {
    /// Records an uploaded file, as belonging to `room` if given.
    async fn insert_file(
        &mut self,
        file: &StoredFile,
        room: Option<RoomId>,
    ) -> Result<(), StoreError>;

    /// Forgets a file (a deleted photo) and the rooms it belonged to.
    async fn delete_file(&mut self, id: &str) -> Result<(), StoreError>;

    /// Adds a profile photo of `user`; returns its ID.
    async fn insert_user_photo(
        &mut self,
        user: UserId,
        file_id: &str,
        url: &str,
        created: i64,
    ) -> Result<i64, StoreError>;

    /// Removes profile photo `id` of `user`; `None` if they have none with that ID.
    async fn delete_user_photo(
        &mut self,
        user: UserId,
        id: i64,
    ) -> Result<Option<UserPhoto>, StoreError>;

    /// Sets a user's picture (both sizes) to `url` (`""`: none).
    async fn set_user_photo(&mut self, user: UserId, url: &str, now: i64)
    -> Result<(), StoreError>;

    /// Sets a user's bio.
    async fn set_user_bio(&mut self, user: UserId, bio: &str, now: i64) -> Result<(), StoreError>;

    /// Sets a room's picture (both sizes) to `url`.
    async fn set_room_photo(&mut self, room: RoomId, url: &str, now: i64)
    -> Result<(), StoreError>;

    /// Makes file `id` belong to `room` too; nothing if it already does.
    async fn link_file(&mut self, id: &str, room: RoomId) -> Result<(), StoreError>;

    /// Inserts a shared room (and its participant roles); returns its ID.
    async fn insert_shared_room(
        &mut self,
        app: AppId,
        room: &NewRoom<'_>,
    ) -> Result<RoomId, StoreError>;

    /// Creates the personal room of `a` and `b` (lower ID first) with its two participants;
    /// two requests creating it at once are decided by its unique index.
    async fn insert_personal_room(
        &mut self,
        app: AppId,
        a: UserId,
        b: UserId,
        now: i64,
    ) -> Result<Room, StoreError>;

    /// Applies a Server API upsert to an existing shared room: the name, and every other field
    /// the upsert gives (`None` keeps the stored value), participant roles included.
    async fn update_shared_room(
        &mut self,
        app: AppId,
        room: RoomId,
        upsert: &RoomUpsert,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Marks a room deleted at `now`: it is no longer found by its ID.
    async fn delete_room(&mut self, room: RoomId, now: i64) -> Result<(), StoreError>;

    /// Renames a room.
    async fn rename_room(&mut self, room: RoomId, name: &str, now: i64) -> Result<(), StoreError>;

    /// Makes `user` an explicit participant of `room`; `false` if they already were.
    async fn add_member(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
        now: i64,
        joining: Joining,
    ) -> Result<bool, StoreError>;

    /// Ends `user`'s explicit participation; `false` if they were not an explicit participant.
    async fn remove_member(&mut self, room: RoomId, user: UserId) -> Result<bool, StoreError>;

    /// Makes a participant an admin or not; `false` if that was already so (or they are not a
    /// participant).
    async fn set_admin(
        &mut self,
        room: RoomId,
        user: UserId,
        admin: bool,
    ) -> Result<bool, StoreError>;

    /// Stores a room's lock state: `locked_time` is `0` when unlocked, `locked_by` who locked it.
    async fn set_room_lock(
        &mut self,
        room: RoomId,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Appends messages to a room, in order, and publishes them (after commit) to the room's
    /// audience as it is now, plus `extra` users: the room's sequence, counters and each
    /// sender's read position move with them. No messages: nothing is read or written. The audience is read once for all of them, so
    /// appending n messages to a room of m members costs n + m, not n × m.
    async fn append_messages(
        &mut self,
        app: AppId,
        room: &Room,
        messages: Vec<NewMessage>,
        extra: &[UserId],
    ) -> Result<Vec<Message>, StoreError>;

    /// Appends one message; see [`ChatTx::append_messages`].
    async fn append_message(
        &mut self,
        app: AppId,
        room: &Room,
        message: NewMessage,
        extra: &[UserId],
    ) -> Result<Message, StoreError> {
        let mut appended = self
            .append_messages(app, room, vec![message], extra)
            .await?;
        appended
            .pop()
            .ok_or_else(|| StoreError::Other("no message appended".into()))
    }

    /// Moves `user`'s read position in `room` to (`seq`, `count`), never backwards (the
    /// comparison is in the statement, so concurrent readers cannot move it back).
    async fn set_read_position(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        count: i64,
    ) -> Result<(), StoreError>;

    /// Records a receipt: delivered, and read when `read`; returns the message as it now is, or
    /// `None` when it already was (the condition is in the statement, so of two nodes recording
    /// one receipt only one reports it).
    async fn set_receipt(
        &mut self,
        app: AppId,
        id: MessageId,
        read: bool,
    ) -> Result<Option<Message>, StoreError>;

    /// Deletes a message for everyone; returns it as it now is, or `None` if it already was.
    async fn delete_message(
        &mut self,
        app: AppId,
        id: MessageId,
        now: i64,
    ) -> Result<Option<Message>, StoreError>;

    /// Replaces a message's body and data and marks it edited, unless it is deleted; returns
    /// the message as it now is, or `None` if it was deleted (the check and the change are one
    /// statement, so a concurrent delete cannot slip between them).
    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: MessageId,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError>;

    /// Puts `contact` in `owner`'s contact list; `false` if they already were.
    async fn add_contact(
        &mut self,
        owner: UserId,
        contact: UserId,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Takes `contact` out of `owner`'s contact list; `false` if they were not in it.
    async fn remove_contact(&mut self, owner: UserId, contact: UserId) -> Result<bool, StoreError>;

    /// Records that `user` was active at `at` (Unix ms).
    async fn set_last_activity(&mut self, user: UserId, at: i64) -> Result<(), StoreError>;

    /// Stars (`starred`) or unstars `message` of `room` for `user`; whether that changed
    /// anything.
    async fn set_star(
        &mut self,
        user: UserId,
        room: RoomId,
        message: MessageId,
        starred: bool,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Pins (`pinned`, by `by`) or unpins `message` in `room`; whether that changed anything.
    async fn set_pin(
        &mut self,
        room: RoomId,
        message: MessageId,
        pinned: bool,
        by: UserId,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Applies `change` to `user`'s state of `rooms`; returns the rooms whose state it changed
    /// (muting a muted room again with the same expiry, say, changes nothing).
    async fn change_room_states(
        &mut self,
        user: UserId,
        rooms: &[RoomId],
        change: RoomStateChange,
    ) -> Result<Vec<RoomId>, StoreError>;

    /// Clears `room`'s history for `user` up to `seq`, at `at`: their row of the room's state
    /// records it, and the room is no longer pinned or marked unread for them.
    async fn clear_room(
        &mut self,
        user: UserId,
        room: RoomId,
        seq: i64,
        at: i64,
    ) -> Result<(), StoreError>;

    /// Hides `message` from `user` alone; whether it was visible to them before.
    async fn hide_message(&mut self, user: UserId, message: &Message) -> Result<bool, StoreError>;

    /// Stores a scheduled message; returns its ID.
    async fn insert_scheduled(
        &mut self,
        app: AppId,
        sender: UserId,
        room: RoomId,
        content: &ScheduledContent,
        scheduled_time: i64,
        now: i64,
    ) -> Result<i64, StoreError>;

    /// `sender`'s scheduled messages among `ids`, each locked until commit (PostgreSQL: `FOR
    /// UPDATE`), the soonest first.
    async fn scheduled_for_update(
        &mut self,
        sender: UserId,
        ids: &[i64],
    ) -> Result<Vec<Scheduled>, StoreError>;

    /// Up to `limit` scheduled messages due at `now`, the earliest first, each locked until
    /// commit; on PostgreSQL one locked by another transaction is skipped (`SKIP LOCKED`), so
    /// nodes sending due messages at once never claim the same one.
    async fn due_scheduled(&mut self, now: i64, limit: i64) -> Result<Vec<Scheduled>, StoreError>;

    /// Sets a scheduled message's time and content.
    async fn update_scheduled(
        &mut self,
        id: i64,
        scheduled_time: i64,
        content: &ScheduledContent,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Removes a scheduled message (sent or deleted); whether it was there.
    async fn delete_scheduled(&mut self, id: i64) -> Result<bool, StoreError>;

    /// Records `user`'s receipt of `message` (at `seq` of `room`): delivered, and read when
    /// `read`; the first time of each is kept.
    async fn record_receipt(
        &mut self,
        message: MessageId,
        room: RoomId,
        seq: i64,
        user: UserId,
        read: bool,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Blocks (`blocking`) or unblocks `blocked` for `blocker`; whether that changed anything.
    async fn set_block(
        &mut self,
        blocker: UserId,
        blocked: UserId,
        blocking: bool,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Stores a report; returns its ID.
    async fn insert_report(&mut self, report: &NewReport) -> Result<i64, StoreError>;

    /// Marks the app's report `id` resolved at `now`; `false` if there is no such open report.
    async fn resolve_report(&mut self, app: AppId, id: i64, now: i64) -> Result<bool, StoreError>;

    /// Queues a committed change for live delivery; it is published only if the transaction
    /// commits.
    fn emit(&mut self, item: FeedItem);

    /// What this transaction has queued for live delivery so far, from [`Self::emit`] and
    /// from the appends: what its webhook events are made of.
    fn feed(&self) -> &[FeedItem];

    /// Records a webhook event with this transaction (the outbox) and queues it for each of
    /// `endpoints`, due at once.
    async fn insert_webhook_event(
        &mut self,
        event: &webhook::NewEvent,
        endpoints: &[i64],
    ) -> Result<(), StoreError>;
}

/// A rule's work as a backend receives it: callable more than once (PostgreSQL retries), its
/// result type erased so that [`Store`] stays object safe.
pub type WriteWork = Box<
    dyn for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<Box<dyn Any + Send>, StoreError>>
        + Send
        + Sync,
>;

/// A read-only rule's work as a backend receives it (see [`WriteWork`]).
pub type ReadWork = Box<
    dyn for<'t> Fn(&'t mut dyn ChatRead) -> BoxFuture<'t, Result<Box<dyn Any + Send>, StoreError>>
        + Send
        + Sync,
>;

impl dyn Store {
    /// Runs `work` on one consistent view of the data, without writing.
    pub async fn reading<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'t> Fn(&'t mut dyn ChatRead) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let erased: ReadWork = Box::new(move |tx| {
            let future = work(tx);
            Box::pin(async move { future.await.map(|r| Box::new(r) as Box<dyn Any + Send>) })
        });
        let result = self.read(erased).await?;
        result
            .downcast::<R>()
            .map(|r| *r)
            .map_err(|_| StoreError::Other("a read returned another type".into()))
    }

    /// Runs `work` in one write transaction and returns its result once the commit is durable.
    pub async fn transaction<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.sized_transaction(WriteSize::Small, work).await
    }

    /// [`Self::transaction`] for a write of the given size.
    pub async fn sized_transaction<R, F>(&self, size: WriteSize, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<R, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let erased: WriteWork = Box::new(move |tx| {
            let future = work(tx);
            Box::pin(async move { future.await.map(|r| Box::new(r) as Box<dyn Any + Send>) })
        });
        let result = self.write(erased, size).await?;
        result
            .downcast::<R>()
            .map(|r| *r)
            .map_err(|_| StoreError::Other("a transaction returned another type".into()))
    }
}

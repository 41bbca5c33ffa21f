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

use super::{Store, StoreError};
use crate::domain::{AppId, FeedItem, Message, NewMessage, Room, User, UserId};

/// Whether a read takes the row's lock (PostgreSQL: `FOR UPDATE`, held until commit; SQLite's
/// single writer holds every row already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// Read only.
    None,
    /// Lock the row until commit, before any decision is made on what was read.
    Update,
}

/// The primitives a write rule uses. Every method runs inside the caller's transaction.
#[async_trait]
pub trait ChatTx: Send {
    /// The room with this `xcRoomID` in this app.
    async fn room_by_xc_id(
        &mut self,
        app: AppId,
        xc_room_id: &str,
        lock: RowLock,
    ) -> Result<Option<Room>, StoreError>;

    /// The user with this `xcUserID` in this app.
    async fn user_by_xc_id(
        &mut self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError>;

    /// Stores a room's lock state: `locked_time` is `0` when unlocked, `locked_by` who locked it.
    async fn set_room_lock(
        &mut self,
        room: i64,
        locked_time: i64,
        locked_by: Option<UserId>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Appends a message to a room and publishes it (after commit) to the room's audience and
    /// `extra` users: the room's sequence, counters and the sender's read position move with it.
    async fn append_message(
        &mut self,
        app: AppId,
        room: &Room,
        message: NewMessage,
        extra: &[UserId],
    ) -> Result<Message, StoreError>;

    /// The message `sender` stored under this local ID.
    async fn own_message_by_local_id(
        &mut self,
        sender: UserId,
        local_id: &str,
    ) -> Result<Option<Message>, StoreError>;

    /// Replaces a message's body and data and marks it edited, unless it is deleted; returns
    /// the message as it now is, or `None` if it was deleted (the check and the change are one
    /// statement, so a concurrent delete cannot slip between them).
    async fn edit_message_content(
        &mut self,
        app: AppId,
        id: i64,
        body: &str,
        data: &str,
    ) -> Result<Option<Message>, StoreError>;

    /// Who hears about changes to `room`.
    async fn audience(
        &mut self,
        app: AppId,
        room: &Room,
        extra: &[UserId],
    ) -> Result<crate::domain::Audience, StoreError>;

    /// Queues a committed change for live delivery; it is published only if the transaction
    /// commits.
    fn emit(&mut self, item: FeedItem);
}

/// A rule's work as a backend receives it: callable more than once (PostgreSQL retries), its
/// result type erased so that [`Store`] stays object safe.
pub type WriteWork = Box<
    dyn for<'t> Fn(&'t mut dyn ChatTx) -> BoxFuture<'t, Result<Box<dyn Any + Send>, StoreError>>
        + Send
        + Sync,
>;

impl dyn Store {
    /// Runs `work` in one write transaction and returns its result once the commit is durable.
    pub async fn transaction<R, F>(&self, work: F) -> Result<R, StoreError>
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
        let result = self.write(erased).await?;
        result
            .downcast::<R>()
            .map(|r| *r)
            .map_err(|_| StoreError::Other("a transaction returned another type".into()))
    }
}

//! Scheduled messages: stored until their time, then sent once through the send rule.
//!
//! A scheduled message is the sender's alone until it is sent: only they list, edit, delete
//! or send it at once. At its time it is sent as the sender sends a message then: they must
//! still take part in the room, a locked room or a block refuses it (and it is dropped, with a
//! log line), and it keeps the `localID` it was scheduled with. Sending and removing the
//! scheduled row happen in one transaction, so a message is sent exactly once: a restart in
//! between sends it at the next look, and on PostgreSQL nodes claim due rows with `SKIP
//! LOCKED`, so two nodes never send the same one. Each change is told to the sender's sockets
//! as `room/scheduleMessage` `{room, timestamp}` (Android then fetches its list again).

use std::time::Duration;

use serde_json::json;

use super::access::resolve_room;
use super::messages::{Destination, Origin, OutgoingMessage, append_parts, postable_room};
use super::{ClientSession, Service, ServiceError};
use crate::domain::message::Placement;
use crate::domain::{Message, MessageId, Room, RoomRef, Scheduled, ScheduledContent, User, now_ms};
use crate::store::{ChatTx, RowLock, StoreError, WriteSize};
use crate::wire;

/// Due messages sent in one transaction.
const DUE_BATCH: i64 = 500;
/// How often each node looks for due messages.
const SCHEDULER_TICK: Duration = Duration::from_millis(200);

/// A scheduled message with the message it will send, as the sender's clients show it (its
/// `created` is the scheduled time; its `messageID` is not assigned yet).
#[derive(Debug, Clone)]
pub struct ScheduledView {
    /// The stored row.
    pub scheduled: Scheduled,
    /// The message as it will be.
    pub message: Message,
}

/// The content of a message a client built.
fn content(m: &OutgoingMessage) -> ScheduledContent {
    ScheduledContent {
        local_id: m.local_id.clone(),
        kind: m.kind,
        body: m.body.clone(),
        data: m.data.clone(),
        filter_id: m.filter_id.clone(),
        is_hidden: m.is_hidden,
        quote: m.quote.clone(),
        reply_to: m.reply_to.clone(),
        forward_from: m.forward_from.clone(),
    }
}

fn view(scheduled: Scheduled, room: &Room, sender: &User) -> ScheduledView {
    let at = Placement {
        id: MessageId(0),
        seq: 0,
        created: scheduled.scheduled_time,
    };
    let message = scheduled
        .content
        .message(sender.id)
        .appended(at, room, Some(sender.clone()));
    ScheduledView { scheduled, message }
}

impl Service {
    /// Schedules `m` to be sent at `at` (Unix ms, in the future) into a room the caller takes
    /// part in (a personal room is created if it has no message yet).
    pub async fn schedule_message(
        &self,
        session: &ClientSession,
        m: OutgoingMessage,
        at: i64,
    ) -> Result<ScheduledView, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        let made = self
            .transaction(move |tx| {
                let (user, m) = (user.clone(), m.clone());
                Box::pin(async move {
                    let room = resolve_room(tx, app, &user, m.room, true)
                        .await?
                        .ok_or(StoreError::RoomNotFound)?;
                    let content = content(&m);
                    let id = tx
                        .insert_scheduled(app, user.id, room.id, &content, at, now_ms())
                        .await?;
                    let scheduled = Scheduled {
                        id,
                        app,
                        sender: user.id,
                        room: room.id,
                        content,
                        scheduled_time: at,
                        created: now_ms(),
                        updated: now_ms(),
                    };
                    Ok(view(scheduled, &room, &user))
                })
            })
            .await?;
        self.tell_scheduled(session.user.id, &made.message.room, at);
        Ok(made)
    }

    /// The caller's scheduled messages in `room`, the soonest first.
    pub async fn scheduled_messages(
        &self,
        session: &ClientSession,
        room: RoomRef,
    ) -> Result<Vec<ScheduledView>, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                let Some(room) = super::access::find_room(tx, app, user, room).await? else {
                    return Ok(Vec::new());
                };
                let found = tx.scheduled_in_room(user.id, room.id).await?;
                Ok(found.into_iter().map(|s| view(s, &room, user)).collect())
            })
        })
        .await
    }

    /// Sends the caller's scheduled messages `ids` of `room` now; answers the IDs sent (or
    /// dropped as no longer allowed). IDs of others or of other rooms are skipped.
    pub async fn send_scheduled_now(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<i64>,
    ) -> Result<Vec<i64>, ServiceError> {
        self.with_own_scheduled(session, room, ids, |tx, s| {
            Box::pin(async move { send_one(tx, &s).await.map(drop) })
        })
        .await
    }

    /// Deletes the caller's scheduled messages `ids` of `room`; answers the IDs deleted.
    pub async fn delete_scheduled(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<i64>,
    ) -> Result<Vec<i64>, ServiceError> {
        self.with_own_scheduled(session, room, ids, |tx, s| {
            Box::pin(async move { tx.delete_scheduled(s.id).await.map(drop) })
        })
        .await
    }

    /// Moves the caller's scheduled message `id` to `at` (in the future), or replaces its
    /// content with `m`'s (its room stays); `40401`-like refusal when it is not theirs or was
    /// sent already.
    pub async fn edit_scheduled(
        &self,
        session: &ClientSession,
        id: i64,
        at: Option<i64>,
        m: Option<OutgoingMessage>,
    ) -> Result<(), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        let (room, time) = self
            .transaction(move |tx| {
                let (user, m) = (user.clone(), m.clone());
                Box::pin(async move {
                    let found = tx.scheduled_for_update(user.id, &[id]).await?.pop();
                    let scheduled = found.ok_or_else(not_scheduled)?;
                    let time = at.unwrap_or(scheduled.scheduled_time);
                    let content = m.as_ref().map_or(scheduled.content, content);
                    tx.update_scheduled(id, time, &content, now_ms()).await?;
                    let room = tx.room_by_id(app, scheduled.room, RowLock::None).await?;
                    Ok((room, time))
                })
            })
            .await?;
        self.tell_scheduled(session.user.id, &room, time);
        Ok(())
    }

    /// Applies `act` to each of the caller's scheduled messages among `ids` that belong to
    /// `room`, in one transaction; answers the IDs acted on.
    async fn with_own_scheduled<F>(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<i64>,
        act: F,
    ) -> Result<Vec<i64>, ServiceError>
    where
        F: for<'t> Fn(
                &'t mut dyn ChatTx,
                Scheduled,
            ) -> futures_util::future::BoxFuture<'t, Result<(), StoreError>>
            + Send
            + Sync
            + Copy
            + 'static,
    {
        let (app, user) = (session.app, session.user.clone());
        let (room, done) = self
            .sized_transaction(WriteSize::of(ids.len()), move |tx| {
                let (user, ids) = (user.clone(), ids.clone());
                Box::pin(async move {
                    let Some(room) = super::access::find_room(tx, app, &user, room).await? else {
                        return Ok((None, Vec::new()));
                    };
                    let mut done = Vec::new();
                    for s in tx.scheduled_for_update(user.id, &ids).await? {
                        if s.room == room.id {
                            done.push(s.id);
                            act(tx, s).await?;
                        }
                    }
                    Ok((Some(room), done))
                })
            })
            .await?;
        if let (Some(room), false) = (room, done.is_empty()) {
            self.tell_scheduled(session.user.id, &room, now_ms());
        }
        Ok(done)
    }

    /// Sends the messages due at `now`, a batch per transaction, until none is due; answers
    /// how many were sent.
    pub async fn send_due_scheduled(&self, now: i64) -> Result<usize, ServiceError> {
        let mut total = 0;
        loop {
            let sent = self
                .sized_transaction(WriteSize::Large, move |tx| {
                    Box::pin(async move {
                        let due = tx.due_scheduled(now, DUE_BATCH).await?;
                        let mut sent = Vec::with_capacity(due.len());
                        for s in &due {
                            if let Some(message) = send_one(tx, s).await? {
                                sent.push((s.sender, message.room));
                            }
                        }
                        Ok((due.len(), sent))
                    })
                })
                .await?;
            let (claimed, sent) = sent;
            total += sent.len();
            for (sender, room) in sent {
                self.tell_scheduled(sender, &room, now);
            }
            if i64::try_from(claimed).unwrap_or(i64::MAX) < DUE_BATCH {
                return Ok(total);
            }
        }
    }

    /// Sends due scheduled messages as long as the server runs (every node does; each due
    /// message is sent by one of them).
    pub async fn run_scheduler(self) {
        let mut tick = tokio::time::interval(SCHEDULER_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = now_ms();
            // A read first: a write transaction (and its flush) only when something is due.
            let next = self
                .store
                .reading(|tx| Box::pin(async move { tx.next_scheduled_time().await }))
                .await;
            match next {
                Ok(Some(next)) if next <= now => {}
                Ok(_) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot look for due scheduled messages");
                    continue;
                }
            }
            if let Err(err) = self.send_due_scheduled(now).await {
                tracing::warn!(error = ?err, "cannot send due scheduled messages");
            }
        }
    }

    fn tell_scheduled(&self, sender: crate::domain::UserId, room: &Room, timestamp: i64) {
        let frame = wire::event(
            "room/scheduleMessage",
            &json!({"room": wire::room(room, sender), "timestamp": timestamp}),
        );
        self.fanout.to_users(vec![sender], frame);
    }
}

fn not_scheduled() -> StoreError {
    StoreError::Forbidden("no such scheduled message of yours (sent already?)".into())
}

/// Sends one scheduled message now and removes it, in the caller's transaction. A message the
/// sender may no longer send (they left, the room is locked or gone, a block stands, a file
/// it names is no longer theirs to share) is removed unsent, with a log line; one already sent
/// under its `localID` is removed.
async fn send_one(tx: &mut dyn ChatTx, s: &Scheduled) -> Result<Option<Message>, StoreError> {
    tx.delete_scheduled(s.id).await?;
    let Some(sender) = tx.user_in_app(s.app, s.sender).await? else {
        return Ok(None);
    };
    let local = std::slice::from_ref(&s.content.local_id);
    if !tx
        .own_messages_by_local_ids(sender.id, local)
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    let refused = |err: StoreError| match err {
        StoreError::Forbidden(_)
        | StoreError::Locked
        | StoreError::RoomNotFound
        | StoreError::FileNotFound => {
            tracing::info!(scheduled = s.id, error = %err, "dropping a scheduled message its sender may no longer send");
            Ok(None)
        }
        other => Err(other),
    };
    let room = match tx.room_by_id(s.app, s.room, RowLock::None).await {
        Ok(room) => room,
        Err(err) => return refused(err),
    };
    let destination = Destination::Room(room.reference());
    let room = match postable_room(tx, s.app, &sender, destination, Origin::Client).await {
        Ok(room) => room,
        Err(err) => return refused(err),
    };
    let part = s.content.message(sender.id);
    match append_parts(tx, s.app, &sender, &room, vec![part]).await {
        Ok(mut sent) => Ok(sent.pop()),
        Err(err) => refused(err),
    }
}

//! What one user no longer sees: a chat they cleared, and messages they deleted for themself.
//!
//! Both are the user's alone and hide nothing from anyone else. Clearing a room hides its
//! history up to its newest message from the user's history pages, sync, room list and unread
//! counts (their read position moves to that message, so nothing cleared is unread), unpins the
//! room and drops its unread mark for them, and takes away their stars of its messages, as both
//! SDKs do locally; the user's sockets hear `room/clearChat` so that their other devices drop
//! the room's messages. Deleting for oneself hides single messages the same way, on every
//! device of the user (their sockets hear the message as deleted). The filtering is one place,
//! [`Hidden::hides`], applied to every list of messages a user is given.

use serde_json::json;

use super::access::find_room;
use super::{ClientSession, Service, ServiceError};
use crate::domain::{Hidden, MessageId, Room, RoomRef, User, Viewed, now_ms};
use crate::store::{ChatTx, StoreError, WriteSize};
use crate::wire;

impl Service {
    /// Clears the caller's history of `rooms`; answers the rooms, all of them or none (a room
    /// they do not take part in fails the request). A personal room with no message yet has
    /// nothing to clear and is answered as cleared.
    pub async fn clear_chats(
        &self,
        session: &ClientSession,
        rooms: Vec<RoomRef>,
    ) -> Result<Vec<RoomRef>, ServiceError> {
        let (app, user, asked) = (session.app, session.user.clone(), rooms.clone());
        let cleared = self
            .sized_transaction(WriteSize::of(rooms.len()), move |tx| {
                let (user, rooms) = (user.clone(), asked.clone());
                Box::pin(async move {
                    let mut cleared: Vec<Room> = Vec::new();
                    for room in &rooms {
                        let Some(room) = find_room(tx, app, &user, *room).await? else {
                            continue;
                        };
                        if !cleared.iter().any(|r| r.id == room.id) {
                            clear(tx, &user, &room).await?;
                            cleared.push(room);
                        }
                    }
                    Ok(cleared)
                })
            })
            .await?;
        for room in &cleared {
            let frame = wire::event(
                "room/clearChat",
                &json!({"room": wire::room(room, session.user.id)}),
            );
            self.fanout.to_users(vec![session.user.id], frame);
        }
        Ok(rooms)
    }

    /// Deletes messages of `room` for the caller alone; answers the IDs newly hidden. IDs of
    /// other rooms, unknown or already hidden are skipped.
    pub async fn delete_for_me(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<MessageId>,
    ) -> Result<Vec<MessageId>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        let hidden = self
            .sized_transaction(WriteSize::of(ids.len()), move |tx| {
                let (user, ids) = (user.clone(), ids.clone());
                Box::pin(async move {
                    let Some(room) = find_room(tx, app, &user, room).await? else {
                        return Ok(Vec::new());
                    };
                    let already = tx.hidden(user.id, Some(room.id)).await?;
                    let mut hidden = Vec::new();
                    for id in ids {
                        let Some(message) = tx.message_by_id(app, id).await? else {
                            continue;
                        };
                        if message.room.id != room.id || already.hides(&message) {
                            continue;
                        }
                        if tx.hide_message(user.id, &message).await? {
                            hidden.push(message);
                        }
                    }
                    Ok(hidden)
                })
            })
            .await?;
        let me = session.user.id;
        for mut message in hidden.iter().cloned() {
            message.is_deleted = true;
            let view = wire::message(&message, wire::Viewer::new(me, message.seq));
            for event in ["chat/updateMessage", "chat/deleteMessage"] {
                self.fanout.to_users(vec![me], wire::event(event, &view));
            }
        }
        Ok(hidden.iter().map(|m| m.id).collect())
    }

    /// What the caller no longer sees of all their rooms.
    pub(super) async fn hidden_from(&self, user: &User) -> Result<Hidden, ServiceError> {
        let id = user.id;
        Ok(self
            .store
            .reading(move |tx| Box::pin(async move { tx.hidden(id, None).await }))
            .await?)
    }

    /// `list` (a room list: each room's newest message first, then its unread ones) without
    /// deleted rooms and what the caller no longer sees. A room whose newest message is one
    /// the SDKs do not show (a hidden message, such as a `user/update`) or one the caller
    /// deleted for themself is listed with the newest message they do see as well; a room
    /// cleared up to its newest message is not listed.
    pub(super) async fn visible_room_list(
        &self,
        session: &ClientSession,
        mut list: Vec<Viewed>,
    ) -> Result<Vec<Viewed>, ServiceError> {
        // A deleted room is gone from the list; its members heard `room/delete` when it went.
        list.retain(|v| v.message.room.deleted == 0);
        let hidden = self.hidden_from(&session.user).await?;
        let mut lost: Vec<Room> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        list.retain(|v| {
            let m = &v.message;
            let newest = seen.insert(m.room.id);
            let hide = hidden.hides(m);
            let cleared = hidden
                .cleared
                .get(&m.room.id)
                .is_some_and(|&seq| m.seq <= seq);
            if newest && (m.is_hidden || (hide && !cleared)) {
                lost.push(m.room.clone());
            }
            !hide
        });
        let shown: std::collections::HashSet<_> = list
            .iter()
            .filter(|v| !v.message.is_hidden)
            .map(|v| v.message.room.id)
            .collect();
        lost.retain(|room| !shown.contains(&room.id));
        if !lost.is_empty() {
            // All in one read, however many rooms (a profile change leaves a hidden note
            // newest in each of the user's rooms).
            let user = session.user.clone();
            let found = self
                .store
                .reading(move |tx| {
                    let (lost, user, hidden) = (lost.clone(), user.clone(), hidden.clone());
                    Box::pin(async move {
                        let mut found = Vec::new();
                        for room in &lost {
                            found.extend(newest_visible(tx, room, &user, &hidden).await?);
                        }
                        Ok(found)
                    })
                })
                .await?;
            list.extend(found);
        }
        list.sort_by_key(|v| std::cmp::Reverse(v.message.created));
        Ok(list)
    }
}

/// The clear rule for one room the user takes part in.
async fn clear(tx: &mut dyn ChatTx, user: &User, room: &Room) -> Result<(), StoreError> {
    let now = now_ms();
    let Some(newest) = tx.history_before(room, user, 0, 1).await?.0.pop() else {
        return tx.clear_room(user.id, room.id, 0, now).await;
    };
    let seq = newest.message.seq;
    let ordinal = tx.message_ordinal(newest.message.id).await?;
    tx.set_read_position(user.id, room.id, seq, ordinal).await?;
    for id in tx.starred_ids(user.id, room.id).await? {
        tx.set_star(user.id, room.id, id, false, now).await?;
    }
    tx.clear_room(user.id, room.id, seq, now).await
}

/// The newest message of `room` the user sees (not hidden, not hidden from them), looked for
/// among its latest messages.
async fn newest_visible(
    tx: &mut dyn crate::store::ChatRead,
    room: &Room,
    user: &User,
    hidden: &Hidden,
) -> Result<Option<Viewed>, StoreError> {
    // Usually one of the last few; a longer page only when those are all hidden.
    for limit in [4, 200] {
        let (page, more) = tx.history_before(room, user, 0, limit).await?;
        let found = page
            .into_iter()
            .find(|v| !v.message.is_hidden && !hidden.hides(&v.message));
        if found.is_some() || !more {
            return Ok(found);
        }
    }
    Ok(None)
}

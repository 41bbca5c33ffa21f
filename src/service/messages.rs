//! Sending, editing, receipts, deletion and reading of messages.

use std::sync::Arc;

use super::access::{find_room, is_participant, resolve_room};
use super::{ClientSession, Service, ServiceError};
use crate::domain::codec;
use crate::domain::message::{SYSTEM_MESSAGE_TYPE, new_local_id};
use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{
    AppId, Audience, FeedItem, FeedKind, Message, MessageId, NewMessage, Room, RoomId, RoomKind,
    RoomRef, RoomStateChange, Target, User, UserId, Viewed, now_ms,
};
use crate::store::{ChatTx, RowLock, StoreError};

/// Longest part of a Server API message body, in UTF-16 code units (the Android SDK's own
/// split size); longer bodies are sent as several messages.
pub const SPLIT_AT: usize = 4000;

/// A message a client sends over its socket, fields still encoded as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The room.
    pub room: RoomRef,
    /// Client-generated ID.
    pub local_id: String,
    /// Message type.
    pub kind: i64,
    /// Encoded body.
    pub body: String,
    /// Encoded data or `""`.
    pub data: String,
    /// Filter ID.
    pub filter_id: String,
    /// Hidden flag.
    pub is_hidden: bool,
    /// Quote.
    pub quote: Quote,
    /// Reply reference.
    pub reply_to: ReplyTo,
    /// Forward reference.
    pub forward_from: ForwardFrom,
}

/// A message the customer's backend sends through the Server API, in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMessage {
    /// Who sends it.
    pub sender_xc_user_id: String,
    /// Where it goes.
    pub to: ServerDestination,
    /// Message type (1001, 1002, 2001, 3xxx).
    pub kind: i64,
    /// Plain-text body.
    pub body: String,
    /// Plain data (usually JSON) or `""`.
    pub data: String,
    /// Filter ID.
    pub filter_id: String,
    /// Hidden flag.
    pub is_hidden: bool,
    /// Makes a retry idempotent.
    pub local_id: Option<String>,
}

/// Where a Server API message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerDestination {
    /// The personal room of the sender and this user (`xcUserID`), created on first use.
    Recipient(String),
    /// The room with this `xcRoomID`.
    XcRoom(String),
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A room by its client ID (personal rooms come into being on first use).
    Room(RoomRef),
    /// A room by the customer's ID.
    XcRoom(String),
}

/// Who sends a message, which decides whether a room's lock applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A user through a client SDK: a locked room refuses it.
    Client,
    /// The customer's backend through the Server API, which locks do not bind.
    ServerApi,
}

/// Splits text into parts of at most `limit` UTF-16 code units, never inside a character.
pub fn split_utf16(text: &str, limit: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut units) = (0, 0);
    for (index, ch) in text.char_indices() {
        if units + ch.len_utf16() > limit {
            parts.push(&text[start..index]);
            (start, units) = (index, 0);
        }
        units += ch.len_utf16();
    }
    parts.push(&text[start..]);
    parts
}

/// The SDKs need decoded `data` to be a JSON object; arrays (images, products) are wrapped as
/// `{"items": [...]}`, as the web SDK sends its own product lists.
fn wrap_data(data: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(serde_json::Value::Array(items)) => serde_json::json!({ "items": items }).to_string(),
        _ => data.to_owned(),
    }
}

impl Service {
    /// Stores a client's message and delivers it (the sender's own echo included). A resend
    /// of the same `localID` stores nothing and is echoed again to the sender.
    pub async fn send_from_client(
        &self,
        session: &ClientSession,
        m: OutgoingMessage,
    ) -> Result<(Vec<Message>, bool), ServiceError> {
        let part = NewMessage {
            sender: Some(session.user.id),
            local_id: m.local_id,
            kind: m.kind,
            body: m.body,
            data: m.data,
            filter_id: m.filter_id,
            is_hidden: m.is_hidden,
            quote: m.quote,
            reply_to: m.reply_to,
            forward_from: m.forward_from,
            action: String::new(),
            target: Target::default(),
        };
        let (messages, duplicate) = self
            .send_parts(
                session.app,
                session.user.clone(),
                Destination::Room(m.room),
                vec![part],
                Origin::Client,
            )
            .await?;
        if duplicate {
            for message in &messages {
                let frame = crate::wire::event(
                    "chat/sendMessage",
                    &crate::wire::message(
                        message,
                        crate::wire::Viewer::new(session.user.id, message.seq),
                    ),
                );
                self.hub().send_to(session.user.id, &frame);
            }
        }
        Ok((messages, duplicate))
    }

    /// A Server API request's sender, by `xcUserID`, and where it goes: the personal room
    /// with a recipient, or a room by `xcRoomID`.
    pub(super) async fn server_destination(
        &self,
        app: AppId,
        sender_xc_user_id: &str,
        to: &ServerDestination,
    ) -> Result<(User, Destination), ServiceError> {
        let sender = self
            .store
            .user_by_xc_id(app, sender_xc_user_id)
            .await?
            .ok_or_else(|| ServiceError::UnknownUser(sender_xc_user_id.to_owned()))?;
        let destination = match to {
            ServerDestination::Recipient(recipient) => {
                let other = self
                    .store
                    .user_by_xc_id(app, recipient)
                    .await?
                    .ok_or_else(|| ServiceError::UnknownUser(recipient.clone()))?;
                let (a, b) = (sender.id.min(other.id), sender.id.max(other.id));
                Destination::Room(RoomRef::Personal { a, b })
            }
            ServerDestination::XcRoom(room) => Destination::XcRoom(room.clone()),
        };
        Ok((sender, destination))
    }

    /// Sends a Server API message: plain text in, encoded and split as the SDKs expect.
    pub async fn send_from_server(
        &self,
        app: AppId,
        m: ServerMessage,
    ) -> Result<(Vec<Message>, bool), ServiceError> {
        let (sender, destination) = self
            .server_destination(app, &m.sender_xc_user_id, &m.to)
            .await?;
        let texts = split_utf16(&m.body, SPLIT_AT);
        let count = texts.len();
        let base_id = m.local_id.clone().unwrap_or_else(new_local_id);
        let data = wrap_data(&m.data);
        let mut parts = Vec::with_capacity(count);
        for (index, text) in texts.into_iter().enumerate() {
            let last = index + 1 == count;
            let local_id = if count == 1 {
                base_id.clone()
            } else {
                format!("{base_id}.{index}")
            };
            let encode = |plain: &str| codec::encode(plain, &local_id);
            let encoded_data = if last && !data.is_empty() {
                encode(&data)
            } else {
                Ok(String::new())
            };
            parts.push(NewMessage {
                sender: Some(sender.id),
                body: encode(text).map_err(|e| ServiceError::Internal(e.to_string()))?,
                data: encoded_data.map_err(|e| ServiceError::Internal(e.to_string()))?,
                local_id,
                kind: m.kind,
                filter_id: m.filter_id.clone(),
                // With a filter ID only the last part shows; the parts before it are hidden.
                is_hidden: m.is_hidden || (!last && !m.filter_id.is_empty()),
                quote: Quote::default(),
                reply_to: ReplyTo::default(),
                forward_from: ForwardFrom::default(),
                action: String::new(),
                target: Target::default(),
            });
        }
        self.send_parts(app, sender, destination, parts, Origin::ServerApi)
            .await
    }

    /// Stores a message, or the parts of a split one, from `sender` (see [`send`]); the
    /// entry point of both APIs' sends once their input is turned into parts.
    pub async fn send_parts(
        &self,
        app: AppId,
        sender: User,
        destination: Destination,
        parts: Vec<NewMessage>,
        origin: Origin,
    ) -> Result<(Vec<Message>, bool), ServiceError> {
        Ok(self
            .transaction(move |tx| {
                Box::pin(send(
                    tx,
                    app,
                    sender.clone(),
                    destination.clone(),
                    parts.clone(),
                    origin,
                ))
            })
            .await?)
    }

    /// Replaces the content of the caller's own message.
    pub async fn edit_message(
        &self,
        session: &ClientSession,
        local_id: String,
        body: String,
        data: String,
    ) -> Result<Message, ServiceError> {
        let (app, sender) = (session.app, session.user.id);
        Ok(self
            .transaction(move |tx| {
                Box::pin(edit(
                    tx,
                    app,
                    sender,
                    local_id.clone(),
                    body.clone(),
                    data.clone(),
                ))
            })
            .await?)
    }

    /// Records delivery (or reading) of messages by the caller; returns the IDs changed. The
    /// caller's other devices hear of each room whose unread mark the reading cleared.
    pub async fn mark_messages(
        &self,
        session: &ClientSession,
        ids: Vec<MessageId>,
        read: bool,
    ) -> Result<Vec<MessageId>, ServiceError> {
        let (app, reader) = (session.app, session.user.clone());
        let marked = self
            .transaction(move |tx| Box::pin(mark(tx, app, reader.clone(), ids.clone(), read)))
            .await?;
        self.tell_room_states(session.user.id, &marked.unmarked, RoomStateChange::MarkRead);
        Ok(marked.changed)
    }

    /// Deletes the caller's own messages for everyone.
    pub async fn delete_messages(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<MessageId>,
    ) -> Result<Vec<MessageId>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .transaction(move |tx| Box::pin(delete(tx, app, user.clone(), room, ids.clone())))
            .await?)
    }

    /// A page of a room's history before `max_created`.
    pub async fn history_before(
        &self,
        session: &ClientSession,
        room: RoomRef,
        max_created: i64,
        limit: i64,
    ) -> Result<(Vec<Viewed>, bool), ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                let Some(room) = find_room(tx, app, user, room).await? else {
                    return Ok((Vec::new(), false));
                };
                let (mut page, mut has_more) =
                    tx.history_before(&room, user, max_created, limit).await?;
                let hidden = tx.hidden(user.id, Some(room.id)).await?;
                let cleared = hidden.cleared.get(&room.id).copied().unwrap_or(0);
                // The cleared history is the start of the room as the user sees it.
                has_more &= page.last().is_none_or(|v| v.message.seq > cleared + 1);
                page.retain(|v| !hidden.hides(&v.message));
                Ok((page, has_more))
            })
        })
        .await
    }

    /// A room's messages created since `min_created` and changed after `last_updated`.
    pub async fn history_after(
        &self,
        session: &ClientSession,
        room: RoomRef,
        min_created: i64,
        last_updated: i64,
    ) -> Result<Vec<Viewed>, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                let Some(room) = find_room(tx, app, user, room).await? else {
                    return Ok(Vec::new());
                };
                let mut page = tx
                    .history_after(&room, user, min_created, last_updated)
                    .await?;
                let hidden = tx.hidden(user.id, Some(room.id)).await?;
                page.retain(|v| !hidden.hides(&v.message));
                Ok(page)
            })
        })
        .await
    }

    /// Last message per room plus unread messages, for the client's room list.
    pub async fn room_list(
        &self,
        session: &ClientSession,
        device: &str,
    ) -> Result<Vec<Viewed>, ServiceError> {
        let list = self
            .store
            .room_list(session.app, session.user.clone(), device.to_owned())
            .await?;
        self.visible_room_list(session, list).await
    }

    /// Messages changed since the device's last sync.
    pub async fn new_and_updated(
        &self,
        session: &ClientSession,
        device: &str,
    ) -> Result<Vec<Viewed>, ServiceError> {
        let mut changed = self
            .store
            .new_and_updated(session.app, session.user.clone(), device.to_owned())
            .await?;
        let hidden = self.hidden_from(&session.user).await?;
        changed.retain(|v| !hidden.hides(&v.message));
        Ok(changed)
    }
}

/// The edit rule: only the sender edits a message (found by their own local ID), never once it
/// is deleted (checked by the change itself, so a concurrent delete cannot slip in between);
/// the edited message goes to the whole room as an update.
pub(super) async fn edit(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: UserId,
    local_id: String,
    body: String,
    data: String,
) -> Result<Message, StoreError> {
    let message = tx
        .own_messages_by_local_ids(sender, std::slice::from_ref(&local_id))
        .await?
        .pop()
        .ok_or_else(|| StoreError::Forbidden("only the sender may edit a message".into()))?;
    let edited = tx
        .edit_message_content(app, message.id, &body, &data)
        .await?
        .ok_or_else(|| StoreError::Forbidden("a deleted message cannot be edited".into()))?;
    let audience = Arc::new(tx.audience(app, &edited.room, &[]).await?);
    tx.emit(FeedItem {
        kind: FeedKind::Updated,
        message: edited.clone(),
        audience,
    });
    Ok(edited)
}

/// The send rule: a repeated local ID from the same sender stores nothing and returns what
/// was stored (a retry is idempotent; on PostgreSQL two racing retries are decided by the
/// unique index, the loser runs again and finds the winner's row). The sender must take part
/// in the room; a client may not send into a locked room, nor into a personal room when either
/// of the two blocked the other. A shared room is read under its row
/// lock, so the checks see a lock or a removal committed a moment before; a personal room comes
/// into being on its first message. Each part is appended in order, and the sender's activity
/// is recorded.
pub(super) async fn send(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: User,
    destination: Destination,
    parts: Vec<NewMessage>,
    origin: Origin,
) -> Result<(Vec<Message>, bool), StoreError> {
    let local_ids: Vec<String> = parts.iter().map(|p| p.local_id.clone()).collect();
    let existing = tx.own_messages_by_local_ids(sender.id, &local_ids).await?;
    if !existing.is_empty() {
        return Ok((existing, true));
    }
    let room = postable_room(tx, app, &sender, destination, origin).await?;
    Ok((append_parts(tx, app, &sender, &room, parts).await?, false))
}

/// The room `destination` names, if `sender` may post into it from `origin`: they take part
/// in it; a client may not send into a locked room, nor into a personal room when either of
/// the two blocked the other.
pub(super) async fn postable_room(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: &User,
    destination: Destination,
    origin: Origin,
) -> Result<Room, StoreError> {
    let room = room_to_post_in(tx, app, sender, destination).await?;
    if origin == Origin::Client {
        if room.is_locked() {
            return Err(StoreError::Locked);
        }
        if let RoomKind::Personal { a, b } = room.kind {
            let other = if a == sender.id { b } else { a };
            super::contacts::refuse_blocked(tx, sender.id, &[other]).await?;
        }
    }
    Ok(room)
}

/// Appends `parts` in order to `room` as `sender`'s (each file a part names becomes the
/// room's), and records the sender's activity.
pub(super) async fn append_parts(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: &User,
    room: &Room,
    parts: Vec<NewMessage>,
) -> Result<Vec<Message>, StoreError> {
    let mut stored = Vec::with_capacity(parts.len());
    for part in parts {
        super::media::carry_file(
            tx,
            app,
            sender,
            room.id,
            part.kind,
            &part.data,
            &part.local_id,
        )
        .await?;
        stored.push(tx.append_message(app, room, part, &[]).await?);
    }
    tx.set_last_activity(sender.id, now_ms()).await?;
    Ok(stored)
}

/// The room `destination` names, as `sender` may post into it: read under its row lock (a
/// lock or a removal committed a moment before is seen), a personal room created on first use,
/// and the sender must take part in it.
pub(super) async fn room_to_post_in(
    tx: &mut dyn ChatTx,
    app: AppId,
    sender: &User,
    destination: Destination,
) -> Result<Room, StoreError> {
    let room = match destination {
        Destination::Room(RoomRef::Shared(id)) => tx.room_by_id(app, id, RowLock::Update).await?,
        Destination::Room(room) => resolve_room(tx, app, sender, room, true)
            .await?
            .ok_or(StoreError::RoomNotFound)?,
        Destination::XcRoom(xc) => tx
            .room_by_xc_id(app, &xc, RowLock::Update)
            .await?
            .ok_or(StoreError::RoomNotFound)?,
    };
    if !is_participant(tx, &room, sender).await? {
        return Err(StoreError::Forbidden(
            "not a participant of this room".into(),
        ));
    }
    Ok(room)
}

/// The receipt rule: only recipients change a message's state (a sender's own messages,
/// system messages, unknown IDs and rooms the reader is not in are skipped, not refused).
/// Reading a message moves the reader's read position to it, and so reads everything before
/// it; read implies delivered. A message is reported once, and only when its state changed;
/// the sender and the reader's other devices hear about it. Each receipt is also kept as the
/// reader's own, with its time, for message info. Reading a room clears the reader's unread
/// mark of it.
pub(super) async fn mark(
    tx: &mut dyn ChatTx,
    app: AppId,
    reader: User,
    ids: Vec<MessageId>,
    read: bool,
) -> Result<Marked, StoreError> {
    let mut changed = Vec::new();
    let mut read_rooms: Vec<Room> = Vec::new();
    for id in ids {
        let Some(message) = tx.message_by_id(app, id).await? else {
            continue;
        };
        let Some(sender) = message.sender.as_ref().map(|s| s.id) else {
            continue;
        };
        if sender == reader.id || !is_participant(tx, &message.room, &reader).await? {
            continue;
        }
        if message.kind != SYSTEM_MESSAGE_TYPE {
            // The reader's own receipt, for message info.
            let (room, seq) = (message.room.id, message.seq);
            tx.record_receipt(id, room, seq, reader.id, read, now_ms())
                .await?;
        }
        if read {
            let ordinal = tx.message_ordinal(id).await?;
            tx.set_read_position(reader.id, message.room.id, message.seq, ordinal)
                .await?;
            if !read_rooms.iter().any(|r| r.id == message.room.id) {
                read_rooms.push(message.room.clone());
            }
        }
        let differs = !message.is_delivered || (read && !message.is_read);
        if !differs || changed.contains(&id) {
            continue;
        }
        let Some(updated) = tx.set_receipt(app, id, read).await? else {
            continue;
        };
        // The sender and the reader hear of it, whether they take part explicitly or by role:
        // two read positions, whatever the size of the room.
        let room = updated.room.id;
        let members = vec![
            (sender, tx.read_seq(sender, room).await?),
            (reader.id, tx.read_seq(reader.id, room).await?),
        ];
        tx.emit(FeedItem {
            kind: FeedKind::Receipt,
            message: updated,
            audience: Arc::new(Audience {
                app,
                members,
                roles: Vec::new(),
            }),
        });
        changed.push(id);
    }
    let ids: Vec<RoomId> = read_rooms.iter().map(|r| r.id).collect();
    let unmarked = tx
        .change_room_states(reader.id, &ids, RoomStateChange::MarkRead)
        .await?;
    read_rooms.retain(|r| unmarked.contains(&r.id));
    Ok(Marked {
        changed,
        unmarked: read_rooms,
    })
}

/// What [`mark`] changed.
#[derive(Debug)]
pub(super) struct Marked {
    /// The messages whose receipt state changed.
    pub changed: Vec<MessageId>,
    /// The rooms whose unread mark the reading cleared.
    pub unmarked: Vec<Room>,
}

/// The delete rule: for everyone, by the sender alone, in a room they take part in (a personal
/// room not created yet has nothing to delete); others' messages, messages of other rooms and
/// ones already deleted are skipped. The whole room hears of each deletion.
pub(super) async fn delete(
    tx: &mut dyn ChatTx,
    app: AppId,
    user: User,
    room: RoomRef,
    ids: Vec<MessageId>,
) -> Result<Vec<MessageId>, StoreError> {
    let Some(room) = find_room(tx, app, &user, room).await? else {
        return Ok(Vec::new());
    };
    let mut deleted = Vec::new();
    // Read once, when the first message is deleted, and shared by every deletion.
    let mut audience: Option<Arc<Audience>> = None;
    for id in ids {
        let Some(message) = tx.message_by_id(app, id).await? else {
            continue;
        };
        let own = message.sender.as_ref().is_some_and(|s| s.id == user.id);
        if message.room.id != room.id || !own || message.is_deleted {
            continue;
        }
        let Some(updated) = tx.delete_message(app, id, now_ms()).await? else {
            continue;
        };
        let audience = match &audience {
            Some(audience) => Arc::clone(audience),
            None => Arc::clone(audience.insert(Arc::new(tx.audience(app, &room, &[]).await?))),
        };
        tx.emit(FeedItem {
            kind: FeedKind::Deleted,
            message: updated,
            audience,
        });
        deleted.push(id);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_counts_utf16_units_and_keeps_characters_whole() {
        assert_eq!(split_utf16("", 3), vec![""]);
        assert_eq!(split_utf16("abcdefg", 3), vec!["abc", "def", "g"]);
        // '🎉' is two UTF-16 units: it never straddles a boundary.
        assert_eq!(split_utf16("ab🎉c", 3), vec!["ab", "🎉c"]);
        let long = "x".repeat(SPLIT_AT * 2 + 1);
        let parts = split_utf16(&long, SPLIT_AT);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![SPLIT_AT, SPLIT_AT, 1]
        );
    }

    #[test]
    fn arrays_are_wrapped_as_items_and_objects_kept() {
        assert_eq!(wrap_data("[1,2]"), r#"{"items":[1,2]}"#);
        assert_eq!(wrap_data(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(wrap_data(""), "");
    }
}

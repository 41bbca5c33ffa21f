//! Starred and pinned messages. A star is the user's own bookmark of a message; a pin is the
//! room's, seen by every member and told to them live by a `message/pin` or `message/unpin`
//! system message naming the message. Who may pin: any participant of a personal room or of a
//! Server API room (which have no admins); in a group or channel created by a client, its
//! admins, as for its other settings.

use std::collections::HashSet;

use super::access::find_room;
use super::{ClientSession, Service, ServiceError};
use crate::domain::message::SYSTEM_MESSAGE_TYPE;
use crate::domain::{
    AppId, Message, MessageId, Room, RoomKind, RoomRef, SystemAction, User, Viewed, now_ms,
};
use crate::store::{ChatRead, StoreError};

/// A page of a list: 1-based page number and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Which page, from 1.
    pub number: i64,
    /// Messages per page.
    pub size: i64,
}

/// Which list of marked messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    /// The caller's stars.
    Starred,
    /// The room's pins.
    Pinned,
}

/// The messages of `ids` that are in `room`, each once, in the order asked; with `markable`,
/// only those that can be marked (not deleted, not hidden, not system messages). Others are
/// skipped, as receipts and deletes skip them.
async fn of_room(
    tx: &mut dyn ChatRead,
    app: AppId,
    room: &Room,
    ids: &[MessageId],
    markable: bool,
) -> Result<Vec<Message>, StoreError> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        let Some(message) = tx.message_by_id(app, id).await? else {
            continue;
        };
        let usable =
            !message.is_deleted && !message.is_hidden && message.kind != SYSTEM_MESSAGE_TYPE;
        if message.room.id == room.id && (usable || !markable) {
            found.push(message);
        }
    }
    Ok(found)
}

/// The IDs of `list` for the caller in `room`: their stars or the room's pins.
async fn marked_ids(
    tx: &mut dyn ChatRead,
    user: &User,
    room: &Room,
    list: Marked,
) -> Result<Vec<MessageId>, StoreError> {
    match list {
        Marked::Starred => tx.starred_ids(user.id, room.id).await,
        Marked::Pinned => tx.pinned_ids(room.id).await,
    }
}

impl Service {
    /// Stars (`starred`) or unstars messages of a room for the caller; returns the IDs that
    /// are now so (of those that name a message of the room; the rest are skipped).
    pub async fn star_messages(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<MessageId>,
        starred: bool,
    ) -> Result<Vec<MessageId>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .transaction(move |tx| {
                let (user, ids) = (user.clone(), ids.clone());
                Box::pin(async move {
                    let Some(room) = find_room(tx, app, &user, room).await? else {
                        return Ok(Vec::new());
                    };
                    // Unstarring needs no more than the star: a message deleted since can
                    // still be unstarred.
                    let messages = of_room(tx, app, &room, &ids, starred).await?;
                    let now = now_ms();
                    for message in &messages {
                        tx.set_star(user.id, room.id, message.id, starred, now)
                            .await?;
                    }
                    Ok(messages.iter().map(|m| m.id).collect())
                })
            })
            .await?)
    }

    /// Pins (`pinned`) or unpins messages of a room; returns the IDs that are now so. Each
    /// message whose pin changed appends a `message/pin` or `message/unpin` system message,
    /// which every member receives live.
    pub async fn pin_messages(
        &self,
        session: &ClientSession,
        room: RoomRef,
        ids: Vec<MessageId>,
        pinned: bool,
    ) -> Result<Vec<MessageId>, ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .transaction(move |tx| {
                let (user, ids) = (user.clone(), ids.clone());
                Box::pin(async move {
                    let Some(room) = find_room(tx, app, &user, room).await? else {
                        return Ok(Vec::new());
                    };
                    let client_group = matches!(room.kind, RoomKind::Shared { xc_room_id: None });
                    if client_group && !tx.is_admin(room.id, user.id).await? {
                        return Err(StoreError::Forbidden(
                            "only the room's admins may pin messages".into(),
                        ));
                    }
                    let messages = of_room(tx, app, &room, &ids, true).await?;
                    let action = if pinned {
                        SystemAction::PinMessage
                    } else {
                        SystemAction::UnpinMessage
                    };
                    let now = now_ms();
                    let mut notes = Vec::new();
                    for message in &messages {
                        if tx
                            .set_pin(room.id, message.id, pinned, user.id, now)
                            .await?
                        {
                            notes.push(action.message_about(user.id, message));
                        }
                    }
                    tx.append_messages(app, &room, notes, &[]).await?;
                    Ok(messages.iter().map(|m| m.id).collect())
                })
            })
            .await?)
    }

    /// The IDs of the caller's stars or of the room's pins, newest first.
    pub async fn marked_ids(
        &self,
        session: &ClientSession,
        room: RoomRef,
        list: Marked,
    ) -> Result<Vec<MessageId>, ServiceError> {
        self.read_as(session, move |tx, app, user| {
            Box::pin(async move {
                match find_room(tx, app, user, room).await? {
                    Some(room) => marked_ids(tx, user, &room, list).await,
                    None => Ok(Vec::new()),
                }
            })
        })
        .await
    }

    /// A page of the caller's starred or the room's pinned messages, newest first, as the
    /// caller sees them, and whether more follow. Messages deleted since are left out.
    pub async fn marked_page(
        &self,
        session: &ClientSession,
        room: RoomRef,
        list: Marked,
        page: Page,
    ) -> Result<(Vec<Viewed>, bool), ServiceError> {
        let (app, user) = (session.app, session.user.clone());
        Ok(self
            .store
            .reading(move |tx| {
                let user = user.clone();
                Box::pin(async move {
                    let Some(room) = find_room(tx, app, &user, room).await? else {
                        return Ok((Vec::new(), false));
                    };
                    let ids = marked_ids(tx, &user, &room, list).await?;
                    let skip = usize::try_from((page.number - 1).saturating_mul(page.size))
                        .unwrap_or(usize::MAX);
                    let size = usize::try_from(page.size).unwrap_or(usize::MAX);
                    let more = ids.len() > skip.saturating_add(size);
                    let read_seq = tx.read_seq(user.id, room.id).await?;
                    let mut found = Vec::new();
                    for &id in ids.iter().skip(skip).take(size) {
                        if let Some(message) = tx.message_by_id(app, id).await?
                            && !message.is_deleted
                        {
                            found.push(Viewed::new(message, read_seq));
                        }
                    }
                    Ok((found, more))
                })
            })
            .await?)
    }
}

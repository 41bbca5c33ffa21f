//! Row decoding shared by every query, so a user, room or message is read the same way
//! wherever it is joined in. The column lists it decodes are the ones both backends select
//! (`store::columns`), re-exported here for this backend's queries.

use rusqlite::Row;

use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{Message, Room, RoomKind, RoomType, Target, User, UserId};
use crate::store::columns::{json_list, json_or_default};

pub(super) use crate::store::columns::{
    MESSAGE_COLUMNS, MESSAGE_WIDTH, ROOM_COLUMNS, ROOM_FROM, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH,
    json_unless_default,
};

/// Reads a user starting at column `at`; `None` when the (outer-joined) ID is NULL.
pub(super) fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<User>> {
    let Some(id) = row.get::<_, Option<UserId>>(at)? else {
        return Ok(None);
    };
    Ok(Some(User {
        id,
        xc_user_id: row.get(at + 1)?,
        fullname: row.get(at + 2)?,
        email: row.get(at + 3)?,
        phone: row.get(at + 4)?,
        username: row.get(at + 5)?,
        photo_thumbnail: row.get(at + 6)?,
        photo_fullsize: row.get(at + 7)?,
        role_code: row.get(at + 8)?,
        last_login: row.get(at + 9)?,
        last_activity: row.get(at + 10)?,
        created: row.get(at + 11)?,
        updated: row.get(at + 12)?,
        deleted: row.get(at + 13)?,
    }))
}

/// Reads a user at column 0 of a row that always has one.
pub(super) fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    user_at(row, 0).map(|u| u.expect("user rows have an id"))
}

/// Reads a room starting at column `at`.
pub(super) fn room_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Room> {
    let personal: (Option<UserId>, Option<UserId>) = (row.get(at + 2)?, row.get(at + 3)?);
    let kind = match personal {
        (Some(a), Some(b)) => RoomKind::Personal { a, b },
        _ => RoomKind::Shared {
            xc_room_id: row.get(at + 1)?,
        },
    };
    let type_code: i64 = row.get(at + 4)?;
    Ok(Room {
        id: row.get(at)?,
        kind,
        room_type: RoomType::from_code(type_code).unwrap_or(RoomType::Group),
        name: row.get(at + 5)?,
        photo_thumbnail: row.get(at + 6)?,
        photo_fullsize: row.get(at + 7)?,
        color: row.get(at + 8)?,
        tags: json_list(row.get(at + 9)?),
        participant_roles: json_list(row.get(at + 10)?),
        locked_time: row.get(at + 11)?,
        deleted: row.get(at + 12)?,
        peers: match (user_at(row, at + 13)?, user_at(row, at + 13 + USER_WIDTH)?) {
            (Some(a), Some(b)) => Some(Box::new((a, b))),
            _ => None,
        },
    })
}

/// Reads a message starting at column `at`, attaching its already-read room and sender.
pub(super) fn message_at(
    row: &Row<'_>,
    at: usize,
    room: Room,
    sender: Option<User>,
) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(at)?,
        seq: row.get(at + 1)?,
        room,
        sender,
        local_id: row.get(at + 2)?,
        kind: row.get(at + 3)?,
        body: row.get(at + 4)?,
        data: row.get(at + 5)?,
        filter_id: row.get(at + 6)?,
        is_hidden: row.get(at + 7)?,
        quote: json_or_default::<Quote>(row.get(at + 8)?),
        reply_to: json_or_default::<ReplyTo>(row.get(at + 9)?),
        forward_from: json_or_default::<ForwardFrom>(row.get(at + 10)?),
        action: row.get(at + 11)?,
        target: json_or_default::<Target>(row.get(at + 12)?),
        is_delivered: row.get(at + 13)?,
        is_read: row.get(at + 14)?,
        is_deleted: row.get(at + 15)?,
        is_edited: row.get(at + 16)?,
        created: row.get(at + 17)?,
        updated: row.get(at + 18)?,
        deleted: row.get(at + 19)?,
        renders: Default::default(),
    })
}

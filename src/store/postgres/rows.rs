//! Row decoding for the column lists shared with the SQLite store (`store::columns`), so both
//! backends read a user, room or message the same way.

use tokio_postgres::Row;

use super::Res;
use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{Message, Room, RoomKind, RoomType, Target, User, UserId};
use crate::store::columns::{json_list, json_or_default};

pub(super) use crate::store::columns::{
    MESSAGE_COLUMNS, MESSAGE_WIDTH, ROOM_COLUMNS, ROOM_FROM, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH,
    json_unless_default,
};

/// Reads a user starting at column `at`; `None` when the (outer-joined) ID is NULL.
pub(super) fn user_at(row: &Row, at: usize) -> Res<Option<User>> {
    let Some(id) = row.try_get::<_, Option<UserId>>(at)? else {
        return Ok(None);
    };
    Ok(Some(User {
        id,
        xc_user_id: row.try_get(at + 1)?,
        fullname: row.try_get(at + 2)?,
        email: row.try_get(at + 3)?,
        phone: row.try_get(at + 4)?,
        username: row.try_get(at + 5)?,
        photo_thumbnail: row.try_get(at + 6)?,
        photo_fullsize: row.try_get(at + 7)?,
        role_code: row.try_get(at + 8)?,
        last_login: row.try_get(at + 9)?,
        last_activity: row.try_get(at + 10)?,
        created: row.try_get(at + 11)?,
        updated: row.try_get(at + 12)?,
        deleted: row.try_get(at + 13)?,
    }))
}

/// Reads a user at column 0 of a row that always has one.
pub(super) fn user(row: &Row) -> Res<User> {
    user_at(row, 0).map(|u| u.expect("user rows have an id"))
}

/// Reads a room starting at column `at`.
pub(super) fn room_at(row: &Row, at: usize) -> Res<Room> {
    let personal: (Option<UserId>, Option<UserId>) = (row.try_get(at + 2)?, row.try_get(at + 3)?);
    let kind = match personal {
        (Some(a), Some(b)) => RoomKind::Personal { a, b },
        _ => RoomKind::Shared {
            xc_room_id: row.try_get(at + 1)?,
        },
    };
    let type_code: i64 = row.try_get(at + 4)?;
    Ok(Room {
        id: row.try_get(at)?,
        kind,
        room_type: RoomType::from_code(type_code).unwrap_or(RoomType::Group),
        name: row.try_get(at + 5)?,
        photo_thumbnail: row.try_get(at + 6)?,
        photo_fullsize: row.try_get(at + 7)?,
        color: row.try_get(at + 8)?,
        tags: json_list(row.try_get(at + 9)?),
        participant_roles: json_list(row.try_get(at + 10)?),
        locked_time: row.try_get(at + 11)?,
        deleted: row.try_get(at + 12)?,
        peers: match (user_at(row, at + 13)?, user_at(row, at + 13 + USER_WIDTH)?) {
            (Some(a), Some(b)) => Some(Box::new((a, b))),
            _ => None,
        },
    })
}

/// Reads a message starting at column `at`, attaching its already-read room and sender.
pub(super) fn message_at(row: &Row, at: usize, room: Room, sender: Option<User>) -> Res<Message> {
    Ok(Message {
        id: row.try_get(at)?,
        seq: row.try_get(at + 1)?,
        room,
        sender,
        local_id: row.try_get(at + 2)?,
        kind: row.try_get(at + 3)?,
        body: row.try_get(at + 4)?,
        data: row.try_get(at + 5)?,
        filter_id: row.try_get(at + 6)?,
        is_hidden: row.try_get(at + 7)?,
        quote: json_or_default::<Quote>(row.try_get(at + 8)?),
        reply_to: json_or_default::<ReplyTo>(row.try_get(at + 9)?),
        forward_from: json_or_default::<ForwardFrom>(row.try_get(at + 10)?),
        action: row.try_get(at + 11)?,
        target: json_or_default::<Target>(row.try_get(at + 12)?),
        is_delivered: row.try_get(at + 13)?,
        is_read: row.try_get(at + 14)?,
        is_deleted: row.try_get(at + 15)?,
        is_edited: row.try_get(at + 16)?,
        created: row.try_get(at + 17)?,
        updated: row.try_get(at + 18)?,
        deleted: row.try_get(at + 19)?,
        renders: Default::default(),
    })
}

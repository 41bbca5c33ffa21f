//! Column lists and row decoding shared by every query, so a user, room or message is read the
//! same way wherever it is joined in.

use rusqlite::Row;

use crate::domain::model::{ForwardFrom, Quote, ReplyTo};
use crate::domain::{Message, Room, RoomKind, RoomType, Target, User};

/// The user columns under a table alias.
macro_rules! user_columns {
    ($a:literal) => {
        concat!(
            $a,
            ".id, ",
            $a,
            ".xc_user_id, ",
            $a,
            ".fullname, ",
            $a,
            ".email, ",
            $a,
            ".phone, ",
            $a,
            ".username, ",
            $a,
            ".photo_thumbnail, ",
            $a,
            ".photo_fullsize, ",
            $a,
            ".role_code, ",
            $a,
            ".last_login, ",
            $a,
            ".last_activity, ",
            $a,
            ".created, ",
            $a,
            ".updated, ",
            $a,
            ".deleted"
        )
    };
}

/// User columns, for `SELECT` lists with the alias `u`.
pub(crate) const USER_COLUMNS: &str = user_columns!("u");
/// Number of columns in [`USER_COLUMNS`].
pub(crate) const USER_WIDTH: usize = 14;

/// Room columns, alias `r`, followed by the two users of a personal room (`pa`, `pb`);
/// select them `FROM` [`ROOM_FROM`].
pub(crate) const ROOM_COLUMNS: &str = concat!(
    "r.id, r.xc_room_id, r.personal_a, r.personal_b, r.type, r.name, r.photo_thumbnail, \
     r.photo_fullsize, r.color, r.tags, r.roles, r.locked_time, r.deleted, ",
    user_columns!("pa"),
    ", ",
    user_columns!("pb")
);
/// The rooms table with the users of personal rooms joined in, for [`ROOM_COLUMNS`].
pub(crate) const ROOM_FROM: &str = "rooms r LEFT JOIN users pa ON pa.id = r.personal_a \
    LEFT JOIN users pb ON pb.id = r.personal_b";
/// Number of columns in [`ROOM_COLUMNS`].
pub(crate) const ROOM_WIDTH: usize = 13 + 2 * USER_WIDTH;

/// Message columns, alias `m`.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id, m.seq, m.local_id, m.type, m.body, m.data, \
    m.filter_id, m.is_hidden, m.quote, m.reply_to, m.forward_from, m.action, m.target, \
    m.is_delivered, m.is_read, m.is_deleted, m.is_edited, m.created, m.updated, m.deleted, \
    m.sender_id";
/// Number of columns in [`MESSAGE_COLUMNS`].
pub(crate) const MESSAGE_WIDTH: usize = 21;

/// Reads a user starting at column `at`; `None` when the (outer-joined) ID is NULL.
pub(super) fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<User>> {
    let Some(id) = row.get::<_, Option<i64>>(at)? else {
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

pub(crate) fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

pub(crate) fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Serializes a message part for storage: `NULL` when it is the empty placeholder.
pub(crate) fn json_unless_default<T: serde::Serialize + Default + PartialEq>(
    value: &T,
) -> Option<String> {
    (*value != T::default()).then(|| serde_json::to_string(value).expect("plain structs serialize"))
}

/// Reads a room starting at column `at`.
pub(super) fn room_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Room> {
    let personal: (Option<i64>, Option<i64>) = (row.get(at + 2)?, row.get(at + 3)?);
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
    })
}

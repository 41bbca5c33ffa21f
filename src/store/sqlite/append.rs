//! Appending a message to a SQLite room, and who hears about it: the per-room sequence and
//! unread counters, read positions (which only ever move forward), and the audience queries.
//! Room changes (their system messages), client room changes and sends all append through
//! here, so none of those modules has to depend on another to do it.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows;
use crate::domain::message::Placement;
use crate::domain::{AppId, Message, MessageId, NewMessage, Room, RoomId, UserId, now_ms};
use crate::store::{Audience, FeedItem, StoreError};

/// The end of every write of a read position: it only ever moves forward.
macro_rules! forward_only {
    () => {
        " ON CONFLICT (user_id, room_id) DO UPDATE SET \
          read_seq = max(read_seq, excluded.read_seq), \
          read_count = max(read_count, excluded.read_count)"
    };
}

/// Moves a user's read position forward (never back).
pub(super) fn set_read_position(
    conn: &Connection,
    user: UserId,
    room: RoomId,
    seq: i64,
    count: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(concat!(
        "INSERT INTO read_positions (user_id, room_id, read_seq, read_count) \
         VALUES (?1, ?2, ?3, ?4)",
        forward_only!()
    ))?
    .execute(params![user, room, seq, count])?;
    Ok(())
}

/// How far a user has read a room (0 when they never have).
pub(super) fn read_seq(conn: &Connection, user: UserId, room: RoomId) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT read_seq FROM read_positions WHERE user_id = ?1 AND room_id = ?2")?
        .query_row(params![user, room], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Moves a user's read position forward to the room's present (a new participant), reading
/// and writing in one statement.
pub(super) fn read_position_at_present(
    conn: &Connection,
    user: UserId,
    room: RoomId,
) -> Result<(), StoreError> {
    conn.prepare_cached(concat!(
        "INSERT INTO read_positions (user_id, room_id, read_seq, read_count) \
         SELECT ?1, id, last_seq, chat_count FROM rooms WHERE id = ?2",
        forward_only!()
    ))?
    .execute(params![user, room])?;
    Ok(())
}

/// Appends messages in order, then puts them on the feed for the room's audience plus
/// `extra`, read once for all of them.
pub(super) fn append_messages(
    conn: &Connection,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    room: &Room,
    messages: Vec<NewMessage>,
    extra: &[UserId],
) -> Result<Vec<Message>, StoreError> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let appended = messages
        .into_iter()
        .map(|new| append_one(conn, room, new))
        .collect::<Result<Vec<_>, _>>()?;
    let audience = new_message_audience(conn, app, room, extra)?;
    feed.extend(FeedItem::appended(&appended, audience));
    Ok(appended)
}

/// Appends a message: next sequence number, a `created` strictly later than the room's
/// previous message (history pages by time never skip a message), the unread counters, and
/// (for a user's own message) the sender's read position, since sending implies having read
/// the room.
fn append_one(conn: &Connection, room: &Room, new: NewMessage) -> Result<Message, StoreError> {
    let counts = new.counts_as_unread();
    let (id, version) = super::pool::with_counters(conn, |c| {
        c.message_id += 1;
        c.version += 1;
        (MessageId(c.message_id), c.version)
    })?;
    let (seq, chat_count, created): (i64, i64, i64) = conn
        .prepare_cached(
            "UPDATE rooms SET last_seq = last_seq + 1, chat_count = chat_count + ?2, \
             last_activity = max(?3, last_activity + 1), last_message_id = ?4, changed = ?5 \
             WHERE id = ?1 RETURNING last_seq, chat_count, last_activity",
        )?
        .query_row(
            params![room.id, i64::from(counts), now_ms(), id, version],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    // Messages that never count as unread are born delivered and read, so that clients
    // counting unread messages themselves agree with the server.
    let settled = !counts;
    conn.prepare_cached(
        "INSERT INTO messages (room_id, seq, sender_id, local_id, type, body, data, \
             filter_id, is_hidden, quote, reply_to, forward_from, action, target, \
             is_delivered, is_read, ordinal, version, born, created, updated, id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, \
             ?16, ?17, ?17, ?18, ?18, ?19)",
    )?
    .execute(params![
        room.id,
        seq,
        new.sender,
        new.local_id,
        new.kind,
        new.body,
        new.data,
        new.filter_id,
        new.is_hidden,
        rows::json_unless_default(&new.quote),
        rows::json_unless_default(&new.reply_to),
        rows::json_unless_default(&new.forward_from),
        new.action,
        rows::json_unless_default(&new.target),
        settled,
        chat_count,
        version,
        created,
        id
    ])?;
    let sender = match new.sender {
        Some(sender) => {
            if new.moves_senders_position() {
                set_read_position(conn, sender, room.id, seq, chat_count)?;
            }
            Some(super::users::user_by_id(conn, sender)?)
        }
        None => None,
    };
    Ok(new.appended(Placement { id, seq, created }, room, sender))
}

/// Everyone who must hear about a room's messages, plus `extra` users (e.g. one just removed,
/// who still gets the message saying so).
pub(super) fn audience(
    conn: &Connection,
    app: AppId,
    room: &Room,
    extra: &[UserId],
) -> Result<Audience, StoreError> {
    audience_from(
        conn,
        "SELECT rm.user_id, coalesce(p.read_seq, 0) FROM room_members rm \
         LEFT JOIN read_positions p ON p.user_id = rm.user_id AND p.room_id = rm.room_id \
         WHERE rm.room_id = ?1",
        app,
        room,
        extra,
    )
}

/// The audience of a message being appended, with every read position 0. No member can have
/// read it yet (a read position never passes the room's newest message), and looking the
/// positions up cost one index lookup per member on the single writer for every append.
fn new_message_audience(
    conn: &Connection,
    app: AppId,
    room: &Room,
    extra: &[UserId],
) -> Result<Audience, StoreError> {
    audience_from(
        conn,
        "SELECT user_id, 0 FROM room_members WHERE room_id = ?1",
        app,
        room,
        extra,
    )
}

/// Runs an audience query: `sql` lists `(user_id, read_seq)` for room `?1`.
fn audience_from(
    conn: &Connection,
    sql: &str,
    app: AppId,
    room: &Room,
    extra: &[UserId],
) -> Result<Audience, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let members: Vec<(UserId, i64)> = stmt
        .query_map([room.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Audience::with_extra(
        app,
        members,
        extra,
        room.participant_roles.clone(),
    ))
}

//! Appending a message to a PostgreSQL room, and who hears about it: the per-room sequence
//! and unread counters, the change version, read positions (which only ever move forward),
//! and the audience query. Room changes (their system messages), client room changes and
//! sends all append through here, so none of those modules has to depend on another to do it.

use super::rows::json_unless_default;
use super::{Res, Tx, exec, one, opt, rows as all};
use crate::domain::message::Placement;
use crate::domain::{AppId, Message, MessageId, NewMessage, Room, RoomId, UserId, now_ms};
use crate::store::{Audience, FeedItem};

/// The next change version. Locks the counter row until commit: versions commit in the order
/// they were handed out, so a device that synced up to version `v` has seen every change up
/// to `v`. Take it after the room lock, never before.
pub(super) async fn next_version(tx: &Tx<'_>) -> Res<i64> {
    Ok(one(
        tx,
        "UPDATE counters SET value = value + 1 WHERE name = 'version' RETURNING value",
        &[],
    )
    .await?
    .try_get(0)?)
}

/// How far a user has read a room (0 when they never have).
pub(super) async fn read_seq(tx: &Tx<'_>, user: UserId, room: RoomId) -> Res<i64> {
    let found = opt(
        tx,
        "SELECT read_seq FROM read_positions WHERE user_id = $1 AND room_id = $2",
        &[&user, &room],
    )
    .await?;
    Ok(match found {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

/// Moves a user's read position forward (never back).
pub(super) async fn set_read_position(
    tx: &Tx<'_>,
    user: UserId,
    room: RoomId,
    seq: i64,
    count: i64,
) -> Res<()> {
    exec(
        tx,
        "INSERT INTO read_positions (user_id, room_id, read_seq, read_count) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, room_id) DO UPDATE SET \
         read_seq = GREATEST(read_positions.read_seq, excluded.read_seq), \
         read_count = GREATEST(read_positions.read_count, excluded.read_count)",
        &[&user, &room, &seq, &count],
    )
    .await?;
    Ok(())
}

/// Appends messages in order, then puts them on the feed for the room's audience plus
/// `extra`, read once for all of them.
pub(super) async fn append_messages(
    tx: &Tx<'_>,
    feed: &mut Vec<FeedItem>,
    app: AppId,
    room: &Room,
    messages: Vec<NewMessage>,
    extra: &[UserId],
) -> Res<Vec<Message>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut appended = Vec::with_capacity(messages.len());
    for new in messages {
        appended.push(append_one(tx, room, new).await?);
    }
    let audience = audience(tx, app, room, extra).await?;
    feed.extend(FeedItem::appended(&appended, audience));
    Ok(appended)
}

/// Appends a message: next sequence number (the `UPDATE` locks the room row, so concurrent
/// senders on any node get consecutive numbers), a `created` strictly later than the room's
/// previous message, the unread counters, and (for a user's own message) the sender's read
/// position.
async fn append_one(tx: &Tx<'_>, room: &Room, new: NewMessage) -> Res<Message> {
    let counts = new.counts_as_unread();
    let row = one(
        tx,
        "UPDATE rooms SET last_seq = last_seq + 1, chat_count = chat_count + $2, \
         last_activity = GREATEST($3, last_activity + 1), last_message_id = nextval('message_ids') \
         WHERE id = $1 RETURNING last_message_id, last_seq, chat_count, last_activity",
        &[&room.id, &i64::from(counts), &now_ms()],
    )
    .await?;
    let (id, seq, chat_count, created): (MessageId, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    );
    if let Some(sender) = new.sender.filter(|_| new.moves_senders_position()) {
        set_read_position(tx, sender, room.id, seq, chat_count).await?;
    }
    let version = next_version(tx).await?;
    // Messages that never count as unread are born delivered and read, so that clients
    // counting unread messages themselves agree with the server.
    let settled = !counts;
    exec(
        tx,
        "INSERT INTO messages (room_id, seq, sender_id, local_id, type, body, data, \
             filter_id, is_hidden, quote, reply_to, forward_from, action, target, \
             is_delivered, is_read, ordinal, version, created, updated, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, \
             $16, $17, $18, $18, $19)",
        &[
            &room.id,
            &seq,
            &new.sender,
            &new.local_id,
            &new.kind,
            &new.body,
            &new.data,
            &new.filter_id,
            &new.is_hidden,
            &json_unless_default(&new.quote),
            &json_unless_default(&new.reply_to),
            &json_unless_default(&new.forward_from),
            &new.action,
            &json_unless_default(&new.target),
            &settled,
            &chat_count,
            &version,
            &created,
            &id,
        ],
    )
    .await?;
    let sender = match new.sender {
        Some(sender) => Some(super::users::user_by_id(tx, sender).await?),
        None => None,
    };
    Ok(new.appended(Placement { id, seq, created }, room, sender))
}

/// Everyone who must hear about a room's messages, plus `extra` users (e.g. one just removed,
/// who still gets the message saying so).
pub(super) async fn audience(
    tx: &Tx<'_>,
    app: AppId,
    room: &Room,
    extra: &[UserId],
) -> Res<Audience> {
    let found = all(
        tx,
        "SELECT rm.user_id, coalesce(p.read_seq, 0) FROM room_members rm \
         LEFT JOIN read_positions p ON p.user_id = rm.user_id AND p.room_id = rm.room_id \
         WHERE rm.room_id = $1",
        &[&room.id],
    )
    .await?;
    let mut members = Vec::with_capacity(found.len() + extra.len());
    for row in &found {
        members.push((row.try_get::<_, UserId>(0)?, row.try_get::<_, i64>(1)?));
    }
    Ok(Audience::with_extra(
        app,
        members,
        extra,
        room.participant_roles.clone(),
    ))
}

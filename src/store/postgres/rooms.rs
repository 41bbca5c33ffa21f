//! Rooms, participants, admins, locks and room lists in PostgreSQL.
//!
//! Every change to a room first locks its row ([`lock_room`]) and re-reads it, so checks and
//! changes see the room as no other node can change it until commit.

use super::append::set_read_position;
use super::rows::{
    self, MESSAGE_COLUMNS, ROOM_COLUMNS, ROOM_FROM, ROOM_WIDTH, USER_COLUMNS, USER_WIDTH,
};
use super::users::user_by_xc_id;
use super::{Res, Tx, exec, one, opt, rows as all};
use crate::domain::{AppId, Room, RoomBundle, RoomId, RoomListEntry, User, UserId, now_ms};
pub(super) use crate::store::shared::NewRoom;
use crate::store::shared::json;
use crate::store::{RoomUpsert, StoreError};

/// The room with this `xcRoomID` in this app; with `lock`, its row stays locked to commit.
pub(super) async fn room_by_xc_id(
    tx: &Tx<'_>,
    app: AppId,
    xc_room_id: &str,
    lock: bool,
) -> Res<Option<Room>> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE r.app_id = $1 AND r.xc_room_id = $2{}",
        if lock { " FOR UPDATE OF r" } else { "" }
    );
    opt(tx, &sql, &[&app, &xc_room_id])
        .await?
        .map(|row| rows::room_at(&row, 0))
        .transpose()
}

/// The room with this internal ID in this app.
pub(super) async fn room_by_id(tx: &Tx<'_>, app: AppId, id: RoomId) -> Res<Room> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE r.id = $1 AND r.app_id = $2 AND r.deleted = 0"
    );
    match opt(tx, &sql, &[&id, &app]).await? {
        Some(row) => rows::room_at(&row, 0),
        None => Err(StoreError::RoomNotFound.into()),
    }
}

/// Locks a room's row until commit and reads it as it is now.
pub(super) async fn lock_room(tx: &Tx<'_>, app: AppId, id: RoomId) -> Res<Room> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} WHERE r.id = $1 AND r.app_id = $2 AND r.deleted = 0 FOR UPDATE OF r"
    );
    match opt(tx, &sql, &[&id, &app]).await? {
        Some(row) => rows::room_at(&row, 0),
        None => Err(StoreError::RoomNotFound.into()),
    }
}

/// The personal room of users `a` and `b` (lower ID first), if it exists yet.
pub(super) async fn personal_room(
    tx: &Tx<'_>,
    app: AppId,
    a: UserId,
    b: UserId,
) -> Res<Option<Room>> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} \
         WHERE r.app_id = $1 AND r.personal_a = $2 AND r.personal_b = $3"
    );
    opt(tx, &sql, &[&app, &a, &b])
        .await?
        .map(|row| rows::room_at(&row, 0))
        .transpose()
}

/// Creates the personal room of `a` and `b` with its two participants. Two first messages at
/// once: one insert wins, the other transaction fails on the unique index and runs again,
/// finding this room.
pub(super) async fn insert_personal_room(
    tx: &Tx<'_>,
    app: AppId,
    a: UserId,
    b: UserId,
    now: i64,
) -> Res<Room> {
    let id: RoomId = one(
        tx,
        "INSERT INTO rooms (app_id, personal_a, personal_b, type, name, \
             last_activity, created, updated) \
         VALUES ($1, $2, $3, 1, '', $4, $4, $4) RETURNING id",
        &[&app, &a, &b, &now],
    )
    .await?
    .try_get(0)?;
    add_member(tx, id, a, false, now).await?;
    add_member(tx, id, b, false, now).await?;
    room_by_id(tx, app, id).await
}

/// The room with its explicit participants (in joining order) and admins.
pub(super) async fn bundle(tx: &Tx<'_>, room: Room) -> Res<RoomBundle> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, rm.is_admin FROM room_members rm \
         JOIN users u ON u.id = rm.user_id WHERE rm.room_id = $1 ORDER BY rm.joined, rm.user_id"
    );
    let mut participants = Vec::new();
    let mut admin_ids = Vec::new();
    for row in all(tx, &sql, &[&room.id]).await? {
        let user = rows::user(&row)?;
        if row.try_get::<_, bool>(USER_WIDTH)? {
            admin_ids.push(user.id);
        }
        participants.push(user);
    }
    Ok(RoomBundle {
        room,
        participants,
        admin_ids,
    })
}

/// Makes `user` an explicit participant; `false` if they already were. A new participant's
/// read position starts at the room's present, so earlier history is not unread for them.
/// The caller holds the room's lock, so that present cannot move meanwhile.
pub(super) async fn add_member(
    tx: &Tx<'_>,
    room: RoomId,
    user: UserId,
    admin: bool,
    now: i64,
) -> Res<bool> {
    let added = exec(
        tx,
        "INSERT INTO room_members (room_id, user_id, is_admin, joined) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        &[&room, &user, &admin, &now],
    )
    .await?;
    if added == 1 {
        let row = one(
            tx,
            "SELECT last_seq, chat_count FROM rooms WHERE id = $1",
            &[&room],
        )
        .await?;
        set_read_position(tx, user, room, row.try_get(0)?, row.try_get(1)?).await?;
    }
    Ok(added == 1)
}

pub(super) async fn remove_member(tx: &Tx<'_>, room: RoomId, user: UserId) -> Res<bool> {
    let removed = exec(
        tx,
        "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
        &[&room, &user],
    )
    .await?;
    Ok(removed == 1)
}

async fn replace_roles(tx: &Tx<'_>, app: AppId, room: RoomId, roles: &[String]) -> Res<()> {
    exec(tx, "DELETE FROM room_roles WHERE room_id = $1", &[&room]).await?;
    for role in roles {
        exec(
            tx,
            "INSERT INTO room_roles (app_id, role_code, room_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&app, role, &room],
        )
        .await?;
    }
    Ok(())
}

/// Inserts a shared room; a concurrent insert of the same `xcRoomID` fails this transaction
/// on the unique index (and the retry then finds that room).
pub(super) async fn insert_shared_room(tx: &Tx<'_>, app: AppId, room: &NewRoom<'_>) -> Res<RoomId> {
    let now = now_ms();
    let id: RoomId = one(
        tx,
        "INSERT INTO rooms (app_id, xc_room_id, type, name, photo_thumbnail, \
             photo_fullsize, tags, roles, last_activity, created, updated) \
         VALUES ($1, $2, $3, $4, COALESCE($5, ''), COALESCE($6, ''), $7, $8, $9, $9, $9) \
         RETURNING id",
        &[
            &app,
            &room.xc_room_id,
            &room.room_type.code(),
            &room.name,
            &room.photo_thumbnail,
            &room.photo_fullsize,
            &json(room.tags),
            &json(room.roles),
            &now,
        ],
    )
    .await?
    .try_get(0)?;
    replace_roles(tx, app, id, room.roles).await?;
    Ok(id)
}

/// Applies a Server API upsert to an existing shared room (`None` fields keep their value).
pub(super) async fn update_shared_room(
    tx: &Tx<'_>,
    app: AppId,
    room: RoomId,
    up: &RoomUpsert,
    now: i64,
) -> Res<()> {
    exec(
        tx,
        "UPDATE rooms SET name = $2, photo_thumbnail = COALESCE($3, photo_thumbnail), \
             photo_fullsize = COALESCE($4, photo_fullsize), tags = COALESCE($5, tags), \
             roles = COALESCE($6, roles), updated = $7 WHERE id = $1",
        &[
            &room,
            &up.name,
            &up.photo_thumbnail,
            &up.photo_fullsize,
            &up.tags.as_deref().map(json),
            &up.participant_roles.as_deref().map(json),
            &now,
        ],
    )
    .await?;
    if let Some(roles) = &up.participant_roles {
        replace_roles(tx, app, room, roles).await?;
    }
    Ok(())
}

/// The user's rooms, explicit or by role, as a `WITH mine (room_id)` clause over `$1` user,
/// `$2` app, `$3` role code.
pub(super) const MY_ROOMS: &str = "WITH mine (room_id) AS ( \
     SELECT room_id FROM room_members WHERE user_id = $1 \
     UNION SELECT room_id FROM room_roles WHERE app_id = $2 AND role_code = $3 AND $3 <> '') ";

/// A user's rooms with last message and unread count, in one query whatever their number.
pub(super) async fn rooms_of_user(
    tx: &Tx<'_>,
    app: AppId,
    xc_user_id: &str,
    only: Option<&[String]>,
) -> Res<(User, Vec<RoomListEntry>)> {
    let user = user_by_xc_id(tx, app, xc_user_id)
        .await?
        .ok_or(StoreError::UserNotFound)?;
    let sql = format!(
        "{MY_ROOMS} \
         SELECT {ROOM_COLUMNS}, {USER_COLUMNS}, \
             GREATEST(0, r.chat_count - coalesce(p.read_count, 0)), coalesce(p.read_seq, 0), \
             {MESSAGE_COLUMNS} \
         FROM mine JOIN rooms r ON r.id = mine.room_id \
         LEFT JOIN users pa ON pa.id = r.personal_a LEFT JOIN users pb ON pb.id = r.personal_b \
         JOIN messages m ON m.id = r.last_message_id \
         LEFT JOIN users u ON u.id = m.sender_id \
         LEFT JOIN read_positions p ON p.user_id = $1 AND p.room_id = r.id \
         WHERE $4::text[] IS NULL OR r.xc_room_id = ANY($4::text[]) \
         ORDER BY r.last_message_id DESC"
    );
    let filter: Option<Vec<String>> = only.map(<[String]>::to_vec);
    let found = all(tx, &sql, &[&user.id, &app, &user.role_code, &filter]).await?;
    let mut entries = Vec::with_capacity(found.len());
    for row in &found {
        let room = rows::room_at(row, 0)?;
        let sender = rows::user_at(row, ROOM_WIDTH)?;
        let unread_count = row.try_get(ROOM_WIDTH + USER_WIDTH)?;
        let read_seq = row.try_get(ROOM_WIDTH + USER_WIDTH + 1)?;
        let last_message = rows::message_at(row, ROOM_WIDTH + USER_WIDTH + 2, room, sender)?;
        entries.push(RoomListEntry {
            last_message,
            unread_count,
            read_seq,
        });
    }
    Ok((user, entries))
}

/// The other users of `user`'s personal rooms, at most `limit`: one index range of the
/// user's memberships and one room row each, however large their group rooms are.
pub(super) async fn personal_partners(tx: &Tx<'_>, user: UserId, limit: i64) -> Res<Vec<UserId>> {
    all(
        tx,
        "SELECT CASE WHEN r.personal_a = $1 THEN r.personal_b ELSE r.personal_a END \
         FROM room_members m JOIN rooms r ON r.id = m.room_id \
         WHERE m.user_id = $1 AND r.personal_a IS NOT NULL AND r.deleted = 0 LIMIT $2",
        &[&user, &limit],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

/// The groups, channels and transaction rooms both users take part in (explicitly or by
/// role), newest first, at most `limit`.
pub(super) async fn groups_in_common(
    tx: &Tx<'_>,
    app: AppId,
    a: &User,
    b: &User,
    limit: i64,
) -> Res<Vec<Room>> {
    let sql = format!(
        "{MY_ROOMS}, theirs (room_id) AS ( \
             SELECT room_id FROM room_members WHERE user_id = $4 \
             UNION SELECT room_id FROM room_roles WHERE app_id = $2 AND role_code = $5 AND $5 <> '') \
         SELECT {ROOM_COLUMNS} FROM {ROOM_FROM} \
         WHERE r.id IN (SELECT room_id FROM mine INTERSECT SELECT room_id FROM theirs) \
             AND r.app_id = $2 AND r.personal_a IS NULL AND r.deleted = 0 \
         ORDER BY r.id DESC LIMIT $6"
    );
    let found = all(
        tx,
        &sql,
        &[&a.id, &app, &a.role_code, &b.id, &b.role_code, &limit],
    )
    .await?;
    found.iter().map(|row| rows::room_at(row, 0)).collect()
}

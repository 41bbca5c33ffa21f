//! Apps, API keys, users, auth tickets and contacts in SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{self, USER_COLUMNS};
use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::{AppId, User, UserId, now_ms};
use crate::store::{ApiKeyRecord, StoreError, UserProfile};

const KEY_COLUMNS: &str = "k.key_id, k.app_id, a.name, k.secret_hash, k.created, k.revoked FROM api_keys k \
     JOIN apps a ON a.id = k.app_id";

fn key_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let hash: Vec<u8> = row.get(3)?;
    Ok(ApiKeyRecord {
        key_id: row.get(0)?,
        app_id: row.get(1)?,
        app_name: row.get(2)?,
        secret_hash: hash.try_into().unwrap_or([0; 32]),
        created: row.get(4)?,
        revoked: row.get(5)?,
    })
}

pub(super) fn create_api_key(
    conn: &Connection,
    app_name: &str,
    kind: KeyKind,
    key_id: &str,
    secret_hash: SecretHash,
) -> Result<ApiKeyRecord, StoreError> {
    let now = now_ms();
    conn.execute(
        "INSERT INTO apps (name, created) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![app_name, now],
    )?;
    let app_id: AppId = conn.query_row("SELECT id FROM apps WHERE name = ?1", [app_name], |r| {
        r.get(0)
    })?;
    // The app's own user, sender of the Server API's system messages (migration 0013).
    conn.execute(
        "INSERT INTO users (app_id, xc_user_id, fullname, created, updated) \
         VALUES (?1, '', ?2, ?3, ?3) ON CONFLICT (app_id, xc_user_id) DO NOTHING",
        params![app_id, app_name, now],
    )?;
    conn.execute(
        "INSERT INTO api_keys (key_id, app_id, kind, secret_hash, created) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key_id, app_id, kind.as_str(), &secret_hash[..], now],
    )?;
    find_api_key(conn, kind, key_id)?.ok_or_else(|| StoreError::Other("key vanished".into()))
}

pub(super) fn list_api_keys(
    conn: &Connection,
    kind: KeyKind,
) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} WHERE k.kind = ?1 ORDER BY k.created, k.key_id"
    ))?;
    let keys = stmt
        .query_map([kind.as_str()], key_record)?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}

pub(super) fn revoke_api_key(
    conn: &Connection,
    kind: KeyKind,
    key_id: &str,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE api_keys SET revoked = ?1 WHERE key_id = ?2 AND kind = ?3 AND revoked = 0",
        params![now_ms(), key_id, kind.as_str()],
    )?;
    Ok(changed == 1)
}

pub(super) fn find_api_key(
    conn: &Connection,
    kind: KeyKind,
    key_id: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} WHERE k.key_id = ?1 AND k.kind = ?2"
    ))?;
    Ok(stmt
        .query_row(params![key_id, kind.as_str()], key_record)
        .optional()?)
}

/// The user with this `xcUserID`, if any.
pub(super) fn user_by_xc_id(
    conn: &Connection,
    app: AppId,
    xc_user_id: &str,
) -> Result<Option<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = ?1 AND u.xc_user_id = ?2"
    ))?;
    Ok(stmt
        .query_row(params![app, xc_user_id], rows::user)
        .optional()?)
}

/// The user with this platform ID.
pub(super) fn user_by_id(conn: &Connection, id: UserId) -> Result<User, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"
    ))?;
    stmt.query_row([id], rows::user)
        .optional()?
        .ok_or(StoreError::UserNotFound)
}

/// Resolves `xcUserID`s in order; the first unknown one fails the whole call.
pub(super) fn users_by_xc_ids(
    conn: &Connection,
    app: AppId,
    xc_user_ids: &[String],
) -> Result<Vec<User>, StoreError> {
    xc_user_ids
        .iter()
        .map(|xc| user_by_xc_id(conn, app, xc)?.ok_or_else(|| StoreError::UnknownUser(xc.clone())))
        .collect()
}

pub(super) fn upsert_user(
    conn: &Connection,
    app: AppId,
    p: &UserProfile,
) -> Result<User, StoreError> {
    let now = now_ms();
    // COALESCE keeps the stored value where the request left a field out.
    let mut stmt = conn.prepare_cached(
        "INSERT INTO users (app_id, xc_user_id, fullname, email, phone, username, \
             photo_thumbnail, photo_fullsize, role_code, created, updated) \
         VALUES (?1, ?2, ?3, COALESCE(?4, ''), COALESCE(?5, ''), COALESCE(?6, ''), \
             COALESCE(?7, ''), COALESCE(?8, ''), COALESCE(?9, ''), ?10, ?10) \
         ON CONFLICT (app_id, xc_user_id) DO UPDATE SET \
             fullname = excluded.fullname, \
             email = COALESCE(?4, email), phone = COALESCE(?5, phone), \
             username = COALESCE(?6, username), \
             photo_thumbnail = COALESCE(?7, photo_thumbnail), \
             photo_fullsize = COALESCE(?8, photo_fullsize), \
             role_code = COALESCE(?9, role_code), updated = ?10 \
         RETURNING id",
    )?;
    let id: UserId = stmt.query_row(
        params![
            app,
            p.xc_user_id,
            p.fullname,
            p.email,
            p.phone,
            p.username,
            p.photo_thumbnail,
            p.photo_fullsize,
            p.role_code,
            now
        ],
        |r| r.get(0),
    )?;
    if id > crate::domain::model::MAX_USER_ID {
        return Err(StoreError::Other("user ID space exhausted".into()));
    }
    user_by_id(conn, id)
}

pub(super) fn insert_ticket(
    conn: &Connection,
    app: AppId,
    user: UserId,
    ticket_hash: SecretHash,
    expires: i64,
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM auth_tickets WHERE expires < ?1", [now_ms()])?;
    conn.execute(
        "INSERT INTO auth_tickets (ticket_hash, app_id, user_id, expires) VALUES (?1, ?2, ?3, ?4)",
        params![&ticket_hash[..], app, user, expires],
    )?;
    Ok(())
}

/// A user of this app by username, optionally ignoring case.
pub(super) fn user_by_username(
    conn: &Connection,
    app: AppId,
    username: &str,
    ignore_case: bool,
) -> Result<Option<User>, StoreError> {
    let sql = if ignore_case {
        format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = ?1 AND lower(u.username) = lower(?2) LIMIT 1"
        )
    } else {
        format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = ?1 AND u.username = ?2 LIMIT 1"
        )
    };
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![app, username], rows::user)
        .optional()?)
}

/// A user of this app by platform ID.
pub(super) fn user_in_app(
    conn: &Connection,
    app: AppId,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1 AND u.app_id = ?2"
    ))?;
    Ok(stmt.query_row(params![id, app], rows::user).optional()?)
}

/// The users in a user's contact list.
pub(super) fn contacts_of(conn: &Connection, owner: UserId) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM contacts c JOIN users u ON u.id = c.contact_id \
         WHERE c.owner_id = ?1 ORDER BY u.fullname, u.id"
    ))?;
    let users = stmt
        .query_map([owner], rows::user)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

/// The users of an app with one of these phone numbers.
pub(super) fn users_by_phones(
    conn: &Connection,
    app: AppId,
    phones: &[String],
) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = ?1 AND u.phone = ?2 AND u.phone <> ''"
    ))?;
    let mut users: Vec<User> = Vec::new();
    for phone in phones {
        for user in stmt.query_map(params![app, phone], rows::user)? {
            let user = user?;
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
    }
    Ok(users)
}

/// Stores a device's push tokens.
pub(super) fn set_push_tokens(
    conn: &Connection,
    user: UserId,
    device: &str,
    fcm: &str,
    apn: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO push_tokens (user_id, device_id, fcm_token, apn_token, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, device_id) DO UPDATE SET \
         fcm_token = excluded.fcm_token, apn_token = excluded.apn_token, updated = excluded.updated",
    )?
    .execute(params![user, device, fcm, apn, now_ms()])?;
    Ok(())
}

/// Records activity (connect, disconnect, send).
pub(super) fn touch_user(conn: &Connection, user: UserId, at: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE users SET last_activity = max(last_activity, ?2) WHERE id = ?1")?
        .execute(params![user, at])?;
    Ok(())
}

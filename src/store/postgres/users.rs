//! Apps, API keys, users, auth tickets and contacts in PostgreSQL.

use tokio_postgres::Row;

use super::rows::{self, USER_COLUMNS};
use super::{Res, Tx, exec, one, opt, rows as all};
use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::{AppId, User, UserId, now_ms};
use crate::store::{ApiKeyRecord, StoreError, UserProfile};

const KEY_COLUMNS: &str = "k.key_id, k.app_id, a.name, k.secret_hash, k.created, k.revoked \
     FROM api_keys k JOIN apps a ON a.id = k.app_id";

fn key_record(row: &Row) -> Res<ApiKeyRecord> {
    let hash: Vec<u8> = row.try_get(3)?;
    Ok(ApiKeyRecord {
        key_id: row.try_get(0)?,
        app_id: row.try_get(1)?,
        app_name: row.try_get(2)?,
        secret_hash: hash.try_into().unwrap_or([0; 32]),
        created: row.try_get(4)?,
        revoked: row.try_get(5)?,
    })
}

pub(super) async fn create_api_key(
    tx: &Tx<'_>,
    app_name: &str,
    kind: KeyKind,
    key_id: &str,
    secret_hash: SecretHash,
) -> Res<ApiKeyRecord> {
    let now = now_ms();
    exec(
        tx,
        "INSERT INTO apps (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&app_name, &now],
    )
    .await?;
    let app_id: AppId = one(tx, "SELECT id FROM apps WHERE name = $1", &[&app_name])
        .await?
        .try_get(0)?;
    // The app's own user, sender of the Server API's system messages (migration 0013).
    exec(
        tx,
        "INSERT INTO users (app_id, xc_user_id, fullname, created, updated) \
         VALUES ($1, '', $2, $3, $3) ON CONFLICT (app_id, xc_user_id) DO NOTHING",
        &[&app_id, &app_name, &now],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO api_keys (key_id, app_id, kind, secret_hash, created) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&key_id, &app_id, &kind.as_str(), &&secret_hash[..], &now],
    )
    .await?;
    find_api_key(tx, kind, key_id)
        .await?
        .ok_or_else(|| StoreError::Other("key vanished".into()).into())
}

pub(super) async fn list_api_keys(tx: &Tx<'_>, kind: KeyKind) -> Res<Vec<ApiKeyRecord>> {
    let sql = format!("SELECT {KEY_COLUMNS} WHERE k.kind = $1 ORDER BY k.created, k.key_id");
    all(tx, &sql, &[&kind.as_str()])
        .await?
        .iter()
        .map(key_record)
        .collect()
}

pub(super) async fn revoke_api_key(tx: &Tx<'_>, kind: KeyKind, key_id: &str) -> Res<bool> {
    let changed = exec(
        tx,
        "UPDATE api_keys SET revoked = $1 WHERE key_id = $2 AND kind = $3 AND revoked = 0",
        &[&now_ms(), &key_id, &kind.as_str()],
    )
    .await?;
    Ok(changed == 1)
}

pub(super) async fn find_api_key(
    tx: &Tx<'_>,
    kind: KeyKind,
    key_id: &str,
) -> Res<Option<ApiKeyRecord>> {
    let sql = format!("SELECT {KEY_COLUMNS} WHERE k.key_id = $1 AND k.kind = $2");
    opt(tx, &sql, &[&key_id, &kind.as_str()])
        .await?
        .as_ref()
        .map(key_record)
        .transpose()
}

/// The user with this `xcUserID`, if any.
pub(super) async fn user_by_xc_id(tx: &Tx<'_>, app: AppId, xc_user_id: &str) -> Res<Option<User>> {
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = $1 AND u.xc_user_id = $2");
    opt(tx, &sql, &[&app, &xc_user_id])
        .await?
        .as_ref()
        .map(rows::user)
        .transpose()
}

/// The user with this platform ID.
pub(super) async fn user_by_id(tx: &Tx<'_>, id: UserId) -> Res<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    match opt(tx, &sql, &[&id]).await? {
        Some(row) => rows::user(&row),
        None => Err(StoreError::UserNotFound.into()),
    }
}

/// Resolves `xcUserID`s in order; the first unknown one fails the whole call.
pub(super) async fn users_by_xc_ids(
    tx: &Tx<'_>,
    app: AppId,
    xc_user_ids: &[String],
) -> Res<Vec<User>> {
    let mut users = Vec::with_capacity(xc_user_ids.len());
    for xc in xc_user_ids {
        match user_by_xc_id(tx, app, xc).await? {
            Some(user) => users.push(user),
            None => return Err(StoreError::UnknownUser(xc.clone()).into()),
        }
    }
    Ok(users)
}

pub(super) async fn upsert_user(tx: &Tx<'_>, app: AppId, p: &UserProfile) -> Res<User> {
    let now = now_ms();
    // COALESCE keeps the stored value where the request left a field out; the unique index
    // makes concurrent upserts of one xcUserID meet in one row.
    let id: UserId = one(
        tx,
        "INSERT INTO users (app_id, xc_user_id, fullname, email, phone, username, \
             photo_thumbnail, photo_fullsize, role_code, created, updated) \
         VALUES ($1, $2, $3, COALESCE($4, ''), COALESCE($5, ''), COALESCE($6, ''), \
             COALESCE($7, ''), COALESCE($8, ''), COALESCE($9, ''), $10, $10) \
         ON CONFLICT (app_id, xc_user_id) DO UPDATE SET \
             fullname = excluded.fullname, \
             email = COALESCE($4, users.email), phone = COALESCE($5, users.phone), \
             username = COALESCE($6, users.username), \
             photo_thumbnail = COALESCE($7, users.photo_thumbnail), \
             photo_fullsize = COALESCE($8, users.photo_fullsize), \
             role_code = COALESCE($9, users.role_code), updated = $10 \
         RETURNING id",
        &[
            &app,
            &p.xc_user_id,
            &p.fullname,
            &p.email,
            &p.phone,
            &p.username,
            &p.photo_thumbnail,
            &p.photo_fullsize,
            &p.role_code,
            &now,
        ],
    )
    .await?
    .try_get(0)?;
    if id > crate::domain::model::MAX_USER_ID {
        return Err(StoreError::Other("user ID space exhausted".into()).into());
    }
    user_by_id(tx, id).await
}

pub(super) async fn insert_ticket(
    tx: &Tx<'_>,
    app: AppId,
    user: UserId,
    ticket_hash: SecretHash,
    expires: i64,
) -> Res<()> {
    exec(
        tx,
        "DELETE FROM auth_tickets WHERE expires < $1",
        &[&now_ms()],
    )
    .await?;
    exec(
        tx,
        "INSERT INTO auth_tickets (ticket_hash, app_id, user_id, expires) VALUES ($1, $2, $3, $4)",
        &[&&ticket_hash[..], &app, &user, &expires],
    )
    .await?;
    Ok(())
}

/// A user of this app by username, optionally ignoring case.
pub(super) async fn user_by_username(
    tx: &Tx<'_>,
    app: AppId,
    username: &str,
    ignore_case: bool,
) -> Res<Option<User>> {
    let sql = if ignore_case {
        format!(
            "SELECT {USER_COLUMNS} FROM users u \
             WHERE u.app_id = $1 AND lower(u.username) = lower($2) ORDER BY u.id LIMIT 1"
        )
    } else {
        format!(
            "SELECT {USER_COLUMNS} FROM users u \
             WHERE u.app_id = $1 AND u.username = $2 ORDER BY u.id LIMIT 1"
        )
    };
    opt(tx, &sql, &[&app, &username])
        .await?
        .as_ref()
        .map(rows::user)
        .transpose()
}

/// A user of this app by platform ID.
pub(super) async fn user_in_app(tx: &Tx<'_>, app: AppId, id: UserId) -> Res<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.app_id = $2");
    opt(tx, &sql, &[&id, &app])
        .await?
        .as_ref()
        .map(rows::user)
        .transpose()
}

/// The users in a user's contact list.
pub(super) async fn contacts_of(tx: &Tx<'_>, owner: UserId) -> Res<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM contacts c JOIN users u ON u.id = c.contact_id \
         WHERE c.owner_id = $1 ORDER BY u.fullname, u.id"
    );
    all(tx, &sql, &[&owner])
        .await?
        .iter()
        .map(rows::user)
        .collect()
}

/// The users of an app with one of these phone numbers.
pub(super) async fn users_by_phones(tx: &Tx<'_>, app: AppId, phones: &[String]) -> Res<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u \
         WHERE u.app_id = $1 AND u.phone = ANY($2::text[]) AND u.phone <> '' ORDER BY u.id"
    );
    all(tx, &sql, &[&app, &phones])
        .await?
        .iter()
        .map(rows::user)
        .collect()
}

/// Stores a device's push tokens.
pub(super) async fn set_push_tokens(
    tx: &Tx<'_>,
    user: UserId,
    device: &str,
    fcm: &str,
    apn: &str,
) -> Res<()> {
    exec(
        tx,
        "INSERT INTO push_tokens (user_id, device_id, fcm_token, apn_token, updated) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, device_id) DO UPDATE SET \
         fcm_token = excluded.fcm_token, apn_token = excluded.apn_token, updated = excluded.updated",
        &[&user, &device, &fcm, &apn, &now_ms()],
    )
    .await?;
    Ok(())
}

/// Records activity (connect, disconnect, send).
pub(super) async fn touch_user(tx: &Tx<'_>, user: UserId, at: i64) -> Res<()> {
    exec(
        tx,
        "UPDATE users SET last_activity = GREATEST(last_activity, $2) WHERE id = $1",
        &[&user, &at],
    )
    .await?;
    Ok(())
}

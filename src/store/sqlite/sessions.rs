//! Client sessions: auth tickets exchanged for access and refresh tokens, all stored hashed.

use rusqlite::{Connection, OptionalExtension, params};

use super::users::user_by_id;
use crate::domain::secret::SecretHash;
use crate::domain::token::{REFRESH_GRACE_MS, RefreshFound, TicketUse, refresh_check, ticket_use};
use crate::domain::{AppId, User, UserId, now_ms};
use crate::store::{NewTokens, SessionRecord, StoreError, TokenProblem};

fn insert_refresh_token(
    conn: &Connection,
    session: i64,
    hash: &SecretHash,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO refresh_tokens (token_hash, session_id) VALUES (?1, ?2)")?
        .execute(params![&hash[..], session])?;
    Ok(())
}

fn insert_access_token(
    conn: &Connection,
    session: i64,
    tokens: &NewTokens,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO access_tokens (token_hash, session_id, expires) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![
        &tokens.access_hash[..],
        session,
        tokens.access_expires
    ])?;
    Ok(())
}

fn insert_session(
    conn: &Connection,
    app: AppId,
    user: UserId,
    device: &str,
    tokens: &NewTokens,
) -> Result<i64, StoreError> {
    let session: i64 = conn
        .prepare_cached(
            "INSERT INTO sessions (app_id, user_id, device_id, refresh_expires, created) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![app, user, device, tokens.refresh_expires, now_ms()],
            |r| r.get(0),
        )?;
    insert_refresh_token(conn, session, &tokens.refresh_hash)?;
    insert_access_token(conn, session, tokens)?;
    Ok(session)
}

/// Consumes an auth ticket and opens a session for its user.
pub(super) fn exchange_ticket(
    conn: &Connection,
    app: AppId,
    ticket_hash: SecretHash,
    device: &str,
    tokens: &NewTokens,
) -> Result<User, StoreError> {
    let found: Option<(AppId, UserId, i64)> = conn
        .prepare_cached("SELECT app_id, user_id, expires FROM auth_tickets WHERE ticket_hash = ?1")?
        .query_row([&ticket_hash[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((ticket_app, user, expires)) = found else {
        return Err(StoreError::Token(TokenProblem::Invalid));
    };
    let TicketUse::Consume { valid } = ticket_use(ticket_app, expires, app, now_ms()) else {
        return Err(StoreError::Token(TokenProblem::OtherApp));
    };
    conn.prepare_cached("DELETE FROM auth_tickets WHERE ticket_hash = ?1")?
        .execute([&ticket_hash[..]])?;
    if !valid {
        return Err(StoreError::Token(TokenProblem::Expired));
    }
    insert_session(conn, app, user, device, tokens)?;
    let now = now_ms();
    conn.prepare_cached("UPDATE users SET last_login = ?2, last_activity = ?2 WHERE id = ?1")?
        .execute(params![user, now])?;
    user_by_id(conn, user)
}

/// Replaces a session's tokens, given its current refresh token or one superseded within the
/// grace period.
pub(super) fn refresh(
    conn: &Connection,
    app: AppId,
    refresh_hash: SecretHash,
    tokens: &NewTokens,
) -> Result<User, StoreError> {
    let found: Option<(i64, AppId, UserId, i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT s.id, s.app_id, s.user_id, s.refresh_expires, s.revoked, t.superseded \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.token_hash = ?1",
        )?
        .query_row([&refresh_hash[..]], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((session, session_app, user, expires, revoked, superseded)) = found else {
        return Err(StoreError::Token(TokenProblem::Invalid));
    };
    let now = now_ms();
    let found = RefreshFound {
        app: session_app,
        expires,
        revoked: revoked != 0,
        superseded,
    };
    refresh_check(found, app, now).map_err(StoreError::Token)?;
    conn.prepare_cached(
        "DELETE FROM refresh_tokens WHERE session_id = ?1 AND superseded <> 0 AND superseded < ?2",
    )?
    .execute(params![session, now - REFRESH_GRACE_MS])?;
    conn.prepare_cached(
        "UPDATE refresh_tokens SET superseded = ?2 WHERE session_id = ?1 AND superseded = 0",
    )?
    .execute(params![session, now])?;
    insert_refresh_token(conn, session, &tokens.refresh_hash)?;
    conn.prepare_cached("DELETE FROM access_tokens WHERE session_id = ?1 AND expires < ?2")?
        .execute(params![session, now - REFRESH_GRACE_MS])?;
    insert_access_token(conn, session, tokens)?;
    conn.prepare_cached("UPDATE sessions SET refresh_expires = ?2 WHERE id = ?1")?
        .execute(params![session, tokens.refresh_expires])?;
    user_by_id(conn, user)
}

/// The session an access token belongs to, if any.
pub(super) fn by_access(
    conn: &Connection,
    access_hash: SecretHash,
) -> Result<Option<SessionRecord>, StoreError> {
    let found: Option<(i64, AppId, UserId, i64, i64, String)> = conn
        .prepare_cached(
            "SELECT s.id, s.app_id, s.user_id, t.expires, s.revoked, s.device_id \
             FROM access_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?1",
        )?
        .query_row([&access_hash[..]], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((id, app, user, access_expires, revoked, device)) = found else {
        return Ok(None);
    };
    let user = match user_by_id(conn, user) {
        Ok(user) => Some(user),
        Err(StoreError::UserNotFound) => None,
        Err(other) => return Err(other),
    };
    Ok(Some(SessionRecord {
        id,
        app,
        user,
        device,
        access_expires,
        revoked: revoked != 0,
    }))
}

/// Revokes one session; `false` if it was already revoked.
pub(super) fn revoke(conn: &Connection, session: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE sessions SET revoked = ?2 WHERE id = ?1 AND revoked = 0")?
        .execute(params![session, now_ms()])?
        == 1)
}

/// Revokes every session of a user; returns the IDs revoked.
pub(super) fn revoke_all(conn: &Connection, user: UserId) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE sessions SET revoked = ?2 WHERE user_id = ?1 AND revoked = 0 RETURNING id",
    )?;
    let ids = stmt
        .query_map(params![user, now_ms()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

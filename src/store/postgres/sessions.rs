//! Client sessions in PostgreSQL. A ticket is consumed under a row lock and a session's
//! refresh holds its session row, so two nodes never both accept one ticket or race one
//! rotation.

use super::users::user_by_id;
use super::{Res, Tx, exec, one, opt, rows as all};
use crate::domain::secret::SecretHash;
use crate::domain::token::{REFRESH_GRACE_MS, RefreshFound, TicketUse, refresh_check, ticket_use};
use crate::domain::{AppId, User, UserId, now_ms};
use crate::store::{NewTokens, SessionRecord, StoreError, TokenProblem};

async fn insert_refresh_token(tx: &Tx<'_>, session: i64, hash: &SecretHash) -> Res<()> {
    exec(
        tx,
        "INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)",
        &[&&hash[..], &session],
    )
    .await?;
    Ok(())
}

async fn insert_access_token(tx: &Tx<'_>, session: i64, tokens: &NewTokens) -> Res<()> {
    exec(
        tx,
        "INSERT INTO access_tokens (token_hash, session_id, expires) VALUES ($1, $2, $3)",
        &[&&tokens.access_hash[..], &session, &tokens.access_expires],
    )
    .await?;
    Ok(())
}

/// Consumes an auth ticket and opens a session for its user.
pub(super) async fn exchange_ticket(
    tx: &Tx<'_>,
    app: AppId,
    ticket_hash: SecretHash,
    device: &str,
    tokens: &NewTokens,
) -> Res<User> {
    let found = opt(
        tx,
        "SELECT app_id, user_id, expires FROM auth_tickets WHERE ticket_hash = $1 FOR UPDATE",
        &[&&ticket_hash[..]],
    )
    .await?;
    let Some(row) = found else {
        return Err(StoreError::Token(TokenProblem::Invalid).into());
    };
    let (ticket_app, user, expires): (AppId, UserId, i64) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let TicketUse::Consume { valid } = ticket_use(ticket_app, expires, app, now_ms()) else {
        return Err(StoreError::Token(TokenProblem::OtherApp).into());
    };
    exec(
        tx,
        "DELETE FROM auth_tickets WHERE ticket_hash = $1",
        &[&&ticket_hash[..]],
    )
    .await?;
    if !valid {
        return Err(StoreError::Token(TokenProblem::Expired).into());
    }
    let now = now_ms();
    let session: i64 = one(
        tx,
        "INSERT INTO sessions (app_id, user_id, device_id, refresh_expires, created) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[&app, &user, &device, &tokens.refresh_expires, &now],
    )
    .await?
    .try_get(0)?;
    insert_refresh_token(tx, session, &tokens.refresh_hash).await?;
    insert_access_token(tx, session, tokens).await?;
    exec(
        tx,
        "UPDATE users SET last_login = $2, last_activity = $2 WHERE id = $1",
        &[&user, &now],
    )
    .await?;
    user_by_id(tx, user).await
}

/// Replaces a session's tokens, given its current refresh token or one superseded within the
/// grace period.
pub(super) async fn refresh(
    tx: &Tx<'_>,
    app: AppId,
    refresh_hash: SecretHash,
    tokens: &NewTokens,
) -> Res<User> {
    let found = opt(
        tx,
        "SELECT s.id, s.app_id, s.user_id, s.refresh_expires, s.revoked, t.superseded \
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.token_hash = $1 FOR UPDATE OF s",
        &[&&refresh_hash[..]],
    )
    .await?;
    let Some(row) = found else {
        return Err(StoreError::Token(TokenProblem::Invalid).into());
    };
    let (session, session_app, user, expires, revoked, superseded): (
        i64,
        AppId,
        UserId,
        i64,
        i64,
        i64,
    ) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    );
    let now = now_ms();
    let found = RefreshFound {
        app: session_app,
        expires,
        revoked: revoked != 0,
        superseded,
    };
    refresh_check(found, app, now).map_err(StoreError::Token)?;
    exec(
        tx,
        "DELETE FROM refresh_tokens WHERE session_id = $1 AND superseded <> 0 AND superseded < $2",
        &[&session, &(now - REFRESH_GRACE_MS)],
    )
    .await?;
    exec(
        tx,
        "UPDATE refresh_tokens SET superseded = $2 WHERE session_id = $1 AND superseded = 0",
        &[&session, &now],
    )
    .await?;
    insert_refresh_token(tx, session, &tokens.refresh_hash).await?;
    exec(
        tx,
        "DELETE FROM access_tokens WHERE session_id = $1 AND expires < $2",
        &[&session, &(now - REFRESH_GRACE_MS)],
    )
    .await?;
    insert_access_token(tx, session, tokens).await?;
    exec(
        tx,
        "UPDATE sessions SET refresh_expires = $2 WHERE id = $1",
        &[&session, &tokens.refresh_expires],
    )
    .await?;
    user_by_id(tx, user).await
}

/// The session an access token belongs to, if any.
pub(super) async fn by_access(tx: &Tx<'_>, access_hash: SecretHash) -> Res<Option<SessionRecord>> {
    let found = opt(
        tx,
        "SELECT s.id, s.app_id, s.user_id, t.expires, s.revoked, s.device_id \
         FROM access_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
        &[&&access_hash[..]],
    )
    .await?;
    let Some(row) = found else {
        return Ok(None);
    };
    let user_id: UserId = row.try_get(2)?;
    let user = match user_by_id(tx, user_id).await {
        Ok(user) => Some(user),
        Err(super::Fail::Store(StoreError::UserNotFound)) => None,
        Err(other) => return Err(other),
    };
    let revoked: i64 = row.try_get(4)?;
    Ok(Some(SessionRecord {
        id: row.try_get(0)?,
        app: row.try_get(1)?,
        user,
        device: row.try_get(5)?,
        access_expires: row.try_get(3)?,
        revoked: revoked != 0,
    }))
}

/// Revokes one session; `false` if it was already revoked.
pub(super) async fn revoke(tx: &Tx<'_>, session: i64) -> Res<bool> {
    Ok(exec(
        tx,
        "UPDATE sessions SET revoked = $2 WHERE id = $1 AND revoked = 0",
        &[&session, &now_ms()],
    )
    .await?
        == 1)
}

/// Revokes every session of a user; returns the IDs revoked.
pub(super) async fn revoke_all(tx: &Tx<'_>, user: UserId) -> Res<Vec<i64>> {
    all(
        tx,
        "UPDATE sessions SET revoked = $2 WHERE user_id = $1 AND revoked = 0 RETURNING id",
        &[&user, &now_ms()],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

//! Client sessions: tickets exchanged for tokens, refresh, verification, logout, revocation.

use super::{Service, ServiceError, millis};
use crate::domain::secret::{hash_secret, random_token};
use crate::domain::{AppId, User, now_ms};
use crate::store::NewTokens;

/// Why a bearer credential was refused; each has its own `401xx` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header (`40101`).
    Missing,
    /// Not `Bearer <token>` (`40102`).
    Malformed,
    /// Unknown, revoked or used (`40103`).
    Invalid,
    /// Expired (`40104`, the only code that makes the web SDK refresh).
    Expired,
    /// Issued for another app (`40105`).
    OtherApp,
    /// Its user no longer exists (`40106`).
    UserGone,
}

/// A token pair with its user, as `access_token/request` and `refresh` answer.
#[derive(Debug, Clone)]
pub struct TokenBundle {
    /// Access token.
    pub access_token: String,
    /// Access token expiry, Unix ms.
    pub access_expiry: i64,
    /// Refresh token.
    pub refresh_token: String,
    /// Refresh token expiry, Unix ms.
    pub refresh_expiry: i64,
    /// The user.
    pub user: User,
}

/// An authenticated client call.
#[derive(Debug, Clone)]
pub struct ClientSession {
    /// The app.
    pub app: AppId,
    /// The session.
    pub session: i64,
    /// The device that opened the session.
    pub device: String,
    /// The user, as stored when the call was authenticated.
    pub user: User,
}

/// Extracts the token of an `Authorization: Bearer <token>` value.
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(AuthError::Missing)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)?;
    Ok(token)
}

impl Service {
    fn new_tokens(&self) -> (String, String, NewTokens) {
        let (access, refresh) = (random_token::<32>(), random_token::<32>());
        let now = now_ms();
        let tokens = NewTokens {
            access_hash: hash_secret(&access),
            access_expires: now.saturating_add(millis(self.config.access_ttl)),
            refresh_hash: hash_secret(&refresh),
            refresh_expires: now.saturating_add(millis(self.config.refresh_ttl)),
        };
        (access, refresh, tokens)
    }

    fn bundle(access: String, refresh: String, tokens: &NewTokens, user: User) -> TokenBundle {
        TokenBundle {
            access_token: access,
            access_expiry: tokens.access_expires,
            refresh_token: refresh,
            refresh_expiry: tokens.refresh_expires,
            user,
        }
    }

    /// Exchanges a one-time auth ticket for a session.
    pub async fn exchange_ticket(
        &self,
        app: AppId,
        ticket: &str,
        device: &str,
    ) -> Result<TokenBundle, ServiceError> {
        let (access, refresh, tokens) = self.new_tokens();
        let user = self
            .store
            .exchange_ticket(app, hash_secret(ticket), device, tokens.clone())
            .await
            .map_err(|err| match ServiceError::from(err) {
                // An expired ticket is as useless as an unknown one; 40104 would make the
                // SDK try to refresh a session that does not exist.
                ServiceError::Auth(AuthError::Expired) => ServiceError::Auth(AuthError::Invalid),
                other => other,
            })?;
        Ok(Self::bundle(access, refresh, &tokens, user))
    }

    /// Issues a new token pair for a refresh token.
    pub async fn refresh_session(
        &self,
        app: AppId,
        refresh_token: &str,
    ) -> Result<TokenBundle, ServiceError> {
        let (access, refresh, tokens) = self.new_tokens();
        let user = self
            .store
            .refresh_session(app, hash_secret(refresh_token), tokens.clone())
            .await?;
        Ok(Self::bundle(access, refresh, &tokens, user))
    }

    /// Verifies an access token presented with an `App-Key` of `app`.
    pub async fn authenticate(
        &self,
        app: AppId,
        token: &str,
    ) -> Result<ClientSession, ServiceError> {
        let session = self
            .store
            .session_by_access(hash_secret(token))
            .await?
            .ok_or(ServiceError::Auth(AuthError::Invalid))?;
        if session.revoked {
            return Err(ServiceError::Auth(AuthError::Invalid));
        }
        if session.app != app {
            return Err(ServiceError::Auth(AuthError::OtherApp));
        }
        if session.access_expires < now_ms() {
            return Err(ServiceError::Auth(AuthError::Expired));
        }
        let user = session
            .user
            .ok_or(ServiceError::Auth(AuthError::UserGone))?;
        Ok(ClientSession {
            app,
            session: session.id,
            device: session.device,
            user,
        })
    }

    /// Ends a session and closes its sockets.
    pub async fn logout(&self, session: &ClientSession) -> Result<(), ServiceError> {
        self.store.revoke_session(session.session).await?;
        self.fanout.revoke_sessions(vec![session.session]);
        Ok(())
    }

    /// Ends every session of a user and closes their sockets; returns how many ended.
    pub async fn revoke_user_sessions(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<usize, ServiceError> {
        let sessions = self.store.revoke_user_sessions(app, xc_user_id).await?;
        let count = sessions.len();
        self.fanout.revoke_sessions(sessions);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_values_are_checked_for_presence_and_shape() {
        assert_eq!(bearer(None), Err(AuthError::Missing));
        assert_eq!(bearer(Some(" ")), Err(AuthError::Missing));
        assert_eq!(bearer(Some("Basic abc")), Err(AuthError::Malformed));
        assert_eq!(bearer(Some("Bearer ")), Err(AuthError::Malformed));
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
    }
}

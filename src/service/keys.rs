//! API keys: creation and revocation for the CLI, verification for every request.

use super::{Service, ServiceError};
use crate::domain::AppId;
use crate::domain::secret::{KeyKind, NewKey, digests_equal, hash_secret, parse_key_header};
use crate::store::ApiKeyRecord;

/// Why a key header was refused; each is reported with its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// No header, or an empty one.
    Missing,
    /// Not Base64 of `ID:SECRET`.
    Malformed,
    /// No key has that ID.
    Unknown,
    /// The key was revoked.
    Revoked,
    /// The ID exists but the secret does not match.
    WrongSecret,
}

/// How often a server looks for keys revoked by another process.
pub const KEY_REVOCATION_POLL: std::time::Duration = std::time::Duration::from_secs(1);

impl Service {
    /// Watches for app keys revoked by any process (the CLI, another node) and makes every
    /// open socket check its credentials again when one is: requests check their key each
    /// time, sockets within [`KEY_REVOCATION_POLL`]. Runs until the task is dropped.
    pub async fn watch_key_revocations(self) {
        let mut known = None;
        // The first tick is at once: what is revoked at start is no news.
        let mut tick = tokio::time::interval(KEY_REVOCATION_POLL);
        loop {
            tick.tick().await;
            let revoked = match self.store.list_api_keys(KeyKind::App).await {
                Ok(keys) => keys.iter().filter(|k| k.revoked != 0).count(),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the app keys for revocations");
                    continue;
                }
            };
            if known.is_some_and(|known| revoked > known) {
                self.fanout.hub().recheck_all();
            }
            known = Some(revoked);
        }
    }

    /// Creates a key for `app_name` (creating the app if needed); the secret is in the
    /// returned [`NewKey`] and nowhere else.
    pub async fn create_key(
        &self,
        app_name: &str,
        kind: KeyKind,
    ) -> Result<(ApiKeyRecord, NewKey), ServiceError> {
        let key = NewKey::generate(kind);
        let record = self
            .store
            .create_api_key(app_name, kind, &key.id, hash_secret(&key.secret))
            .await?;
        Ok((record, key))
    }

    /// Every key of a kind, without secrets.
    pub async fn list_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        Ok(self.store.list_api_keys(kind).await?)
    }

    /// Revokes a key; `false` if there was no active key with that ID.
    pub async fn revoke_key(&self, kind: KeyKind, key_id: &str) -> Result<bool, ServiceError> {
        Ok(self.store.revoke_api_key(kind, key_id).await?)
    }

    /// Checks a `Server-Key` / `App-Key` header value and returns the key's app.
    ///
    /// The key is read from the store on every request, not cached: a key revoked by any
    /// process (the CLI, another node) is refused from the next request on.
    pub async fn authenticate_key(
        &self,
        kind: KeyKind,
        header: Option<&str>,
    ) -> Result<Result<AppId, KeyError>, ServiceError> {
        let Some(header) = header.filter(|h| !h.trim().is_empty()) else {
            return Ok(Err(KeyError::Missing));
        };
        let Ok((id, secret)) = parse_key_header(header) else {
            return Ok(Err(KeyError::Malformed));
        };
        let Some(record) = self.store.find_api_key(kind, &id).await? else {
            return Ok(Err(KeyError::Unknown));
        };
        if !digests_equal(&record.secret_hash, &hash_secret(&secret)) {
            return Ok(Err(KeyError::WrongSecret));
        }
        if record.revoked != 0 {
            return Ok(Err(KeyError::Revoked));
        }
        Ok(Ok(record.app_id))
    }
}

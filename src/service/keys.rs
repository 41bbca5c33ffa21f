//! API keys: creation and revocation for the CLI, verification for every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// How long a key looked up in the store is trusted before it is read again. Revocation by
/// this server takes effect at once; by another process (the CLI) within this time.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// A cached look-up: the key (or its absence) and when it was read.
type CachedKey = (Option<ApiKeyRecord>, Instant);

/// Recently verified keys, so that a request costs no database read for its key.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<(&'static str, String), CachedKey>>,
}

impl KeyCache {
    fn get(&self, kind: KeyKind, id: &str) -> Option<Option<ApiKeyRecord>> {
        let entries = self.entries.lock().expect("key cache poisoned");
        let (record, at) = entries.get(&(kind.as_str(), id.to_owned()))?;
        (at.elapsed() < KEY_CACHE_TTL).then(|| record.clone())
    }

    fn put(&self, kind: KeyKind, id: &str, record: Option<ApiKeyRecord>) {
        let mut entries = self.entries.lock().expect("key cache poisoned");
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
        }
        entries.insert((kind.as_str(), id.to_owned()), (record, Instant::now()));
    }

    fn forget(&self, kind: KeyKind, id: &str) {
        self.entries
            .lock()
            .expect("key cache poisoned")
            .remove(&(kind.as_str(), id.to_owned()));
    }
}

impl Service {
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
        let revoked = self.store.revoke_api_key(kind, key_id).await?;
        self.keys.forget(kind, key_id);
        Ok(revoked)
    }

    /// Checks a `Server-Key` / `App-Key` header value and returns the key's app.
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
        let record = match self.keys.get(kind, &id) {
            Some(record) => record,
            None => {
                let record = self.store.find_api_key(kind, &id).await?;
                // Only keys that exist are remembered: unknown IDs cannot fill the cache.
                if record.is_some() {
                    self.keys.put(kind, &id, record.clone());
                }
                record
            }
        };
        let Some(record) = record else {
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

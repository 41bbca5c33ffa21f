//! API keys: creation and revocation for the CLI, verification for every request.

use std::collections::HashMap;
use std::sync::Mutex;

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

/// How often a server looks for keys revoked by another process: one count of a small table.
const KEY_REVOCATION_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// How long after a revocation by another process every running server has seen it (three
/// polls); the CLI's `revoke` waits this long before it returns, so that when it does, the key
/// is refused everywhere.
pub const KEY_REVOCATION_SEEN: std::time::Duration =
    std::time::Duration::from_millis(3 * KEY_REVOCATION_POLL.as_millis() as u64);

/// Keys verified before, so that a request costs no database read for its key (a read per
/// request took a quarter of `room/get`'s throughput). Entries stay until a revocation is
/// seen: one made by this server empties the cache at once, one made by another process (the
/// CLI, another node) when [`Service::watch_key_revocations`] finds it.
#[derive(Default)]
pub struct KeyCache {
    /// The generation (bumped by every emptying) and the keys read in it.
    entries: Mutex<(u64, Keys)>,
}

/// Keys by kind and ID.
type Keys = HashMap<(&'static str, String), ApiKeyRecord>;

/// Most keys cached; past it the cache starts over.
const KEY_CACHE_SIZE: usize = 10_000;

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Keys)> {
        self.entries.lock().expect("key cache poisoned")
    }

    /// A cached key, and the generation to hand back to [`KeyCache::put`] after a read.
    fn get(&self, kind: KeyKind, id: &str) -> (Option<ApiKeyRecord>, u64) {
        let entries = self.lock();
        (
            entries.1.get(&(kind.as_str(), id.to_owned())).cloned(),
            entries.0,
        )
    }

    /// Remembers a key read from the store in `generation`, unless the cache was emptied
    /// since: a read that began before a revocation was seen must not bring the key back.
    fn put(&self, kind: KeyKind, id: &str, record: ApiKeyRecord, generation: u64) {
        let mut entries = self.lock();
        if entries.0 != generation {
            return;
        }
        if entries.1.len() >= KEY_CACHE_SIZE {
            entries.1.clear();
        }
        entries.1.insert((kind.as_str(), id.to_owned()), record);
    }

    /// Forgets every key.
    fn clear(&self) {
        let mut entries = self.lock();
        entries.0 += 1;
        entries.1.clear();
    }
}

impl Service {
    /// Watches for keys revoked by any process (the CLI, another node): when one is, the key
    /// cache is emptied and every open socket checks its credentials again, so a revoked key
    /// stops working everywhere within [`KEY_REVOCATION_POLL`]. Runs until the task is dropped.
    pub async fn watch_key_revocations(self) {
        let mut known = None;
        // The first tick is at once: what is revoked at start is no news.
        let mut tick = tokio::time::interval(KEY_REVOCATION_POLL);
        loop {
            tick.tick().await;
            let revoked = match self.store.revoked_key_count().await {
                Ok(revoked) => revoked,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot count revoked keys");
                    continue;
                }
            };
            if known.is_some_and(|known| revoked > known) {
                self.keys.clear();
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
        let revoked = self.store.revoke_api_key(kind, key_id).await?;
        self.keys.clear();
        if kind == KeyKind::App {
            self.fanout.hub().recheck_all();
        }
        Ok(revoked)
    }

    /// Checks a `Server-Key` / `App-Key` header value and returns the key's app.
    ///
    /// A key is read from the store once and then kept in the [`KeyCache`] until a revocation
    /// is seen.
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
            (Some(record), _) => Some(record),
            (None, generation) => {
                let record = self.store.find_api_key(kind, &id).await?;
                // Only keys that exist are remembered: unknown IDs cannot fill the cache.
                if let Some(record) = &record {
                    self.keys.put(kind, &id, record.clone(), generation);
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

//! The embedded default store: one SQLite file in WAL mode.

mod append;
mod ids;
mod marks;
mod messages;
mod moderation;
mod newest;
mod pool;
mod receipts;
mod room_states;
mod rooms;
mod rows;
mod scheduled;
mod sessions;
mod tx;
mod users;
mod webhooks;

use std::any::Any;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension};

use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::webhook;
use crate::domain::{AppId, RoomBundle, RoomListEntry, User, UserId, Viewed};
use crate::store::{
    ApiKeyRecord, FeedSink, NewTokens, ReadWork, SessionRecord, Store, StoreError, UserProfile,
    WriteSize, WriteWork,
};
use pool::Db;

/// Migrations in order; `PRAGMA user_version` records how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_fewer_message_indexes.sql"),
    include_str!("../../../migrations/sqlite/0003_version_index_for_changes_only.sql"),
    include_str!("../../../migrations/sqlite/0004_ticket_expiry_index.sql"),
    include_str!("../../../migrations/sqlite/0005_room_change_version.sql"),
    include_str!("../../../migrations/sqlite/0006_media.sql"),
    include_str!("../../../migrations/sqlite/0007_profile_photos.sql"),
    include_str!("../../../migrations/sqlite/0008_room_states.sql"),
    include_str!("../../../migrations/sqlite/0009_stars_and_pins.sql"),
    include_str!("../../../migrations/sqlite/0010_blocks_and_reports.sql"),
    include_str!("../../../migrations/sqlite/0011_message_receipts.sql"),
    include_str!("../../../migrations/sqlite/0012_cleared_and_hidden.sql"),
    include_str!("../../../migrations/sqlite/0013_app_senders.sql"),
    include_str!("../../../migrations/sqlite/0014_scheduled_messages.sql"),
    include_str!("../../../migrations/sqlite/0015_webhooks.sql"),
];

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))
        .map_err(|e| StoreError::Other(format!("migration {} failed: {e}", index + 1)))?;
    }
    Ok(())
}

/// The path of a `sqlite://…` database URL: `sqlite://dir/file.db` is relative to the working
/// directory, `sqlite:///abs/file.db` is absolute; a bare path is accepted as is.
pub fn path_from_url(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// An exclusive lock beside an SQLite database, held by the server that serves it.
///
/// The writer hands out message IDs and change versions from counters it keeps in memory, so
/// two servers on one file would hand out the same ones. The lock (`<file>.serving`, an
/// advisory lock the operating system drops when the process ends, however it ends) lets only
/// one server open the database; the key commands do not take it, so they work beside a
/// running server.
pub struct ServingLock {
    _file: std::fs::File,
}

impl ServingLock {
    /// Takes the lock of the database at `path`, or says which process-wide rule refused it.
    pub fn take(path: &Path) -> Result<Self, String> {
        let mut name = path.as_os_str().to_owned();
        name.push(".serving");
        let lock_path = PathBuf::from(name);
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "another confab server is already serving the SQLite database {}; one \
                 database file takes one server (use PostgreSQL for several nodes)",
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", lock_path.display()))
            }
        }
    }
}

/// SQLite implementation of [`Store`].
pub struct SqliteStore {
    db: Db,
}

impl SqliteStore {
    /// Records that `device` has seen every change up to `version`, never moving it back.
    ///
    /// Sync reads run on a reader connection, in one snapshot, and take the version that
    /// snapshot reflects (the writer saves it with each batch); only this small upsert goes
    /// through the writer. Every change committed after the snapshot has a higher version, so
    /// the next sync finds it; none before it is sent again.
    async fn mark_synced(
        &self,
        user: UserId,
        device: String,
        version: i64,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |c, _| messages::mark_device_synced(c, user, &device, version))
            .await
    }

    /// Opens (creating file and folder if missing) and migrates the database at `path`.
    /// Committed message changes are published to `feed`, in commit order.
    pub fn open(path: &Path, feed: Option<FeedSink>) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open(path, migrate, feed)?,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_api_key(
        &self,
        app_name: &str,
        kind: KeyKind,
        key_id: &str,
        secret_hash: SecretHash,
    ) -> Result<ApiKeyRecord, StoreError> {
        let (app_name, key_id) = (app_name.to_owned(), key_id.to_owned());
        self.db
            .write(move |c, _| users::create_api_key(c, &app_name, kind, &key_id, secret_hash))
            .await
    }

    async fn list_api_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.db.read(move |c| users::list_api_keys(c, kind)).await
    }

    async fn app_id(&self, name: &str) -> Result<Option<AppId>, StoreError> {
        let name = name.to_owned();
        self.db
            .read(move |c| {
                Ok(c.prepare_cached("SELECT id FROM apps WHERE name = ?1")?
                    .query_row([name], |r| r.get(0))
                    .optional()?)
            })
            .await
    }

    async fn webhook_targets(&self) -> Result<Vec<webhook::Target>, StoreError> {
        self.db.read(|c| webhooks::targets(c)).await
    }

    async fn webhook_add(
        &self,
        app: AppId,
        url: &str,
        sealed_secret: Vec<u8>,
        filter: webhook::Filter,
        now: i64,
    ) -> Result<i64, StoreError> {
        let url = url.to_owned();
        self.db
            .write(move |c, _| webhooks::add_endpoint(c, app, &url, &sealed_secret, &filter, now))
            .await
    }

    async fn webhook_list(&self, app: Option<AppId>) -> Result<Vec<webhook::Endpoint>, StoreError> {
        self.db.read(move |c| webhooks::endpoints(c, app)).await
    }

    async fn webhook_remove(&self, app: Option<AppId>, id: i64) -> Result<bool, StoreError> {
        self.db
            .write(move |c, _| webhooks::remove_endpoint(c, app, id))
            .await
    }

    async fn webhook_events_since(
        &self,
        app: AppId,
        since: i64,
    ) -> Result<Vec<webhook::EventRef>, StoreError> {
        self.db
            .read(move |c| webhooks::events_since(c, app, since))
            .await
    }

    async fn webhook_enqueue(
        &self,
        endpoint: i64,
        events: Vec<webhook::EventRef>,
        now: i64,
    ) -> Result<usize, StoreError> {
        self.db
            .write_alone(move |c, _| webhooks::enqueue(c, endpoint, &events, now))
            .await
    }

    async fn webhook_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<webhook::Due>, StoreError> {
        self.db
            .write(move |c, _| webhooks::claim(c, now, lease_until, limit))
            .await
    }

    async fn webhook_any_due(&self, now: i64) -> Result<bool, StoreError> {
        self.db.read(move |c| webhooks::any_due(c, now)).await
    }

    async fn webhook_recover(&self) -> Result<(), StoreError> {
        self.db
            .write(|c, _| {
                c.prepare_cached(
                    "UPDATE webhook_deliveries SET lease_until = 0 WHERE lease_until > 0",
                )?
                .execute([])?;
                Ok(())
            })
            .await
    }

    async fn webhook_settle(&self, settled: Vec<webhook::Settled>) -> Result<(), StoreError> {
        self.db
            .write(move |c, _| webhooks::settle(c, &settled))
            .await
    }

    async fn webhook_prune(&self, before: i64, limit: i64) -> Result<usize, StoreError> {
        self.db
            .write(move |c, _| webhooks::prune(c, before, limit))
            .await
    }

    async fn revoked_key_count(&self) -> Result<i64, StoreError> {
        self.db
            .read(|c| {
                Ok(
                    c.prepare_cached("SELECT count(*) FROM api_keys WHERE revoked <> 0")?
                        .query_row([], |r| r.get(0))?,
                )
            })
            .await
    }

    async fn revoke_api_key(&self, kind: KeyKind, key_id: &str) -> Result<bool, StoreError> {
        let key_id = key_id.to_owned();
        self.db
            .write(move |c, _| users::revoke_api_key(c, kind, &key_id))
            .await
    }

    async fn find_api_key(
        &self,
        kind: KeyKind,
        key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let key_id = key_id.to_owned();
        self.db
            .read_here(move |c| users::find_api_key(c, kind, &key_id))
            .await
    }

    async fn upsert_user(&self, app: AppId, profile: UserProfile) -> Result<User, StoreError> {
        self.db
            .write(move |c, _| users::upsert_user(c, app, &profile))
            .await
    }

    async fn issue_auth_ticket(
        &self,
        app: AppId,
        profile: UserProfile,
        ticket_hash: SecretHash,
        expires: i64,
    ) -> Result<User, StoreError> {
        self.db
            .write(move |c, _| {
                let user = users::upsert_user(c, app, &profile)?;
                users::insert_ticket(c, app, user.id, ticket_hash, expires)?;
                Ok(user)
            })
            .await
    }

    async fn room_by_xc_id(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, StoreError> {
        let xc_room_id = xc_room_id.to_owned();
        self.db
            .read_here(move |c| {
                let room =
                    rooms::room_by_xc_id(c, app, &xc_room_id)?.ok_or(StoreError::RoomNotFound)?;
                rooms::bundle(c, room)
            })
            .await
    }

    async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<(User, Vec<RoomListEntry>), StoreError> {
        let xc_user_id = xc_user_id.to_owned();
        self.db
            .read(move |c| rooms::rooms_of_user(c, app, &xc_user_id, only_xc_room_ids.as_deref()))
            .await
    }

    async fn exchange_ticket(
        &self,
        app: AppId,
        ticket_hash: SecretHash,
        device: &str,
        tokens: NewTokens,
    ) -> Result<User, StoreError> {
        let device = device.to_owned();
        self.db
            .write(move |c, _| sessions::exchange_ticket(c, app, ticket_hash, &device, &tokens))
            .await
    }

    async fn refresh_session(
        &self,
        app: AppId,
        refresh_hash: SecretHash,
        tokens: NewTokens,
    ) -> Result<User, StoreError> {
        self.db
            .write(move |c, _| sessions::refresh(c, app, refresh_hash, &tokens))
            .await
    }

    async fn session_by_access(
        &self,
        access_hash: SecretHash,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.db
            .read_here(move |c| sessions::by_access(c, access_hash))
            .await
    }

    async fn revoke_session(&self, session: i64) -> Result<bool, StoreError> {
        self.db
            .write(move |c, _| sessions::revoke(c, session))
            .await
    }

    async fn revoke_user_sessions(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let xc_user_id = xc_user_id.to_owned();
        self.db
            .write(move |c, _| {
                let user =
                    users::user_by_xc_id(c, app, &xc_user_id)?.ok_or(StoreError::UserNotFound)?;
                sessions::revoke_all(c, user.id)
            })
            .await
    }

    async fn user_by_id(&self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        self.db
            .read_here(move |c| users::user_in_app(c, app, id))
            .await
    }

    async fn user_by_xc_id(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let xc_user_id = xc_user_id.to_owned();
        self.db
            .read_here(move |c| users::user_by_xc_id(c, app, &xc_user_id))
            .await
    }

    async fn user_by_username(
        &self,
        app: AppId,
        username: &str,
        ignore_case: bool,
    ) -> Result<Option<User>, StoreError> {
        let username = username.to_owned();
        self.db
            .read(move |c| users::user_by_username(c, app, &username, ignore_case))
            .await
    }

    async fn contacts_of(&self, user: UserId) -> Result<Vec<User>, StoreError> {
        self.db.read(move |c| users::contacts_of(c, user)).await
    }

    async fn set_push_tokens(
        &self,
        user: UserId,
        device: &str,
        fcm: &str,
        apn: &str,
    ) -> Result<(), StoreError> {
        let (device, fcm, apn) = (device.to_owned(), fcm.to_owned(), apn.to_owned());
        self.db
            .write(move |c, _| users::set_push_tokens(c, user, &device, &fcm, &apn))
            .await
    }

    async fn touch_user(&self, user: UserId, at: i64) -> Result<(), StoreError> {
        self.db
            .write(move |c, _| users::touch_user(c, user, at))
            .await
    }

    async fn personal_partners(&self, user: UserId, limit: i64) -> Result<Vec<UserId>, StoreError> {
        self.db
            .read(move |c| rooms::personal_partners(c, user, limit))
            .await
    }

    async fn room_list(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        let user_id = user.id;
        let cache = self.db.newest();
        let (list, version) = self
            .db
            .read(move |c| {
                // Taken before the snapshot begins (with the first statement).
                let tick = cache.tick();
                let list = messages::room_list(c, app, &user, &cache, tick)?;
                Ok((list, messages::version(c)?))
            })
            .await?;
        self.mark_synced(user_id, device, version).await?;
        Ok(list)
    }

    async fn new_and_updated(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        let user_id = user.id;
        let read_device = device.clone();
        let cache = self.db.newest();
        let (list, version) = self
            .db
            .read(move |c| {
                // Taken before the snapshot begins (with the first statement).
                let tick = cache.tick();
                let list = match messages::device_sync(c, user.id, &read_device)? {
                    Some(since) => messages::changed_since(c, app, &user, since)?,
                    None => messages::room_list(c, app, &user, &cache, tick)?,
                };
                Ok((list, messages::version(c)?))
            })
            .await?;
        self.mark_synced(user_id, device, version).await?;
        Ok(list)
    }

    async fn write(
        &self,
        work: WriteWork,
        size: WriteSize,
    ) -> Result<Box<dyn Any + Send>, StoreError> {
        let job = move |conn: &mut Connection, feed: &mut Vec<crate::domain::FeedItem>| {
            tx::run_now(work(&mut tx::SqliteTx {
                conn,
                feed: Some(feed),
            }))
        };
        match size {
            WriteSize::Small => self.db.write(job).await,
            WriteSize::Large => self.db.write_alone(job).await,
        }
    }

    async fn read(&self, work: ReadWork) -> Result<Box<dyn Any + Send>, StoreError> {
        self.db
            .read(move |conn| tx::run_now(work(&mut tx::SqliteTx { conn, feed: None })))
            .await
    }

    async fn close(&self) {
        self.db.close().await;
    }
}

//! The embedded default store: one SQLite file in WAL mode.

mod pool;
mod rooms;
mod rows;
mod users;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::Connection;

use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::{AppId, RoomBundle, RoomListEntry, User};
use crate::store::{
    ApiKeyRecord, ContactCounts, ContactOp, LockChange, RoomChange, RoomUpsert, Store, StoreError,
    UserProfile,
};
use pool::Db;

/// Migrations in order; `PRAGMA user_version` records how many have been applied.
const MIGRATIONS: &[&str] = &[include_str!("../../../migrations/sqlite/0001_init.sql")];

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

/// SQLite implementation of [`Store`].
pub struct SqliteStore {
    db: Db,
}

impl SqliteStore {
    /// Opens (creating file and folder if missing) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open(path, migrate)?,
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
            .write(move |c| users::create_api_key(c, &app_name, kind, &key_id, secret_hash))
            .await
    }

    async fn list_api_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.db.read(move |c| users::list_api_keys(c, kind)).await
    }

    async fn revoke_api_key(&self, kind: KeyKind, key_id: &str) -> Result<bool, StoreError> {
        let key_id = key_id.to_owned();
        self.db
            .write(move |c| users::revoke_api_key(c, kind, &key_id))
            .await
    }

    async fn find_api_key(
        &self,
        kind: KeyKind,
        key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let key_id = key_id.to_owned();
        self.db
            .read(move |c| users::find_api_key(c, kind, &key_id))
            .await
    }

    async fn upsert_user(&self, app: AppId, profile: UserProfile) -> Result<User, StoreError> {
        self.db
            .write(move |c| users::upsert_user(c, app, &profile))
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
            .write(move |c| {
                let user = users::upsert_user(c, app, &profile)?;
                users::insert_ticket(c, app, user.id, ticket_hash, expires)?;
                Ok(user)
            })
            .await
    }

    async fn sync_contacts(
        &self,
        app: AppId,
        ops: Vec<ContactOp>,
    ) -> Result<ContactCounts, StoreError> {
        self.db
            .write(move |c| users::sync_contacts(c, app, &ops))
            .await
    }

    async fn create_or_update_room(
        &self,
        app: AppId,
        upsert: RoomUpsert,
    ) -> Result<RoomChange, StoreError> {
        self.db
            .write(move |c| rooms::create_or_update(c, app, &upsert))
            .await
    }

    async fn room_by_xc_id(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, StoreError> {
        let xc_room_id = xc_room_id.to_owned();
        self.db
            .read(move |c| {
                let room =
                    rooms::room_by_xc_id(c, app, &xc_room_id)?.ok_or(StoreError::RoomNotFound)?;
                rooms::bundle(c, room)
            })
            .await
    }

    async fn add_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, StoreError> {
        let xc_room_id = xc_room_id.to_owned();
        self.db
            .write(move |c| rooms::change_participants(c, app, &xc_room_id, &xc_user_ids, true))
            .await
    }

    async fn remove_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, StoreError> {
        let xc_room_id = xc_room_id.to_owned();
        self.db
            .write(move |c| rooms::change_participants(c, app, &xc_room_id, &xc_user_ids, false))
            .await
    }

    async fn set_room_lock(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_id: &str,
        locked: bool,
    ) -> Result<LockChange, StoreError> {
        let (xc_room_id, xc_user_id) = (xc_room_id.to_owned(), xc_user_id.to_owned());
        self.db
            .write(move |c| rooms::set_lock(c, app, &xc_room_id, &xc_user_id, locked))
            .await
    }

    async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<Vec<RoomListEntry>, StoreError> {
        let xc_user_id = xc_user_id.to_owned();
        self.db
            .read(move |c| rooms::rooms_of_user(c, app, &xc_user_id, only_xc_room_ids.as_deref()))
            .await
    }

    async fn close(&self) {
        self.db.close().await;
    }
}

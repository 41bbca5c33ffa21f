//! PostgreSQL store, for several confab nodes sharing one database.
//!
//! The SQLite store serializes every write on one thread; here many nodes write at once, so
//! each use case takes the locks that make it atomic across them, in one order so that they
//! cannot deadlock in the common paths:
//!
//! 1. the room row (`SELECT … FOR UPDATE`, or the `UPDATE` that appends a message), which
//!    serializes everything that changes one room: sequences stay gapless, participant changes
//!    and unread arithmetic never lose an update;
//! 2. the `counters.version` row, taken by the first change that needs a version and held to
//!    commit, so versions commit in order and a device's sync point never skips a change that
//!    was still in flight.
//!
//! Unique indexes decide races on creation (two nodes creating one `xcRoomID`, the same
//! personal room, or the same `localID`): the loser's transaction fails with a unique
//! violation and is retried from the start, when it finds the winner's row. Deadlocks and
//! serialization failures are retried the same way, a bounded number of times.

mod append;
mod ids;
mod marks;
mod messages;
mod moderation;
mod receipts;
mod room_states;
mod rooms;
mod rows;
mod scheduled;
mod sessions;
mod tx;
mod users;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::webhook;
use crate::domain::{AppId, RoomBundle, RoomListEntry, User, UserId, Viewed};
use crate::store::{
    ApiKeyRecord, FeedItem, FeedSink, NewTokens, ReadWork, SessionRecord, Store, StoreError,
    UserProfile, WriteSize, WriteWork,
};

/// Migrations in order; `confab_migrations` records which have been applied. The numbering
/// follows SQLite's (`migrations/sqlite/`): a step that does not apply here says why and
/// changes nothing.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_init.sql"),
    include_str!("../../../migrations/postgres/0002_fewer_message_indexes.sql"),
    include_str!("../../../migrations/postgres/0003_version_index_for_changes_only.sql"),
    include_str!("../../../migrations/postgres/0004_ticket_expiry_index.sql"),
    include_str!("../../../migrations/postgres/0005_room_change_version.sql"),
    include_str!("../../../migrations/postgres/0006_media.sql"),
    include_str!("../../../migrations/postgres/0007_profile_photos.sql"),
    include_str!("../../../migrations/postgres/0008_room_states.sql"),
    include_str!("../../../migrations/postgres/0009_stars_and_pins.sql"),
    include_str!("../../../migrations/postgres/0010_blocks_and_reports.sql"),
    include_str!("../../../migrations/postgres/0011_message_receipts.sql"),
    include_str!("../../../migrations/postgres/0012_cleared_and_hidden.sql"),
    include_str!("../../../migrations/postgres/0013_app_senders.sql"),
    include_str!("../../../migrations/postgres/0014_scheduled_messages.sql"),
    include_str!("../../../migrations/postgres/0015_webhooks.sql"),
];

/// Advisory lock key held while migrating, so nodes starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x636f_6e66_6162;

/// Attempts of a transaction that lost a race (unique violation, deadlock, serialization).
const MAX_ATTEMPTS: u32 = 8;

/// Connection settings of the pool; defined with the rest of the configuration (so that
/// `config` depends on no store), and nameable here where the pool is built.
pub use crate::config::PoolSettings;

/// Why a transaction body stopped: a refusal for the caller, or a database error that may be
/// worth retrying.
#[derive(Debug)]
pub(super) enum Fail {
    Store(StoreError),
    Db(tokio_postgres::Error),
}

impl From<StoreError> for Fail {
    fn from(err: StoreError) -> Self {
        Fail::Store(err)
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(err: tokio_postgres::Error) -> Self {
        Fail::Db(err)
    }
}

impl From<deadpool_postgres::PoolError> for Fail {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        Fail::Store(StoreError::Other(format!("no database connection: {err}")))
    }
}

impl Fail {
    /// Whether the transaction lost a race and would succeed when run again.
    fn retryable(&self) -> bool {
        let err = match self {
            Fail::Db(err) => err,
            Fail::Store(err) => return matches!(err, StoreError::Retry(_)),
        };
        matches!(
            err.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::UNIQUE_VIOLATION
        )
    }
}

impl Fail {
    /// The failure as a rule sees it: a lost race stays one ([`StoreError::Retry`]), so that
    /// the transaction runs again when the rule passes it on.
    fn into_store_error(self) -> StoreError {
        match &self {
            Fail::Db(err) if self.retryable() => StoreError::Retry(describe(err)),
            _ => self.into(),
        }
    }
}

impl From<Fail> for StoreError {
    fn from(fail: Fail) -> Self {
        match fail {
            Fail::Store(err) => err,
            Fail::Db(err) => StoreError::Other(describe(&err)),
        }
    }
}

/// The server's own message when there is one (the driver's `Display` says only "db error").
fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => err.to_string(),
    }
}

/// Result of a transaction body.
pub(super) type Res<T> = Result<T, Fail>;

/// An open transaction with a per-connection statement cache.
pub(super) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Statement parameters.
pub(super) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Every row of a cached statement.
pub(super) async fn rows(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Res<Vec<Row>> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.query(&stmt, params).await?)
}

/// At most one row of a cached statement.
pub(super) async fn opt(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Res<Option<Row>> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.query_opt(&stmt, params).await?)
}

/// Exactly one row of a cached statement.
pub(super) async fn one(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Res<Row> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.query_one(&stmt, params).await?)
}

/// Runs a cached statement; the number of rows it changed.
pub(super) async fn exec(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Res<u64> {
    let stmt = tx.prepare_cached(sql).await?;
    Ok(tx.execute(&stmt, params).await?)
}

/// How a transaction runs.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Writes, with explicit row locks (READ COMMITTED).
    Write,
    /// Reads on one snapshot.
    Read,
}

/// Runs `$body` in a transaction of `$mode`, retrying it when it lost a race; commits, then
/// publishes what the body pushed to `$feed`.
macro_rules! transact {
    ($store:expr, $mode:expr, |$tx:ident, $feed:ident| $body:block) => {{
        let store = &$store;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = match store.pool.get().await {
                Ok(client) => client,
                Err(err) => break Err(StoreError::from(Fail::from(err))),
            };
            let $tx = match store.begin(&mut client, $mode).await {
                Ok(tx) => tx,
                Err(err) => break Err(StoreError::from(err)),
            };
            #[allow(unused_mut)]
            let mut $feed: Vec<FeedItem> = Vec::new();
            let outcome: Res<_> = async { $body }.await;
            let outcome = match outcome {
                Ok(value) => $tx.commit().await.map(|()| value).map_err(Fail::from),
                Err(fail) => Err(fail),
            };
            match outcome {
                Ok(value) => {
                    store.publish($feed).await;
                    break Ok(value);
                }
                Err(fail) if fail.retryable() && attempt < MAX_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 3)).await;
                }
                Err(fail) => break Err(StoreError::from(fail)),
            }
        }
    }};
}

/// PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: Pool,
    /// Taken on close, so the realtime layer sees the feed end.
    feed: std::sync::Mutex<Option<FeedSink>>,
    /// How many migrations this store applied when it opened (`0` when another node had).
    migrations_applied: usize,
}

impl PgStore {
    /// Moves a device's sync point forward to `version` (see [`messages::move_device_sync`]).
    async fn move_device_sync(
        &self,
        user: UserId,
        device: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            messages::move_device_sync(&tx, user, device, version).await
        })
    }
}

/// Where a URL points, without its password, for messages.
fn display_target(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("(default)");
    format!("{host}:{port}/{db}")
}

impl PgStore {
    /// Connects, applies pending migrations (one node at a time) and builds the pool. Fails
    /// with a message naming the server when it is unreachable, refuses the login, or the
    /// schema cannot be brought up to date.
    pub async fn open(
        url: &str,
        settings: PoolSettings,
        feed: Option<FeedSink>,
    ) -> Result<Self, String> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(settings.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("confab");
        }
        let timeout_ms = settings.statement_timeout.as_millis();
        config.options(format!("-c statement_timeout={timeout_ms}"));
        let target = display_target(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections.max(1))
            .wait_timeout(Some(settings.connect_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot build the PostgreSQL pool: {e}"))?;
        let mut client = pool.get().await.map_err(|e| {
            let cause = match &e {
                deadpool_postgres::PoolError::Backend(err) => describe(err),
                other => other.to_string(),
            };
            format!("cannot connect to PostgreSQL at {target}: {cause}")
        })?;
        let migrations_applied = migrate(&mut client)
            .await
            .map_err(|e| format!("cannot migrate PostgreSQL at {target}: {}", describe(&e)))?;
        drop(client);
        Ok(Self {
            pool,
            feed: std::sync::Mutex::new(feed),
            migrations_applied,
        })
    }

    /// How many migrations this store applied when it opened. Nodes that start together
    /// migrate one after another under an advisory lock, so between them they apply each
    /// migration once.
    pub fn migrations_applied(&self) -> usize {
        self.migrations_applied
    }

    async fn begin<'c>(
        &self,
        client: &'c mut deadpool_postgres::Object,
        mode: Mode,
    ) -> Result<Tx<'c>, Fail> {
        let builder = client.build_transaction();
        let builder = match mode {
            Mode::Write => builder,
            Mode::Read => builder
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true),
        };
        Ok(builder.start().await?)
    }

    /// Hands committed changes to the realtime layer, in the order they were made.
    async fn publish(&self, items: Vec<FeedItem>) {
        if items.is_empty() {
            return;
        }
        let feed = self.feed.lock().expect("feed lock poisoned").clone();
        if let Some(feed) = feed {
            for item in items {
                if feed.send(item).await.is_err() {
                    break; // the realtime layer has stopped; the database stays the truth
                }
            }
        }
    }
}

/// Applies the migrations not yet recorded in `confab_migrations`; returns how many.
async fn migrate(client: &mut deadpool_postgres::Object) -> Result<usize, tokio_postgres::Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = async {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS confab_migrations ( \
                     version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)",
            )
            .await?;
        let applied: i64 = client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM confab_migrations",
                &[],
            )
            .await?
            .get(0);
        let mut count = 0;
        for (index, sql) in MIGRATIONS.iter().enumerate() {
            let version = index as i64 + 1;
            if version <= applied {
                continue;
            }
            let tx = client.transaction().await?;
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO confab_migrations (version, applied) VALUES ($1, $2)",
                &[&version, &crate::domain::now_ms()],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(version, "applied PostgreSQL migration");
            count += 1;
        }
        Ok(count)
    }
    .await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let count = result?;
    unlocked.map(|_| count)
}

#[async_trait]
impl Store for PgStore {
    async fn create_api_key(
        &self,
        app_name: &str,
        kind: KeyKind,
        key_id: &str,
        secret_hash: SecretHash,
    ) -> Result<ApiKeyRecord, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            users::create_api_key(&tx, app_name, kind, key_id, secret_hash).await
        })
    }

    async fn list_api_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::list_api_keys(&tx, kind).await
        })
    }

    async fn app_id(&self, name: &str) -> Result<Option<AppId>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            let row = opt(&tx, "SELECT id FROM apps WHERE name = $1", &[&name]).await?;
            Ok(match row {
                Some(row) => Some(row.try_get(0)?),
                None => None,
            })
        })
    }

    async fn webhook_targets(&self) -> Result<Vec<webhook::Target>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            webhooks::targets(&tx).await
        })
    }

    async fn webhook_add(
        &self,
        app: AppId,
        url: &str,
        sealed_secret: Vec<u8>,
        filter: webhook::Filter,
        now: i64,
    ) -> Result<i64, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::add_endpoint(&tx, app, url, &sealed_secret, &filter, now).await
        })
    }

    async fn webhook_list(&self, app: Option<AppId>) -> Result<Vec<webhook::Endpoint>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            webhooks::endpoints(&tx, app).await
        })
    }

    async fn webhook_remove(&self, app: Option<AppId>, id: i64) -> Result<bool, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::remove_endpoint(&tx, app, id).await
        })
    }

    async fn webhook_events_since(
        &self,
        app: AppId,
        since: i64,
    ) -> Result<Vec<webhook::EventRef>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            webhooks::events_since(&tx, app, since).await
        })
    }

    async fn webhook_enqueue(
        &self,
        endpoint: i64,
        events: Vec<webhook::EventRef>,
        now: i64,
    ) -> Result<usize, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::enqueue(&tx, endpoint, &events, now).await
        })
    }

    async fn webhook_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<webhook::Due>, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::claim(&tx, now, lease_until, limit).await
        })
    }

    async fn webhook_any_due(&self, now: i64) -> Result<bool, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            webhooks::any_due(&tx, now).await
        })
    }

    async fn webhook_recover(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn webhook_settle(&self, settled: Vec<webhook::Settled>) -> Result<(), StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::settle(&tx, &settled).await
        })
    }

    async fn webhook_prune(&self, before: i64, limit: i64) -> Result<usize, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            webhooks::prune(&tx, before, limit).await
        })
    }

    async fn revoked_key_count(&self) -> Result<i64, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            let row = one(&tx, "SELECT count(*) FROM api_keys WHERE revoked <> 0", &[]).await?;
            Ok(row.try_get(0)?)
        })
    }

    async fn revoke_api_key(&self, kind: KeyKind, key_id: &str) -> Result<bool, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            users::revoke_api_key(&tx, kind, key_id).await
        })
    }

    async fn find_api_key(
        &self,
        kind: KeyKind,
        key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::find_api_key(&tx, kind, key_id).await
        })
    }

    async fn upsert_user(&self, app: AppId, profile: UserProfile) -> Result<User, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            users::upsert_user(&tx, app, &profile).await
        })
    }

    async fn issue_auth_ticket(
        &self,
        app: AppId,
        profile: UserProfile,
        ticket_hash: SecretHash,
        expires: i64,
    ) -> Result<User, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            let user = users::upsert_user(&tx, app, &profile).await?;
            users::insert_ticket(&tx, app, user.id, ticket_hash, expires).await?;
            Ok(user)
        })
    }

    async fn room_by_xc_id(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            let room = rooms::room_by_xc_id(&tx, app, xc_room_id, false)
                .await?
                .ok_or(StoreError::RoomNotFound)?;
            rooms::bundle(&tx, room).await
        })
    }

    async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<(User, Vec<RoomListEntry>), StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            rooms::rooms_of_user(&tx, app, xc_user_id, only_xc_room_ids.as_deref()).await
        })
    }

    async fn exchange_ticket(
        &self,
        app: AppId,
        ticket_hash: SecretHash,
        device: &str,
        tokens: NewTokens,
    ) -> Result<User, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            sessions::exchange_ticket(&tx, app, ticket_hash, device, &tokens).await
        })
    }

    async fn refresh_session(
        &self,
        app: AppId,
        refresh_hash: SecretHash,
        tokens: NewTokens,
    ) -> Result<User, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            sessions::refresh(&tx, app, refresh_hash, &tokens).await
        })
    }

    async fn session_by_access(
        &self,
        access_hash: SecretHash,
    ) -> Result<Option<SessionRecord>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            sessions::by_access(&tx, access_hash).await
        })
    }

    async fn revoke_session(&self, session: i64) -> Result<bool, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            sessions::revoke(&tx, session).await
        })
    }

    async fn revoke_user_sessions(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Vec<i64>, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            let user = users::user_by_xc_id(&tx, app, xc_user_id)
                .await?
                .ok_or(StoreError::UserNotFound)?;
            sessions::revoke_all(&tx, user.id).await
        })
    }

    async fn user_by_id(&self, app: AppId, id: UserId) -> Result<Option<User>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::user_in_app(&tx, app, id).await
        })
    }

    async fn user_by_xc_id(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::user_by_xc_id(&tx, app, xc_user_id).await
        })
    }

    async fn user_by_username(
        &self,
        app: AppId,
        username: &str,
        ignore_case: bool,
    ) -> Result<Option<User>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::user_by_username(&tx, app, username, ignore_case).await
        })
    }

    async fn contacts_of(&self, user: UserId) -> Result<Vec<User>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            users::contacts_of(&tx, user).await
        })
    }

    async fn set_push_tokens(
        &self,
        user: UserId,
        device: &str,
        fcm: &str,
        apn: &str,
    ) -> Result<(), StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            users::set_push_tokens(&tx, user, device, fcm, apn).await
        })
    }

    async fn touch_user(&self, user: UserId, at: i64) -> Result<(), StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            users::touch_user(&tx, user, at).await
        })
    }

    async fn personal_partners(&self, user: UserId, limit: i64) -> Result<Vec<UserId>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            rooms::personal_partners(&tx, user, limit).await
        })
    }

    async fn room_list(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        // One snapshot for the list and the version it covers, so they match exactly; the
        // sync point moves to that version afterwards.
        let (list, version) = transact!(self, Mode::Read, |tx, feed| {
            let list = messages::room_list(&tx, app, &user).await?;
            Ok((list, messages::snapshot_version(&tx).await?))
        })?;
        self.move_device_sync(user.id, &device, version).await?;
        Ok(list)
    }

    async fn new_and_updated(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError> {
        let (list, version) = transact!(self, Mode::Read, |tx, feed| {
            let list = match messages::device_sync(&tx, user.id, &device).await? {
                Some(since) => messages::changed_since(&tx, app, &user, since).await?,
                None => messages::room_list(&tx, app, &user).await?,
            };
            Ok((list, messages::snapshot_version(&tx).await?))
        })?;
        self.move_device_sync(user.id, &device, version).await?;
        Ok(list)
    }

    async fn write(
        &self,
        work: WriteWork,
        _size: WriteSize,
    ) -> Result<Box<dyn std::any::Any + Send>, StoreError> {
        transact!(self, Mode::Write, |tx, feed| {
            let mut chat = tx::PgTx {
                tx: &tx,
                feed: &mut feed,
            };
            work(&mut chat).await.map_err(Fail::Store)
        })
    }

    async fn read(&self, work: ReadWork) -> Result<Box<dyn std::any::Any + Send>, StoreError> {
        transact!(self, Mode::Read, |tx, feed| {
            let mut chat = tx::PgTx {
                tx: &tx,
                feed: &mut feed,
            };
            work(&mut chat).await.map_err(Fail::Store)
        })
    }

    async fn close(&self) {
        self.feed.lock().expect("feed lock poisoned").take();
        self.pool.close();
    }

    fn pool_use(&self) -> Option<(usize, usize)> {
        let status = self.pool.status();
        Some((status.size.saturating_sub(status.available), status.size))
    }
}

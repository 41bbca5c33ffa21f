//! Persistence behind one trait, so that the embedded SQLite store and a PostgreSQL store are
//! two implementations of the same contract.
//!
//! Every write method is one atomic transaction that either happens entirely or not at all, and
//! returns only after its commit is durable. Methods are use-case shaped (create a room with
//! its participants and its system message) rather than table shaped, so each backend can use
//! its own locking to keep them atomic.

mod columns;
pub mod postgres;
mod shared;
pub mod sqlite;
mod tx;

use async_trait::async_trait;

pub use shared::NewRoom;
pub use tx::{ChatRead, ChatTx, Joining, ReadWork, RowLock, WriteSize, WriteWork};

use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::webhook;
use crate::domain::{AppId, Message, RoomBundle, RoomListEntry, RoomType, User, UserId, Viewed};

/// The feed's values live in [`crate::domain`] so that realtime can deliver them without
/// depending on the store; they stay nameable here, where stores produce them.
pub use crate::domain::token::TokenProblem;
pub use crate::domain::{Audience, FeedItem, FeedKind};

/// What went wrong in the store, in terms the service layer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The addressed room does not exist in this app.
    RoomNotFound,
    /// The addressed user does not exist in this app.
    UserNotFound,
    /// The addressed file does not exist in this app.
    FileNotFound,
    /// A user named by `xcUserID` in the request does not exist in this app.
    UnknownUser(String),
    /// The request contradicts stored state (e.g. a room type change).
    Conflict(String),
    /// The caller may not do this (not a participant, not an admin, not the sender).
    Forbidden(String),
    /// The room is locked against client sends.
    Locked,
    /// An auth ticket, access or refresh token was refused.
    Token(TokenProblem),
    /// A PostgreSQL transaction lost a race with another (a unique violation, a deadlock, a
    /// serialization failure) and runs again from the start; the text is for the log.
    Retry(String),
    /// The store failed; the text is for the log, never for clients.
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::RoomNotFound => f.write_str("room not found"),
            StoreError::UserNotFound => f.write_str("user not found"),
            StoreError::FileNotFound => f.write_str("file not found"),
            StoreError::UnknownUser(id) => write!(f, "unknown xcUserID '{id}'"),
            StoreError::Conflict(why) => write!(f, "conflict: {why}"),
            StoreError::Forbidden(why) => write!(f, "forbidden: {why}"),
            StoreError::Locked => f.write_str("the room is locked"),
            StoreError::Token(problem) => write!(f, "token refused: {problem:?}"),
            StoreError::Retry(why) => write!(f, "lost a race: {why}"),
            StoreError::Other(why) => write!(f, "store failure: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Where a store publishes its committed changes, in commit order.
pub type FeedSink = tokio::sync::mpsc::Sender<FeedItem>;

/// Hashes and expiries of a freshly issued token pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokens {
    /// SHA-256 of the access token.
    pub access_hash: SecretHash,
    /// Access token expiry, Unix ms.
    pub access_expires: i64,
    /// SHA-256 of the refresh token.
    pub refresh_hash: SecretHash,
    /// Refresh token expiry, Unix ms.
    pub refresh_expires: i64,
}

/// A session found by its access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Session ID.
    pub id: i64,
    /// The app it was opened in.
    pub app: AppId,
    /// Its user; `None` if the user no longer exists.
    pub user: Option<User>,
    /// The device that opened it.
    pub device: String,
    /// Access token expiry, Unix ms.
    pub access_expires: i64,
    /// Revoked (logout or revocation).
    pub revoked: bool,
}

/// A stored API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Public key ID.
    pub key_id: String,
    /// The app it belongs to.
    pub app_id: AppId,
    /// The app's name.
    pub app_name: String,
    /// SHA-256 of the secret.
    pub secret_hash: SecretHash,
    /// Creation time, Unix ms.
    pub created: i64,
    /// Revocation time, Unix ms; `0` while active.
    pub revoked: i64,
}

/// A user's profile as the Server API sends it. `None` leaves a stored value unchanged (and
/// means `""` for a new user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// The customer's user ID, the upsert key.
    pub xc_user_id: String,
    /// Display name.
    pub fullname: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Thumbnail URL.
    pub photo_thumbnail: Option<String>,
    /// Full-size URL.
    pub photo_fullsize: Option<String>,
    /// Role code.
    pub role_code: Option<String>,
}

/// One line of a contact sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactOp {
    /// Whose list.
    pub owner_xc_user_id: String,
    /// Who is in it.
    pub contact_xc_user_id: String,
    /// Remove instead of add.
    pub deleted: bool,
}

/// What a contact sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactCounts {
    /// Pairs that did not exist before and do now.
    pub inserted: u64,
    /// Pairs that existed before and do not now.
    pub deleted: u64,
}

/// The Server API's room upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomUpsert {
    /// The customer's room ID, the upsert key.
    pub xc_room_id: String,
    /// Type; must match an existing room's.
    pub room_type: RoomType,
    /// Name.
    pub name: String,
    /// Thumbnail URL; `None` keeps the stored one.
    pub photo_thumbnail: Option<String>,
    /// Full-size URL; `None` keeps the stored one.
    pub photo_fullsize: Option<String>,
    /// Tags; `None` keeps the stored ones, `Some(vec![])` clears them.
    pub tags: Option<Vec<String>>,
    /// Initial participants (new rooms only).
    pub participant_xc_user_ids: Vec<String>,
    /// Participant roles; `None` keeps, `Some(vec![])` clears.
    pub participant_roles: Option<Vec<String>>,
}

/// A room after a write, with the system messages the write appended (for live delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomChange {
    /// The room as committed.
    pub bundle: RoomBundle,
    /// Messages appended by the change, oldest first.
    pub messages: Vec<Message>,
}

/// Result of a lock or unlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockChange {
    /// `false` when the room already was in the requested state.
    pub changed: bool,
    /// The system message, when the state changed.
    pub messages: Vec<Message>,
}

/// The persistence contract. Every method is scoped to one app: nothing of another app is
/// visible or changeable through it.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates (if needed) the app called `app_name` and stores a key for it.
    async fn create_api_key(
        &self,
        app_name: &str,
        kind: KeyKind,
        key_id: &str,
        secret_hash: SecretHash,
    ) -> Result<ApiKeyRecord, StoreError>;

    /// The ID of the app called `name`, if there is one.
    async fn app_id(&self, name: &str) -> Result<Option<AppId>, StoreError>;

    /// Every app's webhook endpoints with their filters.
    async fn webhook_targets(&self) -> Result<Vec<webhook::Target>, StoreError>;

    /// Adds a webhook endpoint to `app`; its ID.
    async fn webhook_add(
        &self,
        app: AppId,
        url: &str,
        sealed_secret: Vec<u8>,
        filter: webhook::Filter,
        now: i64,
    ) -> Result<i64, StoreError>;

    /// The webhook endpoints of `app` (of every app for `None`), oldest first, with status.
    async fn webhook_list(&self, app: Option<AppId>) -> Result<Vec<webhook::Endpoint>, StoreError>;

    /// Removes an endpoint (of `app`, when given) with what it had still to deliver; whether
    /// there was one.
    async fn webhook_remove(&self, app: Option<AppId>, id: i64) -> Result<bool, StoreError>;

    /// The events recorded for `app` at or after `since` (Unix ms), in order.
    async fn webhook_events_since(
        &self,
        app: AppId,
        since: i64,
    ) -> Result<Vec<webhook::EventRef>, StoreError>;

    /// Queues `events` for `endpoint` again, due at `now`; how many were queued (none when the
    /// endpoint is gone).
    async fn webhook_enqueue(
        &self,
        endpoint: i64,
        events: Vec<webhook::EventRef>,
        now: i64,
    ) -> Result<usize, StoreError>;

    /// Claims up to `limit` deliveries due at `now` for this node until `lease_until`: the
    /// first pending event of each endpoint's room that nobody holds.
    async fn webhook_claim(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<webhook::Due>, StoreError>;

    /// Whether any delivery is due at `now` and free to claim: the cheap read a node makes
    /// before a claim, which writes.
    async fn webhook_any_due(&self, now: i64) -> Result<bool, StoreError>;

    /// Takes back the deliveries claimed by processes that are gone, as a node starts: on
    /// SQLite (one process per file) every lease; on PostgreSQL none, since other nodes may
    /// hold them (they run out instead).
    async fn webhook_recover(&self) -> Result<(), StoreError>;

    /// Records what became of claimed deliveries.
    async fn webhook_settle(&self, settled: Vec<webhook::Settled>) -> Result<(), StoreError>;

    /// Removes up to `limit` events recorded before `before` that nothing still has to
    /// deliver; how many.
    async fn webhook_prune(&self, before: i64, limit: i64) -> Result<usize, StoreError>;

    /// All keys of a kind, every app, oldest first.
    async fn list_api_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// How many keys of either kind have been revoked, ever: it grows with every revocation.
    async fn revoked_key_count(&self) -> Result<i64, StoreError>;

    /// Revokes a key; `false` if no active key has that ID.
    async fn revoke_api_key(&self, kind: KeyKind, key_id: &str) -> Result<bool, StoreError>;

    /// Looks a key up by ID, revoked or not.
    async fn find_api_key(
        &self,
        kind: KeyKind,
        key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Creates or updates a user by `xcUserID`.
    async fn upsert_user(&self, app: AppId, profile: UserProfile) -> Result<User, StoreError>;

    /// Upserts the user and stores a one-time auth ticket for them, in one transaction.
    async fn issue_auth_ticket(
        &self,
        app: AppId,
        profile: UserProfile,
        ticket_hash: SecretHash,
        expires: i64,
    ) -> Result<User, StoreError>;

    /// A room by its customer ID.
    async fn room_by_xc_id(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, StoreError>;

    /// Every room of a user (explicit or by role), newest activity first, optionally only the
    /// rooms whose `xcRoomID` is listed; with the user.
    async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<(User, Vec<RoomListEntry>), StoreError>;

    /// Consumes an auth ticket and opens a session with the given tokens.
    async fn exchange_ticket(
        &self,
        app: AppId,
        ticket_hash: SecretHash,
        device: &str,
        tokens: NewTokens,
    ) -> Result<User, StoreError>;

    /// Rotates a session's tokens given its refresh token.
    async fn refresh_session(
        &self,
        app: AppId,
        refresh_hash: SecretHash,
        tokens: NewTokens,
    ) -> Result<User, StoreError>;

    /// The session of an access token.
    async fn session_by_access(
        &self,
        access_hash: SecretHash,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Revokes one session (logout).
    async fn revoke_session(&self, session: i64) -> Result<bool, StoreError>;

    /// Revokes every session of a user; returns the revoked session IDs.
    async fn revoke_user_sessions(
        &self,
        app: AppId,
        xc_user_id: &str,
    ) -> Result<Vec<i64>, StoreError>;

    /// A user of the app by platform ID.
    async fn user_by_id(&self, app: AppId, id: UserId) -> Result<Option<User>, StoreError>;

    /// A user of the app by customer ID.
    async fn user_by_xc_id(&self, app: AppId, xc_user_id: &str)
    -> Result<Option<User>, StoreError>;

    /// A user of the app by username.
    async fn user_by_username(
        &self,
        app: AppId,
        username: &str,
        ignore_case: bool,
    ) -> Result<Option<User>, StoreError>;

    /// The contact list of a user.
    async fn contacts_of(&self, user: UserId) -> Result<Vec<User>, StoreError>;

    /// Stores a device's push tokens.
    async fn set_push_tokens(
        &self,
        user: UserId,
        device: &str,
        fcm: &str,
        apn: &str,
    ) -> Result<(), StoreError>;

    /// Records user activity at `at` (Unix ms).
    async fn touch_user(&self, user: UserId, at: i64) -> Result<(), StoreError>;

    /// The users `user` has a personal room with, at most `limit`: who hears their presence.
    async fn personal_partners(&self, user: UserId, limit: i64) -> Result<Vec<UserId>, StoreError>;

    /// The newest message of every room of the user plus their unread messages; marks the
    /// device synced.
    async fn room_list(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError>;

    /// What changed for the user since the device's last sync (everything of
    /// [`Store::room_list`] if it never synced); marks the device synced.
    async fn new_and_updated(
        &self,
        app: AppId,
        user: User,
        device: String,
    ) -> Result<Vec<Viewed>, StoreError>;

    /// Runs a use case's rule in one write transaction (see [`ChatTx`]); call it through
    /// `<dyn Store>::transaction`, which gives the result its type back. `size` says how many
    /// rows it may change.
    async fn write(
        &self,
        work: WriteWork,
        size: WriteSize,
    ) -> Result<Box<dyn std::any::Any + Send>, StoreError>;

    /// Runs a read-only rule (see [`ChatRead`]) on one consistent view of the data; call it
    /// through `<dyn Store>::reading`.
    async fn read(&self, work: ReadWork) -> Result<Box<dyn std::any::Any + Send>, StoreError>;

    /// Finishes queued writes and stops accepting new ones.
    async fn close(&self);

    /// Pooled database connections in use and open, for a store that pools them.
    fn pool_use(&self) -> Option<(usize, usize)> {
        None
    }
}

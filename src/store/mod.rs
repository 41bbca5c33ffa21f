//! Persistence behind one trait, so that the embedded SQLite store and a PostgreSQL store are
//! two implementations of the same contract.
//!
//! Every write method is one atomic transaction that either happens entirely or not at all, and
//! returns only after its commit is durable. Methods are use-case shaped (create a room with
//! its participants and its system message) rather than table shaped, so each backend can use
//! its own locking to keep them atomic.

pub mod sqlite;

use async_trait::async_trait;

use crate::domain::secret::{KeyKind, SecretHash};
use crate::domain::{AppId, Message, RoomBundle, RoomListEntry, RoomType, User};

/// What went wrong in the store, in terms the service layer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The addressed room does not exist in this app.
    RoomNotFound,
    /// The addressed user does not exist in this app.
    UserNotFound,
    /// A user named by `xcUserID` in the request does not exist in this app.
    UnknownUser(String),
    /// The request contradicts stored state (e.g. a room type change).
    Conflict(String),
    /// The store failed; the text is for the log, never for clients.
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::RoomNotFound => f.write_str("room not found"),
            StoreError::UserNotFound => f.write_str("user not found"),
            StoreError::UnknownUser(id) => write!(f, "unknown xcUserID '{id}'"),
            StoreError::Conflict(why) => write!(f, "conflict: {why}"),
            StoreError::Other(why) => write!(f, "store failure: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

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

    /// All keys of a kind, every app, oldest first.
    async fn list_api_keys(&self, kind: KeyKind) -> Result<Vec<ApiKeyRecord>, StoreError>;

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

    /// Applies contact additions, then deletions. Unknown users fail the whole sync.
    async fn sync_contacts(
        &self,
        app: AppId,
        ops: Vec<ContactOp>,
    ) -> Result<ContactCounts, StoreError>;

    /// Creates the room or updates it, appending `room/create` or `room/update`.
    async fn create_or_update_room(
        &self,
        app: AppId,
        upsert: RoomUpsert,
    ) -> Result<RoomChange, StoreError>;

    /// A room by its customer ID.
    async fn room_by_xc_id(&self, app: AppId, xc_room_id: &str) -> Result<RoomBundle, StoreError>;

    /// Adds participants (existing ones are skipped), one `room/addParticipant` each.
    async fn add_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, StoreError>;

    /// Removes participants (non-participants are skipped), one `room/removeParticipant` each.
    async fn remove_participants(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_ids: Vec<String>,
    ) -> Result<RoomChange, StoreError>;

    /// Locks (`locked = true`) or unlocks a room on behalf of a user.
    async fn set_room_lock(
        &self,
        app: AppId,
        xc_room_id: &str,
        xc_user_id: &str,
        locked: bool,
    ) -> Result<LockChange, StoreError>;

    /// Every room of a user (explicit or by role), newest activity first, optionally only the
    /// rooms whose `xcRoomID` is listed.
    async fn rooms_of_user(
        &self,
        app: AppId,
        xc_user_id: &str,
        only_xc_room_ids: Option<Vec<String>>,
    ) -> Result<Vec<RoomListEntry>, StoreError>;

    /// Finishes queued writes and stops accepting new ones.
    async fn close(&self);
}

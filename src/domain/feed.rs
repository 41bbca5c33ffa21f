//! The committed-change feed: what a store publishes after each commit and what realtime
//! delivers to sockets (and carries across nodes on the bus). Plain values over messages and
//! IDs, kept in the domain so that neither side has to depend on the other. They have no
//! serialized form: the bus carries them in its own versioned format (`realtime::notice`),
//! so that renaming a field here changes nothing that nodes send each other.

use crate::domain::model::{AppId, Message, UserId};

/// Who must hear about a message: the room's explicit participants (with how far each has
/// read it) and the role codes whose holders are participants too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// The app the room belongs to (role codes are per app).
    pub app: AppId,
    /// Explicit participants and their read positions (`read_seq`).
    pub members: Vec<(UserId, i64)>,
    /// Role codes of the room.
    pub roles: Vec<String>,
}

/// Whether a feed item is a new message or a change to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// Appended: clients get `chat/sendMessage`.
    New,
    /// Changed (receipt, edit): clients get `chat/updateMessage`.
    Updated,
    /// Deleted: clients get `chat/updateMessage` (which both SDKs handle) and
    /// `chat/deleteMessage` (which only Android handles).
    Deleted,
}

/// A committed change that connected clients must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// New or updated.
    pub kind: FeedKind,
    /// The message as committed.
    pub message: Message,
    /// Who receives it.
    pub audience: Audience,
}

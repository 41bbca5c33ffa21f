//! The committed-change feed: what a store publishes after each commit and what realtime
//! delivers to sockets (and carries across nodes on the bus). Plain values over messages and
//! IDs, kept in the domain so that neither side has to depend on the other. They have no
//! serialized form: the bus carries them in its own versioned format (`realtime::notice`),
//! so that renaming a field here changes nothing that nodes send each other.

use std::sync::Arc;

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

impl Audience {
    /// A room's audience: its members with their read positions, plus `extra` users not
    /// among them (read position 0), such as one just removed who still hears of it.
    pub fn with_extra(
        app: AppId,
        mut members: Vec<(UserId, i64)>,
        extra: &[UserId],
        roles: Vec<String>,
    ) -> Self {
        if !extra.is_empty() {
            let mut present: std::collections::HashSet<UserId> =
                members.iter().map(|(user, _)| *user).collect();
            for user in extra {
                if present.insert(*user) {
                    members.push((*user, 0));
                }
            }
        }
        Self {
            app,
            members,
            roles,
        }
    }
}

/// Whether a feed item is a new message or a change to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// Appended: clients get `chat/sendMessage`.
    New,
    /// Edited: clients get `chat/updateMessage`.
    Updated,
    /// Delivered or read by a recipient: clients get `chat/updateMessage`, as for an edit;
    /// kept apart because webhooks report edits, not receipts.
    Receipt,
    /// Deleted: clients get `chat/updateMessage` (which both SDKs handle) and
    /// `chat/deleteMessage` (which only Android handles).
    Deleted,
}

impl FeedItem {
    /// The feed items of messages just appended together, all for one audience (shared, not
    /// copied).
    pub fn appended<'a>(
        messages: &'a [Message],
        audience: Audience,
    ) -> impl Iterator<Item = FeedItem> + 'a {
        let audience = Arc::new(audience);
        messages.iter().map(move |message| FeedItem {
            kind: FeedKind::New,
            message: message.clone(),
            audience: Arc::clone(&audience),
        })
    }
}

/// A committed change that connected clients must hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// New or updated.
    pub kind: FeedKind,
    /// The message as committed.
    pub message: Message,
    /// Who receives it. Shared by the messages of one change (a 10,000-user
    /// `participants/add` appends 10,000 messages for one audience), so that each message
    /// costs the same however large the room.
    pub audience: Arc<Audience>,
}

//! A user's own view of a room: muted (until a time, or until unmuted), pinned to the top of
//! their list, marked as unread. Each is the user's alone, kept by the server so that it
//! survives reconnects and reaches the user's other devices; the room's other members see
//! nothing of it.

use std::collections::{HashMap, HashSet};

use super::{Message, MessageId, RoomId, RoomRef};

/// One user's state of one room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomState {
    /// The room.
    pub room: RoomRef,
    /// Muted until this time (Unix ms); `Some(0)` until unmuted; `None` not muted.
    pub muted_until: Option<i64>,
    /// When the room was pinned; `None` not pinned.
    pub pinned_at: Option<i64>,
    /// Marked as unread by the user, until they read the room.
    pub marked_unread: bool,
    /// When the user last cleared the room's history (Unix ms); 0 never.
    pub cleared_at: i64,
}

impl RoomState {
    /// Whether the room is muted at `now` (a mute that has expired is over).
    pub fn is_muted(&self, now: i64) -> bool {
        self.muted_until
            .is_some_and(|until| until == 0 || until > now)
    }
}

/// A change to a user's state of some rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomStateChange {
    /// Mute until `until` (Unix ms), or until unmuted when `until` is 0.
    Mute {
        /// The expiry.
        until: i64,
    },
    /// End a mute.
    Unmute,
    /// Pin, at this time (newest pins first).
    Pin {
        /// When.
        at: i64,
    },
    /// Unpin.
    Unpin,
    /// Mark as unread.
    MarkUnread,
    /// Clear the unread mark (the user read the room).
    MarkRead,
}

impl RoomStateChange {
    /// The socket event that tells the user's devices of it (the Android SDK's names).
    pub fn event(self) -> &'static str {
        match self {
            RoomStateChange::Mute { .. } => "room/mute",
            RoomStateChange::Unmute => "room/unmute",
            RoomStateChange::Pin { .. } => "room/pin",
            RoomStateChange::Unpin => "room/unpin",
            RoomStateChange::MarkUnread => "room/markAsUnread",
            RoomStateChange::MarkRead => "room/markAsRead",
        }
    }
}

/// What one user no longer sees of their rooms: each cleared room's history up to a message,
/// and the messages they deleted for themself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hidden {
    /// Room to the `seq` up to which its history is cleared.
    pub cleared: HashMap<RoomId, i64>,
    /// Messages deleted for this user only.
    pub messages: HashSet<MessageId>,
}

impl Hidden {
    /// Whether the user no longer sees `message`.
    pub fn hides(&self, message: &Message) -> bool {
        self.cleared
            .get(&message.room.id)
            .is_some_and(|&seq| message.seq <= seq)
            || self.messages.contains(&message.id)
    }

    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.cleared.is_empty() && self.messages.is_empty()
    }
}

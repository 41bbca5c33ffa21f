//! Reports users submit about another user or a message (the SDKs' "report" screens), kept
//! for the operator, who lists and resolves them; the reported party is never told.

use super::{AppId, MessageId, RoomId, UserId};

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget {
    /// A user.
    User(UserId),
    /// A message, in its room.
    Message {
        /// The room the reporter saw it in.
        room: RoomId,
        /// The message.
        message: MessageId,
    },
}

impl ReportTarget {
    /// The stored columns: the reported user, or the room and the message.
    pub fn columns(self) -> (Option<UserId>, Option<RoomId>, Option<MessageId>) {
        match self {
            ReportTarget::User(user) => (Some(user), None, None),
            ReportTarget::Message { room, message } => (None, Some(room), Some(message)),
        }
    }

    /// The target the stored columns name; `None` when they name neither.
    pub fn from_columns(
        user: Option<UserId>,
        room: Option<RoomId>,
        message: Option<MessageId>,
    ) -> Option<Self> {
        match (user, room, message) {
            (_, Some(room), Some(message)) => Some(ReportTarget::Message { room, message }),
            (Some(user), _, _) => Some(ReportTarget::User(user)),
            _ => None,
        }
    }
}

/// A report as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// The app of the reporter and the target.
    pub app: AppId,
    /// Who reported.
    pub reporter: UserId,
    /// What about.
    pub target: ReportTarget,
    /// The category the reporter chose (the app's own list, or free text when
    /// `is_other_category`).
    pub category: String,
    /// Whether the category is the reporter's own words rather than one of the app's.
    pub is_other_category: bool,
    /// The reporter's explanation.
    pub reason: String,
    /// When (Unix ms).
    pub created: i64,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its ID, increasing in the order reports arrive.
    pub id: i64,
    /// What was submitted.
    pub report: NewReport,
    /// When the operator resolved it; `None` while open.
    pub resolved: Option<i64>,
}

//! Messages a user scheduled to be sent later. Until their time a scheduled message is the
//! sender's alone (listed, edited, deleted or sent at once only by them); at its time it is
//! sent as if the sender had sent it then, through the same send rule.

use serde::{Deserialize, Serialize};

use super::model::{ForwardFrom, Quote, ReplyTo, Target};
use super::{AppId, NewMessage, RoomId, UserId};

/// What a scheduled message will say: the message as the client built it, less its room. Kept
/// as JSON with the message object's own field names, a stable stored format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledContent {
    /// The client's ID of the message, which it will keep when sent.
    #[serde(rename = "localID")]
    pub local_id: String,
    /// Message type.
    #[serde(rename = "type")]
    pub kind: i64,
    /// Encoded body.
    pub body: String,
    /// Encoded data or `""`.
    pub data: String,
    /// Filter ID.
    #[serde(rename = "filterID")]
    pub filter_id: String,
    /// Hidden flag.
    #[serde(rename = "isHidden")]
    pub is_hidden: bool,
    /// Quote.
    pub quote: Quote,
    /// Reply reference.
    #[serde(rename = "replyTo")]
    pub reply_to: ReplyTo,
    /// Forward reference.
    #[serde(rename = "forwardFrom")]
    pub forward_from: ForwardFrom,
}

impl ScheduledContent {
    /// The message `sender` sends when the time comes.
    pub fn message(&self, sender: UserId) -> NewMessage {
        NewMessage {
            sender: Some(sender),
            local_id: self.local_id.clone(),
            kind: self.kind,
            body: self.body.clone(),
            data: self.data.clone(),
            filter_id: self.filter_id.clone(),
            is_hidden: self.is_hidden,
            quote: self.quote.clone(),
            reply_to: self.reply_to.clone(),
            forward_from: self.forward_from.clone(),
            action: String::new(),
            target: Target::default(),
        }
    }
}

/// A scheduled message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Its ID (the SDKs read an `int`).
    pub id: i64,
    /// The sender's app.
    pub app: AppId,
    /// Who sends it.
    pub sender: UserId,
    /// Where.
    pub room: RoomId,
    /// What.
    pub content: ScheduledContent,
    /// When (Unix ms).
    pub scheduled_time: i64,
    /// When it was scheduled.
    pub created: i64,
    /// When its time or content last changed.
    pub updated: i64,
}

//! Messages the server writes: what the store inserts, and the system messages (type 9001)
//! that record every Server API change to a room.

use crate::domain::codec;
use crate::domain::model::{ForwardFrom, Message, MessageId, Quote, ReplyTo, Room, User, UserId};
use crate::domain::secret::pooled_random_bytes;

/// Kept at its old path; the type lives in [`model`](crate::domain::model) beside `Message`.
pub use crate::domain::model::Target;

/// Message type of system messages, which never count as unread.
pub const SYSTEM_MESSAGE_TYPE: i64 = 9001;

/// A message to append to a room; the store assigns ID, sequence and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The sender, `None` for the server itself.
    pub sender: Option<UserId>,
    /// Client-generated (or server-generated) local ID.
    pub local_id: String,
    /// Message type.
    pub kind: i64,
    /// Encoded body.
    pub body: String,
    /// Encoded data or `""`.
    pub data: String,
    /// Filter ID or `""`.
    pub filter_id: String,
    /// Hidden flag.
    pub is_hidden: bool,
    /// Quote.
    pub quote: Quote,
    /// Reply reference.
    pub reply_to: ReplyTo,
    /// Forward reference.
    pub forward_from: ForwardFrom,
    /// System action or `""`.
    pub action: String,
    /// System target.
    pub target: Target,
}

/// Where a store placed an appended message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Message ID.
    pub id: MessageId,
    /// Sequence in its room.
    pub seq: i64,
    /// Creation time, strictly after the room's previous message.
    pub created: i64,
}

impl NewMessage {
    /// The message just appended, built from what was written rather than read back: the row
    /// holds nothing else. Messages that never count as unread are born delivered and read.
    pub fn appended(self, at: Placement, room: &Room, sender: Option<User>) -> Message {
        let settled = !self.counts_as_unread();
        Message {
            id: at.id,
            seq: at.seq,
            room: room.clone(),
            sender,
            local_id: self.local_id,
            kind: self.kind,
            body: self.body,
            data: self.data,
            filter_id: self.filter_id,
            is_hidden: self.is_hidden,
            quote: self.quote,
            reply_to: self.reply_to,
            forward_from: self.forward_from,
            action: self.action,
            target: self.target,
            is_delivered: settled,
            is_read: settled,
            is_deleted: false,
            is_edited: false,
            created: at.created,
            updated: at.created,
            deleted: 0,
            renders: Default::default(),
        }
    }

    /// Whether appending the message moves its sender's read position to it, as sending
    /// reads the room up to one's own message. A system message does not: it counts as
    /// nobody's unread message, and a change a user makes (or the app makes for the operator)
    /// is not their reading of the room (message info counts readers by position).
    pub fn moves_senders_position(&self) -> bool {
        self.kind != SYSTEM_MESSAGE_TYPE
    }

    /// Whether the message counts towards unread counts: system and hidden messages do not
    /// (the SDKs skip both when they count).
    pub fn counts_as_unread(&self) -> bool {
        self.kind != SYSTEM_MESSAGE_TYPE && !self.is_hidden
    }
}

/// The alphabet of the SDKs' `localID`s.
const LOCAL_ID_ALPHABET: &[u8; 63] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

/// A fresh `localID`: 32 characters of the SDKs' alphabet, uniformly drawn.
pub fn new_local_id() -> String {
    let mut id = String::with_capacity(32);
    while id.len() < 32 {
        for byte in pooled_random_bytes::<48>() {
            // 252 = 4 * 63: rejecting the top four values keeps the draw uniform.
            if byte < 252 && id.len() < 32 {
                id.push(char::from(LOCAL_ID_ALPHABET[usize::from(byte % 63)]));
            }
        }
    }
    id
}

/// The room changes that the Server API records as system messages, named as the SDKs name
/// them so that clients render them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemAction {
    /// A room was created.
    RoomCreate,
    /// A room's details changed.
    RoomUpdate,
    /// A participant was added.
    AddParticipant,
    /// A participant was removed.
    RemoveParticipant,
    /// The room was locked.
    Lock,
    /// The room was unlocked.
    Unlock,
    /// A participant was made an admin.
    PromoteAdmin,
    /// An admin became a plain participant.
    DemoteAdmin,
    /// The sender left the room.
    Leave,
    /// The sender (an admin) deleted the room; every member hears it, then it is gone.
    RoomDelete,
    /// The sender's profile (name, username, photo) changed: sent hidden into their personal
    /// rooms, so that the other user's room list and contact data take the new profile.
    UserUpdate,
    /// The sender pinned a message of the room for everyone.
    PinMessage,
    /// The sender unpinned a message.
    UnpinMessage,
}

impl SystemAction {
    /// What locking (`locked`) or unlocking `room` records: `None` when the room already is in
    /// that state, which changes nothing and appends nothing.
    pub fn for_lock(room: &Room, locked: bool) -> Option<Self> {
        match (room.is_locked(), locked) {
            (false, true) => Some(SystemAction::Lock),
            (true, false) => Some(SystemAction::Unlock),
            _ => None,
        }
    }

    /// The wire `action`.
    pub fn name(self) -> &'static str {
        match self {
            SystemAction::RoomCreate => "room/create",
            SystemAction::RoomUpdate => "room/update",
            SystemAction::AddParticipant => "room/addParticipant",
            SystemAction::RemoveParticipant => "room/removeParticipant",
            SystemAction::Lock => "room/lock",
            SystemAction::Unlock => "room/unlock",
            SystemAction::PromoteAdmin => "room/promoteAdmin",
            SystemAction::DemoteAdmin => "room/demoteAdmin",
            SystemAction::Leave => "room/leave",
            SystemAction::RoomDelete => "room/delete",
            SystemAction::UserUpdate => "user/update",
            SystemAction::PinMessage => "message/pin",
            SystemAction::UnpinMessage => "message/unpin",
        }
    }

    /// The body text; the SDKs substitute `{{sender}}` and `{{target}}` when rendering.
    fn text(self) -> &'static str {
        match self {
            SystemAction::RoomCreate => "{{sender}} created this room",
            SystemAction::RoomUpdate => "{{sender}} updated this room",
            SystemAction::AddParticipant => "{{sender}} added {{target}}",
            SystemAction::RemoveParticipant => "{{sender}} removed {{target}}",
            SystemAction::Lock => "{{sender}} locked this room",
            SystemAction::Unlock => "{{sender}} unlocked this room",
            SystemAction::PromoteAdmin => "{{sender}} promoted {{target}} to admin",
            SystemAction::DemoteAdmin => "{{sender}} demoted {{target}} from admin",
            SystemAction::Leave => "{{sender}} left this room",
            SystemAction::RoomDelete => "{{sender}} deleted this room",
            SystemAction::UserUpdate => "{{sender}} updated their profile",
            SystemAction::PinMessage => "{{sender}} pinned a message",
            SystemAction::UnpinMessage => "{{sender}} unpinned a message",
        }
    }

    /// Builds the system message, its body encoded as the SDKs expect.
    pub fn message(self, sender: Option<UserId>, target: Option<&User>) -> NewMessage {
        let local_id = new_local_id();
        let body = codec::encode(self.text(), &local_id).expect("local IDs are ASCII");
        NewMessage {
            sender,
            local_id,
            kind: SYSTEM_MESSAGE_TYPE,
            body,
            data: String::new(),
            filter_id: String::new(),
            is_hidden: false,
            quote: Quote::default(),
            reply_to: ReplyTo::default(),
            forward_from: ForwardFrom::default(),
            action: self.name().into(),
            target: target.map(Target::user).unwrap_or_default(),
        }
    }

    /// The system message about `message` (a pin or an unpin): its `data` names the message
    /// with its own `localID`, its `body` and `data` as stored (encoded with that `localID`),
    /// `createdTime` and `type`, which the SDKs read to update their pinned lists.
    pub fn message_about(self, sender: UserId, message: &Message) -> NewMessage {
        let mut new = self.message(Some(sender), None);
        let about = serde_json::json!({
            "messageID": message.id.to_string(),
            "localID": message.local_id,
            "body": message.body,
            "data": message.data,
            "createdTime": message.created,
            "type": message.kind,
        });
        new.data = codec::encode(&about.to_string(), &new.local_id).expect("local IDs are ASCII");
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoomId, RoomKind, RoomType};

    fn room(locked_time: i64) -> Room {
        Room {
            id: RoomId(1),
            kind: RoomKind::Shared { xc_room_id: None },
            room_type: RoomType::Transaction,
            name: String::new(),
            photo_thumbnail: String::new(),
            photo_fullsize: String::new(),
            color: String::new(),
            tags: Vec::new(),
            participant_roles: Vec::new(),
            locked_time,
            deleted: 0,
            peers: None,
        }
    }

    #[test]
    fn locking_records_a_change_only_when_the_state_changes() {
        let (open, locked) = (room(0), room(1_767_225_600_000));
        assert_eq!(
            SystemAction::for_lock(&open, true),
            Some(SystemAction::Lock)
        );
        assert_eq!(
            SystemAction::for_lock(&locked, false),
            Some(SystemAction::Unlock)
        );
        assert_eq!(SystemAction::for_lock(&locked, true), None);
        assert_eq!(SystemAction::for_lock(&open, false), None);
    }

    #[test]
    fn local_ids_have_the_sdk_shape() {
        let id = new_local_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|c| LOCAL_ID_ALPHABET.contains(&c)));
    }

    #[test]
    fn system_messages_are_encoded_and_do_not_count() {
        let m = SystemAction::Lock.message(Some(UserId(7)), None);
        assert_eq!(m.action, "room/lock");
        assert!(!m.counts_as_unread());
        assert_eq!(
            codec::decode(&m.body, &m.local_id).unwrap(),
            "{{sender}} locked this room"
        );
    }
}

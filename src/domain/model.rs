//! Users, rooms and messages as the rest of confab sees them.
//!
//! None of these types has a serialized form of its own, so renaming a field changes no
//! bytes anywhere: the HTTP and socket JSON is rendered by [`crate::wire`], and what nodes
//! tell each other over the bus has its own versioned format in `realtime::notice`. The
//! exceptions are the message parts ([`Quote`], [`ReplyTo`], [`ForwardFrom`], [`Target`]):
//! their JSON, with the protocol's field names, is what clients send in socket frames, what
//! the wire renders and what the stores keep in their JSON columns, so they keep serde.

use serde::{Deserialize, Serialize};

pub use super::id::{AppId, MessageId, RoomId, UserId};

/// The largest user ID confab hands out: the Android SDK parses user IDs as 32-bit integers,
/// so a store refuses to create a user past it rather than break that client.
pub const MAX_USER_ID: UserId = UserId(i32::MAX as i64);

/// A user, with every field the wire's user object carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Platform ID.
    pub id: UserId,
    /// The customer's ID for this user.
    pub xc_user_id: String,
    /// Display name (`fullName` in requests, `fullname` in responses).
    pub fullname: String,
    /// Email address, `""` when unknown.
    pub email: String,
    /// Phone number, starting with the country code.
    pub phone: String,
    /// Username, `""` when unset.
    pub username: String,
    /// Thumbnail picture URL.
    pub photo_thumbnail: String,
    /// Full-size picture URL.
    pub photo_fullsize: String,
    /// Role code; rooms list role codes whose holders count as participants.
    pub role_code: String,
    /// Last token exchange, Unix ms, `0` if never.
    pub last_login: i64,
    /// Last activity seen by the server, Unix ms.
    pub last_activity: i64,
    /// Creation time, Unix ms.
    pub created: i64,
    /// Last profile change, Unix ms.
    pub updated: i64,
    /// Deletion time, Unix ms, `0` if not deleted.
    pub deleted: i64,
}

/// The room types of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomType {
    /// A one-to-one room whose ID is `"<a>-<b>"`; created by the clients.
    Personal,
    /// A group chat.
    Group,
    /// A broadcast channel.
    Channel,
    /// A transaction room (customer-defined workflows, e.g. an order).
    Transaction,
}

impl RoomType {
    /// The integer on the wire.
    pub fn code(self) -> i64 {
        match self {
            RoomType::Personal => 1,
            RoomType::Group => 2,
            RoomType::Channel => 3,
            RoomType::Transaction => 4,
        }
    }

    /// The type for a wire integer, if it is one.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(RoomType::Personal),
            2 => Some(RoomType::Group),
            3 => Some(RoomType::Channel),
            4 => Some(RoomType::Transaction),
            _ => None,
        }
    }
}

/// How a room is addressed: by the customer's `xcRoomID` or as a personal pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomKind {
    /// A room with a server-assigned ID (group, channel, transaction); `xc_room_id` is set for
    /// rooms created through the Server API.
    Shared {
        /// The customer's room ID, if the room came from the Server API.
        xc_room_id: Option<String>,
    },
    /// A personal room between two users, lower ID first.
    Personal {
        /// The lower user ID.
        a: UserId,
        /// The higher user ID.
        b: UserId,
    },
}

/// A room's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Internal row ID; the wire `roomID` is derived from it (see [`Room::wire_id`]).
    pub id: RoomId,
    /// How the room is addressed.
    pub kind: RoomKind,
    /// The room type.
    pub room_type: RoomType,
    /// Display name.
    pub name: String,
    /// Thumbnail picture URL.
    pub photo_thumbnail: String,
    /// Full-size picture URL.
    pub photo_fullsize: String,
    /// Hex colour code, `""` when unset.
    pub color: String,
    /// Tags set by the customer.
    pub tags: Vec<String>,
    /// Role codes whose holders count as participants.
    pub participant_roles: Vec<String>,
    /// When the room was locked, Unix ms; `0` when it is not locked.
    pub locked_time: i64,
    /// Deletion time, Unix ms, `0` if not deleted.
    pub deleted: i64,
    /// For personal rooms, the two users (lower ID first): each sees the other as the room's
    /// name and picture.
    pub peers: Option<Box<(User, User)>>,
}

/// What a room's own record says about whether a user takes part in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participation {
    /// They do: one of a personal room's two users, or the holder of one of its roles.
    Yes,
    /// They do not: a personal room of two other users.
    No,
    /// Only if they are an explicit participant, which the room's record does not hold.
    IfMember,
}

impl Room {
    /// The participation rule: a personal room is its two users'; a shared room is its
    /// explicit participants' and those of the users whose role code is one of its roles.
    /// Every check of who may read and write a room starts here.
    pub fn participation(&self, user: &User) -> Participation {
        match self.kind {
            RoomKind::Personal { a, b } if user.id == a || user.id == b => Participation::Yes,
            RoomKind::Personal { .. } => Participation::No,
            RoomKind::Shared { .. }
                if !user.role_code.is_empty()
                    && self.participant_roles.contains(&user.role_code) =>
            {
                Participation::Yes
            }
            RoomKind::Shared { .. } => Participation::IfMember,
        }
    }

    /// The user on the other side of a personal room, as seen by `viewer`.
    pub fn peer_of(&self, viewer: UserId) -> Option<&User> {
        self.peers
            .as_deref()
            .map(|(a, b)| if a.id == viewer { b } else { a })
    }

    /// The wire `roomID`: `"<a>-<b>"` for personal rooms, otherwise `"g<id>"`, which never
    /// contains `-` because the SDKs treat any ID with `-` as personal.
    pub fn wire_id(&self) -> String {
        self.reference().wire_id()
    }

    /// How clients name the room.
    pub fn reference(&self) -> RoomRef {
        match &self.kind {
            RoomKind::Personal { a, b } => RoomRef::Personal { a: *a, b: *b },
            RoomKind::Shared { .. } => RoomRef::Shared(self.id),
        }
    }

    /// The customer's room ID, `""` when there is none.
    pub fn xc_room_id(&self) -> &str {
        match &self.kind {
            RoomKind::Shared {
                xc_room_id: Some(id),
            } => id,
            _ => "",
        }
    }

    /// Whether the room is locked.
    pub fn is_locked(&self) -> bool {
        self.locked_time != 0
    }
}

/// A room as clients name it in requests: `"<a>-<b>"` or `"g<id>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomRef {
    /// A personal room between two users, `a < b` (`a == b` is a "saved messages" room).
    Personal {
        /// The lower user ID.
        a: UserId,
        /// The higher user ID.
        b: UserId,
    },
    /// A group, channel or transaction room by its internal ID.
    Shared(RoomId),
}

impl RoomRef {
    /// The wire `roomID`, the inverse of [`RoomRef::parse`].
    pub fn wire_id(self) -> String {
        match self {
            RoomRef::Personal { a, b } => format!("{a}-{b}"),
            RoomRef::Shared(id) => format!("g{id}"),
        }
    }

    /// Parses a wire `roomID`, accepting only the canonical spelling (ascending decimal IDs
    /// without sign or leading zeros), so that one room has exactly one ID.
    pub fn parse(wire: &str) -> Option<Self> {
        fn number(s: &str) -> Option<i64> {
            let canonical = !s.is_empty()
                && s.len() <= 10
                && s.bytes().all(|b| b.is_ascii_digit())
                && !(s.len() > 1 && s.starts_with('0'));
            canonical
                .then(|| s.parse().ok())
                .flatten()
                .filter(|n| *n > 0)
        }
        if let Some((a, b)) = wire.split_once('-') {
            let (a, b) = (number(a)?, number(b)?);
            (a <= b).then_some(RoomRef::Personal {
                a: UserId(a),
                b: UserId(b),
            })
        } else {
            number(wire.strip_prefix('g')?).map(|id| RoomRef::Shared(RoomId(id)))
        }
    }
}

/// A room with its explicit participants and admins: the Room bundle of the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomBundle {
    /// The room.
    pub room: Room,
    /// Explicit participants, in the order they joined. Users who are participants only
    /// through a role are not listed, so the bundle stays small for rooms shared by a role.
    pub participants: Vec<User>,
    /// User IDs of the room's admins.
    pub admin_ids: Vec<UserId>,
}

/// One recipient's own receipt of a message: when one of their devices reported it delivered,
/// and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The recipient.
    pub user: UserId,
    /// When it was first reported delivered (Unix ms).
    pub delivered_at: i64,
    /// When it was first reported read.
    pub read_at: Option<i64>,
}

/// The quoted content a message carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quote {
    /// Title.
    pub title: String,
    /// Content, encoded with the message codec.
    pub content: String,
    /// Image URL (a plain string, unlike user and room images).
    #[serde(rename = "imageURL")]
    pub image_url: String,
    /// Attached file ID.
    #[serde(rename = "fileID")]
    pub file_id: String,
    /// Attached file type.
    #[serde(rename = "fileType")]
    pub file_type: String,
}

/// The message a message replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplyTo {
    /// Sender's user ID, `"0"` when absent.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Sender's customer ID.
    #[serde(rename = "xcUserID")]
    pub xc_user_id: String,
    /// Sender's name.
    pub fullname: String,
    /// Message ID, `"0"` when absent.
    #[serde(rename = "messageID")]
    pub message_id: String,
    /// Local ID of the replied message.
    #[serde(rename = "localID")]
    pub local_id: String,
    /// Type of the replied message.
    #[serde(rename = "messageType")]
    pub message_type: i64,
}

impl Default for ReplyTo {
    fn default() -> Self {
        Self {
            user_id: "0".into(),
            xc_user_id: String::new(),
            fullname: String::new(),
            message_id: "0".into(),
            local_id: String::new(),
            message_type: 0,
        }
    }
}

/// The message a forwarded message came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForwardFrom {
    /// Original sender's user ID, `"0"` when absent.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// Original sender's customer ID.
    #[serde(rename = "xcUserID")]
    pub xc_user_id: String,
    /// Original sender's name.
    pub fullname: String,
    /// Original message ID, `"0"` when absent.
    #[serde(rename = "messageID")]
    pub message_id: String,
    /// Original local ID.
    #[serde(rename = "localID")]
    pub local_id: String,
    /// Original room ID.
    #[serde(rename = "roomID")]
    pub room_id: String,
}

impl Default for ForwardFrom {
    fn default() -> Self {
        Self {
            user_id: "0".into(),
            xc_user_id: String::new(),
            fullname: String::new(),
            message_id: "0".into(),
            local_id: String::new(),
            room_id: String::new(),
        }
    }
}

/// The target of a system message's action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Target {
    /// `"user"` for participant changes, `""` otherwise.
    #[serde(rename = "targetType")]
    pub target_type: String,
    /// The target's ID, `"0"` when absent.
    #[serde(rename = "targetID")]
    pub target_id: String,
    /// The target's customer ID.
    #[serde(rename = "targetXCID")]
    pub target_xcid: String,
    /// The target's display name.
    #[serde(rename = "targetName")]
    pub target_name: String,
}

impl Default for Target {
    fn default() -> Self {
        Self {
            target_type: String::new(),
            target_id: "0".into(),
            target_xcid: String::new(),
            target_name: String::new(),
        }
    }
}

impl Target {
    /// A user as the target of an action.
    pub fn user(user: &User) -> Self {
        Self {
            target_type: "user".into(),
            target_id: user.id.to_string(),
            target_xcid: user.xc_user_id.clone(),
            target_name: user.fullname.clone(),
        }
    }

    /// Whether this is the empty placeholder.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A stored message with its room and sender resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Global, increasing message ID.
    pub id: MessageId,
    /// Position in its room, gapless from 1.
    pub seq: i64,
    /// The room.
    pub room: Room,
    /// The sender; `None` for messages the Server API originates without a user.
    pub sender: Option<User>,
    /// Client-generated ID, also the codec's key material.
    pub local_id: String,
    /// Message type (1001 text, 9001 system, …).
    pub kind: i64,
    /// Encoded body.
    pub body: String,
    /// Encoded data, `""` when empty.
    pub data: String,
    /// Filter ID, `""` when unused.
    pub filter_id: String,
    /// Whether clients should hide the message.
    pub is_hidden: bool,
    /// Quote, if any.
    pub quote: Quote,
    /// Reply reference, if any.
    pub reply_to: ReplyTo,
    /// Forward reference, if any.
    pub forward_from: ForwardFrom,
    /// System-message action, `""` for chat messages.
    pub action: String,
    /// System-message target.
    pub target: Target,
    /// Delivered to (one of) the recipients.
    pub is_delivered: bool,
    /// Read by (one of) the recipients.
    pub is_read: bool,
    /// Deleted.
    pub is_deleted: bool,
    /// Edited by its sender.
    pub is_edited: bool,
    /// Server time of storage, Unix ms.
    pub created: i64,
    /// Last change, Unix ms.
    pub updated: i64,
    /// Deletion time, Unix ms, `0` if not deleted.
    pub deleted: i64,
    /// Its JSON as each kind of viewer sees it, kept when the message is rendered many times
    /// (a room's newest message in every member's room list); empty otherwise.
    pub renders: Renders,
}

/// A message's JSON, rendered once for each kind of viewer and then copied (see
/// [`crate::wire::message`]). Only a message that will be rendered many times keeps renders
/// ([`Renders::kept`]); a copy keeps none, so a message changed after being copied is never
/// rendered from what its original looked like.
#[derive(Default)]
pub struct Renders(Option<Box<[std::sync::OnceLock<Box<serde_json::value::RawValue>>; 4]>>);

impl Renders {
    /// Renders to be kept as they are made.
    pub fn kept() -> Self {
        Self(Some(Box::default()))
    }

    /// The kept render for `variant` (0 to 3), made by `render` the first time.
    pub fn get_or_render(
        &self,
        variant: usize,
        render: impl FnOnce() -> Box<serde_json::value::RawValue>,
    ) -> Option<&serde_json::value::RawValue> {
        let slots = self.0.as_ref()?;
        Some(slots[variant].get_or_init(render))
    }
}

impl Clone for Renders {
    fn clone(&self) -> Self {
        Self(None)
    }
}

/// Renders are a copy of what the message holds, never part of what it is.
impl PartialEq for Renders {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Renders {}

impl std::fmt::Debug for Renders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Renders(kept)"
        } else {
            "Renders"
        })
    }
}

/// One entry of a user's room list: the newest message and the user's unread count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomListEntry {
    /// The newest message of the room, its room inside.
    pub last_message: Message,
    /// Chat messages the user has not read; system messages never count.
    pub unread_count: i64,
    /// The user's read position in the room.
    pub read_seq: i64,
}

/// A message as one user sees it: with how far that user has read its room, so that
/// `isRead` can be rendered per reader in rooms of many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewed {
    /// The message; shared, since a room's newest message is listed to every member from one
    /// copy kept in memory (see the SQLite store's room list).
    pub message: std::sync::Arc<Message>,
    /// The viewer's read position in the message's room.
    pub read_seq: i64,
}

impl Viewed {
    /// Pairs a message with the viewer's read position.
    pub fn new(message: Message, read_seq: i64) -> Self {
        Self::shared(std::sync::Arc::new(message), read_seq)
    }

    /// Pairs a shared message with the viewer's read position.
    pub fn shared(message: std::sync::Arc<Message>, read_seq: i64) -> Self {
        Self { message, read_seq }
    }
}

impl RoomBundle {
    /// Whether `user` takes part in the room, by [`Room::participation`] and the bundle's
    /// explicit participants.
    pub fn includes(&self, user: &User) -> bool {
        match self.room.participation(user) {
            Participation::Yes => true,
            Participation::No => false,
            Participation::IfMember => self.participants.iter().any(|p| p.id == user.id),
        }
    }
}

/// The users in order of first appearance, each once: a request that names a user twice
/// changes them once.
pub fn unique_users(users: Vec<User>) -> Vec<User> {
    let mut seen = std::collections::HashSet::new();
    users.into_iter().filter(|u| seen.insert(u.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: UserId, role: &str) -> User {
        User {
            id,
            xc_user_id: id.to_string(),
            fullname: String::new(),
            email: String::new(),
            phone: String::new(),
            username: String::new(),
            photo_thumbnail: String::new(),
            photo_fullsize: String::new(),
            role_code: role.into(),
            last_login: 0,
            last_activity: 0,
            created: 0,
            updated: 0,
            deleted: 0,
        }
    }

    fn room(kind: RoomKind, roles: &[&str]) -> Room {
        Room {
            id: RoomId(1),
            kind,
            room_type: RoomType::Transaction,
            name: String::new(),
            photo_thumbnail: String::new(),
            photo_fullsize: String::new(),
            color: String::new(),
            tags: Vec::new(),
            participant_roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            locked_time: 0,
            deleted: 0,
            peers: None,
        }
    }

    #[test]
    fn a_room_is_its_users_its_roles_and_its_explicit_participants() {
        let personal = room(
            RoomKind::Personal {
                a: UserId(2),
                b: UserId(5),
            },
            &[],
        );
        assert_eq!(
            personal.participation(&user(UserId(5), "")),
            Participation::Yes
        );
        assert_eq!(
            personal.participation(&user(UserId(3), "")),
            Participation::No
        );
        let shared = room(RoomKind::Shared { xc_room_id: None }, &["agent:1"]);
        assert_eq!(
            shared.participation(&user(UserId(3), "agent:1")),
            Participation::Yes
        );
        assert_eq!(
            shared.participation(&user(UserId(3), "agent:2")),
            Participation::IfMember
        );
        // An empty role code never matches, even a room with an empty role in its list.
        let odd = room(RoomKind::Shared { xc_room_id: None }, &[""]);
        assert_eq!(
            odd.participation(&user(UserId(3), "")),
            Participation::IfMember
        );
        let bundle = RoomBundle {
            room: shared,
            participants: vec![user(UserId(4), "")],
            admin_ids: Vec::new(),
        };
        assert!(bundle.includes(&user(UserId(4), "")));
        assert!(bundle.includes(&user(UserId(9), "agent:1")));
        assert!(!bundle.includes(&user(UserId(9), "")));
    }

    #[test]
    fn each_user_is_kept_once_in_order_of_first_appearance() {
        let users = vec![
            user(UserId(3), ""),
            user(UserId(1), ""),
            user(UserId(3), ""),
            user(UserId(2), ""),
            user(UserId(1), ""),
        ];
        let ids: Vec<UserId> = unique_users(users).iter().map(|u| u.id).collect();
        assert_eq!(ids, [UserId(3), UserId(1), UserId(2)]);
    }

    #[test]
    fn room_ids_parse_only_in_canonical_form() {
        assert_eq!(
            RoomRef::parse("2-10"),
            Some(RoomRef::Personal {
                a: UserId(2),
                b: UserId(10)
            })
        );
        assert_eq!(
            RoomRef::parse("7-7"),
            Some(RoomRef::Personal {
                a: UserId(7),
                b: UserId(7)
            })
        );
        assert_eq!(RoomRef::parse("g456"), Some(RoomRef::Shared(RoomId(456))));
        for bad in [
            "10-2", "02-10", "1-", "-1", "g", "g01", "456", "a-b", "1-2-3", "g-1", "0-1",
        ] {
            assert_eq!(RoomRef::parse(bad), None, "{bad}");
        }
    }
}

//! The protocol's JSON objects: renders users, rooms and messages with every field present and
//! IDs as strings (the SDKs compare IDs with `===`).
//!
//! Views borrow the domain values and serialize straight to the output buffer: room lists and
//! fan-out frames are the hottest paths of the server, and building `serde_json::Value` trees
//! for them cost more than the database work.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::domain::{Message, Room, RoomBundle, RoomKind, User, UserId};

/// Whose eyes a message or room is rendered for: personal rooms are named after the other
/// user, and `isRead` of others' messages follows the viewer's own read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The viewing user (`0`: nobody in particular).
    pub user: UserId,
    /// The viewer's read position in the message's room.
    pub read_seq: i64,
}

impl Viewer {
    /// A viewer with their read position.
    pub fn new(user: UserId, read_seq: i64) -> Self {
        Self { user, read_seq }
    }
}

/// `{thumbnail, fullsize}`.
struct Image<'a>(&'a str, &'a str);

impl Serialize for Image<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Image", 2)?;
        o.serialize_field("thumbnail", self.0)?;
        o.serialize_field("fullsize", self.1)?;
        o.end()
    }
}

/// A recipient in message info (Android's `TapMessageRecipientModel`): `{userID, xcUserID,
/// fullname, userImageURL, deliveredTime, readTime}`, a time `null` when unknown.
pub fn recipient(u: &User, delivered: Option<i64>, read: Option<i64>) -> serde_json::Value {
    serde_json::json!({
        "userID": u.id.to_string(),
        "xcUserID": u.xc_user_id,
        "fullname": u.fullname,
        "userImageURL": {"thumbnail": u.photo_thumbnail, "fullsize": u.photo_fullsize},
        "deliveredTime": delivered,
        "readTime": read,
    })
}

/// `{code, name, iconURL}`.
struct Role<'a>(&'a str);

impl Serialize for Role<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Role", 3)?;
        o.serialize_field("code", self.0)?;
        o.serialize_field("name", "")?;
        o.serialize_field("iconURL", "")?;
        o.end()
    }
}

/// The full user object; `None` renders the server itself (user ID `"0"`, empty fields).
#[derive(Debug, Clone, Copy)]
pub struct UserView<'a> {
    user: Option<&'a User>,
    online: bool,
    bio: Option<&'a str>,
}

impl<'a> UserView<'a> {
    /// The object with the user's `bio`, which only the answers about one user's own
    /// profile carry (it is kept apart from the user's row that every message joins).
    pub fn with_bio(self, bio: &'a str) -> Self {
        Self {
            bio: Some(bio),
            ..self
        }
    }
}

/// The full user object.
pub fn user(u: &User) -> UserView<'_> {
    UserView {
        user: Some(u),
        online: false,
        bio: None,
    }
}

/// The full user object with live presence.
pub fn user_online(u: &User, online: bool) -> UserView<'_> {
    UserView {
        user: Some(u),
        online,
        bio: None,
    }
}

impl Serialize for UserView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("User", 19)?;
        let (id, xc, name, email, phone, username, thumb, full, role) = match self.user {
            Some(u) => (
                u.id,
                u.xc_user_id.as_str(),
                u.fullname.as_str(),
                u.email.as_str(),
                u.phone.as_str(),
                u.username.as_str(),
                u.photo_thumbnail.as_str(),
                u.photo_fullsize.as_str(),
                u.role_code.as_str(),
            ),
            None => (UserId::NONE, "", "", "", "", "", "", "", ""),
        };
        let times = self.user.map_or((0, 0, 0, 0, 0), |u| {
            (
                u.last_login,
                u.last_activity,
                u.created,
                u.updated,
                u.deleted,
            )
        });
        o.serialize_field("userID", &id.to_string())?;
        o.serialize_field("xcUserID", xc)?;
        o.serialize_field("fullname", name)?;
        o.serialize_field("email", email)?;
        o.serialize_field("isEmailVerified", &false)?;
        o.serialize_field("countryID", &0)?;
        o.serialize_field("countryCallingCode", "")?;
        o.serialize_field("phone", phone)?;
        o.serialize_field("phoneWithCode", phone)?;
        o.serialize_field("isPhoneVerified", &false)?;
        o.serialize_field("username", username)?;
        o.serialize_field("imageURL", &Image(thumb, full))?;
        o.serialize_field("userRole", &Role(role))?;
        o.serialize_field("lastLogin", &times.0)?;
        o.serialize_field("lastActivity", &times.1)?;
        o.serialize_field("isOnline", &self.online)?;
        o.serialize_field("created", &times.2)?;
        o.serialize_field("updated", &times.3)?;
        o.serialize_field("deleted", &times.4)?;
        if let Some(bio) = self.bio {
            o.serialize_field("bio", bio)?;
        }
        o.end()
    }
}

/// The room object as a viewer sees it.
#[derive(Debug, Clone, Copy)]
pub struct RoomView<'a> {
    room: &'a Room,
    viewer: UserId,
}

/// The room object as `viewer` sees it: a personal room carries the other user's name and
/// picture.
pub fn room(r: &Room, viewer: UserId) -> RoomView<'_> {
    RoomView { room: r, viewer }
}

impl Serialize for RoomView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.room;
        let (name, thumbnail, fullsize) = match r.peer_of(self.viewer) {
            Some(peer) => (&peer.fullname, &peer.photo_thumbnail, &peer.photo_fullsize),
            None => (&r.name, &r.photo_thumbnail, &r.photo_fullsize),
        };
        let mut o = s.serialize_struct("Room", 10)?;
        o.serialize_field("roomID", &r.wire_id())?;
        o.serialize_field("xcRoomID", r.xc_room_id())?;
        o.serialize_field("name", name)?;
        o.serialize_field("type", &r.room_type.code())?;
        o.serialize_field("imageURL", &Image(thumbnail, fullsize))?;
        o.serialize_field("color", &r.color)?;
        o.serialize_field("isLocked", &r.is_locked())?;
        o.serialize_field("lockedTime", &r.locked_time)?;
        o.serialize_field("deleted", &r.deleted)?;
        o.serialize_field("isDeleted", &(r.deleted != 0))?;
        o.end()
    }
}

/// The room bundle: room, explicit participants, admins.
#[derive(Debug, Clone, Copy)]
pub struct BundleView<'a> {
    bundle: &'a RoomBundle,
    viewer: UserId,
}

/// The room bundle as `viewer` sees it.
pub fn bundle(b: &RoomBundle, viewer: UserId) -> BundleView<'_> {
    BundleView { bundle: b, viewer }
}

impl Serialize for BundleView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.bundle;
        let participants: Vec<UserView<'_>> = b.participants.iter().map(user).collect();
        let admins: Vec<String> = b.admin_ids.iter().map(UserId::to_string).collect();
        let mut o = s.serialize_struct("Bundle", 3)?;
        o.serialize_field("room", &room(&b.room, self.viewer))?;
        o.serialize_field("participants", &participants)?;
        o.serialize_field("adminUserIDs", &admins)?;
        o.end()
    }
}

/// Whether `viewer` sees the message as read: their own messages show whether someone read
/// them; others' messages whether the viewer has; messages that never count are always read.
pub fn is_read_by(m: &Message, viewer: Viewer) -> bool {
    let own = m.sender.as_ref().is_some_and(|s| s.id == viewer.user);
    if own || m.kind == crate::domain::message::SYSTEM_MESSAGE_TYPE || m.is_hidden {
        m.is_read
    } else {
        viewer.read_seq >= m.seq
    }
}

/// An item of a room's shared-content gallery (`get_shared_content`): the message's `data`
/// still encoded, with who sent it.
pub fn shared_item(m: &Message) -> serde_json::Value {
    let (user_id, fullname) = m.sender.as_ref().map_or((String::new(), ""), |u| {
        (u.id.to_string(), u.fullname.as_str())
    });
    serde_json::json!({
        "messageID": m.id.to_string(),
        "localID": m.local_id,
        "messageType": m.kind,
        "type": m.kind,
        "data": m.data,
        "created": m.created,
        "userID": user_id,
        "userFullname": fullname,
    })
}

/// The message object as a viewer sees it.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    message: &'a Message,
    viewer: Viewer,
}

/// The message object as `viewer` sees it, fields encoded as stored.
pub fn message(m: &Message, viewer: Viewer) -> MessageView<'_> {
    MessageView { message: m, viewer }
}

impl Serialize for MessageView<'_> {
    /// Copies the message's kept render for this kind of viewer when it keeps renders (see
    /// [`crate::domain::Renders`]); a viewer's kind is all a render depends on: which peer
    /// names a personal room, and whether the message reads as read.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.message;
        let first_peer = m
            .room
            .peers
            .as_deref()
            .is_some_and(|(a, _)| a.id == self.viewer.user);
        let variant = 2 * usize::from(first_peer) + usize::from(is_read_by(m, self.viewer));
        let kept = m.renders.get_or_render(variant, || {
            let json = serde_json::to_string(&Fields(*self)).expect("views serialize");
            serde_json::value::RawValue::from_string(json).expect("a view renders as JSON")
        });
        match kept {
            Some(raw) => raw.serialize(s),
            None => Fields(*self).serialize(s),
        }
    }
}

/// A [`MessageView`] rendered field by field.
struct Fields<'a>(MessageView<'a>);

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let MessageView { message: m, viewer } = self.0;
        let recipient = match (&m.room.kind, &m.sender) {
            (RoomKind::Personal { a, b }, Some(sender)) => {
                if sender.id == *a { *b } else { *a }.to_string()
            }
            _ => "0".to_owned(),
        };
        let is_read = is_read_by(m, viewer);
        let sender = UserView {
            user: m.sender.as_ref(),
            online: false,
            bio: None,
        };
        let mut o = s.serialize_struct("Message", 23)?;
        o.serialize_field("messageID", &m.id.to_string())?;
        o.serialize_field("localID", &m.local_id)?;
        o.serialize_field("type", &m.kind)?;
        o.serialize_field("body", &m.body)?;
        o.serialize_field("data", &m.data)?;
        o.serialize_field("filterID", &m.filter_id)?;
        o.serialize_field("isHidden", &m.is_hidden)?;
        o.serialize_field("quote", &m.quote)?;
        o.serialize_field("replyTo", &m.reply_to)?;
        o.serialize_field("forwardFrom", &m.forward_from)?;
        o.serialize_field("room", &room(&m.room, viewer.user))?;
        o.serialize_field("user", &sender)?;
        o.serialize_field("recipientID", &recipient)?;
        o.serialize_field("action", &m.action)?;
        o.serialize_field("target", &m.target)?;
        o.serialize_field("isSending", &false)?;
        o.serialize_field("isDelivered", &(m.is_delivered || is_read))?;
        o.serialize_field("isRead", &is_read)?;
        o.serialize_field("isDeleted", &m.is_deleted)?;
        o.serialize_field("isMessageEdited", &m.is_edited)?;
        o.serialize_field("created", &m.created)?;
        o.serialize_field("updated", &m.updated)?;
        o.serialize_field("deleted", &m.deleted)?;
        o.end()
    }
}

/// One entry of a user's room list (`get_list_by_user`): the room's newest message as the user
/// sees it, and how many messages they have not read.
#[derive(serde::Serialize)]
pub struct RoomListItem<'a> {
    /// The newest message, rendered for the list's user.
    #[serde(rename = "lastMessage")]
    pub last_message: MessageView<'a>,
    /// The user's unread count in the room.
    #[serde(rename = "unreadCount")]
    pub unread_count: i64,
}

/// The `data` of `get_list_by_user`.
#[derive(serde::Serialize)]
pub struct RoomList<'a> {
    /// Newest activity first.
    pub rooms: Vec<RoomListItem<'a>>,
}

/// A socket event: `{"eventName": …, "data": …}` serialized for one binary frame.
pub fn event(name: &str, data: &impl Serialize) -> bytes::Bytes {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Event<'a, T> {
        event_name: &'a str,
        data: &'a T,
    }
    let mut out = Vec::with_capacity(1024);
    serde_json::to_writer(
        &mut out,
        &Event {
            event_name: name,
            data,
        },
    )
    .expect("views serialize");
    bytes::Bytes::from(out)
}

/// The name of a message type, as a webhook payload's `typeName` gives it.
pub fn type_name(kind: i64) -> &'static str {
    match kind {
        1001 => "text",
        1002 => "image",
        1003 => "video",
        1004 => "file",
        1005 => "location",
        1006 => "contact",
        1007 => "sticker",
        1008 => "voice",
        1009 => "audio",
        1010 => "link",
        2001 => "product",
        2002 => "category",
        2004 => "payment confirmation",
        9001 => "system",
        3000..=3999 => "custom",
        _ => "other",
    }
}

/// A message as a webhook posts it: the message object clients get (as its sender sees it),
/// with `body` and `data` in plain text and the type's name in `typeName`. A field that does
/// not decode (stored by a client that did not encode it) is posted as stored.
pub fn webhook_payload(m: &Message) -> String {
    let viewer = Viewer::new(m.sender.as_ref().map_or(UserId(0), |u| u.id), 0);
    let mut view = serde_json::to_value(Fields(message(m, viewer))).expect("views serialize");
    if let Some(object) = view.as_object_mut() {
        let plain = |stored: &str| {
            if stored.is_empty() {
                String::new()
            } else {
                crate::domain::codec::decode(stored, &m.local_id)
                    .unwrap_or_else(|_| stored.to_owned())
            }
        };
        object.insert("body".into(), plain(&m.body).into());
        object.insert("data".into(), plain(&m.data).into());
        object.insert("typeName".into(), type_name(m.kind).into());
        object.remove("isSending");
    }
    view.to_string()
}

/// A webhook endpoint as the CLI and the Server API show it (never its secret).
pub fn webhook(e: &crate::domain::webhook::Endpoint) -> serde_json::Value {
    serde_json::json!({
        "webhookID": e.id.to_string(),
        "app": e.app_name,
        "url": e.url,
        "messageTypes": e.filter.message_types,
        "roomTypes": e.filter.room_types,
        "created": e.created,
        "backlog": e.status.backlog,
        "failed": e.status.failed,
        "lastSuccess": e.status.last_success,
        "lastError": e.status.last_error,
        "lastErrorAt": e.status.last_error_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Renders;

    #[test]
    fn a_kept_render_is_what_each_kind_of_viewer_would_be_rendered() {
        let fresh = crate::realtime::notice::tests::full_item().message;
        let kept = Message {
            renders: Renders::kept(),
            ..fresh.clone()
        };
        // Both peers of the personal room and a stranger, each having read it or not;
        // the sender (7) sees whether it was read.
        for user in [7, 9, 11] {
            for read_seq in [0, 5] {
                let viewer = Viewer::new(UserId(user), read_seq);
                let expected = serde_json::to_string(&message(&fresh, viewer)).unwrap();
                for _ in 0..2 {
                    let rendered = serde_json::to_string(&message(&kept, viewer)).unwrap();
                    assert_eq!(rendered, expected, "viewer {user}, read up to {read_seq}");
                }
            }
        }
    }
}

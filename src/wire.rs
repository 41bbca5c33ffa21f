//! The protocol's JSON objects: renders users, rooms and messages with every field
//! present and IDs as strings (the SDKs compare IDs with `===`).

use serde_json::{Value, json};

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

/// The full user object.
pub fn user(u: &User) -> Value {
    json!({
        "userID": u.id.to_string(),
        "xcUserID": u.xc_user_id,
        "fullname": u.fullname,
        "email": u.email,
        "isEmailVerified": false,
        "countryID": 0,
        "countryCallingCode": "",
        "phone": u.phone,
        "phoneWithCode": u.phone,
        "isPhoneVerified": false,
        "username": u.username,
        "imageURL": {"thumbnail": u.photo_thumbnail, "fullsize": u.photo_fullsize},
        "userRole": {"code": u.role_code, "name": "", "iconURL": ""},
        "lastLogin": u.last_login,
        "lastActivity": u.last_activity,
        "isOnline": false,
        "created": u.created,
        "updated": u.updated,
        "deleted": u.deleted,
    })
}

/// The sender of messages the server itself originates: user ID `"0"`, empty fields.
fn server_user() -> Value {
    json!({
        "userID": "0", "xcUserID": "", "fullname": "", "email": "", "isEmailVerified": false,
        "countryID": 0, "countryCallingCode": "", "phone": "", "phoneWithCode": "",
        "isPhoneVerified": false, "username": "",
        "imageURL": {"thumbnail": "", "fullsize": ""},
        "userRole": {"code": "", "name": "", "iconURL": ""},
        "lastLogin": 0, "lastActivity": 0, "isOnline": false, "created": 0, "updated": 0,
        "deleted": 0,
    })
}

/// The room object as `viewer` sees it: a personal room carries the other user's name and
/// picture.
pub fn room(r: &Room, viewer: UserId) -> Value {
    let (name, thumbnail, fullsize) = match r.peer_of(viewer) {
        Some(peer) => (&peer.fullname, &peer.photo_thumbnail, &peer.photo_fullsize),
        None => (&r.name, &r.photo_thumbnail, &r.photo_fullsize),
    };
    json!({
        "roomID": r.wire_id(),
        "xcRoomID": r.xc_room_id(),
        "name": name,
        "type": r.room_type.code(),
        "imageURL": {"thumbnail": thumbnail, "fullsize": fullsize},
        "color": r.color,
        "isLocked": r.is_locked(),
        "lockedTime": r.locked_time,
        "deleted": r.deleted,
        "isDeleted": r.deleted != 0,
    })
}

/// The room bundle: room, explicit participants, admins.
pub fn bundle(b: &RoomBundle, viewer: UserId) -> Value {
    json!({
        "room": room(&b.room, viewer),
        "participants": b.participants.iter().map(user).collect::<Vec<_>>(),
        "adminUserIDs": b.admin_ids.iter().map(i64::to_string).collect::<Vec<_>>(),
    })
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

/// The message object as `viewer` sees it, fields encoded as stored.
pub fn message(m: &Message, viewer: Viewer) -> Value {
    let recipient = match (&m.room.kind, &m.sender) {
        (RoomKind::Personal { a, b }, Some(sender)) => {
            if sender.id == *a { *b } else { *a }.to_string()
        }
        _ => "0".to_owned(),
    };
    let is_read = is_read_by(m, viewer);
    json!({
        "messageID": m.id.to_string(),
        "localID": m.local_id,
        "type": m.kind,
        "body": m.body,
        "data": m.data,
        "filterID": m.filter_id,
        "isHidden": m.is_hidden,
        "quote": m.quote,
        "replyTo": m.reply_to,
        "forwardFrom": m.forward_from,
        "room": room(&m.room, viewer.user),
        "user": m.sender.as_ref().map_or_else(server_user, user),
        "recipientID": recipient,
        "action": m.action,
        "target": m.target,
        "isSending": false,
        "isDelivered": m.is_delivered || is_read,
        "isRead": is_read,
        "isDeleted": m.is_deleted,
        "isMessageEdited": m.is_edited,
        "created": m.created,
        "updated": m.updated,
        "deleted": m.deleted,
    })
}

/// A socket event: `{"eventName": …, "data": …}` serialized for one binary frame.
pub fn event(name: &str, data: &Value) -> bytes::Bytes {
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, &json!({"eventName": name, "data": data}))
        .expect("JSON values serialize");
    bytes::Bytes::from(out)
}

//! Renders users, rooms and messages as the JSON objects of the protocol, with every field
//! present and IDs as strings (the SDKs compare IDs with `===`).

use serde_json::{Value, json};

use crate::domain::{Message, Room, RoomBundle, RoomKind, User};

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

/// The room object.
pub fn room(r: &Room) -> Value {
    json!({
        "roomID": r.wire_id(),
        "xcRoomID": r.xc_room_id(),
        "name": r.name,
        "type": r.room_type.code(),
        "imageURL": {"thumbnail": r.photo_thumbnail, "fullsize": r.photo_fullsize},
        "color": r.color,
        "isLocked": r.is_locked(),
        "lockedTime": r.locked_time,
        "deleted": r.deleted,
        "isDeleted": r.deleted != 0,
    })
}

/// The room bundle: room, explicit participants, admins.
pub fn bundle(b: &RoomBundle) -> Value {
    json!({
        "room": room(&b.room),
        "participants": b.participants.iter().map(user).collect::<Vec<_>>(),
        "adminUserIDs": b.admin_ids.iter().map(i64::to_string).collect::<Vec<_>>(),
    })
}

/// The message object, fields encoded as stored.
pub fn message(m: &Message) -> Value {
    let recipient = match (&m.room.kind, &m.sender) {
        (RoomKind::Personal { a, b }, Some(sender)) => {
            if sender.id == *a { *b } else { *a }.to_string()
        }
        _ => "0".to_owned(),
    };
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
        "room": room(&m.room),
        "user": m.sender.as_ref().map_or_else(server_user, user),
        "recipientID": recipient,
        "action": m.action,
        "target": m.target,
        "isSending": false,
        "isDelivered": m.is_delivered,
        "isRead": m.is_read,
        "isDeleted": m.is_deleted,
        "isMessageEdited": m.is_edited,
        "created": m.created,
        "updated": m.updated,
        "deleted": m.deleted,
    })
}

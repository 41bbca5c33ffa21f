//! Version 1 of the bus format: the notice and every value it carries, each field's name on
//! the bus written out by hand.
//!
//! These are the shapes that the releases before versioning sent, when the domain types
//! themselves were serialized: the same names, the same nesting, the same enum spellings
//! (`"Personal"`, `{"Shared": {"xc_room_id": null}}`, `"New"`). Keeping them lets a node of
//! this release and an unversioned node read each other, so the first upgrade onto a
//! versioned release loses no notices either. Do not change anything here; a new shape is a
//! new version (see [`super`]). The ID fields use the domain's ID types, which serialize as
//! their bare integers; the byte-for-byte test in [`super`] holds that in place.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain;
use crate::domain::model;
use crate::domain::{AppId, MessageId, RoomId, UserId};

/// What one node tells the others, tagged by `kind`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(super) enum Notice {
    /// A committed message change, for the room's connected audience.
    #[serde(rename = "committed")]
    Committed {
        /// The change.
        #[serde(rename = "item")]
        item: Box<FeedItem>,
    },
    /// A frame for these users' sockets (presence).
    #[serde(rename = "users")]
    Users {
        /// Recipients.
        #[serde(rename = "users")]
        users: Vec<UserId>,
        /// The socket frame, as text.
        #[serde(rename = "frame")]
        frame: String,
    },
    /// A frame for a room's connected audience except one user (typing).
    #[serde(rename = "room")]
    Room {
        /// The room's audience.
        #[serde(rename = "audience")]
        audience: Audience,
        /// The user who does not get the frame (the one typing).
        #[serde(rename = "except")]
        except: UserId,
        /// The socket frame, as text.
        #[serde(rename = "frame")]
        frame: String,
    },
    /// Sessions revoked: their sockets close.
    #[serde(rename = "revoked")]
    Revoked {
        /// Session IDs.
        #[serde(rename = "sessions")]
        sessions: Vec<i64>,
    },
    /// Several committed changes for one audience, in commit order, the audience sent once:
    /// the messages of one request, such as a `participants/add` of 10,000 users (added after
    /// the first release of v1; older nodes ignore it, and their clients catch up from the
    /// database when they reconnect). A single change is still sent as `committed`.
    #[serde(rename = "committedRun")]
    CommittedRun {
        /// Who receives every change.
        #[serde(rename = "audience")]
        audience: Audience,
        /// The changes.
        #[serde(rename = "changes")]
        changes: Vec<Change>,
    },
    /// A user's new role (added after the first release of v1; older nodes ignore it).
    #[serde(rename = "role")]
    Role {
        /// The user's app.
        #[serde(rename = "app")]
        app: AppId,
        /// The user.
        #[serde(rename = "user")]
        user: UserId,
        /// The new role code, `""` for none.
        #[serde(rename = "role")]
        role: String,
    },
}

/// A committed change: [`domain::FeedItem`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct FeedItem {
    #[serde(rename = "kind")]
    kind: FeedKind,
    #[serde(rename = "message")]
    message: Message,
    #[serde(rename = "audience")]
    audience: Audience,
}

/// One change of a [`Notice::CommittedRun`]: a [`domain::FeedItem`] without its audience.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Change {
    #[serde(rename = "kind")]
    kind: FeedKind,
    #[serde(rename = "message")]
    message: Message,
}

/// [`domain::FeedKind`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
enum FeedKind {
    #[serde(rename = "New")]
    New,
    #[serde(rename = "Updated")]
    Updated,
    #[serde(rename = "Deleted")]
    Deleted,
}

/// [`domain::Audience`] on the bus; members are `[user, read_seq]` pairs.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Audience {
    #[serde(rename = "app")]
    app: AppId,
    #[serde(rename = "members")]
    members: Vec<(UserId, i64)>,
    #[serde(rename = "roles")]
    roles: Vec<String>,
}

/// [`domain::Message`] on the bus, its room and sender inside.
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    #[serde(rename = "id")]
    id: MessageId,
    #[serde(rename = "seq")]
    seq: i64,
    #[serde(rename = "room")]
    room: Room,
    #[serde(rename = "sender")]
    sender: Option<User>,
    #[serde(rename = "local_id")]
    local_id: String,
    #[serde(rename = "kind")]
    kind: i64,
    #[serde(rename = "body")]
    body: String,
    #[serde(rename = "data")]
    data: String,
    #[serde(rename = "filter_id")]
    filter_id: String,
    #[serde(rename = "is_hidden")]
    is_hidden: bool,
    #[serde(rename = "quote")]
    quote: Quote,
    #[serde(rename = "reply_to")]
    reply_to: ReplyTo,
    #[serde(rename = "forward_from")]
    forward_from: ForwardFrom,
    #[serde(rename = "action")]
    action: String,
    #[serde(rename = "target")]
    target: Target,
    #[serde(rename = "is_delivered")]
    is_delivered: bool,
    #[serde(rename = "is_read")]
    is_read: bool,
    #[serde(rename = "is_deleted")]
    is_deleted: bool,
    #[serde(rename = "is_edited")]
    is_edited: bool,
    #[serde(rename = "created")]
    created: i64,
    #[serde(rename = "updated")]
    updated: i64,
    #[serde(rename = "deleted")]
    deleted: i64,
}

/// [`domain::Room`] on the bus; `peers` is `null` or the two users of a personal room.
#[derive(Debug, Serialize, Deserialize)]
struct Room {
    #[serde(rename = "id")]
    id: RoomId,
    #[serde(rename = "kind")]
    kind: RoomKind,
    #[serde(rename = "room_type")]
    room_type: RoomType,
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "photo_thumbnail")]
    photo_thumbnail: String,
    #[serde(rename = "photo_fullsize")]
    photo_fullsize: String,
    #[serde(rename = "color")]
    color: String,
    #[serde(rename = "tags")]
    tags: Vec<String>,
    #[serde(rename = "participant_roles")]
    participant_roles: Vec<String>,
    #[serde(rename = "locked_time")]
    locked_time: i64,
    #[serde(rename = "deleted")]
    deleted: i64,
    #[serde(rename = "peers")]
    peers: Option<Box<(User, User)>>,
}

/// [`domain::RoomKind`] on the bus: `{"Shared": {...}}` or `{"Personal": {...}}`.
#[derive(Debug, Serialize, Deserialize)]
enum RoomKind {
    #[serde(rename = "Shared")]
    Shared {
        #[serde(rename = "xc_room_id")]
        xc_room_id: Option<String>,
    },
    #[serde(rename = "Personal")]
    Personal {
        #[serde(rename = "a")]
        a: UserId,
        #[serde(rename = "b")]
        b: UserId,
    },
}

/// [`domain::RoomType`] on the bus, by name (not the protocol's integer code).
#[derive(Debug, Serialize, Deserialize)]
enum RoomType {
    #[serde(rename = "Personal")]
    Personal,
    #[serde(rename = "Group")]
    Group,
    #[serde(rename = "Channel")]
    Channel,
    #[serde(rename = "Transaction")]
    Transaction,
}

/// [`domain::User`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
struct User {
    #[serde(rename = "id")]
    id: UserId,
    #[serde(rename = "xc_user_id")]
    xc_user_id: String,
    #[serde(rename = "fullname")]
    fullname: String,
    #[serde(rename = "email")]
    email: String,
    #[serde(rename = "phone")]
    phone: String,
    #[serde(rename = "username")]
    username: String,
    #[serde(rename = "photo_thumbnail")]
    photo_thumbnail: String,
    #[serde(rename = "photo_fullsize")]
    photo_fullsize: String,
    #[serde(rename = "role_code")]
    role_code: String,
    #[serde(rename = "last_login")]
    last_login: i64,
    #[serde(rename = "last_activity")]
    last_activity: i64,
    #[serde(rename = "created")]
    created: i64,
    #[serde(rename = "updated")]
    updated: i64,
    #[serde(rename = "deleted")]
    deleted: i64,
}

/// [`model::Quote`] on the bus. The domain type has serde of its own (the protocol's), which may
/// change with the protocol; this one may not.
#[derive(Debug, Serialize, Deserialize)]
struct Quote {
    #[serde(rename = "title")]
    title: String,
    #[serde(rename = "content")]
    content: String,
    #[serde(rename = "imageURL")]
    image_url: String,
    #[serde(rename = "fileID")]
    file_id: String,
    #[serde(rename = "fileType")]
    file_type: String,
}

/// [`model::ReplyTo`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
struct ReplyTo {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "xcUserID")]
    xc_user_id: String,
    #[serde(rename = "fullname")]
    fullname: String,
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "localID")]
    local_id: String,
    #[serde(rename = "messageType")]
    message_type: i64,
}

/// [`model::ForwardFrom`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
struct ForwardFrom {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "xcUserID")]
    xc_user_id: String,
    #[serde(rename = "fullname")]
    fullname: String,
    #[serde(rename = "messageID")]
    message_id: String,
    #[serde(rename = "localID")]
    local_id: String,
    #[serde(rename = "roomID")]
    room_id: String,
}

/// [`domain::Target`] on the bus.
#[derive(Debug, Serialize, Deserialize)]
struct Target {
    #[serde(rename = "targetType")]
    target_type: String,
    #[serde(rename = "targetID")]
    target_id: String,
    #[serde(rename = "targetXCID")]
    target_xcid: String,
    #[serde(rename = "targetName")]
    target_name: String,
}

// Conversions, both ways, by value: every field moves, nothing is cloned. Each destructures
// its source in full, so a field added to a domain type fails to compile here until the
// format has a place for it (which means a new version).

/// Both conversions of a value whose bus fields are its domain fields, one for one and of the
/// same types. Each side is destructured in full, so a field added to either type does not
/// compile until the other has a place for it.
macro_rules! same_fields {
    ($bus:ident <=> $domain:path { $($field:ident),* $(,)? }) => {
        impl From<$domain> for $bus {
            fn from(value: $domain) -> Self {
                let $domain { $($field),* } = value;
                Self { $($field),* }
            }
        }

        impl From<$bus> for $domain {
            fn from(value: $bus) -> Self {
                let $bus { $($field),* } = value;
                Self { $($field),* }
            }
        }
    };
}

impl From<super::Notice> for Notice {
    fn from(notice: super::Notice) -> Self {
        match notice {
            super::Notice::Committed { items } => match <[domain::FeedItem; 1]>::try_from(items) {
                Ok([item]) => Notice::Committed {
                    item: Box::new(item.into()),
                },
                Err(items) => {
                    let audience = items
                        .first()
                        .map(|item| Arc::clone(&item.audience))
                        .unwrap_or_default();
                    let changes = items
                        .into_iter()
                        .map(|item| Change {
                            kind: item.kind.into(),
                            message: item.message.into(),
                        })
                        .collect();
                    Notice::CommittedRun {
                        audience: Arc::unwrap_or_clone(audience).into(),
                        changes,
                    }
                }
            },
            super::Notice::Users { users, frame } => Notice::Users { users, frame },
            super::Notice::Room {
                audience,
                except,
                frame,
            } => Notice::Room {
                audience: audience.into(),
                except,
                frame,
            },
            super::Notice::Revoked { sessions } => Notice::Revoked { sessions },
            super::Notice::Role { app, user, role } => Notice::Role { app, user, role },
        }
    }
}

impl From<Notice> for super::Notice {
    fn from(notice: Notice) -> Self {
        match notice {
            Notice::Committed { item } => super::Notice::Committed {
                items: vec![(*item).into()],
            },
            Notice::CommittedRun { audience, changes } => {
                let audience = Arc::new(audience.into());
                let items = changes
                    .into_iter()
                    .map(|change| domain::FeedItem {
                        kind: change.kind.into(),
                        message: change.message.into(),
                        audience: Arc::clone(&audience),
                    })
                    .collect();
                super::Notice::Committed { items }
            }
            Notice::Users { users, frame } => super::Notice::Users { users, frame },
            Notice::Room {
                audience,
                except,
                frame,
            } => super::Notice::Room {
                audience: audience.into(),
                except,
                frame,
            },
            Notice::Revoked { sessions } => super::Notice::Revoked { sessions },
            Notice::Role { app, user, role } => super::Notice::Role { app, user, role },
        }
    }
}

impl From<domain::FeedItem> for FeedItem {
    fn from(item: domain::FeedItem) -> Self {
        let domain::FeedItem {
            kind,
            message,
            audience,
        } = item;
        Self {
            kind: kind.into(),
            message: message.into(),
            audience: Arc::unwrap_or_clone(audience).into(),
        }
    }
}

impl From<FeedItem> for domain::FeedItem {
    fn from(item: FeedItem) -> Self {
        let FeedItem {
            kind,
            message,
            audience,
        } = item;
        Self {
            kind: kind.into(),
            message: message.into(),
            audience: Arc::new(audience.into()),
        }
    }
}

impl From<domain::FeedKind> for FeedKind {
    fn from(kind: domain::FeedKind) -> Self {
        match kind {
            domain::FeedKind::New => FeedKind::New,
            domain::FeedKind::Updated | domain::FeedKind::Receipt => FeedKind::Updated,
            domain::FeedKind::Deleted => FeedKind::Deleted,
        }
    }
}

impl From<FeedKind> for domain::FeedKind {
    fn from(kind: FeedKind) -> Self {
        match kind {
            FeedKind::New => domain::FeedKind::New,
            FeedKind::Updated => domain::FeedKind::Updated,
            FeedKind::Deleted => domain::FeedKind::Deleted,
        }
    }
}

same_fields!(Audience <=> domain::Audience {
    app,
    members,
    roles,
});

impl From<domain::Message> for Message {
    fn from(message: domain::Message) -> Self {
        let domain::Message {
            id,
            seq,
            room,
            sender,
            local_id,
            kind,
            body,
            data,
            filter_id,
            is_hidden,
            quote,
            reply_to,
            forward_from,
            action,
            target,
            is_delivered,
            is_read,
            is_deleted,
            is_edited,
            created,
            updated,
            deleted,
            renders: _,
        } = message;
        Self {
            id,
            seq,
            room: room.into(),
            sender: sender.map(User::from),
            local_id,
            kind,
            body,
            data,
            filter_id,
            is_hidden,
            quote: quote.into(),
            reply_to: reply_to.into(),
            forward_from: forward_from.into(),
            action,
            target: target.into(),
            is_delivered,
            is_read,
            is_deleted,
            is_edited,
            created,
            updated,
            deleted,
        }
    }
}

impl From<Message> for domain::Message {
    fn from(message: Message) -> Self {
        let Message {
            id,
            seq,
            room,
            sender,
            local_id,
            kind,
            body,
            data,
            filter_id,
            is_hidden,
            quote,
            reply_to,
            forward_from,
            action,
            target,
            is_delivered,
            is_read,
            is_deleted,
            is_edited,
            created,
            updated,
            deleted,
        } = message;
        Self {
            id,
            seq,
            room: room.into(),
            sender: sender.map(domain::User::from),
            local_id,
            kind,
            body,
            data,
            filter_id,
            is_hidden,
            quote: quote.into(),
            reply_to: reply_to.into(),
            forward_from: forward_from.into(),
            action,
            target: target.into(),
            is_delivered,
            is_read,
            is_deleted,
            is_edited,
            created,
            updated,
            deleted,
            renders: domain::Renders::default(),
        }
    }
}

impl From<domain::Room> for Room {
    fn from(room: domain::Room) -> Self {
        let domain::Room {
            id,
            kind,
            room_type,
            name,
            photo_thumbnail,
            photo_fullsize,
            color,
            tags,
            participant_roles,
            locked_time,
            deleted,
            peers,
        } = room;
        Self {
            id,
            kind: kind.into(),
            room_type: room_type.into(),
            name,
            photo_thumbnail,
            photo_fullsize,
            color,
            tags,
            participant_roles,
            locked_time,
            deleted,
            peers: peers.map(|peers| {
                let (a, b) = *peers;
                Box::new((a.into(), b.into()))
            }),
        }
    }
}

impl From<Room> for domain::Room {
    fn from(room: Room) -> Self {
        let Room {
            id,
            kind,
            room_type,
            name,
            photo_thumbnail,
            photo_fullsize,
            color,
            tags,
            participant_roles,
            locked_time,
            deleted,
            peers,
        } = room;
        Self {
            id,
            kind: kind.into(),
            room_type: room_type.into(),
            name,
            photo_thumbnail,
            photo_fullsize,
            color,
            tags,
            participant_roles,
            locked_time,
            deleted,
            peers: peers.map(|peers| {
                let (a, b) = *peers;
                Box::new((a.into(), b.into()))
            }),
        }
    }
}

impl From<domain::RoomKind> for RoomKind {
    fn from(kind: domain::RoomKind) -> Self {
        match kind {
            domain::RoomKind::Shared { xc_room_id } => RoomKind::Shared { xc_room_id },
            domain::RoomKind::Personal { a, b } => RoomKind::Personal { a, b },
        }
    }
}

impl From<RoomKind> for domain::RoomKind {
    fn from(kind: RoomKind) -> Self {
        match kind {
            RoomKind::Shared { xc_room_id } => domain::RoomKind::Shared { xc_room_id },
            RoomKind::Personal { a, b } => domain::RoomKind::Personal { a, b },
        }
    }
}

impl From<domain::RoomType> for RoomType {
    fn from(room_type: domain::RoomType) -> Self {
        match room_type {
            domain::RoomType::Personal => RoomType::Personal,
            domain::RoomType::Group => RoomType::Group,
            domain::RoomType::Channel => RoomType::Channel,
            domain::RoomType::Transaction => RoomType::Transaction,
        }
    }
}

impl From<RoomType> for domain::RoomType {
    fn from(room_type: RoomType) -> Self {
        match room_type {
            RoomType::Personal => domain::RoomType::Personal,
            RoomType::Group => domain::RoomType::Group,
            RoomType::Channel => domain::RoomType::Channel,
            RoomType::Transaction => domain::RoomType::Transaction,
        }
    }
}

same_fields!(User <=> domain::User {
    id,
    xc_user_id,
    fullname,
    email,
    phone,
    username,
    photo_thumbnail,
    photo_fullsize,
    role_code,
    last_login,
    last_activity,
    created,
    updated,
    deleted,
});

same_fields!(Quote <=> model::Quote {
    title,
    content,
    image_url,
    file_id,
    file_type,
});

same_fields!(ReplyTo <=> model::ReplyTo {
    user_id,
    xc_user_id,
    fullname,
    message_id,
    local_id,
    message_type,
});

same_fields!(ForwardFrom <=> model::ForwardFrom {
    user_id,
    xc_user_id,
    fullname,
    message_id,
    local_id,
    room_id,
});

same_fields!(Target <=> domain::Target {
    target_type,
    target_id,
    target_xcid,
    target_name,
});

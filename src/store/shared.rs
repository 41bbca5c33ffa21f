//! Pieces both stores build the same way, whatever their SQL.

use crate::domain::{Room, RoomId, RoomKind, RoomType};
use crate::store::RoomUpsert;

/// A list of strings as stored: a JSON array.
pub(crate) fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("string lists serialize")
}

/// A shared room to insert.
#[derive(Debug)]
pub struct NewRoom<'a> {
    /// The customer's room ID (Server API rooms only).
    pub xc_room_id: Option<&'a str>,
    /// Group, channel or transaction.
    pub room_type: RoomType,
    /// Name.
    pub name: &'a str,
    /// Thumbnail URL.
    pub photo_thumbnail: Option<&'a str>,
    /// Full-size URL.
    pub photo_fullsize: Option<&'a str>,
    /// Tags.
    pub tags: &'a [String],
    /// Participant roles.
    pub roles: &'a [String],
}

impl<'a> NewRoom<'a> {
    /// The room a Server API upsert creates when its `xcRoomID` is new.
    pub fn from_upsert(up: &'a RoomUpsert) -> Self {
        Self {
            xc_room_id: Some(&up.xc_room_id),
            room_type: up.room_type,
            name: &up.name,
            photo_thumbnail: up.photo_thumbnail.as_deref(),
            photo_fullsize: up.photo_fullsize.as_deref(),
            tags: up.tags.as_deref().unwrap_or_default(),
            roles: up.participant_roles.as_deref().unwrap_or_default(),
        }
    }

    /// The room as stored under `id` (what reading it back would give).
    pub fn room(&self, id: RoomId) -> Room {
        Room {
            id,
            kind: RoomKind::Shared {
                xc_room_id: self.xc_room_id.map(str::to_owned),
            },
            room_type: self.room_type,
            name: self.name.to_owned(),
            photo_thumbnail: self.photo_thumbnail.unwrap_or_default().to_owned(),
            photo_fullsize: self.photo_fullsize.unwrap_or_default().to_owned(),
            color: String::new(),
            tags: self.tags.to_vec(),
            participant_roles: self.roles.to_vec(),
            locked_time: 0,
            deleted: 0,
            peers: None,
        }
    }

    /// A group a client creates: a name and a type, nothing else.
    pub fn client_group(name: &'a str, room_type: RoomType) -> Self {
        Self {
            xc_room_id: None,
            room_type,
            name,
            photo_thumbnail: None,
            photo_fullsize: None,
            tags: &[],
            roles: &[],
        }
    }
}

//! Turns one committed change into socket frames for the connected sockets of its audience
//! on this node. Kept apart from [`super::fanout`], which calls it for local changes and for
//! other nodes' notices alike.

use std::collections::HashMap;

use bytes::Bytes;

use super::Hub;
use crate::domain::{FeedItem, FeedKind, UserId};
use crate::wire::{self, Viewer};

/// Delivers one committed change to the connected sockets of its audience on this node.
pub(super) fn deliver(hub: &Hub, item: &FeedItem) {
    let events: &[&str] = match item.kind {
        FeedKind::New => &["chat/sendMessage"],
        FeedKind::Updated => &["chat/updateMessage"],
        FeedKind::Deleted => &["chat/updateMessage", "chat/deleteMessage"],
    };
    let mut viewers: HashMap<UserId, i64> = item.audience.members.iter().copied().collect();
    for user in hub.role_holders(item.audience.app, &item.audience.roles) {
        viewers.entry(user).or_insert(0);
    }
    let personal = item.message.room.peers.is_some();
    let mut rendered: HashMap<(UserId, bool), Vec<Bytes>> = HashMap::new();
    for user in hub.connected(viewers.keys().copied()) {
        let viewer = Viewer::new(user, viewers[&user]);
        let key = (
            if personal { user } else { UserId::NONE },
            wire::is_read_by(&item.message, viewer),
        );
        let frames = rendered.entry(key).or_insert_with(|| {
            let data = wire::message(&item.message, viewer);
            events
                .iter()
                .map(|event| wire::event(event, &data))
                .collect()
        });
        for frame in frames.iter() {
            hub.send_to(user, frame);
        }
    }
}

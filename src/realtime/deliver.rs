//! Turns committed changes into socket frames for the connected sockets of their audience on
//! this node. Kept apart from [`super::fanout`], which calls it for local changes and for
//! other nodes' notices alike.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::Hub;
use crate::domain::{Audience, FeedItem, FeedKind, UserId};
use crate::wire::{self, Viewer};

/// The audience's users connected here, each with their read position.
type Viewers = Vec<(UserId, i64)>;

/// Delivers committed changes, in order, to the connected sockets of their audiences on this
/// node. Who of an audience is connected is worked out once for a run of changes sharing it
/// (the messages of one request), so a request that appends n messages to a room of m members
/// costs n × (connected members) here, not n × m.
pub(super) fn deliver(hub: &Hub, items: &[FeedItem]) {
    let mut current: Option<(&Arc<Audience>, Viewers)> = None;
    for item in items {
        let same = current
            .as_ref()
            .is_some_and(|(audience, _)| Arc::ptr_eq(audience, &item.audience));
        if !same {
            current = Some((&item.audience, connected_viewers(hub, &item.audience)));
        }
        if let Some((_, viewers)) = &current {
            deliver_one(hub, item, viewers);
        }
    }
}

/// The audience's users connected here, each with their read position (0 for those who take
/// part by role only).
fn connected_viewers(hub: &Hub, audience: &Audience) -> Viewers {
    let mut viewers: HashMap<UserId, i64> = audience.members.iter().copied().collect();
    for user in hub.role_holders(audience.app, &audience.roles) {
        viewers.entry(user).or_insert(0);
    }
    hub.connected(viewers.keys().copied())
        .into_iter()
        .map(|user| (user, viewers[&user]))
        .collect()
}

/// Renders one change once per distinct view (personal rooms look different to each side;
/// `isRead` depends on the viewer), not once per recipient, and queues it on every socket of
/// the connected viewers.
fn deliver_one(hub: &Hub, item: &FeedItem, viewers: &[(UserId, i64)]) {
    let events: &[&str] = match item.kind {
        FeedKind::New => &["chat/sendMessage"],
        FeedKind::Updated | FeedKind::Receipt => &["chat/updateMessage"],
        FeedKind::Deleted => &["chat/updateMessage", "chat/deleteMessage"],
    };
    let personal = item.message.room.peers.is_some();
    let mut rendered: HashMap<(UserId, bool), Vec<Bytes>> = HashMap::new();
    for &(user, read_seq) in viewers {
        let viewer = Viewer::new(user, read_seq);
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

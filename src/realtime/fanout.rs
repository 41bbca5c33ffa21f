//! Fan-out of live events to sockets on this node and, with a bus, on every other node.
//!
//! Each node delivers to its own sockets through its [`Hub`]. With a bus, everything a node
//! delivers is also published as a [`Notice`], in the bus's own versioned format (see
//! [`super::notice`]), and every other node delivers it to the sockets it holds. The bus
//! carries notifications only: nothing is acknowledged on the strength of it, and a notice
//! lost while a node or the bus restarts is recovered by the clients, which resync from the
//! database (`new_and_updated`) when they reconnect.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::notice::{self, DecodeError, Notice};
use super::{CloseReason, Hub};
use crate::bus::nats::Nats;
use crate::domain::{AppId, Audience, FeedItem, UserId};

struct Link {
    nats: Nats,
    subject: String,
    node: String,
}

/// Delivers live events here and publishes them to the other nodes. Cheap to clone. The
/// default fans out within this process only.
#[derive(Clone, Default)]
pub struct Fanout {
    hub: Hub,
    link: Option<Arc<Link>>,
}

impl Fanout {
    /// Fan-out across every node publishing and subscribing to `subject` on `nats`.
    pub fn with_bus(nats: Nats, subject: impl Into<String>) -> Self {
        let node = crate::domain::secret::random_token::<8>();
        Self {
            hub: Hub::default(),
            link: Some(Arc::new(Link {
                nats,
                subject: subject.into(),
                node,
            })),
        }
    }

    /// This node's connection registry.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Publishes a notice to the other nodes; builds it only when there is a bus.
    fn publish(&self, notice: impl FnOnce() -> Notice) {
        let Some(link) = &self.link else { return };
        match notice::encode(&link.node, notice()) {
            Ok(payload) => link.nats.publish(&link.subject, Bytes::from(payload)),
            Err(err) => tracing::error!(error = %err, "cannot encode a bus notice"),
        }
    }

    /// Delivers committed changes here and on every other node, as one notice: consecutive
    /// changes sharing an audience carry it once.
    pub fn committed(&self, items: Vec<FeedItem>) {
        super::deliver::deliver(&self.hub, &items);
        self.publish(|| Notice::Committed { items });
    }

    /// Queues `frame` on the sockets of whichever of `users` are connected, on any node.
    pub fn to_users(&self, users: Vec<UserId>, frame: Bytes) {
        deliver_to_users(&self.hub, &users, &frame);
        self.publish(|| Notice::Users {
            users,
            frame: frame_text(&frame),
        });
    }

    /// Queues `frame` on the sockets of a room's connected audience except `except`.
    pub fn to_room(&self, audience: Audience, except: UserId, frame: Bytes) {
        deliver_to_room(&self.hub, &audience, except, &frame);
        self.publish(|| Notice::Room {
            audience,
            except,
            frame: frame_text(&frame),
        });
    }

    /// Closes the sockets of revoked sessions, on every node.
    pub fn revoke_sessions(&self, sessions: Vec<i64>) {
        self.hub.close_sessions(&sessions, CloseReason::Revoked);
        self.publish(|| Notice::Revoked { sessions });
    }

    /// Records a user's new role on every node: delivery by role follows it from the next
    /// change on, and their sockets read their sessions again (for what they may post).
    pub fn role_changed(&self, app: AppId, user: UserId, role: String) {
        self.hub.role_changed(app, user, &role);
        self.publish(|| Notice::Role { app, user, role });
    }

    /// Subscribes to the other nodes' notices; `None` without a bus. Subscribe before
    /// serving, so nothing published after start-up is missed.
    pub async fn subscribe(&self) -> Option<mpsc::Receiver<Bytes>> {
        let link = self.link.as_ref()?;
        Some(link.nats.subscribe(&link.subject).await)
    }

    /// Applies the other nodes' notices until the bus closes.
    pub async fn listen(self, mut incoming: mpsc::Receiver<Bytes>) {
        let Some(link) = self.link.clone() else {
            return;
        };
        // Versions already warned about: a newer node sends many notices, one line is enough.
        let mut unknown = HashSet::new();
        while let Some(payload) = incoming.recv().await {
            match notice::decode(&payload, &link.node) {
                Ok(Some(notice)) => self.apply(notice),
                Ok(None) => {}
                Err(DecodeError::UnknownVersion(version)) => {
                    if unknown.insert(version) {
                        tracing::warn!(
                            version,
                            "ignoring bus notices of an unknown format version \
                             (logged once per version)"
                        );
                    }
                }
                Err(err) => tracing::warn!(error = %err, "ignoring a bus notice"),
            }
        }
    }

    fn apply(&self, notice: Notice) {
        match notice {
            Notice::Committed { items } => super::deliver::deliver(&self.hub, &items),
            Notice::Users { users, frame } => {
                deliver_to_users(&self.hub, &users, &Bytes::from(frame));
            }
            Notice::Room {
                audience,
                except,
                frame,
            } => deliver_to_room(&self.hub, &audience, except, &Bytes::from(frame)),
            Notice::Revoked { sessions } => {
                self.hub.close_sessions(&sessions, CloseReason::Revoked);
            }
            Notice::Role { app, user, role } => self.hub.role_changed(app, user, &role),
        }
    }

    /// Stops publishing, after what is queued has been sent.
    pub async fn close(&self) {
        if let Some(link) = &self.link {
            link.nats.close().await;
        }
    }
}

/// Delivers every feed item to the connected sockets of its audience until the feed closes.
///
/// One task, fed in commit order, keeps messages ordered per room. A message is rendered
/// once per distinct view (personal rooms look different to each side; `isRead` depends on
/// the viewer), not once per recipient.
pub async fn dispatch(mut feed: mpsc::Receiver<FeedItem>, fanout: Fanout) {
    let queued = &crate::metrics::metrics().feed_queue;
    let mut next = feed.recv().await;
    while let Some(first) = next.take() {
        // The changes already waiting that share the first one's audience go together.
        let mut run = vec![first];
        while run.len() < MAX_RUN {
            match feed.try_recv() {
                Ok(item) if Arc::ptr_eq(&item.audience, &run[0].audience) => run.push(item),
                Ok(item) => {
                    next = Some(item);
                    break;
                }
                Err(_) => break,
            }
        }
        crate::metrics::set(queued, feed.len());
        fanout.committed(run);
        if next.is_none() {
            next = feed.recv().await;
        }
    }
}

/// Most changes delivered and published together: keeps one bus notice well under NATS's
/// default payload limit of 1 MiB.
const MAX_RUN: usize = 256;

fn frame_text(frame: &Bytes) -> String {
    String::from_utf8_lossy(frame).into_owned()
}

fn deliver_to_users(hub: &Hub, users: &[UserId], frame: &Bytes) {
    for user in hub.connected(users.iter().copied()) {
        hub.send_to(user, frame);
    }
}

fn deliver_to_room(hub: &Hub, audience: &Audience, except: UserId, frame: &Bytes) {
    let members = audience.members.iter().map(|(user, _)| *user);
    let holders = hub.role_holders(audience.app, &audience.roles);
    let mut recipients = hub.connected(members.chain(holders));
    recipients.sort_unstable();
    recipients.dedup();
    for user in recipients.into_iter().filter(|u| *u != except) {
        hub.send_to(user, frame);
    }
}

//! Live delivery: who is connected, and getting each committed change to their sockets.
//!
//! Every socket has a bounded queue. Delivery never waits on a socket: when a queue is full
//! the socket is told to close with a reason ("lagging"), and the client reconnects and
//! resyncs through the REST sync endpoints, where the database is the truth. Memory per
//! socket therefore stays bounded whatever a client does.

mod deliver;
mod fanout;
pub(crate) mod notice;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, mpsc, watch};

use crate::domain::{AppId, UserId};
pub use fanout::{Fanout, dispatch};

/// Frames queued per socket before it counts as lagging.
pub const QUEUE_DEPTH: usize = 256;

/// Why the server closes a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Its queue overflowed; the client must reconnect and resync.
    Lagging,
    /// Its session was revoked (logout or revocation).
    Revoked,
    /// The server is shutting down.
    Shutdown,
    /// The user opened more sockets than one user may hold; this was their oldest.
    Crowded,
    /// The socket answered nothing for two ping intervals.
    Unresponsive,
}

impl CloseReason {
    /// WebSocket close code and reason text.
    pub fn close_frame(self) -> (u16, &'static str) {
        match self {
            CloseReason::Lagging => (4008, "lagging: reconnect and resync"),
            CloseReason::Revoked => (4001, "session revoked"),
            CloseReason::Shutdown => (1001, "server shutting down"),
            CloseReason::Crowded => (4009, "too many sockets for this user: closing the oldest"),
            CloseReason::Unresponsive => (4010, "no answer to pings"),
        }
    }
}

struct Conn {
    id: u64,
    session: i64,
    tx: mpsc::Sender<Bytes>,
    close: watch::Sender<Option<CloseReason>>,
    recheck: Arc<Notify>,
}

impl Conn {
    fn send(&self, frame: Bytes) {
        match self.tx.try_send(frame) {
            Ok(()) => {
                crate::metrics::metrics().deliveries.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self
                    .close
                    .send_replace(Some(CloseReason::Lagging))
                    .is_none()
                {
                    crate::metrics::metrics().lag_closes.inc();
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

#[derive(Default)]
struct Registry {
    by_user: HashMap<UserId, Vec<Conn>>,
    by_role: HashMap<(AppId, String), HashSet<UserId>>,
    role_of: HashMap<UserId, (AppId, String)>,
}

impl Registry {
    /// Records `role` (`""`: none) as the role `user` holds in `app`, in place of any other.
    fn set_role(&mut self, app: AppId, user: UserId, role: &str) {
        self.drop_role(user);
        if !role.is_empty() {
            self.by_role
                .entry((app, role.to_owned()))
                .or_default()
                .insert(user);
            self.role_of.insert(user, (app, role.to_owned()));
        }
    }

    /// Forgets the role `user` holds, if any.
    fn drop_role(&mut self, user: UserId) {
        if let Some(key) = self.role_of.remove(&user)
            && let Some(users) = self.by_role.get_mut(&key)
        {
            users.remove(&user);
            if users.is_empty() {
                self.by_role.remove(&key);
            }
        }
    }
}

/// The connection registry. Cheap to clone.
#[derive(Clone, Default)]
pub struct Hub {
    registry: Arc<Mutex<Registry>>,
    next_id: Arc<AtomicU64>,
    /// Most sockets per user; `0`: no cap.
    sockets_per_user: Arc<AtomicUsize>,
}

/// A registered socket: its outbound queue and close signal. Dropping it unregisters.
pub struct Registration {
    hub: Hub,
    user: UserId,
    id: u64,
    /// Frames to write to the socket, in order.
    pub frames: mpsc::Receiver<Bytes>,
    /// Set when the server wants the socket closed.
    pub close: watch::Receiver<Option<CloseReason>>,
    /// Told when the socket's access may have changed (the user's role, a revoked key): the
    /// socket reads its session again before it acts or receives anything more.
    pub recheck: Arc<Notify>,
    /// Whether this was the user's first socket (they just came online).
    pub first: bool,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(self.user, self.id);
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().expect("realtime registry poisoned")
    }

    /// Caps the sockets one user may hold (`0`: no cap); past it, registering a socket closes
    /// the user's oldest, so a user who reopens an app is served and one who opens sockets
    /// in a loop holds a bounded number.
    pub fn set_sockets_per_user(&self, cap: usize) {
        self.sockets_per_user.store(cap, Ordering::Relaxed);
    }

    /// Registers a socket of `user` (who holds `role` in `app`) for `session`.
    pub fn register(&self, app: AppId, user: UserId, role: &str, session: i64) -> Registration {
        let (tx, frames) = mpsc::channel(QUEUE_DEPTH);
        let (close_tx, close) = watch::channel(None);
        let recheck = Arc::new(Notify::new());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut registry = self.lock();
        let cap = self.sockets_per_user.load(Ordering::Relaxed);
        let conns = registry.by_user.entry(user).or_default();
        let first = conns.is_empty();
        if cap > 0 && conns.len() >= cap {
            // The oldest still open; one already told to close stays in the list until its
            // task unregisters it, so it is not counted twice.
            let open = conns.iter().filter(|c| c.close.borrow().is_none());
            let excess = open.clone().count().saturating_sub(cap - 1);
            for conn in open.take(excess) {
                let _ = conn.close.send(Some(CloseReason::Crowded));
            }
        }
        conns.push(Conn {
            id,
            session,
            tx,
            close: close_tx,
            recheck: recheck.clone(),
        });
        registry.set_role(app, user, role);
        Registration {
            hub: self.clone(),
            user,
            id,
            frames,
            close,
            recheck,
            first,
        }
    }

    /// Records that `user` now holds `role` in `app` (`""`: none), for delivery by role, and
    /// asks their sockets to read their sessions again.
    pub fn role_changed(&self, app: AppId, user: UserId, role: &str) {
        let mut registry = self.lock();
        let Some(conns) = registry.by_user.get(&user) else {
            return;
        };
        for conn in conns {
            conn.recheck.notify_one();
        }
        registry.set_role(app, user, role);
    }

    /// Asks every socket to read its session again (a key was revoked).
    pub fn recheck_all(&self) {
        for conns in self.lock().by_user.values() {
            for conn in conns {
                conn.recheck.notify_one();
            }
        }
    }

    fn unregister(&self, user: UserId, id: u64) {
        let mut registry = self.lock();
        let Some(conns) = registry.by_user.get_mut(&user) else {
            return;
        };
        conns.retain(|c| c.id != id);
        if conns.is_empty() {
            registry.by_user.remove(&user);
            registry.drop_role(user);
        }
    }

    /// Open sockets on this node.
    pub fn socket_count(&self) -> usize {
        self.lock().by_user.values().map(Vec::len).sum()
    }

    /// Whether the user has at least one socket.
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().by_user.contains_key(&user)
    }

    /// Connected users holding one of `roles` in `app`.
    pub fn role_holders(&self, app: AppId, roles: &[String]) -> Vec<UserId> {
        let registry = self.lock();
        roles
            .iter()
            .filter_map(|role| registry.by_role.get(&(app, role.clone())))
            .flatten()
            .copied()
            .collect()
    }

    /// Queues a frame on every socket of `user`.
    pub fn send_to(&self, user: UserId, frame: &Bytes) {
        if let Some(conns) = self.lock().by_user.get(&user) {
            for conn in conns {
                conn.send(frame.clone());
            }
        }
    }

    /// The connected users among `users`.
    pub fn connected(&self, users: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
        let registry = self.lock();
        users
            .into_iter()
            .filter(|u| registry.by_user.contains_key(u))
            .collect()
    }

    /// Closes the sockets of the given sessions.
    pub fn close_sessions(&self, sessions: &[i64], reason: CloseReason) {
        for conns in self.lock().by_user.values() {
            for conn in conns.iter().filter(|c| sessions.contains(&c.session)) {
                let _ = conn.close.send(Some(reason));
            }
        }
    }

    /// Closes every socket (shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for conns in self.lock().by_user.values() {
            for conn in conns {
                let _ = conn.close.send(Some(reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_asks_the_socket_to_close_instead_of_growing() {
        let hub = Hub::default();
        let mut reg = hub.register(AppId(1), UserId(7), "", 1);
        let frame = Bytes::from_static(b"{}");
        for _ in 0..QUEUE_DEPTH {
            hub.send_to(UserId(7), &frame);
        }
        assert_eq!(*reg.close.borrow(), None);
        hub.send_to(UserId(7), &frame);
        assert_eq!(*reg.close.borrow_and_update(), Some(CloseReason::Lagging));
        assert_eq!(reg.frames.len(), QUEUE_DEPTH);
    }

    #[test]
    fn a_user_past_the_socket_cap_loses_their_oldest_socket() {
        let hub = Hub::default();
        hub.set_sockets_per_user(2);
        let (app, user) = (AppId(1), UserId(7));
        let mut oldest = hub.register(app, user, "", 1);
        let mut second = hub.register(app, user, "", 1);
        assert_eq!(*oldest.close.borrow(), None);
        let mut third = hub.register(app, user, "", 1);
        assert_eq!(
            *oldest.close.borrow_and_update(),
            Some(CloseReason::Crowded)
        );
        assert_eq!(*second.close.borrow_and_update(), None);
        // The closed one has not unregistered yet; the next newcomer closes the next oldest.
        let _fourth = hub.register(app, user, "", 1);
        assert_eq!(
            *second.close.borrow_and_update(),
            Some(CloseReason::Crowded)
        );
        assert_eq!(*third.close.borrow_and_update(), None);
        let _ = hub.register(AppId(1), UserId(8), "", 2);
        assert_eq!(*third.close.borrow(), None, "the cap is per user");
    }

    #[test]
    fn registrations_track_presence_and_roles() {
        let hub = Hub::default();
        let first = hub.register(AppId(1), UserId(7), "agent", 1);
        let second = hub.register(AppId(1), UserId(7), "agent", 2);
        assert!(first.first && !second.first);
        assert_eq!(
            hub.role_holders(AppId(1), &["agent".into()]),
            vec![UserId(7)]
        );
        assert!(
            hub.role_holders(AppId(2), &["agent".into()]).is_empty(),
            "roles are per app"
        );
        drop(first);
        assert!(hub.is_online(UserId(7)));
        drop(second);
        assert!(!hub.is_online(UserId(7)));
        assert!(hub.role_holders(AppId(1), &["agent".into()]).is_empty());
    }
}

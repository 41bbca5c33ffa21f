//! Each room's newest message, kept in memory for room lists.
//!
//! A 1,000-room list spent half of its server CPU stepping SQLite through the newest message
//! of each room with its room, peers and sender (77 columns a row) and decoding them. Those
//! rows change far less often than they are listed, so the list keeps them here and reads
//! from SQLite only each room's membership and the user's read position (see
//! BENCHMARKS.md, thirteenth round).
//!
//! **Why it is never stale.** The writer's connection reports every row it changes in
//! `rooms`, `users` and `messages` (SQLite's update hook; their IDs are their row IDs). Its
//! `COMMIT` runs under the cache's lock, right after each changed row is stamped with a new
//! tick and every entry showing it is dropped: no reader looks at the cache while the commit
//! becomes visible, so a reader whose snapshot holds the commit can never find an entry from
//! before it. A reader takes the tick before its snapshot begins and may store what it read
//! only if none of the rows the entry shows was stamped after that tick, so a snapshot from
//! before a commit never stores what the commit changed. An entry therefore only ever holds
//! what a snapshot taken now would read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::Message;

/// At most this many rooms are kept: a message with its room and sender is about 1.5 KiB, and
/// each of its up to four renders as much again, so at most about 100 MiB in all. Past it, an
/// arbitrary room makes room.
const MAX_ROOMS: usize = 16_384;
/// Rows whose change ticks are remembered; past it, they are forgotten together and every
/// read that began before is treated as older than all of them.
const MAX_STAMPS: usize = 200_000;

/// A row an entry shows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Row {
    Room(i64),
    User(i64),
    Message(i64),
}

impl Row {
    /// The row SQLite's update hook names, if it is one an entry can show.
    fn of(table: &str, rowid: i64) -> Option<Row> {
        match table {
            "rooms" => Some(Row::Room(rowid)),
            "users" => Some(Row::User(rowid)),
            "messages" => Some(Row::Message(rowid)),
            _ => None,
        }
    }
}

/// What a list needs of one room: its newest message, or `None` for a room without any.
pub(super) type Newest = Option<Arc<Message>>;

struct Entry {
    newest: Newest,
    rows: Vec<Row>,
}

#[derive(Default)]
struct Inner {
    tick: u64,
    /// Reads that began before this tick may store nothing (the stamps were forgotten).
    floor: u64,
    entries: HashMap<i64, Entry>,
    /// The rooms whose entry shows each row.
    shown_in: HashMap<Row, Vec<i64>>,
    /// The tick of each row's last change.
    stamps: HashMap<Row, u64>,
}

/// The cache; one per database, shared by the writer and the readers.
#[derive(Default)]
pub(super) struct NewestCache {
    inner: Mutex<Inner>,
    /// Rows the writer changed in the batch it is running.
    pending: Mutex<Vec<Row>>,
}

impl NewestCache {
    /// Notes a row the writer changed (called by the update hook, inside the batch).
    pub(super) fn changed(&self, table: &str, rowid: i64) {
        if let Some(row) = Row::of(table, rowid) {
            self.pending.lock().expect("cache poisoned").push(row);
        }
    }

    /// Runs the batch's `COMMIT` (`commit`) with the rows it changed applied first, all under
    /// the cache's lock (see the module documentation).
    pub(super) fn commit<R>(&self, commit: impl FnOnce() -> R) -> R {
        let rows = std::mem::take(&mut *self.pending.lock().expect("cache poisoned"));
        let mut inner = self.inner.lock().expect("cache poisoned");
        inner.apply(rows);
        commit()
    }

    /// Applies what a batch that did not commit had noted (it changed nothing, so this only
    /// drops entries that were still right).
    pub(super) fn batch_ended(&self) {
        let rows = std::mem::take(&mut *self.pending.lock().expect("cache poisoned"));
        if !rows.is_empty() {
            self.inner.lock().expect("cache poisoned").apply(rows);
        }
    }

    /// The tick to take before a read's snapshot begins.
    pub(super) fn tick(&self) -> u64 {
        self.inner.lock().expect("cache poisoned").tick
    }

    /// The entries of `rooms` that are kept; `None` where a room has none.
    pub(super) fn get(&self, rooms: &[i64]) -> Vec<Option<Newest>> {
        let inner = self.inner.lock().expect("cache poisoned");
        rooms
            .iter()
            .map(|room| inner.entries.get(room).map(|e| e.newest.clone()))
            .collect()
    }

    /// Keeps what a read that began at `tick` found for `room`, unless a row it shows changed
    /// since.
    pub(super) fn put(&self, tick: u64, room: i64, newest: Newest) {
        let rows = shown_rows(room, newest.as_deref());
        let mut inner = self.inner.lock().expect("cache poisoned");
        if tick < inner.floor
            || rows
                .iter()
                .any(|row| inner.stamps.get(row).is_some_and(|&at| at > tick))
        {
            return;
        }
        inner.remove(room);
        if inner.entries.len() >= MAX_ROOMS
            && let Some(&other) = inner.entries.keys().next()
        {
            inner.remove(other);
        }
        for &row in &rows {
            inner.shown_in.entry(row).or_default().push(room);
        }
        inner.entries.insert(room, Entry { newest, rows });
    }
}

impl Inner {
    /// Stamps `rows` with a new tick and drops every entry showing one of them.
    fn apply(&mut self, rows: Vec<Row>) {
        if rows.is_empty() {
            return;
        }
        self.tick += 1;
        let tick = self.tick;
        if self.stamps.len() + rows.len() > MAX_STAMPS {
            self.stamps.clear();
            self.floor = tick;
        }
        for row in rows {
            self.stamps.insert(row, tick);
            if let Some(rooms) = self.shown_in.remove(&row) {
                for room in rooms {
                    self.remove(room);
                }
            }
        }
    }

    fn remove(&mut self, room: i64) {
        let Some(entry) = self.entries.remove(&room) else {
            return;
        };
        for row in entry.rows {
            if let Some(rooms) = self.shown_in.get_mut(&row) {
                rooms.retain(|&r| r != room);
                if rooms.is_empty() {
                    self.shown_in.remove(&row);
                }
            }
        }
    }
}

/// Every row whose columns the entry's message carries: the room, its peers, the message and
/// its sender.
fn shown_rows(room: i64, newest: Option<&Message>) -> Vec<Row> {
    let mut rows = vec![Row::Room(room)];
    if let Some(m) = newest {
        rows.push(Row::Message(m.id.0));
        if let Some(sender) = &m.sender {
            rows.push(Row::User(sender.id.0));
        }
        if let Some(peers) = &m.room.peers {
            rows.push(Row::User(peers.0.id.0));
            rows.push(Row::User(peers.1.id.0));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_older_than_a_change_stores_nothing_and_a_change_drops_what_shows_it() {
        let cache = NewestCache::default();
        let before = cache.tick();
        cache.changed("rooms", 7);
        cache.commit(|| ());
        cache.put(before, 7, None);
        assert!(
            cache.get(&[7])[0].is_none(),
            "a read from before the change"
        );
        cache.put(cache.tick(), 7, None);
        assert!(cache.get(&[7])[0].is_some());
        cache.changed("rooms", 7);
        cache.changed("room_members", 7);
        cache.commit(|| ());
        assert!(cache.get(&[7])[0].is_none(), "dropped by the change");
    }
}

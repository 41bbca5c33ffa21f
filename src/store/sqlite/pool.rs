//! SQLite connections: one writer thread with group commit, and a pool of readers.
//!
//! SQLite allows one writer at a time, so every write runs on a dedicated thread that owns the
//! write connection. It drains whatever jobs are queued, runs each inside its own savepoint
//! (a failing job rolls back alone), commits the batch once, and only then answers each job.
//! Under load one fsync covers many requests, and still no response leaves before its commit.
//! Reads run on a small pool of WAL readers on tokio's blocking threads.
//!
//! The fsync itself runs on a syncer thread, so the writer can run the next batch while the
//! disk flushes the last one: the writer commits with `synchronous = NORMAL` (SQLite writes
//! the WAL but does not flush it) and hands the batch to the syncer, which flushes the WAL file
//! (one `fdatasync` for every batch committed since its last one) and only then publishes the
//! batch's changes and answers its callers. An acknowledged write is on disk exactly as with
//! `synchronous = FULL`; what changes is that a reader may see a change a few hundred
//! microseconds before it is on disk, as a reader may see it before its writer hears back.
//! If a flush fails, nothing since the last one can be promised, so confab stops at once.
//!
//! Checkpoints (copying committed pages from the WAL back into the database file) run on a
//! third thread with its own connection, so the writer never stops to do them: with SQLite's
//! automatic checkpoints every thousandth page made one unlucky batch wait for a thousand page
//! copies and an `fsync` of the database file. A checkpoint running beside the writer can never
//! catch up with the last commit, though, and SQLite only starts the WAL over once everything
//! in it has been copied: so when the WAL has grown past [`RESTART_FRAMES`], the checkpointer
//! makes two more passes at once, and then the writer copies the few frames committed during
//! the last one itself, between two batches, and its next transaction starts the WAL from the
//! beginning. The checkpointer flushes the database file after each pass (SQLite would only
//! flush it when a pass reaches the end of the WAL), so that this last step has little to
//! flush: it stalls the writer for about 20 ms every few seconds under full write load,
//! instead of about 100 ms. The WAL file keeps its size when it starts over: writing over
//! allocated blocks keeps each flush of it short.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::newest::NewestCache;
use crate::store::{FeedItem, FeedSink, StoreError};

/// Most jobs committed together; bounds the latency a batch adds to its first job.
const MAX_BATCH: usize = 256;
/// Queued writes beyond which callers wait (backpressure instead of unbounded memory).
const QUEUE_DEPTH: usize = 4096;
/// Concurrent read connections.
const READERS: usize = 4;
/// Committed batches waiting for the syncer; beyond this the writer waits (backpressure).
const SYNC_QUEUE: usize = 64;
/// Bytes of the database file mapped into memory (the ceiling set in `.cargo/config.toml`).
const MMAP_BYTES: u64 = 256 << 30;
/// How long the checkpointer lets commits accumulate before copying them back: long enough
/// that one checkpoint covers many commits, short enough that the WAL stays small.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(50);
/// WAL frames (pages, 256 MiB) beyond which the writer finishes a checkpoint itself, so the
/// WAL starts over. Finishing one stalls the writer (about 20 ms), so it should be rare: at
/// 6,000 participant changes/s this is every four seconds.
const RESTART_FRAMES: i64 = 65536;

type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job runs in its savepoint, fills the feed with what clients must hear, and says whether it
/// succeeded; its completion answers the caller once the batch's commit is known.
type Job = Box<dyn FnOnce(&mut Connection, &mut Vec<FeedItem>) -> (bool, Completion) + Send>;

/// The message-ID and change-version counters, kept by the writer thread itself: only it
/// writes, so handing out the next values needs no statement. They are written back once per
/// batch, inside the batch's transaction, and re-read from the database whenever a batch fails.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counters {
    /// The last message ID handed out.
    pub message_id: i64,
    /// The last change version handed out (`counters.version`).
    pub version: i64,
    dirty: bool,
}

thread_local! {
    static COUNTERS: RefCell<Option<Counters>> = const { RefCell::new(None) };
}

/// Runs `f` on the writer's counters, loading them on first use. Only for write jobs.
pub(super) fn with_counters<R>(
    conn: &Connection,
    f: impl FnOnce(&mut Counters) -> R,
) -> Result<R, StoreError> {
    COUNTERS.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let message_id =
                conn.query_row("SELECT coalesce(max(id), 0) FROM messages", [], |r| {
                    r.get(0)
                })?;
            let version = conn.query_row(
                "SELECT value FROM counters WHERE name = 'version'",
                [],
                |r| r.get(0),
            )?;
            *slot = Some(Counters {
                message_id,
                version,
                dirty: false,
            });
        }
        let counters = slot.as_mut().expect("loaded above");
        counters.dirty = true;
        Ok(f(counters))
    })
}

/// Writes the counters back into the open transaction if they changed.
fn save_counters(conn: &Connection) -> Result<(), StoreError> {
    let Some(version) = COUNTERS.with(|cell| {
        cell.borrow_mut().as_mut().filter(|c| c.dirty).map(|c| {
            c.dirty = false;
            c.version
        })
    }) else {
        return Ok(());
    };
    conn.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'version'")?
        .execute([version])?;
    Ok(())
}

/// Forgets the counters (after a failed batch), so they are re-read from what was committed.
fn forget_counters() {
    COUNTERS.with(|cell| *cell.borrow_mut() = None);
}

enum Command {
    /// A job for the next batch, in a savepoint of its own.
    Job(Job),
    /// A job run in a transaction of its own (see [`crate::store::WriteSize::Large`]).
    Alone(Job),
    Close(oneshot::Sender<()>),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Other(err.to_string())
    }
}

/// Handles to the writer thread and the reader pool of one database file.
pub(super) struct Db {
    writer: mpsc::Sender<Command>,
    /// Each room's newest message, kept current by the writer (see [`NewestCache`]).
    newest: Arc<NewestCache>,
    path: PathBuf,
    readers: Arc<Mutex<Vec<Connection>>>,
    read_permits: Semaphore,
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Every query is prepared once per connection and kept: the default cache of 16 is
    // smaller than the set of statements one request cycle uses, and parsing SQL again on
    // every call costed about half of a write's time.
    conn.set_prepared_statement_cache_capacity(256);
    // Plans never depend on bound values (SQLite's query planner stability guarantee).
    // Without it, a statement whose plan consulted a parameter (a `LIMIT ?`, a comparison the
    // planner estimates from statistics) is re-parsed on every bind: profiling showed that
    // re-preparing cost over half of a write.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // FULL: a commit is on disk before it is acknowledged, even across power loss.
    // Pages are read through a memory map of the whole file rather than copied by a read call
    // each: a 1,000-room list touches thousands of pages, and mapped reads cut its server CPU
    // by a quarter. (An I/O error on a mapped page would stop the process instead of failing
    // one query; the WAL and the commits are still written with plain writes and fsync.)
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16000; \
         PRAGMA mmap_size = {MMAP_BYTES};"
    ))?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) the database, applies migrations, starts the writer.
    pub(super) fn open(
        path: &Path,
        migrate: impl FnOnce(&Connection) -> Result<(), StoreError>,
        feed: Option<FeedSink>,
    ) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = open(path, OpenFlags::default())?;
        conn.execute_batch("PRAGMA journal_mode = WAL;")?;
        migrate(&conn)?;
        // The checkpointer thread checkpoints instead (see the module documentation).
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
        // The syncer flushes the WAL before any caller hears back (see the module documentation).
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;")?;
        let checkpointer = Checkpointer::start(open(path, OpenFlags::default())?, path)?;
        // A WAL left behind by a process that did not close cleanly is copied back now, in the
        // background, rather than after the next write: until it is, every page a reader
        // fetches is first looked up in the WAL's hash tables (a 1,000-room list spent a tenth
        // of its time there with a leftover 300 MB WAL). Once everything is copied, readers
        // read the database file alone.
        checkpointer.request();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let syncer = Syncer::start(PathBuf::from(wal), feed)?;
        let newest = Arc::new(NewestCache::default());
        let noted = Arc::clone(&newest);
        conn.update_hook(Some(move |_, _: &str, table: &str, rowid| {
            noted.changed(table, rowid);
        }))?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let applied = Arc::clone(&newest);
        std::thread::Builder::new()
            .name("confab-sqlite-writer".into())
            .spawn(move || run_writer(conn, rx, syncer, checkpointer, &applied))
            .map_err(|e| StoreError::Other(format!("cannot start writer thread: {e}")))?;
        Ok(Self {
            writer: tx,
            newest,
            path: path.to_owned(),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_permits: Semaphore::new(READERS),
        })
    }

    /// Runs `f` in the next write batch; resolves after the batch is committed. What `f`
    /// pushes to the feed is published after the commit, in commit order.
    pub(super) async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection, &mut Vec<FeedItem>) -> Result<R, StoreError> + Send + 'static,
    {
        self.send_job(f, Command::Job).await
    }

    /// [`Self::write`] in a transaction of its own, for a job that changes many rows: inside a
    /// batch's savepoint, SQLite keeps every statement's journal beside the savepoint's and
    /// walks it from its start when the statement ends, so a job's cost grew with the square
    /// of its statements (a 10,000-user `participants/add` took 8.6 s).
    pub(super) async fn write_alone<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection, &mut Vec<FeedItem>) -> Result<R, StoreError> + Send + 'static,
    {
        self.send_job(f, Command::Alone).await
    }

    async fn send_job<R, F>(&self, f: F, command: fn(Job) -> Command) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection, &mut Vec<FeedItem>) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn, feed| {
            let result = f(conn, feed);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, completion)
        });
        self.writer
            .send(command(job))
            .await
            .map_err(|_| StoreError::Other("the store is closed".into()))?;
        rx.await
            .map_err(|_| StoreError::Other("the write was abandoned by the writer".into()))?
    }

    /// Runs `f` on a reader connection on the calling thread. For lookups by key (a user, a
    /// token, a room and its participants) the hop to a blocking thread and back costs more
    /// than the read itself; a read that scans or renders many rows uses [`Self::read`].
    pub(super) async fn read_here<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<R, StoreError>,
    {
        let _permit = self.read_permit().await?;
        let mut conn = self.reader()?;
        let result = f(&mut conn);
        self.readers
            .lock()
            .expect("reader pool poisoned")
            .push(conn);
        result
    }

    /// Runs `f` on a reader connection, on a blocking thread.
    pub(super) async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let _permit = self.read_permit().await?;
        let mut conn = self.reader()?;
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let result = snapshot(&mut conn, f);
            readers.lock().expect("reader pool poisoned").push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Other(format!("read task failed: {e}")))?
    }

    /// Each room's newest message, for room lists.
    pub(super) fn newest(&self) -> Arc<NewestCache> {
        Arc::clone(&self.newest)
    }

    async fn read_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        self.read_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Other("reader pool closed".into()))
    }

    /// A pooled reader connection, or a new one while the pool has none spare.
    fn reader(&self) -> Result<Connection, StoreError> {
        let pooled = self.readers.lock().expect("reader pool poisoned").pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => open(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
    }

    /// Commits what is queued, then stops the writer.
    pub(super) async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Command::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Runs a PASSIVE checkpoint: copies what no reader still needs, blocking neither the writer
/// nor the readers. Returns the frames in the WAL.
fn checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

/// The checkpointing thread, woken by the writer after its commits.
struct Checkpointer {
    wake: std_mpsc::SyncSender<()>,
    /// Set by the checkpointer when the WAL has grown past [`RESTART_FRAMES`].
    restart: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    fn start(conn: Connection, path: &Path) -> Result<Self, StoreError> {
        // SQLite flushes the database file only when a checkpoint reaches the end of the WAL,
        // which one running beside the writer rarely does; the copied pages would pile up
        // unflushed until the writer's own checkpoint had to flush them all (~100 ms).
        let database = std::fs::File::open(path)
            .map_err(|e| StoreError::Other(format!("cannot open {}: {e}", path.display())))?;
        let (wake, woken) = std_mpsc::sync_channel(1);
        let restart = Arc::new(AtomicBool::new(false));
        let wanted = Arc::clone(&restart);
        let thread = std::thread::Builder::new()
            .name("confab-sqlite-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    std::thread::sleep(CHECKPOINT_PAUSE);
                    // Close to the restart size, two more passes right away leave the writer
                    // only what was committed during the last (short) one to copy itself.
                    for pass in 0..3 {
                        match checkpoint(&conn) {
                            Ok(frames) => {
                                if let Err(err) = database.sync_data() {
                                    tracing::warn!(error = %err, "flushing checkpointed pages failed");
                                }
                                if frames < RESTART_FRAMES {
                                    break;
                                }
                                if pass == 2 {
                                    wanted.store(true, Ordering::Relaxed);
                                }
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "WAL checkpoint failed; retrying later");
                                break;
                            }
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Other(format!("cannot start checkpoint thread: {e}")))?;
        Ok(Self {
            wake,
            restart,
            thread,
        })
    }

    /// Asks for a checkpoint soon; requests while one is pending merge into it.
    fn request(&self) {
        let _ = self.wake.try_send(());
    }

    /// Called by the writer after each commit: asks for a checkpoint, and copies what is left
    /// itself when the WAL must start over.
    fn after_commit(&self, writer: &Connection) {
        if self.restart.swap(false, Ordering::Relaxed)
            && let Err(err) = checkpoint(writer)
        {
            tracing::warn!(error = %err, "WAL checkpoint by the writer failed");
        }
        self.request();
    }

    /// Lets the last checkpoint finish and closes its connection.
    fn stop(self) {
        drop(self.wake);
        let _ = self.thread.join();
    }
}

/// A batch on its way from the writer to its callers, through the syncer.
struct Committed {
    commit: Result<(), StoreError>,
    feed: Vec<FeedItem>,
    completions: Vec<Completion>,
    /// When the writer began the batch (for the commit latency metric).
    started: std::time::Instant,
}

/// The thread that makes committed batches durable, then publishes and answers them in order.
struct Syncer {
    batches: std_mpsc::SyncSender<Committed>,
    thread: JoinHandle<()>,
}

impl Syncer {
    fn start(wal: PathBuf, feed: Option<FeedSink>) -> Result<Self, StoreError> {
        let (batches, committed) = std_mpsc::sync_channel::<Committed>(SYNC_QUEUE);
        let thread = std::thread::Builder::new()
            .name("confab-sqlite-sync".into())
            .spawn(move || {
                let mut file = None;
                while let Ok(first) = committed.recv() {
                    let mut ready = vec![first];
                    ready.extend(committed.try_iter());
                    if ready.iter().any(|b| b.commit.is_ok()) {
                        flush_or_stop(&mut file, &wal);
                    }
                    let commit_seconds = &crate::metrics::metrics().commit_seconds;
                    for batch in ready {
                        commit_seconds.observe(batch.started.elapsed().as_secs_f64());
                        answer(batch, feed.as_ref());
                    }
                }
            })
            .map_err(|e| StoreError::Other(format!("cannot start sync thread: {e}")))?;
        Ok(Self { batches, thread })
    }

    /// Hands a batch over; its callers hear back once it is on disk.
    fn send(&self, batch: Committed) {
        if let Err(std_mpsc::SendError(batch)) = self.batches.send(batch) {
            // Only if the syncer is gone, which `flush_or_stop` never lets happen quietly.
            let failed = Err(StoreError::Other("the store is closing".into()));
            for completion in batch.completions {
                completion(failed.clone());
            }
        }
    }

    /// Answers what is queued, then stops.
    fn stop(self) {
        drop(self.batches);
        let _ = self.thread.join();
    }
}

/// Flushes the WAL file to disk, or stops the process: after a failed flush the kernel may
/// have dropped the written pages, and acknowledging anything since the last flush could lose
/// acknowledged data.
fn flush_or_stop(file: &mut Option<std::fs::File>, wal: &Path) {
    let flushed = match file {
        Some(file) => file.sync_data(),
        None => std::fs::OpenOptions::new()
            .write(true)
            .open(wal)
            .and_then(|opened| opened.sync_data().map(|()| *file = Some(opened))),
    };
    if let Err(err) = flushed {
        tracing::error!(error = %err, wal = %wal.display(),
            "flushing the write-ahead log failed; stopping so that nothing unflushed is acknowledged");
        std::process::abort();
    }
}

/// Publishes a durable batch's changes, then answers its callers.
fn answer(batch: Committed, feed: Option<&FeedSink>) {
    if let (Ok(()), Some(feed)) = (&batch.commit, feed) {
        // Published before the callers hear back, so a sender's echo never trails its answer.
        for item in batch.feed {
            if feed.blocking_send(item).is_err() {
                break; // the realtime layer has stopped; the database stays the truth
            }
        }
    }
    for completion in batch.completions {
        completion(batch.commit.clone());
    }
}

fn run_writer(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Command>,
    syncer: Syncer,
    checkpointer: Checkpointer,
    newest: &NewestCache,
) {
    let mut closing = None;
    while closing.is_none() {
        let mut batch = Vec::new();
        // A job that runs alone, after the batch collected before it.
        let mut alone = None;
        match rx.blocking_recv() {
            Some(Command::Job(job)) => batch.push(job),
            Some(Command::Alone(job)) => alone = Some(job),
            Some(Command::Close(ack)) => closing = Some(ack),
            None => break,
        }
        while closing.is_none() && alone.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Command::Job(job)) => batch.push(job),
                Ok(Command::Alone(job)) => alone = Some(job),
                Ok(Command::Close(ack)) => closing = Some(ack),
                Err(_) => break,
            }
        }
        crate::metrics::set(&crate::metrics::metrics().writer_queue, rx.len());
        for batch in [batch, alone.into_iter().collect()] {
            if batch.is_empty() {
                continue;
            }
            let committed = run_batch(&mut conn, batch, newest);
            // A batch that did not commit noted rows all the same.
            newest.batch_ended();
            if let Some(committed) = committed {
                syncer.send(committed);
            }
            checkpointer.after_commit(&conn);
        }
    }
    rx.close();
    // Jobs queued after Close are answered with an error by dropping them.
    while rx.try_recv().is_ok() {}
    // Every acknowledged batch is flushed and answered before the connection closes.
    syncer.stop();
    // Closing the last connection checkpoints everything and removes the WAL.
    checkpointer.stop();
    if let Err(err) = conn.close() {
        tracing::error!(error = %err.1, "closing the SQLite writer failed");
    }
    if let Some(ack) = closing {
        let _ = ack.send(());
    }
}

/// Runs a read in one read transaction, so that every statement of it sees the same
/// snapshot of the database (a prefix of the committed batches), never a batch half-seen.
fn snapshot<R>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    run_cached(conn, "BEGIN")?;
    let result = f(conn);
    // Nothing was written: ending the transaction only releases the snapshot.
    run_cached(conn, "ROLLBACK")?;
    result
}

/// Runs a transaction-control statement through the statement cache (it runs for every job).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs and commits one batch; `None` if it could not even begin (its callers, dropped, hear
/// an error).
fn run_batch(conn: &mut Connection, batch: Vec<Job>, newest: &NewestCache) -> Option<Committed> {
    let started = std::time::Instant::now();
    let metrics = crate::metrics::metrics();
    metrics.writer_batch.observe(batch.len() as f64);
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %err, "cannot begin a write transaction");
        return None;
    }
    let mut completions = Vec::with_capacity(batch.len());
    let mut committed_feed = Vec::new();
    // A job alone in its transaction needs no savepoint: if it fails, the transaction is
    // rolled back whole. (Every statement inside a savepoint costs more: see `write_alone`.)
    let savepoints = batch.len() > 1;
    let mut failed_alone = false;
    for job in batch {
        if savepoints && let Err(err) = run_cached(conn, "SAVEPOINT job") {
            tracing::error!(error = %err, "cannot open a savepoint");
            continue;
        }
        let mut job_feed = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut *conn, &mut job_feed)));
        let ok = matches!(outcome, Ok((true, _)));
        match outcome {
            Ok((_, completion)) => completions.push(completion),
            Err(_) => tracing::error!("a write job panicked; its changes were rolled back"),
        }
        if ok {
            committed_feed.append(&mut job_feed);
            if savepoints {
                let _ = run_cached(conn, "RELEASE job");
            }
        } else if savepoints {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
        } else {
            failed_alone = true;
        }
    }
    if failed_alone {
        // Nothing else is in the transaction; the job hears its own error.
        let _ = conn.execute_batch("ROLLBACK");
        return Some(Committed {
            commit: Ok(()),
            feed: Vec::new(),
            completions,
            started,
        });
    }
    // The room list's cache drops what the batch changed as the commit becomes visible.
    let commit = save_counters(conn).and_then(|()| {
        newest
            .commit(|| run_cached(conn, "COMMIT"))
            .map_err(StoreError::from)
    });
    if let Err(err) = &commit {
        tracing::error!(error = %err, "commit failed; the batch was rolled back");
        let _ = conn.execute_batch("ROLLBACK");
        forget_counters();
    }
    Some(Committed {
        commit,
        feed: committed_feed,
        completions,
        started,
    })
}

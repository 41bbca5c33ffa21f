//! A small NATS client that carries realtime notifications between confab nodes.
//!
//! The bus is a hint, never the record: the database is the truth and clients recover
//! anything they missed through the REST sync endpoints. So the client is built to never
//! hold up a request: [`Nats::publish`] only queues (dropping, with a rate-limited warning,
//! when the queue is full or the server is unreachable), subscribers get bounded queues, and
//! a lost connection is re-established forever in the background, re-sending every
//! subscription. Callers learn about outages through [`Nats::reconnects`].
//!
//! One background task owns the socket: it batches queued publishes into few writes,
//! parses what the server sends (across read boundaries), answers PINGs and sends its own
//! to notice a silently dead peer. TLS is not spoken; run NATS on a private network.

mod proto;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::net::TcpStream;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{self, Duration};

use proto::{Info, Server, ServerOp, connect_line, parse_op, parse_urls, valid_subject};

/// How long connecting, reading INFO and getting the PONG to CONNECT may take together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Publishes waiting for the socket; beyond this they are dropped, never waited for.
const PUBLISH_QUEUE: usize = 65_536;
/// Payloads waiting for one subscriber; beyond this they are dropped.
const SUBSCRIPTION_QUEUE: usize = 65_536;
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// Unanswered PINGs after which the connection counts as dead.
const MAX_MISSED_PONGS: u32 = 2;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How long [`Nats::close`] waits for queued publishes to reach the server.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long [`Nats::subscribe`] waits for the server to confirm.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);
const READ_CHUNK: usize = 64 * 1024;
/// Once this much is waiting to be written, the queue is left alone until the socket drains.
const WRITE_HIGH_WATER: usize = 256 * 1024;
/// The NATS default, used until the server's INFO says otherwise.
const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;

/// A connection to a NATS server (or cluster) shared by everything in one confab node.
///
/// Cloning is cheap and every clone drives the same connection; it stops when [`Nats::close`]
/// is called or the last clone is dropped.
#[derive(Clone)]
pub struct Nats {
    inner: Arc<Handle>,
}

struct Handle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// State read by both the callers and the background task.
struct Shared {
    subs: Mutex<HashMap<u64, Subscription>>,
    next_sid: AtomicU64,
    connected: AtomicBool,
    closed: AtomicBool,
    max_payload: AtomicUsize,
    reconnects: watch::Sender<u64>,
    publish_drops: DropLog,
    delivery_drops: DropLog,
    server_errors: DropLog,
}

struct Subscription {
    subject: String,
    tx: mpsc::Sender<Bytes>,
}

enum Command {
    Publish {
        subject: String,
        payload: Bytes,
    },
    /// The subscription is already in [`Shared::subs`]; `done` fires when the server confirms.
    Subscribe {
        sid: u64,
        done: oneshot::Sender<()>,
    },
    Close,
}

/// Why we sent a PING; PONGs come back in order, so a queue matches them up.
enum Waiter {
    Keepalive,
    Confirm(oneshot::Sender<()>),
    Close,
}

impl Nats {
    /// Connects to `url` and starts the background task, or says why it cannot.
    ///
    /// `url` is `nats://host[:port]`, optionally with `user:pass@` or `token@`, or a
    /// comma-separated list of such URLs: they are tried in order now and cycled through on
    /// reconnect. Startup fails fast (5 s per server) so a misconfigured node stops at once
    /// instead of running without fan-out; the error names the server and the cause, such as
    /// "cannot reach NATS at nats://127.0.0.1:4222: connection refused" or the server's
    /// 'Authorization Violation'. `name` shows up in the server's connection list.
    pub async fn connect(url: &str, name: &str) -> Result<Nats, String> {
        let servers = parse_urls(url)?;
        let mut failures = Vec::new();
        let mut first = None;
        for (idx, server) in servers.iter().enumerate() {
            match handshake(server, name, &[]).await {
                Ok(conn) => {
                    first = Some((idx, conn));
                    break;
                }
                Err(cause) => failures.push(cause),
            }
        }
        let Some((idx, conn)) = first else {
            return Err(failures.join("; "));
        };
        tracing::info!(server = %servers[idx].shown, "connected to NATS");
        let (commands, rx) = mpsc::channel(PUBLISH_QUEUE);
        let shared = Arc::new(Shared {
            subs: Mutex::new(HashMap::new()),
            next_sid: AtomicU64::new(1),
            connected: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            max_payload: AtomicUsize::new(conn.max_payload),
            reconnects: watch::Sender::new(0),
            publish_drops: DropLog::new("dropped NATS publishes"),
            delivery_drops: DropLog::new("dropped NATS messages for a slow subscriber"),
            server_errors: DropLog::new("NATS server reported errors"),
        });
        let task = tokio::spawn(run(
            Arc::clone(&shared),
            servers,
            name.to_owned(),
            idx,
            conn,
            rx,
        ));
        Ok(Nats {
            inner: Arc::new(Handle {
                commands,
                shared,
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// Queues `payload` for everyone subscribed to `subject`; never waits.
    ///
    /// Notifications are best-effort: when the queue is full, the server is unreachable, the
    /// subject is not a valid NATS subject or the payload exceeds the server's max_payload,
    /// the message is dropped and a warning (at most one a second, with a count) is logged.
    /// Readers recover through their own sync against the database.
    pub fn publish(&self, subject: &str, payload: Bytes) {
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Relaxed) {
            tracing::debug!(subject, "publish after the NATS client was closed");
            return;
        }
        if !valid_subject(subject) {
            return shared
                .publish_drops
                .note("not a valid NATS subject", subject);
        }
        if payload.len() > shared.max_payload.load(Ordering::Relaxed) {
            return shared
                .publish_drops
                .note("larger than the server's max_payload", subject);
        }
        if !shared.connected.load(Ordering::Relaxed) {
            return shared.publish_drops.note("not connected to NATS", subject);
        }
        let command = Command::Publish {
            subject: subject.to_owned(),
            payload,
        };
        match self.inner.commands.try_send(command) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => shared.publish_drops.note("publish queue full", subject),
            Err(TrySendError::Closed(_)) => tracing::debug!(subject, "NATS client has stopped"),
        }
    }

    /// Subscribes to `subject` (wildcards allowed) and returns a queue of the payloads.
    ///
    /// Returns once the server has confirmed the subscription (so a publish made afterwards
    /// anywhere reaches it), or at once while disconnected: the subscription is sent again on
    /// every reconnect. If the queue is full a payload is dropped with a rate-limited warning;
    /// dropping the receiver unsubscribes when the next message arrives. An invalid subject
    /// is logged as an error and yields a receiver that is already closed.
    pub async fn subscribe(&self, subject: &str) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_QUEUE);
        if !valid_subject(subject) {
            tracing::error!(subject, "cannot subscribe: not a valid NATS subject");
            return rx;
        }
        let shared = &self.inner.shared;
        let sid = shared.next_sid.fetch_add(1, Ordering::Relaxed);
        let subject = subject.to_owned();
        lock(&shared.subs).insert(sid, Subscription { subject, tx });
        let (done, confirmed) = oneshot::channel();
        let command = Command::Subscribe { sid, done };
        if self.inner.commands.send(command).await.is_ok() {
            let _ = time::timeout(CONFIRM_TIMEOUT, confirmed).await;
        }
        rx
    }

    /// How many times the connection has been re-established since [`Nats::connect`].
    ///
    /// Messages published while disconnected are lost, so a change here tells a node that
    /// its view may have gaps; subscriptions are already active again when it changes.
    pub fn reconnects(&self) -> watch::Receiver<u64> {
        self.inner.shared.reconnects.subscribe()
    }

    /// Sends what is queued (waiting at most 2 s for the server to confirm) and stops.
    ///
    /// Publishes after this are dropped quietly. The first call does the work; later calls,
    /// from any clone, return at once.
    pub async fn close(&self) {
        let Some(task) = lock(&self.inner.task).take() else {
            return;
        };
        let abort = task.abort_handle();
        let flushed = time::timeout(CLOSE_TIMEOUT, async {
            let _ = self.inner.commands.send(Command::Close).await;
            let _ = task.await;
        })
        .await;
        if flushed.is_err() {
            abort.abort();
            tracing::warn!("NATS did not confirm queued publishes within 2 s; they may be lost");
        }
        let shared = &self.inner.shared;
        shared.closed.store(true, Ordering::Relaxed);
        shared.connected.store(false, Ordering::Relaxed);
    }
}

impl fmt::Debug for Nats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.inner.shared;
        f.debug_struct("Nats")
            .field("connected", &shared.connected.load(Ordering::Relaxed))
            .field("reconnects", &*shared.reconnects.borrow())
            .finish_non_exhaustive()
    }
}

/// Counts dropped items and warns at most once a second, so an outage cannot flood the log.
struct DropLog {
    what: &'static str,
    state: Mutex<(u64, Option<Instant>)>,
}

impl DropLog {
    fn new(what: &'static str) -> Self {
        DropLog {
            what,
            state: Mutex::new((0, None)),
        }
    }

    fn note(&self, reason: &str, subject: &str) {
        let mut state = lock(&self.state);
        state.0 += 1;
        let now = Instant::now();
        if state
            .1
            .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(1))
        {
            let count = std::mem::take(&mut state.0);
            state.1 = Some(now);
            drop(state);
            tracing::warn!(count, reason, subject, "{}", self.what);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---- the connection ---------------------------------------------------------------------

/// A connection that has passed the handshake.
struct Conn {
    stream: TcpStream,
    /// Bytes read past the handshake's PONG.
    rbuf: BytesMut,
    max_payload: usize,
    /// Subscriptions the server knows on this connection.
    sent: HashSet<u64>,
}

/// Connects, checks INFO, sends CONNECT (and `subs`) and waits for the PONG to our PING: the
/// server answers -ERR instead when it rejects the credentials.
async fn handshake(server: &Server, name: &str, subs: &[(u64, String)]) -> Result<Conn, String> {
    let at = &server.shown;
    let deadline = time::Instant::now() + CONNECT_TIMEOUT;
    let stream = match time::timeout_at(deadline, TcpStream::connect(&server.addr)).await {
        Err(_) => {
            return Err(format!(
                "cannot reach NATS at {at}: no connection within 5 s"
            ));
        }
        Ok(Err(err)) => return Err(format!("cannot reach NATS at {at}: {}", describe(&err))),
        Ok(Ok(stream)) => stream,
    };
    // Notifications are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let info = match time::timeout_at(deadline, read_op(&stream, &mut rbuf)).await {
        Err(_) => {
            return Err(format!(
                "NATS at {at} sent no INFO within 5 s; is it a NATS server?"
            ));
        }
        Ok(Err(cause)) => {
            return Err(format!(
                "NATS at {at} is not answering like a NATS server: {cause}"
            ));
        }
        Ok(Ok(ServerOp::Info(info))) => info,
        Ok(Ok(ServerOp::Err(message))) => {
            return Err(format!("NATS at {at} refused the connection: {message}"));
        }
        Ok(Ok(_)) => {
            return Err(format!(
                "NATS at {at} did not start with INFO; is it a NATS server?"
            ));
        }
    };
    let info = Info::parse(&info);
    if info.tls_required {
        return Err(format!(
            "NATS at {at} requires TLS, which confab's NATS client does not speak"
        ));
    }
    let max_payload = info.max_payload.unwrap_or(DEFAULT_MAX_PAYLOAD);
    let mut out = BytesMut::from(connect_line(server, name).as_bytes());
    let mut sent = HashSet::new();
    for (sid, subject) in subs {
        put_sub(&mut out, subject, *sid);
        sent.insert(*sid);
    }
    out.put_slice(b"PING\r\n");
    let confirmed = time::timeout_at(deadline, async {
        write_all(&stream, &out).await?;
        loop {
            match read_op(&stream, &mut rbuf).await? {
                ServerOp::Pong => return Ok(()),
                ServerOp::Ping => write_all(&stream, b"PONG\r\n").await?,
                ServerOp::Err(message) if message.to_ascii_lowercase().contains("permissions") => {
                    tracing::warn!(server = %at, %message, "NATS refused a subscription");
                }
                ServerOp::Err(message) => return Err(format!("refused the connection: {message}")),
                ServerOp::Info(_) | ServerOp::Ok | ServerOp::Msg { .. } => {}
            }
        }
    });
    match confirmed.await {
        Err(_) => Err(format!("NATS at {at} did not answer CONNECT within 5 s")),
        Ok(Err(cause)) => Err(format!("NATS at {at} {cause}")),
        Ok(Ok(())) => Ok(Conn {
            stream,
            rbuf,
            max_payload,
            sent,
        }),
    }
}

fn describe(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => err.to_string(),
    }
}

async fn read_op(stream: &TcpStream, rbuf: &mut BytesMut) -> Result<ServerOp, String> {
    loop {
        if let Some(op) = parse_op(rbuf)? {
            return Ok(op);
        }
        stream.readable().await.map_err(|e| describe(&e))?;
        read_into(stream, rbuf)?;
    }
}

/// Appends whatever the socket has to `rbuf`; a spurious wake-up reads nothing.
fn read_into(stream: &TcpStream, rbuf: &mut BytesMut) -> Result<(), String> {
    let start = rbuf.len();
    rbuf.resize(start + READ_CHUNK, 0);
    let result = stream.try_read(&mut rbuf[start..]);
    rbuf.truncate(start + result.as_ref().map_or(0, |n| *n));
    match result {
        Ok(0) => Err("the server closed the connection".into()),
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(err) => Err(describe(&err)),
    }
}

async fn write_all(stream: &TcpStream, mut buf: &[u8]) -> Result<(), String> {
    while !buf.is_empty() {
        stream.writable().await.map_err(|e| describe(&e))?;
        match stream.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(describe(&err)),
        }
    }
    Ok(())
}

fn put_sub(out: &mut BytesMut, subject: &str, sid: u64) {
    out.put_slice(format!("SUB {subject} {sid}\r\n").as_bytes());
}

/// Owns the connection for the client's lifetime: serves it, and when it is lost, reconnects
/// with backoff, cycling through the servers.
async fn run(
    shared: Arc<Shared>,
    servers: Vec<Server>,
    name: String,
    mut idx: usize,
    mut conn: Conn,
    mut rx: mpsc::Receiver<Command>,
) {
    loop {
        let mut closing = false;
        let cause = match serve(&shared, conn, &mut rx, &mut closing).await {
            Ok(()) => break,
            Err(_) if closing => break,
            Err(cause) => cause,
        };
        shared.connected.store(false, Ordering::Relaxed);
        tracing::warn!(server = %servers[idx].shown, %cause,
            "lost the connection to NATS; dropping notifications until it is back");
        let lost_at = Instant::now();
        let mut delay = BACKOFF_START;
        let mut attempts = 0u32;
        conn = loop {
            if while_down(&shared, &mut rx, time::sleep(delay))
                .await
                .is_none()
            {
                return;
            }
            delay = (delay * 2).min(BACKOFF_MAX);
            attempts += 1;
            let server = &servers[idx];
            let subs: Vec<(u64, String)> = lock(&shared.subs)
                .iter()
                .map(|(sid, sub)| (*sid, sub.subject.clone()))
                .collect();
            match while_down(&shared, &mut rx, handshake(server, &name, &subs)).await {
                None => return,
                Some(Ok(conn)) => break conn,
                Some(Err(cause)) => {
                    tracing::debug!(%cause, attempts, "NATS reconnect attempt failed");
                    idx = (idx + 1) % servers.len();
                }
            }
        };
        shared
            .max_payload
            .store(conn.max_payload, Ordering::Relaxed);
        shared.connected.store(true, Ordering::Relaxed);
        shared.reconnects.send_modify(|n| *n += 1);
        tracing::info!(server = %servers[idx].shown, attempts,
            outage_ms = lost_at.elapsed().as_millis() as u64, "reconnected to NATS");
    }
    shared.connected.store(false, Ordering::Relaxed);
}

/// Runs `fut` while keeping the queue moving; `None` if the client was closed meanwhile.
async fn while_down<T>(
    shared: &Shared,
    rx: &mut mpsc::Receiver<Command>,
    fut: impl Future<Output = T>,
) -> Option<T> {
    let mut fut = std::pin::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            command = rx.recv() => match command {
                None | Some(Command::Close) => return None,
                Some(Command::Publish { subject, .. }) => {
                    shared.publish_drops.note("not connected to NATS", &subject);
                }
                // Dropping `done` lets subscribe() return; the SUB goes out on reconnect.
                Some(Command::Subscribe { .. }) => {}
            },
        }
    }
}

/// Drives one connection until it fails (`Err` with the cause) or the client closes.
async fn serve(
    shared: &Shared,
    conn: Conn,
    rx: &mut mpsc::Receiver<Command>,
    closing: &mut bool,
) -> Result<(), String> {
    let Conn {
        stream,
        mut rbuf,
        mut sent,
        ..
    } = conn;
    let mut wbuf = BytesMut::with_capacity(WRITE_HIGH_WATER);
    // Subscriptions registered while the handshake was under way.
    for (sid, sub) in lock(&shared.subs).iter() {
        if sent.insert(*sid) {
            put_sub(&mut wbuf, &sub.subject, *sid);
        }
    }
    let mut waiters = VecDeque::new();
    let mut keepalives = 0u32;
    let mut ticker = time::interval_at(time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    loop {
        while let Some(op) =
            parse_op(&mut rbuf).map_err(|e| format!("bad data from server: {e}"))?
        {
            match op {
                ServerOp::Msg { sid, payload } => {
                    deliver(shared, sid, payload, &mut wbuf, &mut sent)
                }
                ServerOp::Ping => wbuf.put_slice(b"PONG\r\n"),
                ServerOp::Pong => match waiters.pop_front() {
                    Some(Waiter::Close) => return Ok(()),
                    Some(Waiter::Confirm(done)) => {
                        let _ = done.send(());
                    }
                    Some(Waiter::Keepalive) => keepalives = keepalives.saturating_sub(1),
                    None => {}
                },
                ServerOp::Info(info) => {
                    if let Some(max) = Info::parse(&info).max_payload {
                        shared.max_payload.store(max, Ordering::Relaxed);
                    }
                }
                ServerOp::Ok => {}
                // Fatal errors are followed by the server closing the socket; we reconnect then.
                ServerOp::Err(message) => shared.server_errors.note(&message, ""),
            }
        }
        tokio::select! {
            ready = stream.readable() => {
                ready.map_err(|e| describe(&e))?;
                read_into(&stream, &mut rbuf)?;
            }
            ready = stream.writable(), if !wbuf.is_empty() => {
                ready.map_err(|e| describe(&e))?;
                match stream.try_write(&wbuf) {
                    Ok(n) => wbuf.advance(n),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => return Err(describe(&err)),
                }
            }
            command = rx.recv(), if !*closing && wbuf.len() < WRITE_HIGH_WATER => {
                // Batch: take everything already queued (up to the high-water mark) so it
                // leaves in as few writes as possible.
                let mut next = command;
                loop {
                    match next {
                        None | Some(Command::Close) => {
                            // PONG to this PING means the server has processed every PUB.
                            *closing = true;
                            wbuf.put_slice(b"PING\r\n");
                            waiters.push_back(Waiter::Close);
                            break;
                        }
                        Some(Command::Publish { subject, payload }) => {
                            put_pub(shared, &mut wbuf, &subject, &payload);
                        }
                        Some(Command::Subscribe { sid, done }) => {
                            if sent.insert(sid)
                                && let Some(sub) = lock(&shared.subs).get(&sid)
                            {
                                put_sub(&mut wbuf, &sub.subject, sid);
                            }
                            wbuf.put_slice(b"PING\r\n");
                            waiters.push_back(Waiter::Confirm(done));
                        }
                    }
                    if wbuf.len() >= WRITE_HIGH_WATER {
                        break;
                    }
                    next = match rx.try_recv() {
                        Ok(command) => Some(command),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => None,
                    };
                }
            }
            _ = ticker.tick() => {
                if keepalives >= MAX_MISSED_PONGS {
                    return Err(format!("no PONG to {MAX_MISSED_PONGS} PINGs"));
                }
                wbuf.put_slice(b"PING\r\n");
                waiters.push_back(Waiter::Keepalive);
                keepalives += 1;
            }
        }
    }
}

fn put_pub(shared: &Shared, out: &mut BytesMut, subject: &str, payload: &Bytes) {
    // Checked again here: the limit can shrink when we reconnect to another server.
    if payload.len() > shared.max_payload.load(Ordering::Relaxed) {
        return shared
            .publish_drops
            .note("larger than the server's max_payload", subject);
    }
    out.put_slice(format!("PUB {subject} {}\r\n", payload.len()).as_bytes());
    out.put_slice(payload);
    out.put_slice(b"\r\n");
}

fn deliver(shared: &Shared, sid: u64, payload: Bytes, out: &mut BytesMut, sent: &mut HashSet<u64>) {
    let mut subs = lock(&shared.subs);
    let Some(sub) = subs.get(&sid) else {
        return;
    };
    match sub.tx.try_send(payload) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => shared
            .delivery_drops
            .note("subscriber queue full", &sub.subject),
        Err(TrySendError::Closed(_)) => {
            subs.remove(&sid);
            sent.remove(&sid);
            out.put_slice(format!("UNSUB {sid}\r\n").as_bytes());
        }
    }
}

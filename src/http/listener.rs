//! Accepting connections: the header timeout, the connection cap and a bounded shutdown.
//!
//! `axum::serve` sets no timer, so a connection that sends nothing, or its headers a byte at a
//! time, stays open for as long as the client likes, and graceful shutdown waits on it forever.
//! This loop serves each connection with hyper directly, with:
//!
//! - a header timeout, which hyper restarts whenever a connection waits for its next request,
//!   so it bounds silent, dribbling and idle keep-alive connections alike;
//! - a cap on open connections and sockets, below the descriptor limit. At the cap a new
//!   connection sheds the connection that has waited longest without a request in flight (a
//!   silent or dribbling one, or an idle keep-alive), and is refused only when every
//!   connection is busy with a request — never left waiting unanswered;
//! - a shutdown that stops accepting, lets requests in flight finish for a grace period and
//!   then closes whatever is left, whatever the clients do.
//!
//! WebSockets leave hyper once upgraded; they count against the same cap through
//! [`Connections::socket`], and keep themselves alive with pings (see `socket`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The open connections and sockets of one server, against its cap.
pub struct Connections {
    cap: usize,
    open: AtomicUsize,
    conns: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    started: Instant,
}

/// One HTTP connection as the cap sees it.
struct Slot {
    /// Requests in flight; a connection without one may be shed.
    busy: AtomicUsize,
    /// When `busy` last changed, in ms since the server started.
    since_ms: AtomicU64,
    /// Told when the connection is shed.
    shed: Notify,
}

/// Counts one open connection or socket until dropped.
pub struct Held {
    connections: Arc<Connections>,
    /// The connection's key in the registry; `None` for a socket.
    slot: Option<u64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(id) = self.slot.take() {
            self.connections.lock().remove(&id);
        }
        self.connections.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Marks a connection busy while a request is in flight.
struct Busy(Arc<Slot>, Arc<Connections>);

impl Busy {
    fn new(slot: Arc<Slot>, connections: Arc<Connections>) -> Self {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Self(slot, connections)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.since_ms.store(self.1.now_ms(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connections {
    /// A cap of `cap` connections and sockets together.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            open: AtomicUsize::new(0),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// The cap: `configured`, or when that is `0` the descriptor limit less `reserved`.
    pub fn cap_for(configured: usize, reserved: usize) -> usize {
        if configured > 0 {
            return configured;
        }
        descriptor_limit()
            .map(|limit| limit.saturating_sub(reserved).max(1))
            .unwrap_or(usize::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.conns.lock().expect("connection registry poisoned")
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Open connections and sockets.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Makes room for one more at the cap by shedding the connection idle longest; `false`
    /// when every connection is busy.
    fn make_room(&self) -> bool {
        if self.open() < self.cap {
            return true;
        }
        let mut conns = self.lock();
        let idlest = conns
            .iter()
            .filter(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, slot)| slot.since_ms.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        let Some(id) = idlest else {
            return false;
        };
        if let Some(slot) = conns.remove(&id) {
            slot.shed.notify_one();
        }
        crate::metrics::metrics().connections_shed.inc();
        true
    }

    fn hold_connection(self: &Arc<Self>) -> (Held, Arc<Slot>) {
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            since_ms: AtomicU64::new(self.now_ms()),
            shed: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, slot.clone());
        self.open.fetch_add(1, Ordering::AcqRel);
        let held = Held {
            connections: self.clone(),
            slot: Some(id),
        };
        (held, slot)
    }

    /// Counts an upgraded socket against the cap until the returned guard drops. Sockets are
    /// never shed for new connections: they are closed by their own keepalive and limits.
    pub fn socket(self: &Arc<Self>) -> Held {
        self.open.fetch_add(1, Ordering::AcqRel);
        Held {
            connections: self.clone(),
            slot: None,
        }
    }
}

/// The soft limit on open descriptors of this process, as Linux reports it in
/// `/proc/self/limits`; elsewhere `None`, and the cap is `--max-connections`.
fn descriptor_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How the loop treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ListenerSettings {
    /// Time for a request's headers, from when the connection waits for them.
    pub header_timeout: Duration,
    /// Time requests in flight get to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down within the grace
/// period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    connections: Arc<Connections>,
    settings: ListenerSettings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    let (closing_tx, closing) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connections so the set does not grow without bound.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of descriptors (or a connection reset before accept): say so at most
                // once a second, and give connections a moment to close.
                if last_accept_error.is_none_or(|at| at.elapsed() > Duration::from_secs(1)) {
                    tracing::warn!(error = %err, open = connections.open(), "cannot accept a connection");
                    last_accept_error = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if !connections.make_room() {
            crate::metrics::metrics().connections_refused.inc();
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (held, slot) = connections.hold_connection();
        let service = {
            let (router, slot, connections) = (router.clone(), slot.clone(), connections.clone());
            hyper::service::service_fn(move |req: Request<Incoming>| {
                let busy = Busy::new(slot.clone(), connections.clone());
                let call = router.clone().oneshot(req.map(axum::body::Body::new));
                async move {
                    let response = call.await;
                    drop(busy);
                    response
                }
            })
        };
        let connection = http
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut closing = closing.clone();
        tasks.spawn(async move {
            let _held = held;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = slot.shed.notified() => {}
                _ = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(settings.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "closing connections still open after the shutdown grace period"
        );
        tasks.shutdown().await;
    }
    Ok(())
}

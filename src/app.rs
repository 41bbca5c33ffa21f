//! Builds confab from a [`Config`] and serves it on a listener it is given, so tests can bind
//! port 0 and shut it down with a future of their own.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::bus::nats::Nats;
use crate::config::{Config, DatabaseArgs};
use crate::http::{self, AppState};
use crate::realtime::{self, CloseReason, Fanout};
use crate::service::Service;
use crate::store::postgres::PgStore;
use crate::store::sqlite::{SqliteStore, path_from_url};
use crate::store::{FeedItem, FeedSink, Store};

/// Committed changes waiting for the dispatcher; when full, the writer waits (backpressure).
const FEED_DEPTH: usize = 8192;

/// The bus subject every node publishes its live events to.
pub const BUS_SUBJECT: &str = "confab.live";

/// Opens the store a database URL names, publishing committed changes to `feed`.
pub async fn open_store(
    database: &DatabaseArgs,
    feed: Option<FeedSink>,
) -> Result<Arc<dyn Store>, String> {
    let url = database.url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::open(url, database.pool(), feed).await?;
        return Ok(Arc::new(store));
    }
    if url.contains("://") && !url.starts_with("sqlite:") {
        return Err(format!(
            "unsupported database URL '{url}': use sqlite://PATH or postgres://…"
        ));
    }
    let path = path_from_url(url);
    let store = SqliteStore::open(&path, feed)
        .map_err(|e| format!("cannot open SQLite database {}: {e}", path.display()))?;
    Ok(Arc::new(store))
}

/// A ready-to-serve confab.
pub struct App {
    service: Service,
    feed: mpsc::Receiver<FeedItem>,
    incoming: Option<mpsc::Receiver<bytes::Bytes>>,
}

impl App {
    /// Connects to the bus (if configured) and opens the database (running migrations), then
    /// builds the services. Fails fast, with the reason, when either is unreachable.
    pub async fn open(config: &Config) -> Result<Self, String> {
        let fanout = match &config.bus {
            Some(url) => {
                let nats = Nats::connect(url, "confab").await?;
                Fanout::with_bus(nats, BUS_SUBJECT)
            }
            None => Fanout::default(),
        };
        let (feed_tx, feed) = mpsc::channel(FEED_DEPTH);
        let store = match open_store(&config.database, Some(feed_tx)).await {
            Ok(store) => store,
            Err(err) => {
                fanout.close().await;
                return Err(err);
            }
        };
        let incoming = fanout.subscribe().await;
        let service = Service::new(store, fanout, config.service());
        Ok(Self {
            service,
            feed,
            incoming,
        })
    }

    /// The service layer (for tooling and tests).
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves: then closes every socket, lets in-flight requests
    /// finish, commits what is queued and closes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let fanout = self.service.fanout().clone();
        let hub = fanout.hub().clone();
        let listener_task = self
            .incoming
            .map(|incoming| tokio::spawn(fanout.clone().listen(incoming)));
        let dispatcher = tokio::spawn(realtime::dispatch(self.feed, fanout.clone()));
        let router = http::router(AppState {
            service: self.service.clone(),
        });
        let shutdown = async move {
            shutdown.await;
            // Upgraded sockets are not part of graceful shutdown; they close themselves.
            hub.close_all(CloseReason::Shutdown);
        };
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        self.service.store().close().await;
        drop(self.service);
        let _ = dispatcher.await;
        fanout.close().await;
        if let Some(task) = listener_task {
            task.abort();
        }
        served
    }
}

//! Builds confab from a [`Config`] and serves it on a listener it is given, so tests can bind
//! port 0 and shut it down with a future of their own.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::realtime::{self, CloseReason, Hub};
use crate::service::Service;
use crate::store::sqlite::{SqliteStore, path_from_url};
use crate::store::{FeedItem, FeedSink, Store};

/// Committed changes waiting for the dispatcher; when full, the writer waits (backpressure).
const FEED_DEPTH: usize = 8192;

/// Opens the store a database URL names, publishing committed changes to `feed`.
pub fn open_store(url: &str, feed: Option<FeedSink>) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err("PostgreSQL databases are not supported by this build of confab".into());
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
}

impl App {
    /// Opens the database (running migrations) and builds the services.
    pub fn open(config: &Config) -> Result<Self, String> {
        let (feed_tx, feed) = mpsc::channel(FEED_DEPTH);
        let store = open_store(&config.database.url, Some(feed_tx))?;
        let service = Service::new(store, Hub::default(), config.service());
        Ok(Self { service, feed })
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
        let hub = self.service.hub().clone();
        let dispatcher = tokio::spawn(realtime::dispatch(self.feed, hub.clone()));
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
        let _ = dispatcher.await;
        served
    }
}

//! Builds confab from a [`Config`] and serves it on a listener it is given, so tests can bind
//! port 0 and shut it down with a future of their own.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::service::{Service, ServiceConfig};
use crate::store::Store;
use crate::store::sqlite::{SqliteStore, path_from_url};

/// Opens the store a database URL names.
pub fn open_store(url: &str) -> Result<Arc<dyn Store>, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err("PostgreSQL databases are not supported by this build of confab".into());
    }
    let path = path_from_url(url);
    let store = SqliteStore::open(&path)
        .map_err(|e| format!("cannot open SQLite database {}: {e}", path.display()))?;
    Ok(Arc::new(store))
}

/// A ready-to-serve confab.
pub struct App {
    service: Service,
}

impl App {
    /// Opens the database (running migrations) and builds the services.
    pub fn open(config: &Config) -> Result<Self, String> {
        let store = open_store(&config.database.url)?;
        let service = Service::new(
            store,
            ServiceConfig {
                ticket_ttl: config.ticket_ttl(),
            },
        );
        Ok(Self { service })
    }

    /// The service layer (for tooling and tests).
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then commits what is
    /// queued and closes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = http::router(AppState {
            service: self.service.clone(),
        });
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        self.service.store().close().await;
        served
    }
}

//! Builds confab from a [`Config`] and serves it on a listener it is given, so tests can bind
//! port 0 and shut it down with a future of their own.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::bus::nats::Nats;
use crate::config::{Config, DatabaseArgs, Limits, WebhookArgs, WebhookSettings};
use crate::http::listener::{self, Connections, ListenerSettings};
use crate::http::rate::RateLimits;
use crate::http::{self, AppState, Media, SocketSettings};
use crate::media::MediaStore;
use crate::realtime::{self, CloseReason, Fanout};
use crate::service::Service;
use crate::store::postgres::PgStore;
use crate::store::sqlite::{ServingLock, SqliteStore, path_from_url};
use crate::store::{FeedItem, FeedSink, Store};

/// Committed changes waiting for the dispatcher; when full, the writer waits (backpressure).
const FEED_DEPTH: usize = 8192;

/// The bus subject every node publishes its live events to.
pub const BUS_SUBJECT: &str = "confab.live";

/// Which backend a database URL names: the one place URLs are told apart.
enum Backend<'a> {
    Postgres(&'a str),
    Sqlite(std::path::PathBuf),
}

impl<'a> Backend<'a> {
    fn of(url: &'a str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url))
        } else if url.contains("://") && !url.starts_with("sqlite:") {
            Err(format!(
                "unsupported database URL '{url}': use sqlite://PATH or postgres://…"
            ))
        } else {
            Ok(Self::Sqlite(path_from_url(url)))
        }
    }

    /// The media folder used when none is configured: beside an SQLite database, or under
    /// the working directory.
    fn default_media(&self) -> String {
        match self {
            Self::Sqlite(path) => match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(dir) => dir.join("media").display().to_string(),
                None => "media".into(),
            },
            Self::Postgres(_) => "confab-data/media".into(),
        }
    }
}

/// Opens the store a database URL names, publishing committed changes to `feed`.
pub async fn open_store(
    database: &DatabaseArgs,
    feed: Option<FeedSink>,
) -> Result<Arc<dyn Store>, String> {
    match Backend::of(&database.url)? {
        Backend::Postgres(url) => Ok(Arc::new(PgStore::open(url, database.pool(), feed).await?)),
        Backend::Sqlite(path) => {
            let store = SqliteStore::open(&path, feed)
                .map_err(|e| format!("cannot open SQLite database {}: {e}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The webhook settings of `args`, with the key that seals endpoint secrets: the one given,
/// or with SQLite and none given, the one in `webhook.key` beside the database (made on first
/// use, readable by its owner only). With PostgreSQL and no key, webhooks cannot be added.
pub fn webhook_settings(
    args: &WebhookArgs,
    database: &DatabaseArgs,
) -> Result<WebhookSettings, String> {
    let key = match (&args.key, Backend::of(&database.url)?) {
        (Some(key), _) => Some(crate::service::parse_webhook_key(key)?),
        (None, Backend::Postgres(_)) => None,
        (None, Backend::Sqlite(path)) => {
            let file = path
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join("webhook.key");
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    let key = crate::service::new_webhook_key();
                    write_private(&file, &key)
                        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                    key
                }
                Err(err) => return Err(format!("cannot read {}: {err}", file.display())),
            };
            Some(crate::service::parse_webhook_key(&text)?)
        }
    };
    Ok(args.settings(key))
}

/// Creates `file` with `text`, readable and writable by its owner only.
fn write_private(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?.write_all(text.as_bytes())
}

/// A ready-to-serve confab.
pub struct App {
    service: Service,
    feed: mpsc::Receiver<FeedItem>,
    incoming: Option<mpsc::Receiver<bytes::Bytes>>,
    limits: Limits,
    media: Media,
    /// Held while serving an SQLite database, so that a second server on it refuses to start.
    _serving: Option<ServingLock>,
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
        fanout
            .hub()
            .set_sockets_per_user(config.limits.sockets_per_user);
        let serving = Backend::of(&config.database.url).and_then(|backend| {
            let spec = (config.media.store.clone()).unwrap_or_else(|| backend.default_media());
            let media = MediaStore::open(&spec, &config.media.s3_settings)?;
            let lock = match backend {
                Backend::Postgres(_) => None,
                Backend::Sqlite(path) => Some(ServingLock::take(&path)?),
            };
            Ok((lock, media))
        });
        let (serving, media) = match serving {
            Ok(opened) => opened,
            Err(err) => {
                fanout.close().await;
                return Err(err);
            }
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
        let mut service_config = config.service();
        service_config.webhooks = match webhook_settings(&config.webhooks, &config.database) {
            Ok(settings) => settings,
            Err(err) => {
                fanout.close().await;
                return Err(err);
            }
        };
        let service = Service::new(store, fanout, service_config);
        if let Err(err) = service.load_webhook_endpoints().await {
            service.store().close().await;
            service.fanout().close().await;
            return Err(format!("cannot read the webhook endpoints: {err:?}"));
        }
        Ok(Self {
            service,
            feed,
            incoming,
            limits: config.limits,
            media: Media {
                store: media,
                max_bytes: config.media.max_bytes,
                public_url: config
                    .media
                    .public_url
                    .as_ref()
                    .map(|url| url.trim_end_matches('/').to_owned()),
                uploads: http::upload_turns(config.media.concurrent_uploads),
            },
            _serving: serving,
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
        let key_watch = tokio::spawn(self.service.clone().watch_key_revocations());
        let scheduler = tokio::spawn(self.service.clone().run_scheduler());
        let webhooks = tokio::spawn(self.service.clone().run_webhooks());
        let webhook_watch = tokio::spawn(self.service.clone().watch_webhook_endpoints());
        let limits = self.limits;
        let connections = Connections::new(Connections::cap_for(
            limits.max_connections,
            limits.reserved_descriptors,
        ));
        let rates = Arc::new(RateLimits::new(&limits));
        let forgetting = tokio::spawn({
            let rates = rates.clone();
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    rates.forget_quiet();
                }
            }
        });
        let router = http::router(
            AppState {
                service: self.service.clone(),
                rates,
                connections: connections.clone(),
                syncs: http::sync_permits(),
                media: self.media,
                sockets: SocketSettings {
                    ping_interval: Duration::from_secs(limits.socket_ping_secs.max(1)),
                    write_timeout: Duration::from_secs(limits.socket_write_timeout_secs.max(1)),
                },
            },
            Duration::from_secs(limits.body_timeout_secs.max(1)),
        );
        let shutdown = async move {
            shutdown.await;
            // Upgraded sockets are not part of the listener's shutdown; they close themselves.
            hub.close_all(CloseReason::Shutdown);
        };
        let settings = ListenerSettings {
            header_timeout: Duration::from_secs(limits.header_timeout_secs.max(1)),
            shutdown_grace: Duration::from_secs(limits.shutdown_grace_secs),
        };
        let served = listener::serve(listener, router, connections, settings, shutdown).await;
        key_watch.abort();
        scheduler.abort();
        webhooks.abort();
        webhook_watch.abort();
        forgetting.abort();
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

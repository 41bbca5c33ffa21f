//! One configuration, from command-line flags and `CONFAB_*` environment variables, and the
//! settings values it produces for the PostgreSQL pool ([`PoolSettings`]) and the service
//! layer ([`ServiceConfig`]). It imports no other confab module, so every layer may read it.

use std::time::Duration;

use clap::Args;

/// Default database: an SQLite file under `confab-data/` in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://confab-data/confab.db";

/// Default PostgreSQL pool size, connect timeout and statement timeout (seconds).
const DEFAULT_POOL_SIZE: usize = 16;
const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 5;
const DEFAULT_STATEMENT_TIMEOUT_SECS: u64 = 30;

/// Where the data lives; shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (relative), `sqlite:///ABSOLUTE/PATH`, or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` for several nodes sharing one database.
    #[arg(long = "database", env = "CONFAB_DATABASE", default_value = DEFAULT_DATABASE)]
    pub url: String,

    /// PostgreSQL: most connections this node opens.
    #[arg(
        long = "db-pool-size",
        env = "CONFAB_DB_POOL_SIZE",
        default_value_t = DEFAULT_POOL_SIZE
    )]
    pub pool_size: usize,

    /// PostgreSQL: seconds to wait to connect, or for a free pooled connection.
    #[arg(
        long = "db-connect-timeout-secs",
        env = "CONFAB_DB_CONNECT_TIMEOUT_SECS",
        default_value_t = DEFAULT_CONNECT_TIMEOUT_SECS
    )]
    pub connect_timeout_secs: u64,

    /// PostgreSQL: seconds one statement may run before the server cancels it.
    #[arg(
        long = "db-statement-timeout-secs",
        env = "CONFAB_DB_STATEMENT_TIMEOUT_SECS",
        default_value_t = DEFAULT_STATEMENT_TIMEOUT_SECS
    )]
    pub statement_timeout_secs: u64,
}

impl DatabaseArgs {
    /// The given database with every pool setting at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            statement_timeout_secs: DEFAULT_STATEMENT_TIMEOUT_SECS,
        }
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact_password(&self.url)
    }

    /// PostgreSQL pool settings.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.pool_size,
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.max(1)),
            statement_timeout: Duration::from_secs(self.statement_timeout_secs.max(1)),
        }
    }
}

/// `scheme://user:password@host…` with the password replaced by `***`; other URLs unchanged.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Connection settings of the pool, from `confab serve`'s flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections this node opens.
    pub max_connections: usize,
    /// Longest wait to open a connection or to get one from the pool.
    pub connect_timeout: Duration,
    /// Longest a single statement may run before PostgreSQL cancels it.
    pub statement_timeout: Duration,
}

/// Settings of `confab serve`.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "CONFAB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// NATS URL(s) for realtime fan-out between nodes, e.g. `nats://127.0.0.1:4222`
    /// (comma-separated for a cluster). Without it, fan-out stays in this process.
    #[arg(long, env = "CONFAB_BUS")]
    pub bus: Option<String>,

    /// Seconds an auth ticket stays exchangeable.
    #[arg(long, env = "CONFAB_TICKET_TTL_SECS", default_value_t = 3600)]
    pub ticket_ttl_secs: u64,

    /// Seconds an access token is valid.
    #[arg(long, env = "CONFAB_ACCESS_TOKEN_TTL_SECS", default_value_t = 86_400)]
    pub access_token_ttl_secs: u64,

    /// Seconds a refresh token is valid.
    #[arg(
        long,
        env = "CONFAB_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 2_592_000
    )]
    pub refresh_token_ttl_secs: u64,

    /// Connection and socket limits.
    #[command(flatten)]
    pub limits: Limits,

    /// Where uploaded files go.
    #[command(flatten)]
    pub media: MediaArgs,

    /// Webhook delivery.
    #[command(flatten)]
    pub webhooks: WebhookArgs,
}

/// Webhook settings, shared by `serve` and the `webhook` commands.
#[derive(Debug, Clone, Args)]
pub struct WebhookArgs {
    /// The key that seals webhook secrets in the database: 64 hex digits. With SQLite and no
    /// key, confab keeps one in `webhook.key` beside the database; with PostgreSQL every node
    /// needs the same key.
    #[arg(
        long = "webhook-key",
        env = "CONFAB_WEBHOOK_KEY",
        hide_env_values = true
    )]
    pub key: Option<String>,

    /// Allow webhook URLs on loopback and private addresses (refused by default, so that a
    /// webhook cannot reach internal services).
    #[arg(long = "webhook-allow-private", env = "CONFAB_WEBHOOK_ALLOW_PRIVATE")]
    pub allow_private: bool,

    /// Seconds an endpoint has to answer a delivery.
    #[arg(
        long = "webhook-timeout-secs",
        env = "CONFAB_WEBHOOK_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub timeout_secs: u64,

    /// Hours a failing delivery is retried before it is marked failed (it stays replayable).
    #[arg(
        long = "webhook-retry-hours",
        env = "CONFAB_WEBHOOK_RETRY_HOURS",
        default_value_t = 24
    )]
    pub retry_hours: u64,

    /// Days delivered events are kept for replay.
    #[arg(
        long = "webhook-retention-days",
        env = "CONFAB_WEBHOOK_RETENTION_DAYS",
        default_value_t = 7
    )]
    pub retention_days: u64,
}

impl Default for WebhookArgs {
    fn default() -> Self {
        Self {
            key: None,
            allow_private: false,
            timeout_secs: 10,
            retry_hours: 24,
            retention_days: 7,
        }
    }
}

impl WebhookArgs {
    /// The service's webhook settings, with the sealing key already resolved.
    pub fn settings(&self, key: Option<[u8; 32]>) -> WebhookSettings {
        WebhookSettings {
            key: key.map(SealingKey),
            allow_private: self.allow_private,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            retry_for: Duration::from_secs(self.retry_hours.saturating_mul(3600)),
            retention: Duration::from_secs(self.retention_days.saturating_mul(86_400)),
        }
    }
}

/// The key that seals webhook secrets; never shown by `Debug`.
#[derive(Clone)]
pub struct SealingKey(pub [u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// Webhook settings as the service uses them.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Seals and unseals endpoint secrets; `None` when none was configured (then endpoints
    /// can be neither added nor delivered to).
    pub key: Option<SealingKey>,
    /// Whether private and loopback addresses are allowed.
    pub allow_private: bool,
    /// How long an endpoint has to answer.
    pub timeout: Duration,
    /// How long a failing delivery is retried.
    pub retry_for: Duration,
    /// How long delivered events are kept for replay.
    pub retention: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookArgs::default().settings(None)
    }
}

/// Default largest upload: 25 MiB, the SDKs' own default.
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// Where uploaded files are kept, and how large one may be.
#[derive(Debug, Clone, Args)]
pub struct MediaArgs {
    /// Media store: `s3://BUCKET` for an S3-compatible bucket (endpoint, region and
    /// credentials from `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`; `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint), or a folder.
    /// Default: `media/` beside the SQLite database, or `confab-data/media` with PostgreSQL.
    /// Several nodes need a bucket they all reach.
    #[arg(long = "media-store", env = "CONFAB_MEDIA_STORE")]
    pub store: Option<String>,

    /// Largest file a client may upload, in bytes (reported to the SDKs as
    /// `chatMediaMaxFileSize`).
    #[arg(long = "media-max-bytes", env = "CONFAB_MEDIA_MAX_BYTES", default_value_t = DEFAULT_MEDIA_MAX_BYTES)]
    pub max_bytes: u64,

    /// Uploads that read their file at once (the others wait their turn, a slow client gives
    /// its turn back); `0`: one per core.
    #[arg(
        long = "concurrent-uploads",
        env = "CONFAB_CONCURRENT_UPLOADS",
        default_value_t = 0
    )]
    pub concurrent_uploads: usize,

    /// The address clients reach this server at (`https://chat.example.com`), for the links
    /// of profile and room photos; default: `http://` and the `Host` of the upload request.
    #[arg(long = "public-url", env = "CONFAB_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// S3 settings that take precedence over the `AWS_*` variables, by `object_store`'s key
    /// names (`aws_endpoint`, `aws_access_key_id`…): for embedding confab, where a process's
    /// environment is shared. Not a flag.
    #[arg(skip)]
    pub s3_settings: Vec<(String, String)>,
}

/// How long a client may take and how much it may hold: what keeps one slow or hostile client
/// from holding the server's descriptors, memory or shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct Limits {
    /// Seconds a connection may take to send a request's headers, counted from when it opens
    /// or finishes its previous request; so also how long an idle keep-alive connection stays.
    #[arg(long, env = "CONFAB_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a request body may take to arrive.
    #[arg(long, env = "CONFAB_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// Most open HTTP connections and WebSockets together; `0`: the process's descriptor
    /// limit less `--reserved-descriptors`. At the cap, a new connection sheds the connection
    /// that has been idle longest, or is refused when every connection is busy.
    #[arg(long, env = "CONFAB_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Descriptors kept free for the database, the bus and the listener when the connection
    /// cap is derived from the descriptor limit.
    #[arg(long, env = "CONFAB_RESERVED_DESCRIPTORS", default_value_t = 64)]
    pub reserved_descriptors: usize,

    /// Most WebSockets one user may hold; a further one closes their oldest (code 4009).
    #[arg(long, env = "CONFAB_SOCKETS_PER_USER", default_value_t = 16)]
    pub sockets_per_user: usize,

    /// Seconds between pings on an idle WebSocket; one that answers nothing for two intervals
    /// is closed.
    #[arg(long, env = "CONFAB_SOCKET_PING_SECS", default_value_t = 30)]
    pub socket_ping_secs: u64,

    /// Seconds a write to a WebSocket may wait on a client that does not read.
    #[arg(long, env = "CONFAB_SOCKET_WRITE_TIMEOUT_SECS", default_value_t = 10)]
    pub socket_write_timeout_secs: u64,

    /// Seconds SIGTERM waits for requests in flight before closing what is left.
    #[arg(long, env = "CONFAB_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Requests per second one app may make with its `Server-Key`, and again with its
    /// `App-Key`, with bursts of twice that; `0`: no limit.
    #[arg(long, env = "CONFAB_RATE_PER_KEY", default_value_t = 100_000)]
    pub rate_per_key: u32,

    /// Client requests and socket frames per second one user may make, with bursts of twice
    /// that; `0`: no limit.
    #[arg(long, env = "CONFAB_RATE_PER_USER", default_value_t = 1_000)]
    pub rate_per_user: u32,

    /// Frames per second one socket may send, with bursts of twice that; `0`: no limit.
    #[arg(long, env = "CONFAB_RATE_PER_SOCKET", default_value_t = 1_000)]
    pub rate_per_socket: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout_secs: 10,
            body_timeout_secs: 30,
            max_connections: 0,
            reserved_descriptors: 64,
            sockets_per_user: 16,
            socket_ping_secs: 30,
            socket_write_timeout_secs: 10,
            shutdown_grace_secs: 10,
            rate_per_key: 100_000,
            rate_per_user: 1_000,
            rate_per_socket: 1_000,
        }
    }
}

impl Config {
    /// A configuration for the given database with every other setting at its default.
    pub fn for_database(url: impl Into<String>) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            database: DatabaseArgs::new(url),
            bus: None,
            ticket_ttl_secs: 3600,
            access_token_ttl_secs: 86_400,
            refresh_token_ttl_secs: 2_592_000,
            limits: Limits::default(),
            media: MediaArgs {
                store: None,
                max_bytes: DEFAULT_MEDIA_MAX_BYTES,
                public_url: None,
                concurrent_uploads: 0,
                s3_settings: Vec::new(),
            },
            webhooks: WebhookArgs::default(),
        }
    }

    /// The service settings this configuration implies.
    pub fn service(&self) -> ServiceConfig {
        ServiceConfig {
            ticket_ttl: Duration::from_secs(self.ticket_ttl_secs),
            access_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// Service-level settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long an auth ticket can be exchanged.
    pub ticket_ttl: Duration,
    /// How long an access token is valid.
    pub access_ttl: Duration,
    /// How long a refresh token is valid.
    pub refresh_ttl: Duration,
    /// Webhook delivery (its key is resolved when the app opens).
    pub webhooks: WebhookSettings,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            ticket_ttl: Duration::from_secs(3600),
            access_ttl: Duration::from_secs(24 * 3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            webhooks: WebhookSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_never_leave_a_url_shown_to_people() {
        assert_eq!(
            redact_password("postgres://confab:s3cr%40t@db:5432/chat"),
            "postgres://confab:***@db:5432/chat"
        );
        assert_eq!(
            redact_password("postgres://confab@db/chat"),
            "postgres://confab@db/chat"
        );
        assert_eq!(
            redact_password("sqlite://confab-data/confab.db"),
            "sqlite://confab-data/confab.db"
        );
        assert_eq!(redact_password("nats://u:p@h:4222"), "nats://u:***@h:4222");
    }
}

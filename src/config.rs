//! One configuration, from command-line flags and `CONFAB_*` environment variables.

use std::time::Duration;

use clap::Args;

use crate::service::ServiceConfig;

/// Default database: an SQLite file under `confab-data/` in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://confab-data/confab.db";

/// Where the data lives; shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (relative) or `sqlite:///ABSOLUTE/PATH`.
    #[arg(long = "database", env = "CONFAB_DATABASE", default_value = DEFAULT_DATABASE)]
    pub url: String,
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
}

impl Config {
    /// A configuration for the given database with every other setting at its default.
    pub fn for_database(url: impl Into<String>) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            database: DatabaseArgs { url: url.into() },
            ticket_ttl_secs: 3600,
            access_token_ttl_secs: 86_400,
            refresh_token_ttl_secs: 2_592_000,
        }
    }

    /// The service settings this configuration implies.
    pub fn service(&self) -> ServiceConfig {
        ServiceConfig {
            ticket_ttl: Duration::from_secs(self.ticket_ttl_secs),
            access_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
        }
    }
}

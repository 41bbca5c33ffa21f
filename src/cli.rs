//! The command line: `serve`, and key management for the Server API and the client SDKs.

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::app::{App, open_store};
use crate::config::{Config, DatabaseArgs};
use crate::domain::secret::KeyKind;
use crate::realtime::Fanout;
use crate::service::{Service, ServiceConfig};

/// confab: a self-hosted chat backend speaking the PowerTalk (TapTalk.io) protocol.
#[derive(Debug, Parser)]
#[command(name = "confab", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<Config>),
    /// Manage `Server-Key`s, used by the customer's backend.
    #[command(subcommand)]
    ServerKey(KeyCommand),
    /// Manage `App-Key`s, used by the client SDKs.
    #[command(subcommand)]
    AppKey(KeyCommand),
}

/// Key management.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it, with its secret, once.
    Create {
        /// App (tenant) the key belongs to; created if it does not exist.
        #[arg(long, default_value = "default")]
        app: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List keys (without secrets), one JSON object per line.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key by its ID.
    Revoke {
        /// The key ID.
        id: String,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Runs a parsed command line to completion.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(config) => serve(*config).await,
        Command::ServerKey(cmd) => keys(KeyKind::Server, cmd).await,
        Command::AppKey(cmd) => keys(KeyKind::App, cmd).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let app = App::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Listening for the signals before saying so: a SIGTERM right after the announcement
    // must shut down gracefully, not kill the process.
    let shutdown = shutdown_signal()?;
    tracing::info!(%addr, database = %config.database.redacted_url(), "confab is serving");
    app.serve(listener, shutdown)
        .await
        .map_err(|e| format!("server failed: {e}"))?;
    tracing::info!("confab stopped");
    Ok(())
}

/// A future that resolves on Ctrl-C or SIGTERM; the handlers are installed before it returns.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}

async fn keys(kind: KeyKind, cmd: KeyCommand) -> Result<(), String> {
    let database = match &cmd {
        KeyCommand::Create { database, .. }
        | KeyCommand::List { database }
        | KeyCommand::Revoke { database, .. } => database.clone(),
    };
    let service = Service::new(
        open_store(&database, None).await?,
        Fanout::default(),
        ServiceConfig::default(),
    );
    let result = key_command(&service, kind, cmd).await;
    service.store().close().await;
    result
}

async fn key_command(service: &Service, kind: KeyKind, cmd: KeyCommand) -> Result<(), String> {
    let secret_name = match kind {
        KeyKind::Server => ("serverKeyID", "serverKeySecret"),
        KeyKind::App => ("appKeyID", "appKeySecret"),
    };
    match cmd {
        KeyCommand::Create { app, .. } => {
            let (record, key) = service
                .create_key(&app, kind)
                .await
                .map_err(|e| format!("cannot create key: {e:?}"))?;
            println!(
                "{}",
                json!({
                    "app": record.app_name,
                    secret_name.0: key.id,
                    secret_name.1: key.secret,
                    "header": key.header_value(),
                })
            );
        }
        KeyCommand::List { .. } => {
            for k in service
                .list_keys(kind)
                .await
                .map_err(|e| format!("cannot list keys: {e:?}"))?
            {
                println!(
                    "{}",
                    json!({"app": k.app_name, secret_name.0: k.key_id, "created": k.created,
                           "revoked": k.revoked != 0, "revokedAt": k.revoked})
                );
            }
        }
        KeyCommand::Revoke { id, .. } => {
            let revoked = service
                .revoke_key(kind, &id)
                .await
                .map_err(|e| format!("cannot revoke key: {e:?}"))?;
            if !revoked {
                return Err(format!("no active {} key with ID {id}", kind.as_str()));
            }
            // Running servers look for revocations several times in this span: when the
            // command returns, every one of them refuses the key.
            tokio::time::sleep(crate::service::KEY_REVOCATION_SEEN).await;
            println!("{}", json!({"revoked": id}));
        }
    }
    Ok(())
}

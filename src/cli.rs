//! The command line: `serve`, and key management for the Server API and the client SDKs.

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::app::{App, open_store, webhook_settings};
use crate::config::{Config, DatabaseArgs, WebhookArgs};
use crate::domain::secret::KeyKind;
use crate::domain::webhook::Filter;
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
    /// Manage webhook endpoints, which hear every message event of an app.
    #[command(subcommand)]
    Webhook(WebhookCommand),
}

/// Webhook management.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint and print it, with its signing secret, once.
    Add {
        /// The app whose events it hears.
        #[arg(long, default_value = "default")]
        app: String,
        /// Where events are posted (`http` or `https`).
        #[arg(long = "url")]
        endpoint: String,
        /// Only these message types (comma-separated, e.g. `1001,9001`); all by default.
        #[arg(long, value_delimiter = ',')]
        message_types: Vec<i64>,
        /// Only rooms of these types (comma-separated: 1 personal, 2 group, 3 channel,
        /// 4 transaction); all by default.
        #[arg(long, value_delimiter = ',')]
        room_types: Vec<i64>,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
        /// Webhook settings (the key that seals the secret; private addresses).
        #[command(flatten)]
        webhooks: WebhookArgs,
    },
    /// List endpoints with their delivery status, one JSON object per line.
    List {
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Remove an endpoint and what it still had to deliver.
    Remove {
        /// The endpoint's ID.
        id: i64,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Deliver again, in order, every event recorded from a time on.
    Replay {
        /// The endpoint's ID.
        id: i64,
        /// Unix time in milliseconds.
        #[arg(long)]
        since: i64,
        /// The database.
        #[command(flatten)]
        database: DatabaseArgs,
    },
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
        Command::Webhook(cmd) => webhooks(cmd).await,
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

async fn webhooks(cmd: WebhookCommand) -> Result<(), String> {
    let (database, args) = match &cmd {
        WebhookCommand::Add {
            database, webhooks, ..
        } => (database.clone(), webhooks.clone()),
        WebhookCommand::List { database }
        | WebhookCommand::Remove { database, .. }
        | WebhookCommand::Replay { database, .. } => (database.clone(), WebhookArgs::default()),
    };
    let config = ServiceConfig {
        webhooks: webhook_settings(&args, &database)?,
        ..ServiceConfig::default()
    };
    let service = Service::new(
        open_store(&database, None).await?,
        Fanout::default(),
        config,
    );
    let result = webhook_command(&service, cmd).await;
    service.store().close().await;
    result
}

async fn webhook_command(service: &Service, cmd: WebhookCommand) -> Result<(), String> {
    match cmd {
        WebhookCommand::Add {
            app,
            endpoint,
            message_types,
            room_types,
            ..
        } => {
            let filter = Filter {
                message_types,
                room_types,
            };
            let added = service
                .add_webhook_to(&app, &endpoint, filter)
                .await
                .map_err(|e| format!("cannot add the webhook: {}", refusal(&e)))?;
            let mut line = crate::wire::webhook(&added.endpoint);
            line["secret"] = json!(added.secret);
            println!("{line}");
        }
        WebhookCommand::List { .. } => {
            for endpoint in service
                .webhooks(None)
                .await
                .map_err(|e| format!("cannot list webhooks: {e:?}"))?
            {
                println!("{}", crate::wire::webhook(&endpoint));
            }
        }
        WebhookCommand::Remove { id, .. } => {
            let removed = service
                .remove_webhook(None, id)
                .await
                .map_err(|e| format!("cannot remove the webhook: {e:?}"))?;
            if !removed {
                return Err(format!("no webhook with ID {id}"));
            }
            println!("{}", json!({"removed": id.to_string()}));
        }
        WebhookCommand::Replay { id, since, .. } => {
            let queued = service
                .replay_webhook(None, id, since)
                .await
                .map_err(|e| format!("cannot replay: {e:?}"))?
                .ok_or_else(|| format!("no webhook with ID {id}"))?;
            println!("{}", json!({"webhookID": id.to_string(), "queued": queued}));
        }
    }
    Ok(())
}

/// What a person reads of a refusal.
fn refusal(err: &crate::service::ServiceError) -> String {
    match err {
        crate::service::ServiceError::Param(p) => p.message.clone(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}

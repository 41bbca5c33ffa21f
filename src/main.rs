//! The `confab` binary: parse the command line, start logging, hand over to the library.

use std::io::IsTerminal;

use clap::Parser;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Where logs go and which: `CONFAB_LOG` is a level (`info`) or per-module directives
/// (`warn,confab=info,confab::http=debug`); `CONFAB_LOG_FORMAT=json` writes one JSON object per
/// line. A background thread writes them to stderr, so no request waits on the terminal or a
/// pipe; the returned guard flushes what is queued when the process ends.
fn start_logging() -> tracing_appender::non_blocking::WorkerGuard {
    let directives = std::env::var("CONFAB_LOG").unwrap_or_default();
    let (filter, bad) = match directives.parse::<Targets>() {
        Ok(filter) if !directives.trim().is_empty() => (filter, None),
        Ok(_) => (Targets::new().with_default(Level::INFO), None),
        Err(err) => (Targets::new().with_default(Level::INFO), Some(err)),
    };
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let json = std::env::var("CONFAB_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(tracing_subscriber::fmt::layer().json().with_writer(writer))
            .init();
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .init();
    }
    if let Some(err) = bad {
        tracing::warn!(error = %err, directives, "ignoring CONFAB_LOG; logging at info");
    }
    guard
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = confab::cli::Cli::parse();
    let _logs = start_logging();
    match confab::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("confab: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `confab` binary: parse the command line, start logging, hand over to the library.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::filter::LevelFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = confab::cli::Cli::parse();
    let level = std::env::var("CONFAB_LOG")
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match confab::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("confab: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

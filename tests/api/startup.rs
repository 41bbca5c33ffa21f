//! Start-up fails fast, with the reason, when a service confab depends on is unreachable.

use std::time::{Duration, Instant};

use confab::app::App;
use confab::config::Config;

use crate::helpers::TempDir;

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn open_error(config: Config) -> (String, Duration) {
    let started = Instant::now();
    let error = App::open(&config).await.err().expect("start-up must fail");
    (error, started.elapsed())
}

#[tokio::test]
async fn an_unreachable_postgresql_stops_start_up_with_its_address() {
    let port = closed_port();
    let (error, took) = open_error(Config::for_database(format!(
        "postgres://confab:secret@127.0.0.1:{port}/confab"
    )))
    .await;
    assert!(
        error.contains("cannot connect to PostgreSQL") && error.contains(&port.to_string()),
        "{error}"
    );
    assert!(
        !error.contains("secret"),
        "no password in messages: {error}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn an_unreachable_bus_stops_start_up_with_its_address() {
    let dir = TempDir::new();
    let port = closed_port();
    let mut config = Config::for_database(dir.database_url());
    config.bus = Some(format!("nats://127.0.0.1:{port}"));
    let (error, took) = open_error(config).await;
    assert!(
        error.contains("NATS") && error.contains(&port.to_string()),
        "{error}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused() {
    let (error, _) = open_error(Config::for_database("mysql://localhost/confab")).await;
    assert!(error.contains("unsupported database URL"), "{error}");
    // Refused before anything is created: no lock file for a path read from the URL.
    assert!(!std::path::Path::new("mysql:").exists());
}

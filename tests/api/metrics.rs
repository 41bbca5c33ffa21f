//! `GET /metrics`, read as an operator reads it: scraped by a real Prometheus server (Debian's
//! `prometheus`, which `scripts/test` installs), queried through its HTTP API.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TempDir, TestApp};

/// A Prometheus server scraping one target every second; stopped when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Prometheus {
    fn scraping(target: &str) -> Self {
        let dir = TempDir::new();
        let config = dir.0.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: confab\n    \
                 static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is installed (scripts/test installs Debian's package)");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// The value of an instant query's first sample, if it has one yet.
    async fn query(&self, query: &str) -> Option<f64> {
        let encoded: String = query
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let answer: Value = crate::helpers::http_client()
            .get(format!(
                "http://127.0.0.1:{}/api/v1/query?query={encoded}",
                self.port
            ))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        answer["data"]["result"][0]["value"][1]
            .as_str()?
            .parse()
            .ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_metrics_are_in_prometheus_text_format() {
    let app = TestApp::spawn().await;
    app.user("u1", "One").await;
    let scraped = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = scraped.text().await.unwrap();
    for family in [
        "# TYPE confab_http_requests counter",
        "confab_http_requests_total{endpoint=\"/v1/server/user/update\",status=\"200\"}",
        "# TYPE confab_http_request_duration_seconds histogram",
        "confab_sockets ",
        "confab_connections ",
        "confab_sqlite_commit_seconds_bucket",
        "confab_deliveries_total",
    ] {
        assert!(text.contains(family), "{family} missing from:\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn prometheus_scrapes_confab_and_reads_its_request_rate() {
    let app = TestApp::spawn().await;
    let prometheus = Prometheus::scraping(&app.addr.to_string());
    let rate = "sum(rate(confab_http_requests_total{endpoint=\"/v1/server/user/update\"}[10s]))";
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    let seen = loop {
        for _ in 0..10 {
            n += 1;
            app.ok(
                "/v1/server/user/update",
                json!({"xcUserID": format!("u{n}"), "fullName": "U"}),
            )
            .await;
        }
        if let Some(rate) = prometheus.query(rate).await.filter(|r| *r > 0.0) {
            break rate;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus read no request rate within a minute"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(seen > 0.0);
}

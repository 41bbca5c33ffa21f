//! Running load: fixed concurrency, bounded duration, latency samples, and the trivial axum
//! handler every throughput is compared with.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one scenario measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub target: String,
    pub operations: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Throughput divided by the trivial handler's, same client and concurrency.
    pub ratio_to_baseline: Option<f64>,
    /// Anything else the scenario reports (deliveries/s, bytes per socket, …).
    pub note: String,
    /// Cores of CPU time the server process used during the scenario.
    pub server_cores: f64,
    /// Server CPU time per operation, microseconds.
    pub server_cpu_us_per_op: f64,
}

/// Latency samples in microseconds.
#[derive(Debug, Default)]
pub struct Samples {
    pub micros: Vec<u64>,
    pub errors: u64,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.errors += other.errors;
    }

    /// Turns samples into an outcome over `elapsed`.
    pub fn outcome(mut self, scenario: &str, target: &str, elapsed: Duration) -> Outcome {
        self.micros.sort_unstable();
        let pick = |q: f64| -> f64 {
            if self.micros.is_empty() {
                return 0.0;
            }
            let index = ((self.micros.len() as f64 - 1.0) * q).round() as usize;
            self.micros[index] as f64 / 1000.0
        };
        let seconds = elapsed.as_secs_f64();
        Outcome {
            scenario: scenario.into(),
            target: target.into(),
            operations: self.micros.len() as u64,
            errors: self.errors,
            seconds,
            per_second: self.micros.len() as f64 / seconds,
            p50_ms: pick(0.50),
            p90_ms: pick(0.90),
            p99_ms: pick(0.99),
            max_ms: pick(1.0),
            ratio_to_baseline: None,
            note: String::new(),
            server_cores: 0.0,
            server_cpu_us_per_op: 0.0,
        }
    }
}

/// Runs `op` from `concurrency` workers until `duration` is over; `op(worker, n)` returns
/// whether the operation succeeded. Closed loop: each worker starts its next operation when
/// the last one is answered, so this finds the highest rate, with the latency at that rate.
pub async fn run<F, Fut>(concurrency: usize, duration: Duration, op: F) -> (Samples, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    drive(concurrency, duration, None, op).await
}

/// Like [`run`], but operations start on a fixed schedule of `rate` per second shared by the
/// workers, and each latency counts from its scheduled start: a server that falls behind is
/// charged for the wait (no coordinated omission). This measures latency at a given rate
/// rather than at saturation. The timer's millisecond resolution can add up to 1 ms.
pub async fn run_paced<F, Fut>(
    concurrency: usize,
    duration: Duration,
    rate: f64,
    op: F,
) -> (Samples, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    drive(concurrency, duration, Some(rate), op).await
}

async fn drive<F, Fut>(
    concurrency: usize,
    duration: Duration,
    rate: Option<f64>,
    op: F,
) -> (Samples, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let tickets = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (op, tickets) = (Arc::clone(&op), Arc::clone(&tickets));
            tokio::spawn(async move {
                let mut samples = Samples::default();
                let mut n = 0u64;
                loop {
                    let begun = match rate {
                        None => Instant::now(),
                        Some(rate) => {
                            let ticket = tickets.fetch_add(1, Ordering::Relaxed);
                            started + Duration::from_secs_f64(ticket as f64 / rate)
                        }
                    };
                    if begun >= deadline {
                        break;
                    }
                    if begun > Instant::now() {
                        tokio::time::sleep_until(begun.into()).await;
                    }
                    if op(worker, n).await {
                        samples.micros.push(begun.elapsed().as_micros() as u64);
                    } else {
                        samples.errors += 1;
                    }
                    n += 1;
                }
                samples
            })
        })
        .collect();
    let mut all = Samples::default();
    for worker in workers {
        if let Ok(samples) = worker.await {
            all.merge(samples);
        }
    }
    (all, started.elapsed())
}

/// A Server API client: POSTs JSON and checks the envelope's `status` cheaply (confab writes
/// the envelope's keys in order, so a success starts with `{"status":200,`).
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    /// Every node's base URL; requests and sockets take them in turn.
    bases: Arc<Vec<String>>,
    turn: Arc<AtomicUsize>,
    pub server_key: String,
}

impl Api {
    pub fn new(base: String, server_key: String) -> Self {
        Self::spread(vec![base], server_key)
    }

    /// An API client that spreads its requests over several nodes, round robin.
    pub fn spread(bases: Vec<String>, server_key: String) -> Self {
        confab::media::install_tls();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()
            .expect("an HTTP client");
        Self {
            client,
            bases: Arc::new(bases),
            turn: Arc::default(),
            server_key,
        }
    }

    /// The node the next request goes to.
    pub fn base(&self) -> &str {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        &self.bases[turn % self.bases.len()]
    }

    pub async fn post(&self, path: &str, body: String) -> Result<bytes::Bytes, String> {
        let response = self
            .client
            .post(format!("{}{path}", self.base()))
            .header("Server-Key", &self.server_key)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if bytes.starts_with(b"{\"status\":200,") {
            Ok(bytes)
        } else {
            Err(String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned())
        }
    }

    pub async fn ok(&self, path: &str, body: String) -> bool {
        match self.post(path, body).await {
            Ok(_) => true,
            Err(err) => {
                tracing_error(path, &err);
                false
            }
        }
    }

    pub async fn json(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let bytes = self.post(path, body.to_string()).await?;
        let envelope: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(envelope["data"].clone())
    }
}

fn tracing_error(path: &str, err: &str) {
    static SHOWN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 5 {
        eprintln!("  error on {path}: {err}");
    }
}

/// Starts the trivial handler: an axum route answering a fixed envelope, on this machine.
pub async fn start_baseline() -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/",
        post(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"status":200,"error":{"code":"","message":"","field":""},"data":{}}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Starts the trivial media handlers: `POST /upload` reads the whole body and answers a fixed
/// envelope; `POST /download` answers `bytes` from memory. The yardstick of confab's uploads
/// and downloads (which stream to and from the disk).
pub async fn start_media_baseline(bytes: bytes::Bytes) -> String {
    use axum::routing::post;
    let app = axum::Router::new()
        .route(
            "/upload",
            post(|body: axum::body::Body| async move {
                use futures_util::StreamExt;
                let mut stream = body.into_data_stream();
                let mut total = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    total += chunk.len();
                }
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    format!(r#"{{"status":200,"error":{{"code":"","message":"","field":""}},"data":{{"size":{total}}}}}"#),
                )
            }),
        )
        .route(
            "/download",
            post(move || {
                let bytes = bytes.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
                        bytes,
                    )
                }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::disable());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

//! What an operator watches, in the Prometheus text format at `GET /metrics`.
//!
//! One set of metrics per process ([`metrics`]), recorded where things happen: the HTTP edge
//! (requests by endpoint and body status, with latency), the SQLite writer (batch size, queue
//! depth, time from batch to durable commit), live delivery (frames queued, lagging sockets
//! closed) and the limits (connections shed and refused, rate-limit refusals). Gauges that are
//! a state rather than a count (open sockets and connections, pool use) are set when scraped.
//! Like `config`, this module imports no other confab module, so every layer may record.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// An HTTP request's labels: the route it matched and the status in its body.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route (`/v1/server/room/get`), or `unmatched`.
    pub endpoint: String,
    /// The envelope's `status` (or the HTTP status where there is no envelope).
    pub status: u16,
}

/// A webhook delivery attempt's labels: how it ended.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// `delivered` (a 2xx in time), `retried` (tried again later) or `failed` (given up).
    pub outcome: &'static str,
}

/// An HTTP route, for latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// The matched route, or `unmatched`.
    pub endpoint: String,
}

/// A rate limit's labels: which limit refused.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `app_key`, `user` or `socket`.
    pub limit: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3.3 s.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    /// Requests answered, by endpoint and body status.
    pub requests: Family<RequestLabels, Counter>,
    /// Time to answer, by endpoint.
    pub request_seconds: HistogramFamily<EndpointLabels>,
    /// Open WebSockets (set when scraped).
    pub sockets: Gauge,
    /// Open HTTP connections and sockets against the cap (set when scraped).
    pub connections: Gauge,
    /// Connections closed at the cap to make room for a new one.
    pub connections_shed: Counter,
    /// New connections refused at the cap because every connection was busy.
    pub connections_refused: Counter,
    /// Jobs waiting for the SQLite writer, as it starts each batch.
    pub writer_queue: Gauge,
    /// Jobs per SQLite writer batch.
    pub writer_batch: Histogram,
    /// Time from a batch's start to its durable commit (the WAL flushed).
    pub commit_seconds: Histogram,
    /// Committed changes waiting for live delivery (set when scraped).
    pub feed_queue: Gauge,
    /// Frames queued on sockets.
    pub deliveries: Counter,
    /// Sockets closed for falling behind (4008).
    pub lag_closes: Counter,
    /// PostgreSQL connections in use and open (set when scraped).
    pub pool_in_use: Gauge,
    /// PostgreSQL connections open (set when scraped).
    pub pool_open: Gauge,
    /// Requests and frames refused by a rate limit.
    pub rate_limited: Family<LimitLabels, Counter>,
    /// Webhook delivery attempts, by outcome.
    pub webhook_attempts: Family<WebhookLabels, Counter>,
    /// Time from a webhook event's commit to its acknowledgement.
    pub webhook_lag_seconds: Histogram,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("confab");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by endpoint and body status",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<EndpointLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint",
            request_seconds.clone(),
        );
        let sockets = Gauge::default();
        registry.register("sockets", "Open WebSockets", sockets.clone());
        let connections = Gauge::default();
        registry.register(
            "connections",
            "Open HTTP connections and WebSockets, against the connection cap",
            connections.clone(),
        );
        let connections_shed = Counter::default();
        registry.register(
            "connections_shed",
            "Idle connections closed at the cap to make room",
            connections_shed.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections refused at the cap, every connection being busy",
            connections_refused.clone(),
        );
        let writer_queue = Gauge::default();
        registry.register(
            "sqlite_writer_queue",
            "Jobs waiting for the SQLite writer when it starts a batch",
            writer_queue.clone(),
        );
        let writer_batch = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "sqlite_writer_batch_jobs",
            "Jobs per SQLite writer batch",
            writer_batch.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register(
            "sqlite_commit_seconds",
            "Time from a batch's start to its durable commit",
            commit_seconds.clone(),
        );
        let feed_queue = Gauge::default();
        registry.register(
            "feed_queue",
            "Committed changes waiting for live delivery",
            feed_queue.clone(),
        );
        let deliveries = Counter::default();
        registry.register("deliveries", "Frames queued on sockets", deliveries.clone());
        let lag_closes = Counter::default();
        registry.register(
            "lag_closes",
            "Sockets closed for falling behind (4008)",
            lag_closes.clone(),
        );
        let pool_in_use = Gauge::default();
        registry.register(
            "postgres_pool_in_use",
            "PostgreSQL connections in use",
            pool_in_use.clone(),
        );
        let pool_open = Gauge::default();
        registry.register(
            "postgres_pool_open",
            "PostgreSQL connections open",
            pool_open.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests and socket frames refused by a rate limit, by limit",
            rate_limited.clone(),
        );
        let webhook_attempts = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts, by outcome",
            webhook_attempts.clone(),
        );
        // 1 ms to about 9 hours.
        let webhook_lag_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 25));
        registry.register(
            "webhook_lag_seconds",
            "Time from a webhook event's commit to its acknowledgement by the endpoint",
            webhook_lag_seconds.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            sockets,
            connections,
            connections_shed,
            connections_refused,
            writer_queue,
            writer_batch,
            commit_seconds,
            feed_queue,
            deliveries,
            lag_closes,
            pool_in_use,
            pool_open,
            rate_limited,
            webhook_attempts,
            webhook_lag_seconds,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Records one answered request.
    pub fn request(&self, endpoint: &str, status: u16, seconds: f64) {
        let endpoint = endpoint.to_owned();
        self.request_seconds
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels { endpoint, status })
            .inc();
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Sets a gauge from a count.
pub fn set(gauge: &Gauge, value: usize) {
    gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
}

//! Webhooks: an app's backend hears every message event, durably, in order per room, signed.
//!
//! **Recorded with the change.** Every write of a rule goes through
//! [`Service::sized_transaction`], which ends with [`record`]: the events of what the rule
//! queued for live delivery are written, with one delivery per matching endpoint, in the same
//! transaction (an outbox), so a message is never committed without its event or the other
//! way round. Which endpoints there are comes from the process's own copy, read again every
//! 100 ms; adding or removing an endpoint returns once every process has it.
//!
//! **Delivered by every node.** [`Service::run_webhooks`] claims due deliveries (only the
//! first pending event of each endpoint's room, leased so that one node at a time tries it),
//! posts each with its signature, and settles it: acknowledged (2xx within the timeout) is
//! done; anything else is retried with backoff until the retry window closes, then marked
//! failed and kept for replay. A room's next event waits for the one before; other rooms go
//! on.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{Service, ServiceError};
use crate::config::{SealingKey, WebhookSettings};
use crate::domain::secret::{random_bytes, random_token};
use crate::domain::webhook::{self, Due, Endpoint, EventKind, Filter, NewEvent, Settled};
use crate::domain::{AppId, ParamError, now_ms};
use crate::metrics::WebhookLabels;
use crate::store::{ChatTx, StoreError};
use crate::wire;

/// Deliveries one node has in flight at once.
const IN_FLIGHT: usize = 64;
/// How often a node looks for due deliveries when nothing woke it.
const POLL: Duration = Duration::from_millis(100);
/// How often delivered events past their retention are pruned.
const PRUNE_EVERY_MS: i64 = 60_000;
/// Longest URL accepted.
const MAX_URL: usize = 2_048;

/// An endpoint just added, with its secret as it is shown once.
#[derive(Debug, Clone)]
pub struct AddedWebhook {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The signing secret.
    pub secret: String,
}

/// How often each process reads the endpoints again (another node or the command line may
/// have changed them).
const ENDPOINTS_POLL: Duration = Duration::from_millis(100);

/// How long after an endpoint is added or removed every running server writes with it (three
/// polls); adding and removing wait this long before they return, so that every message sent
/// after an add returns is reported to the new endpoint, whichever node takes it.
pub const WEBHOOKS_SEEN: Duration = Duration::from_millis(3 * ENDPOINTS_POLL.as_millis() as u64);

/// Every app's endpoints as this process last read them: writes consult this copy, so that a
/// write costs no read of the endpoints (a statement per write took a quarter of PostgreSQL's
/// sends).
#[derive(Default)]
pub(super) struct Targets(std::sync::RwLock<Arc<Vec<webhook::Target>>>);

impl Targets {
    /// The endpoints as last read.
    pub(super) fn current(&self) -> Arc<Vec<webhook::Target>> {
        Arc::clone(&self.0.read().expect("webhook targets poisoned"))
    }

    fn set(&self, targets: Vec<webhook::Target>) {
        *self.0.write().expect("webhook targets poisoned") = Arc::new(targets);
    }
}

/// Writes the webhook events of what `tx` has queued for live delivery: one event per new,
/// edited or deleted message of an app with endpoints (`targets`: the process's copy as the
/// write began), queued for every endpoint whose filter takes it.
pub(super) async fn record(
    tx: &mut dyn ChatTx,
    targets: &[webhook::Target],
) -> Result<(), StoreError> {
    if targets.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let events: Vec<(NewEvent, Vec<i64>)> = tx
        .feed()
        .iter()
        .filter_map(|item| {
            let kind = EventKind::of(item.kind)?;
            let m = &item.message;
            let room_type = m.room.room_type.code();
            let endpoints: Vec<i64> = targets
                .iter()
                .filter(|t| t.app == item.audience.app && t.filter.accepts(m.kind, room_type))
                .map(|t| t.id)
                .collect();
            (!endpoints.is_empty()).then(|| {
                let event = NewEvent {
                    app: item.audience.app,
                    room: m.room.id.0,
                    room_type,
                    message_type: m.kind,
                    kind,
                    created: now,
                    body: wire::webhook_payload(m),
                };
                (event, endpoints)
            })
        })
        .collect();
    for (event, endpoints) in &events {
        tx.insert_webhook_event(event, endpoints).await?;
    }
    Ok(())
}

impl Service {
    /// Reads every app's endpoints into this process's copy: as the server opens (before it
    /// serves), then every [`ENDPOINTS_POLL`] from [`Self::watch_webhook_endpoints`].
    pub async fn load_webhook_endpoints(&self) -> Result<(), ServiceError> {
        let targets = self.store.webhook_targets().await?;
        self.webhooks.set(targets);
        Ok(())
    }

    /// Keeps this process's copy of the endpoints current until the task is dropped.
    pub async fn watch_webhook_endpoints(self) {
        let mut tick = tokio::time::interval(ENDPOINTS_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.load_webhook_endpoints().await {
                tracing::warn!(error = ?err, "cannot read the webhook endpoints");
            }
        }
    }

    /// After an endpoint changed: this process writes with the change at once, and the call
    /// returns once every other process has read it too.
    async fn endpoints_changed(&self) -> Result<(), ServiceError> {
        self.load_webhook_endpoints().await?;
        tokio::time::sleep(WEBHOOKS_SEEN).await;
        Ok(())
    }

    /// Adds an endpoint to `app`: the URL must be `http` or `https` and, unless private
    /// addresses are allowed, resolve to public addresses only.
    pub async fn add_webhook(
        &self,
        app: AppId,
        url: &str,
        filter: Filter,
    ) -> Result<AddedWebhook, ServiceError> {
        let settings = &self.config.webhooks;
        let url = checked_url(url, settings.allow_private).await?;
        let Some(key) = &settings.key else {
            return Err(ServiceError::Forbidden(
                "this server has no webhook key (--webhook-key) to seal secrets with".into(),
            ));
        };
        let secret = format!("whsec_{}", random_token::<24>());
        let sealed = seal(key, &secret);
        let id = self
            .store
            .webhook_add(app, url.as_str(), sealed, filter, now_ms())
            .await?;
        self.endpoints_changed().await?;
        let endpoint = self
            .store
            .webhook_list(Some(app))
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ServiceError::Internal("an added endpoint was not found".into()))?;
        Ok(AddedWebhook { endpoint, secret })
    }

    /// [`Self::add_webhook`] for the app called `app_name` (the command line's).
    pub async fn add_webhook_to(
        &self,
        app_name: &str,
        url: &str,
        filter: Filter,
    ) -> Result<AddedWebhook, ServiceError> {
        let app = self.app_named(app_name).await?;
        self.add_webhook(app, url, filter).await
    }

    /// The ID of the app called `name`.
    pub async fn app_named(&self, name: &str) -> Result<AppId, ServiceError> {
        self.store.app_id(name).await?.ok_or_else(|| {
            ParamError::invalid_because("app", "app", format!("no app is called '{name}'")).into()
        })
    }

    /// The endpoints of `app` (every app's for `None`), with their status.
    pub async fn webhooks(&self, app: Option<AppId>) -> Result<Vec<Endpoint>, ServiceError> {
        Ok(self.store.webhook_list(app).await?)
    }

    /// Removes an endpoint (of `app` when given) and what it still had to deliver.
    pub async fn remove_webhook(&self, app: Option<AppId>, id: i64) -> Result<bool, ServiceError> {
        let removed = self.store.webhook_remove(app, id).await?;
        if removed {
            self.endpoints_changed().await?;
        }
        Ok(removed)
    }

    /// Queues again, in order, every recorded event of the endpoint's app from `since` (Unix
    /// ms) that its filter takes, failed ones included; how many. `None` if there is no such
    /// endpoint (of `app`, when given).
    pub async fn replay_webhook(
        &self,
        app: Option<AppId>,
        id: i64,
        since: i64,
    ) -> Result<Option<usize>, ServiceError> {
        let Some(endpoint) = self
            .store
            .webhook_list(app)
            .await?
            .into_iter()
            .find(|e| e.id == id)
        else {
            return Ok(None);
        };
        let events: Vec<_> = self
            .store
            .webhook_events_since(endpoint.app, since)
            .await?
            .into_iter()
            .filter(|e| endpoint.filter.accepts(e.message_type, e.room_type))
            .collect();
        Ok(Some(
            self.store.webhook_enqueue(id, events, now_ms()).await?,
        ))
    }

    /// Delivers due webhook events until the process ends (see the module documentation).
    pub async fn run_webhooks(self) {
        let settings = self.config.webhooks.clone();
        let client = match client(&settings) {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(error = %err, "webhooks are not delivered: no HTTP client");
                return;
            }
        };
        if let Err(err) = self.store.webhook_recover().await {
            tracing::warn!(error = %err, "cannot take back earlier webhook leases");
        }
        let lease = i64::try_from((settings.timeout * 2 + Duration::from_secs(40)).as_millis())
            .unwrap_or(i64::MAX);
        let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let settled = Arc::new(tokio::sync::Notify::new());
        let settle = self.settle_webhooks(Arc::clone(&settled));
        let mut pruned_at = 0;
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = settled.notified() => {}
            }
            let now = now_ms();
            if now - pruned_at >= PRUNE_EVERY_MS {
                pruned_at = now;
                self.prune_webhook_events(&settings, now).await;
            }
            let free = permits.available_permits();
            // Deliveries go with their endpoint: with none (as this process last read them),
            // there is nothing to look for.
            if free == 0 || self.webhooks.current().is_empty() {
                continue;
            }
            match self.store.webhook_any_due(now).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot look for due webhook deliveries");
                    continue;
                }
            }
            let due = match self
                .store
                .webhook_claim(now, now + lease, free as i64)
                .await
            {
                Ok(due) => due,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim webhook deliveries");
                    continue;
                }
            };
            for delivery in due {
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    break;
                };
                let (client, settings, settle) = (client.clone(), settings.clone(), settle.clone());
                tokio::spawn(async move {
                    let outcome = deliver(&client, &settings, delivery).await;
                    let _ = settle.send((outcome, permit));
                });
            }
        }
    }

    /// Records what became of deliveries as they finish, all that finished meanwhile in one
    /// write (so a busy endpoint costs a write per batch, not per event); each delivery's
    /// permit is given back once its outcome is stored, and the claim loop woken.
    fn settle_webhooks(
        &self,
        settled: Arc<tokio::sync::Notify>,
    ) -> tokio::sync::mpsc::UnboundedSender<(Settled, tokio::sync::OwnedSemaphorePermit)> {
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<(Settled, tokio::sync::OwnedSemaphorePermit)>();
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                let (outcomes, permits): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                if let Err(err) = store.webhook_settle(outcomes).await {
                    // Their leases run out and they are tried again.
                    tracing::warn!(error = %err, "cannot record webhook deliveries");
                }
                drop(permits);
                settled.notify_one();
            }
        });
        tx
    }

    async fn prune_webhook_events(&self, settings: &WebhookSettings, now: i64) {
        let before = now - i64::try_from(settings.retention.as_millis()).unwrap_or(i64::MAX);
        loop {
            match self.store.webhook_prune(before, 1_000).await {
                Ok(1_000) => continue,
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot prune webhook events");
                    break;
                }
            }
        }
    }
}

/// Posts one delivery and says what became of it.
async fn deliver(client: &reqwest::Client, settings: &WebhookSettings, due: Due) -> Settled {
    let (endpoint, event, room) = (due.endpoint, due.event, due.room);
    let outcome = post(client, settings, &due).await;
    let at = now_ms();
    let metrics = crate::metrics::metrics();
    match outcome {
        Ok(()) => {
            metrics
                .webhook_attempts
                .get_or_create(&WebhookLabels {
                    outcome: "delivered",
                })
                .inc();
            // From when the delivery became due: its event's commit, or its replay.
            metrics
                .webhook_lag_seconds
                .observe((at - due.first_at).max(0) as f64 / 1_000.0);
            Settled::Delivered {
                endpoint,
                event,
                room,
                at,
            }
        }
        Err(error) => {
            let [byte] = random_bytes::<1>();
            let jitter = 0.5 + f64::from(byte) / 510.0;
            let retry_for = i64::try_from(settings.retry_for.as_millis()).unwrap_or(i64::MAX);
            let next_at = webhook::retry_at(due.attempts + 1, due.first_at, at, retry_for, jitter);
            let outcome = if next_at.is_some() {
                "retried"
            } else {
                "failed"
            };
            metrics
                .webhook_attempts
                .get_or_create(&WebhookLabels { outcome })
                .inc();
            Settled::Failed {
                endpoint,
                event,
                room,
                at,
                error,
                next_at,
            }
        }
    }
}

async fn post(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    due: &Due,
) -> Result<(), String> {
    let key = settings
        .key
        .as_ref()
        .ok_or("no webhook key is configured (--webhook-key)")?;
    let secret = unseal(key, &due.sealed_secret)?;
    let url = reqwest::Url::parse(&due.url).map_err(|e| format!("bad URL: {e}"))?;
    if !settings.allow_private
        && let Some(ip) = literal_ip(&url)
        && is_private(ip)
    {
        return Err("the URL's address is private".into());
    }
    let t = now_ms() / 1_000;
    let answer = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("confab/", env!("CARGO_PKG_VERSION")))
        .header("X-Confab-Delivery", due.event.to_string())
        .header("X-Confab-Event", due.kind.name())
        .header("X-Confab-Signature", signature(&secret, t, &due.body))
        .body(due.body.clone())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered HTTP {}", status.as_u16()))
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The HTTP client deliveries go through: the configured timeout, no redirects (a redirect
/// could lead anywhere), and unless private addresses are allowed, a resolver that drops them.
fn client(settings: &WebhookSettings) -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none());
    if settings.allow_private {
        builder.build()
    } else {
        builder.dns_resolver(Arc::new(PublicOnly)).build()
    }
}

/// Resolves names to their public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                return Err("the name resolves to private addresses only".into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The URL, checked: `http` or `https`, with a host that resolves (to public addresses only,
/// unless `allow_private`).
async fn checked_url(url: &str, allow_private: bool) -> Result<reqwest::Url, ServiceError> {
    let refuse =
        |why: &str| -> ServiceError { ParamError::invalid_because("url", "url", why).into() };
    if url.len() > MAX_URL {
        return Err(refuse("longer than 2,048 characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| refuse("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse("not an http or https URL"));
    }
    let host = parsed.host_str().ok_or_else(|| refuse("has no host"))?;
    if allow_private {
        return Ok(parsed);
    }
    let addresses: Vec<IpAddr> = match literal_ip(&parsed) {
        Some(ip) => vec![ip],
        None => {
            let port = parsed.port_or_known_default().unwrap_or(80);
            tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::lookup_host((host, port)),
            )
            .await
            .map_err(|_| refuse("its host did not resolve in 5 s"))?
            .map_err(|_| refuse("its host does not resolve"))?
            .map(|a| a.ip())
            .collect()
        }
    };
    if addresses.is_empty() || addresses.into_iter().any(is_private) {
        return Err(refuse(
            "resolves to a loopback or private address (allowed only with --webhook-allow-private)",
        ));
    }
    Ok(parsed)
}

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Loopback, private, link-local, shared (carrier-grade NAT), unspecified, broadcast or
/// documentation addresses: none of them is a customer's public backend.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The encryption and MAC keys a sealing key stands for.
fn subkeys(key: &SealingKey) -> ([u8; 32], [u8; 32]) {
    let derive = |label: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(label);
        h.update(key.0);
        h.finalize().into()
    };
    (
        derive(b"confab webhook secret: encrypt"),
        derive(b"confab webhook secret: mac"),
    )
}

/// A secret sealed for storage: `1 ‖ iv ‖ AES-256-CBC(secret) ‖ HMAC-SHA256(1 ‖ iv ‖ ct)`.
fn seal(key: &SealingKey, secret: &str) -> Vec<u8> {
    let (enc, mac_key) = subkeys(key);
    let iv: [u8; 16] = random_bytes();
    let ciphertext = cbc::Encryptor::<Aes256>::new(&enc.into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(secret.as_bytes());
    let mut sealed = Vec::with_capacity(1 + 16 + ciphertext.len() + 32);
    sealed.push(1);
    sealed.extend_from_slice(&iv);
    sealed.extend_from_slice(&ciphertext);
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key).expect("HMAC takes any key");
    mac.update(&sealed);
    sealed.extend_from_slice(&mac.finalize().into_bytes());
    sealed
}

/// The secret a [`seal`] holds, if `key` sealed it.
fn unseal(key: &SealingKey, sealed: &[u8]) -> Result<String, String> {
    let wrong = || "the secret was sealed with another webhook key".to_owned();
    if sealed.len() < 1 + 16 + 16 + 32 || sealed[0] != 1 {
        return Err(wrong());
    }
    let (enc, mac_key) = subkeys(key);
    let (body, tag) = sealed.split_at(sealed.len() - 32);
    let mut mac = Hmac::<Sha256>::new_from_slice(&mac_key).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(tag).map_err(|_| wrong())?;
    let iv: [u8; 16] = body[1..17].try_into().map_err(|_| wrong())?;
    let plain = cbc::Decryptor::<Aes256>::new(&enc.into(), &iv.into())
        .decrypt_padded_vec::<Pkcs7>(&body[17..])
        .map_err(|_| wrong())?;
    String::from_utf8(plain).map_err(|_| wrong())
}

/// Reads a sealing key given as 64 hex digits.
pub fn parse_key(hex_key: &str) -> Result<[u8; 32], String> {
    let digits = hex_key.trim();
    if digits.len() != 64 || !digits.is_ascii() {
        return Err("the webhook key must be 64 hex digits".into());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
            .map_err(|_| "the webhook key must be 64 hex digits".to_owned())?;
    }
    Ok(key)
}

/// A new random sealing key, as 64 hex digits.
pub fn new_key() -> String {
    hex(&random_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let key = SealingKey([7; 32]);
        let sealed = seal(&key, "whsec_abc");
        assert_eq!(unseal(&key, &sealed).unwrap(), "whsec_abc");
        assert!(unseal(&SealingKey([8; 32]), &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(unseal(&key, &tampered).is_err());
    }

    #[test]
    fn the_signature_is_the_hmac_of_time_dot_body() {
        // Computed independently: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'whsec_test', b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888", "100.128.0.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}

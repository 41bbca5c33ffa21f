//! The scenarios: each drives a running confab and returns what it measured.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::Mutex;

use crate::dataset::{Meta, Rng};
use crate::load::{self, Api, Outcome};
use crate::sockets::{self, Clock};

/// Settings shared by the scenarios of one run.
#[derive(Clone)]
pub struct Run {
    pub api: Api,
    pub meta: Arc<Meta>,
    pub concurrency: usize,
    pub duration: Duration,
    /// A tag that keeps names created by this run apart from earlier runs.
    pub tag: String,
}

impl Run {
    fn rng(&self, worker: usize, n: u64) -> Rng {
        Rng::new((worker as u64) << 40 ^ n ^ 0x5EED)
    }

    /// A room with a handful of participants (not one of the big or fan-out rooms).
    fn ordinary_room(&self, rng: &mut Rng) -> String {
        let regular = u64::from(self.meta.rooms.saturating_sub(1_100).max(1));
        format!("r{}", 1 + rng.below(regular))
    }

    fn plain_user(&self, rng: &mut Rng) -> String {
        let (low, high) = self.meta.plain_users;
        format!("u{}", u64::from(low) + rng.below(u64::from(high - low)))
    }
}

/// Workers of a paced run.
const PACED_WORKERS: usize = 512;

/// How a write scenario is driven: closed loop (the highest rate, and the latency there), or
/// paced at its target rate (the latency the target speaks of, "p99 at those rates").
#[derive(Clone, Copy)]
pub enum Pace {
    Saturate,
    At(f64),
}

impl Pace {
    /// Runs `op` with this pace; see [`load::run`] and [`load::run_paced`].
    async fn run<F, Fut>(self, run: &Run, op: F) -> (load::Samples, Duration)
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        match self {
            Pace::Saturate => load::run(run.concurrency, run.duration, op).await,
            // Open loop: enough workers that a scheduled start never waits for a free one
            // (8,000/s at a 30 ms latency is 240 in flight).
            Pace::At(rate) => {
                let workers = run.concurrency.max(PACED_WORKERS);
                load::run_paced(workers, run.duration, rate, op).await
            }
        }
    }

    /// The scenario's name with its pace, and the target that applies to it.
    fn label(self, name: &str, target: &str) -> (String, String) {
        match self {
            Pace::Saturate => (name.to_owned(), target.to_owned()),
            Pace::At(rate) => (
                format!("  {name}, paced at {rate:.0}/s"),
                target
                    .split(", ")
                    .filter(|t| t.starts_with("p99"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

/// The trivial handler, same client and concurrency.
pub async fn baseline(run: &Run) -> Outcome {
    let base = load::start_baseline().await;
    let api = Api::new(base, String::new());
    let (samples, elapsed) = load::run(run.concurrency, run.duration, move |_, _| {
        let api = api.clone();
        async move { api.ok("/", "{}".into()).await }
    })
    .await;
    samples.outcome("trivial axum handler", "baseline", elapsed)
}

/// `room/get` of random ordinary rooms.
pub async fn room_get(run: &Run) -> Outcome {
    let r = run.clone();
    let (samples, elapsed) = load::run(run.concurrency, run.duration, move |w, n| {
        let (api, room) = (r.api.clone(), r.ordinary_room(&mut r.rng(w, n)));
        async move {
            api.ok("/v1/server/room/get", json!({"xcRoomID": room}).to_string())
                .await
        }
    })
    .await;
    samples.outcome("room/get", ">= 30% of baseline", elapsed)
}

/// `create_or_update` of new rooms with ten participants.
pub async fn room_create(run: &Run, pace: Pace) -> Outcome {
    let r = run.clone();
    // New rooms each time: a paced run after a closed-loop one must not update its rooms.
    let paced = u8::from(matches!(pace, Pace::At(_)));
    let (samples, elapsed) = pace.run(run, move |w, n| {
        let mut rng = r.rng(w, n);
        let members: Vec<String> = (0..10).map(|_| r.plain_user(&mut rng)).collect();
        let body = json!({"xcRoomID": format!("{}-{paced}-{w}-{n}", r.tag), "type": 2, "name": "New",
                          "participantXCUserIDs": members});
        let api = r.api.clone();
        async move {
            api.ok("/v1/server/room/create_or_update", body.to_string())
                .await
        }
    })
    .await;
    let (name, target) = pace.label(
        "create_or_update (new, 10 participants)",
        ">= 3,000/s, p99 <= 20 ms",
    );
    samples.outcome(&name, &target, elapsed)
}

/// `create_or_update` of existing rooms (rename).
pub async fn room_update(run: &Run) -> Outcome {
    let r = run.clone();
    let (samples, elapsed) = load::run(run.concurrency, run.duration, move |w, n| {
        let room = r.ordinary_room(&mut r.rng(w, n));
        let body = json!({"xcRoomID": room, "type": if room.ends_with('0') { 4 } else { 2 }, "name": format!("Renamed {n}")});
        let api = r.api.clone();
        async move { api.ok("/v1/server/room/create_or_update", body.to_string()).await }
    })
    .await;
    samples.outcome("create_or_update (update)", "-", elapsed)
}

/// Alternating `participants/add` and `participants/remove`.
pub async fn participants(run: &Run, pace: Pace) -> Outcome {
    let r = run.clone();
    let (samples, elapsed) = pace
        .run(run, move |w, n| {
            let mut rng = r.rng(w, n / 2);
            let room = r.ordinary_room(&mut rng);
            let user = r.plain_user(&mut rng);
            let path = if n % 2 == 0 {
                "/v1/server/room/participants/add"
            } else {
                "/v1/server/room/participants/remove"
            };
            let body = json!({"xcRoomID": room, "participantXCUserIDs": [user]});
            let api = r.api.clone();
            async move { api.ok(path, body.to_string()).await }
        })
        .await;
    let (name, target) = pace.label("participants/add + remove", ">= 8,000/s, p99 <= 20 ms");
    samples.outcome(&name, &target, elapsed)
}

/// Rounds of each size of [`add_many`].
const ADD_MANY_ROUNDS: usize = 3;

/// `participants/add` of many users in one request, then their removal in one request, in
/// rounds of 1,000 and of 10,000 users (fewer if the dataset has fewer plain users): each
/// appends one system message per user, and the work must grow linearly with the users.
pub async fn add_many(run: &Run) -> Result<Vec<Outcome>, String> {
    let (low, high) = run.meta.plain_users;
    let available = (high - low) as usize;
    let room = format!("{}-many", run.tag);
    let created = run
        .api
        .ok(
            "/v1/server/room/create_or_update",
            json!({"xcRoomID": room, "type": 2, "name": "Many"}).to_string(),
        )
        .await;
    if !created {
        return Err("cannot create the room of add-many".into());
    }
    let mut outcomes = Vec::new();
    for size in [1_000, 10_000].map(|size: usize| size.min(available)) {
        let users: Vec<String> = (0..size)
            .map(|i| format!("u{}", low as usize + i))
            .collect();
        let body = json!({"xcRoomID": room, "participantXCUserIDs": users}).to_string();
        let (mut adds, mut removes) = (load::Samples::default(), load::Samples::default());
        let started = Instant::now();
        for _ in 0..ADD_MANY_ROUNDS {
            for (path, samples) in [
                ("/v1/server/room/participants/add", &mut adds),
                ("/v1/server/room/participants/remove", &mut removes),
            ] {
                let sent = Instant::now();
                if run.api.ok(path, body.clone()).await {
                    samples.micros.push(sent.elapsed().as_micros() as u64);
                } else {
                    samples.errors += 1;
                }
            }
        }
        let elapsed = started.elapsed();
        let mut add = adds.outcome(
            &format!("participants/add of {size} users in one request"),
            "linear in users",
            elapsed,
        );
        add.note = format!("{:.1} µs per user (p50)", add.p50_ms * 1000.0 / size as f64);
        let mut remove = removes.outcome(
            &format!("  participants/remove of the {size}"),
            "linear in users",
            elapsed,
        );
        remove.note = format!(
            "{:.1} µs per user (p50)",
            remove.p50_ms * 1000.0 / size as f64
        );
        outcomes.extend([add, remove]);
    }
    Ok(outcomes)
}

/// Alternating `lock` and `unlock`.
pub async fn lock(run: &Run, pace: Pace) -> Outcome {
    let r = run.clone();
    let (samples, elapsed) = pace
        .run(run, move |w, n| {
            let mut rng = r.rng(w, n / 2);
            let room = r.ordinary_room(&mut rng);
            let user = r.plain_user(&mut rng);
            let path = if n % 2 == 0 {
                "/v1/server/room/lock"
            } else {
                "/v1/server/room/unlock"
            };
            let body = json!({"xcRoomID": room, "xcUserID": user});
            let api = r.api.clone();
            async move { api.ok(path, body.to_string()).await }
        })
        .await;
    let (name, target) = pace.label("lock + unlock", ">= 8,000/s, p99 <= 20 ms");
    samples.outcome(&name, &target, elapsed)
}

/// `get_list_by_user` for one probe user.
pub async fn list(run: &Run, probe: &crate::dataset::Probe) -> Outcome {
    let target = match probe.rooms {
        0..=10 => "p99 <= 5 ms",
        11..=1_000 => "p99 <= 25 ms",
        1_001..=10_000 => "p99 <= 250 ms",
        _ => "- (beyond the table)",
    };
    let r = run.clone();
    let user = probe.xc_user_id.clone();
    // The targets here are latencies: measured at a modest, fixed concurrency (4), not at
    // the saturating concurrency of the throughput scenarios.
    let concurrency = run.concurrency.min(4);
    let (samples, elapsed) = load::run(concurrency, run.duration, move |_, _| {
        let (api, user) = (r.api.clone(), user.clone());
        async move {
            api.ok(
                "/v1/server/room/get_list_by_user",
                json!({"xcUserID": user}).to_string(),
            )
            .await
        }
    })
    .await;
    let mut outcome = samples.outcome(
        &format!("get_list_by_user, {}", probe.label),
        target,
        elapsed,
    );
    outcome.note = format!("rooms={} concurrency={concurrency}", probe.rooms);
    outcome
}

fn delivery_outcome(name: &str, target: &str, clock: &Clock, elapsed: Duration) -> Outcome {
    let deliveries = clock.deliveries.load(Ordering::Relaxed);
    let mut outcome = clock.samples().outcome(name, target, elapsed);
    outcome.note = format!(
        "{deliveries} deliveries, {:.0} deliveries/s",
        deliveries as f64 / elapsed.as_secs_f64()
    );
    outcome
}

/// Server API sends into ten-member rooms whose members are all connected.
pub async fn send_server(run: &Run, rooms: usize) -> Result<Vec<Outcome>, String> {
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let chosen: Vec<(String, Vec<String>)> = run
        .meta
        .ten_member_rooms
        .iter()
        .take(rooms)
        .cloned()
        .collect();
    let users: Vec<String> = chosen.iter().flat_map(|(_, m)| m.clone()).collect();
    let clock = Clock::default();
    let _sockets = sockets::connect_all(&run.api, &key, &users, &clock, 32).await?;
    let r = run.clone();
    let clock2 = clock.clone();
    let chosen = Arc::new(chosen);
    let started = Instant::now();
    let (samples, elapsed) = load::run(run.concurrency, run.duration, move |w, n| {
        let mut rng = r.rng(w, n);
        let (room, members) = &chosen[rng.below(chosen.len() as u64) as usize];
        let sender = &members[rng.below(members.len() as u64) as usize];
        let local_id = format!("s{}_{w}_{n}", r.tag.replace('-', "_"));
        clock2.sent(local_id.clone());
        let body = json!({"senderXCUserID": sender, "xcRoomID": room, "type": 1001, "body": "bench", "localID": local_id});
        let api = r.api.clone();
        async move { api.ok("/v1/server/message/send", body.to_string()).await }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sends = samples.outcome(
        "message/send (Server API, 10-member rooms)",
        ">= 5,000/s",
        elapsed,
    );
    let deliveries = delivery_outcome(
        "  publish-to-delivery at member sockets",
        "p99 <= 50 ms",
        &clock,
        started.elapsed(),
    );
    Ok(vec![sends, deliveries])
}

/// Socket sends into ten-member rooms; latency measured at every member socket.
pub async fn send_socket(run: &Run, rooms: usize) -> Result<Vec<Outcome>, String> {
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let chosen: Vec<(String, Vec<String>)> = run
        .meta
        .ten_member_rooms
        .iter()
        .take(rooms)
        .cloned()
        .collect();
    let clock = Clock::default();
    let mut senders = Vec::new();
    let mut listeners = Vec::new();
    for (room, members) in &chosen {
        let data = run
            .api
            .json("/v1/server/room/get", json!({"xcRoomID": room}))
            .await?;
        let room_id = data["room"]["roomID"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // On a small dataset the lock scenario's rooms include these, and a run can end with
        // one of them locked, which refuses client sends (40301): open it first.
        run.api
            .json(
                "/v1/server/room/unlock",
                json!({"xcRoomID": room, "xcUserID": members[0]}),
            )
            .await?;
        let connected = sockets::connect_all(&run.api, &key, members, &clock, 16).await?;
        for (i, (_, socket)) in connected.into_iter().enumerate() {
            if i == 0 {
                senders.push((room_id.clone(), Arc::new(Mutex::new(socket))));
            } else {
                listeners.push(socket);
            }
        }
    }
    let senders = Arc::new(senders);
    let r = run.clone();
    let clock2 = clock.clone();
    let started = Instant::now();
    let (samples, elapsed) = load::run(senders.len(), run.duration, move |w, n| {
        let (room_id, socket) = senders[w % senders.len()].clone();
        let local_id = format!("k{}_{w}_{n}", r.tag.replace('-', "_"));
        clock2.sent(local_id.clone());
        // Closed loop, as a client awaiting its acknowledgement: the next send waits for the
        // echo of this one.
        let echo = clock2.wait_for(&local_id);
        async move {
            let sent = sockets::send_text(&mut *socket.lock().await, &room_id, &local_id).await;
            sent && tokio::time::timeout(Duration::from_secs(5), echo)
                .await
                .is_ok_and(|r| r.is_ok())
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sends = samples.outcome("chat/sendMessage (sockets, 10-member rooms)", "-", elapsed);
    sends.note = "closed loop: latency column is send-to-own-echo".into();
    let deliveries = delivery_outcome(
        "  send-to-delivery at member sockets",
        "p99 <= 50 ms",
        &clock,
        started.elapsed(),
    );
    drop(listeners);
    Ok(vec![sends, deliveries])
}

/// Server API sends into one room whose 1,000 members are all connected.
pub async fn fanout(run: &Run, max_members: usize) -> Result<Vec<Outcome>, String> {
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let (room, mut members) = run.meta.fanout_room.clone();
    members.truncate(max_members);
    let connected = members.len();
    let clock = Clock::default();
    let _sockets = sockets::connect_all(&run.api, &key, &members, &clock, 32).await?;
    let r = run.clone();
    let clock2 = clock.clone();
    let members = Arc::new(members);
    let started = Instant::now();
    let (samples, elapsed) = load::run(2, run.duration, move |w, n| {
        let sender = members[(n as usize * 31 + w) % members.len()].clone();
        let local_id = format!("f{}_{w}_{n}", r.tag.replace('-', "_"));
        clock2.sent(local_id.clone());
        let body = json!({"senderXCUserID": sender, "xcRoomID": room, "type": 1001, "body": "fan-out", "localID": local_id});
        let api = r.api.clone();
        async move { api.ok("/v1/server/message/send", body.to_string()).await }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let mut sends = samples.outcome(
        &format!(
            "fan-out sends into a {}-member room",
            run.meta.fanout_room.1.len()
        ),
        "-",
        elapsed,
    );
    sends.note = format!("2 concurrent senders, {connected} members connected");
    let deliveries = delivery_outcome(
        "  fan-out deliveries",
        ">= 50,000/s, p99 <= 100 ms",
        &clock,
        started.elapsed(),
    );
    Ok(vec![sends, deliveries])
}

/// Many idle authenticated sockets: server memory per connection.
pub async fn idle_sockets(
    run: &Run,
    count: usize,
    rss: impl Fn() -> u64,
) -> Result<Outcome, String> {
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let (low, high) = run.meta.plain_users;
    let users: Vec<String> = (low..high).take(count).map(|u| format!("u{u}")).collect();
    // Log in first (sessions are stored in the database, not in memory), then measure the
    // memory the sockets themselves take.
    let mut tokens = Vec::with_capacity(users.len());
    for chunk in users.chunks(64) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|u| {
                let (api, key, u) = (run.api.clone(), key.clone(), u.clone());
                tokio::spawn(async move { sockets::login(&api, &key, &u).await })
            })
            .collect();
        for task in tasks {
            tokens.push(task.await.map_err(|e| e.to_string())??);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss();
    let started = Instant::now();
    let mut open = Vec::with_capacity(tokens.len());
    let mut samples = load::Samples::default();
    for token in &tokens {
        let begun = Instant::now();
        open.push(sockets::connect(run.api.base(), &key, token, Clock::default()).await?);
        samples.micros.push(begun.elapsed().as_micros() as u64);
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let after = rss();
    let mut outcome = samples.outcome(
        &format!("{} idle authenticated sockets", open.len()),
        "<= 32 KiB each",
        started.elapsed(),
    );
    let per = after.saturating_sub(before) as f64 / open.len().max(1) as f64;
    outcome.note = format!(
        "server RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per socket (latency column: connect time)",
        before as f64 / 1_048_576.0,
        after as f64 / 1_048_576.0,
        per / 1024.0
    );
    drop(open);
    Ok(outcome)
}

/// Rooms each storm user takes part in, and participants per storm room.
const STORM_ROOMS_PER_USER: usize = 100;
const STORM_ROOM_SIZE: usize = 1_000;
/// Sync requests the storm's clients have in flight at once: with 10,000 sockets open, this
/// keeps the load generator and the server under this machine's 20,000 open files.
const STORM_IN_FLIGHT: usize = 2_000;

/// A reconnect storm: `users` users, each in 100 rooms of 1,000, whose sockets all drop and
/// reconnect at once; each then calls `room_list_and_unread` and `new_and_updated`, as the
/// SDKs do on reconnecting. Measures the time until every client has synced, and the latency
/// of Server API sends made meanwhile.
pub async fn storm(run: &Run, users: usize) -> Result<Vec<Outcome>, String> {
    let (low, high) = run.meta.plain_users;
    let users = users.min((high - low) as usize).max(STORM_ROOM_SIZE);
    let cohort: Vec<String> = (0..users)
        .map(|i| format!("u{}", low as usize + i))
        .collect();
    // Room k holds the 1,000 users from k * 10 on (wrapping), so each user is in 100 rooms.
    let step = STORM_ROOM_SIZE / STORM_ROOMS_PER_USER;
    let rooms = users / step;
    let setup = Instant::now();
    let api = run.api.clone();
    let made = futures_util::stream::iter(0..rooms)
        .map(|k| {
            let members: Vec<&String> = (0..STORM_ROOM_SIZE)
                .map(|j| &cohort[(k * step + j) % users])
                .collect();
            let body = json!({"xcRoomID": format!("{}-storm-{k}", run.tag), "type": 2,
                              "name": "Storm", "participantXCUserIDs": members});
            let api = api.clone();
            async move {
                api.ok("/v1/server/room/create_or_update", body.to_string())
                    .await
            }
        })
        .buffer_unordered(8)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    if made < rooms {
        return Err(format!("only {made} of {rooms} storm rooms were created"));
    }
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let connected = sockets::connect_all(&api, &key, &cohort, &Clock::default(), 64).await?;
    let setup = setup.elapsed();
    let tokens: Vec<String> = futures_util::stream::iter(cohort.iter())
        .map(|user| sockets::login(&api, &key, user))
        .buffered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    // Every socket drops at once.
    drop(connected);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Server API sends into ten-member rooms while the storm lasts.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (api, stop) = (api.clone(), stop.clone());
            let rooms = run.meta.ten_member_rooms.clone();
            tokio::spawn(async move {
                let mut samples = load::Samples::default();
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let (room, members) = &rooms[(w * 7 + n) % rooms.len()];
                    let body = json!({"senderXCUserID": members[0], "xcRoomID": room,
                                      "type": 1001, "body": "during the storm"});
                    let started = Instant::now();
                    if api.ok("/v1/server/message/send", body.to_string()).await {
                        samples.micros.push(started.elapsed().as_micros() as u64);
                    } else {
                        samples.errors += 1;
                    }
                    n += 1;
                }
                samples
            })
        })
        .collect();

    let in_flight = Arc::new(tokio::sync::Semaphore::new(STORM_IN_FLIGHT));
    let started = Instant::now();
    let clients: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (api, key, in_flight) = (api.clone(), key.clone(), in_flight.clone());
            tokio::spawn(async move {
                let socket = sockets::connect(api.base(), &key, &token, Clock::default()).await;
                let device = format!("storm-{i}");
                let mut synced = socket.is_ok();
                for path in [
                    "/v1/chat/message/room_list_and_unread",
                    "/v1/chat/message/new_and_updated",
                ] {
                    let _permit = in_flight.acquire().await;
                    let answer = api
                        .client
                        .post(format!("{}{path}", api.base()))
                        .header("App-Key", &key)
                        .header("Authorization", format!("Bearer {token}"))
                        .header("Device-Identifier", &device)
                        .body("")
                        .send()
                        .await;
                    let ok = match answer {
                        Ok(response) => response
                            .bytes()
                            .await
                            .is_ok_and(|body| body.starts_with(br#"{"status":200"#)),
                        Err(_) => false,
                    };
                    synced &= ok;
                }
                (synced, started.elapsed(), socket)
            })
        })
        .collect();
    let mut samples = load::Samples::default();
    let mut open = Vec::with_capacity(clients.len());
    for client in clients {
        let (synced, took, socket) = client.await.map_err(|e| e.to_string())?;
        if synced {
            samples.micros.push(took.as_micros() as u64);
        } else {
            samples.errors += 1;
        }
        open.push(socket);
    }
    let all_synced = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut writes = load::Samples::default();
    for writer in writers {
        writes.merge(writer.await.map_err(|e| e.to_string())?);
    }
    drop(open);
    let mut storm = samples.outcome(
        &format!("reconnect storm: {users} sockets, {STORM_ROOMS_PER_USER} rooms each"),
        "all synced <= 10 s",
        all_synced,
    );
    storm.note = format!(
        "all synced after {:.2} s; per client p50/p99 is the time from the storm's start; \
         setup ({rooms} rooms of {STORM_ROOM_SIZE}, logins, sockets) took {:.0} s",
        all_synced.as_secs_f64(),
        setup.as_secs_f64()
    );
    let writes = writes.outcome(
        "  Server API sends during the storm",
        "p99 <= 50 ms",
        all_synced,
    );
    Ok(vec![storm, writes])
}

/// Bytes of the file of the media throughput runs.
const MEDIA_FILE: usize = 10 << 20;
/// Bytes of each of the concurrent uploads of the memory run, and how many run at once.
const BIG_FILE: usize = 20 << 20;
const BIG_UPLOADS: usize = 64;
/// Concurrent transfers of the throughput runs.
const MEDIA_CONCURRENCY: usize = 4;

/// A `multipart/form-data` body with text parts and a `file` part of `file`'s bytes.
fn multipart(texts: &[(&str, &str)], file: &[u8]) -> (String, bytes::Bytes) {
    let boundary = "confab-bench-7MA4YWxkTrZu0gW";
    let mut body = Vec::with_capacity(file.len() + 1024);
    for (name, value) in texts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into(),
    )
}

/// A file of `size` bytes that no format sniffer recognizes.
fn media_bytes(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// POSTs `body` to `url` with `headers`; whether the answer was a success, with its body read
/// to the end.
async fn transfer(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: bytes::Bytes,
    expect_json: bool,
) -> bool {
    let mut request = client.post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let Ok(response) = request.send().await else {
        return false;
    };
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes() == b"application/json");
    match response.bytes().await {
        Ok(body) if expect_json => json && body.starts_with(br#"{"status":200"#),
        Ok(body) => !json && !body.is_empty(),
        Err(_) => false,
    }
}

/// Media: upload and download throughput of a 10 MiB file against the trivial handlers taking
/// and serving the same bytes from memory (same client, same concurrency, same run); the
/// server's peak anonymous memory (`rss`) while 64 uploads of 20 MiB run at once; and `room/get`'s p99 meanwhile
/// against its p99 just before.
pub async fn media(run: &Run, rss: impl Fn() -> u64) -> Result<Vec<Outcome>, String> {
    let (room, members) = run
        .meta
        .ten_member_rooms
        .first()
        .cloned()
        .ok_or("the dataset has no ten-member rooms")?;
    let api = run.api.clone();
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let reader = sockets::login(&api, &key, &members[1]).await?;
    let bundle = api
        .json("/v1/server/room/get", json!({"xcRoomID": room}))
        .await?;
    let room_id = bundle["room"]["roomID"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let file = media_bytes(MEDIA_FILE);
    let (content_type, upload_body) = multipart(
        &[("senderXCUserID", &members[0]), ("xcRoomID", &room)],
        &file,
    );
    let baseline = load::start_media_baseline(bytes::Bytes::from(file.clone())).await;
    let client = api.client.clone();
    let server_headers = vec![
        ("Server-Key", api.server_key.clone()),
        ("Content-Type", content_type.clone()),
    ];
    let mb = MEDIA_FILE as f64 / 1_048_576.0;

    // Uploads, alternating confab and the baseline within the run.
    let mut outcomes = Vec::new();
    let upload_url = format!("{}/v1/server/file/upload", api.base());
    let upload_base = format!("{baseline}/upload");
    let mut rates = Vec::new();
    for (url, headers, json, name) in [
        (
            upload_base.clone(),
            vec![],
            true,
            "  media upload baseline (trivial handler)",
        ),
        (
            upload_url.clone(),
            server_headers.clone(),
            true,
            "media upload, 10 MiB",
        ),
    ] {
        let (client, body) = (client.clone(), upload_body.clone());
        let (samples, elapsed) = load::run(MEDIA_CONCURRENCY, run.duration, move |_, _| {
            let (client, body, url, headers) =
                (client.clone(), body.clone(), url.clone(), headers.clone());
            async move { transfer(&client, &url, &headers, body, json).await }
        })
        .await;
        let mut o = samples.outcome(name, "upload >= 0.5 of the trivial handler", elapsed);
        rates.push(o.per_second);
        o.note = format!("{:.0} MiB/s", o.per_second * mb);
        outcomes.push(o);
    }
    let upload_ratio = rates[1] / rates[0].max(1e-9);
    outcomes[1].ratio_to_baseline = Some(upload_ratio);
    outcomes[0].ratio_to_baseline = Some(1.0);

    // Downloads of one stored file.
    let stored = client
        .post(&upload_url)
        .header("Server-Key", &api.server_key)
        .header("Content-Type", &content_type)
        .body(upload_body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json::<serde_json::Value>()
        .await
        .map_err(|e| e.to_string())?;
    let file_id = stored["data"]["fileID"]
        .as_str()
        .ok_or(format!("upload failed: {stored}"))?
        .to_owned();
    let download_body =
        bytes::Bytes::from(json!({"roomID": room_id, "fileID": file_id}).to_string());
    let client_headers = vec![
        ("App-Key", key.clone()),
        ("Authorization", format!("Bearer {reader}")),
    ];
    let mut rates = Vec::new();
    for (url, headers, name) in [
        (
            format!("{baseline}/download"),
            vec![],
            "  media download baseline (trivial handler)",
        ),
        (
            format!("{}/v1/chat/file/download", api.base()),
            client_headers,
            "media download, 10 MiB",
        ),
    ] {
        let (client, body) = (client.clone(), download_body.clone());
        let (samples, elapsed) = load::run(MEDIA_CONCURRENCY, run.duration, move |_, _| {
            let (client, body, url, headers) =
                (client.clone(), body.clone(), url.clone(), headers.clone());
            async move { transfer(&client, &url, &headers, body, false).await }
        })
        .await;
        let mut o = samples.outcome(name, "download >= 0.5 of the trivial handler", elapsed);
        rates.push(o.per_second);
        o.note = format!("{:.0} MiB/s", o.per_second * mb);
        outcomes.push(o);
    }
    outcomes[3].ratio_to_baseline = Some(rates[1] / rates[0].max(1e-9));
    outcomes[2].ratio_to_baseline = Some(1.0);

    // room/get alone, then beside 64 concurrent 20 MiB uploads, sampling the server's RSS.
    let room_get = |duration: Duration| {
        let r = run.clone();
        load::run(4, duration, move |w, n| {
            let (api, room) = (r.api.clone(), r.ordinary_room(&mut r.rng(w, n)));
            async move {
                api.ok("/v1/server/room/get", json!({"xcRoomID": room}).to_string())
                    .await
            }
        })
    };
    let (idle_samples, idle_elapsed) = room_get(Duration::from_secs(3)).await;
    let idle = idle_samples.outcome("  room/get, 4 clients, no uploads", "", idle_elapsed);
    let big = media_bytes(BIG_FILE);
    let (_, big_body) = multipart(
        &[("senderXCUserID", &members[0]), ("xcRoomID", &room)],
        &big,
    );
    drop(big);
    let before = rss();
    // The uploading clients get threads and connections of their own, as clients on other
    // machines would: on the room/get clients' runtime, a room/get answer waited behind the
    // generator's own upload tasks, which measured the generator, not the server. They still
    // share this machine's cores with the server at the same priority.
    let uploaders = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-uploads")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let upload_client = reqwest::Client::new();
    let uploads: Vec<_> = (0..BIG_UPLOADS)
        .map(|_| {
            let (client, url, headers, body) = (
                upload_client.clone(),
                upload_url.clone(),
                server_headers.clone(),
                big_body.clone(),
            );
            uploaders.spawn(async move { transfer(&client, &url, &headers, body, true).await })
        })
        .collect();
    let started = Instant::now();
    // room/get from 4 workers until the uploads are done.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (r, stop) = (run.clone(), stop.clone());
            tokio::spawn(async move {
                let mut samples = load::Samples::default();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let room = r.ordinary_room(&mut r.rng(w, n));
                    let began = Instant::now();
                    if r.api
                        .ok("/v1/server/room/get", json!({"xcRoomID": room}).to_string())
                        .await
                    {
                        samples.micros.push(began.elapsed().as_micros() as u64);
                    } else {
                        samples.errors += 1;
                    }
                    n += 1;
                }
                samples
            })
        })
        .collect();
    let mut peak = before;
    let mut done = 0;
    for upload in uploads {
        while !upload.is_finished() {
            peak = peak.max(rss());
            if started.elapsed() > Duration::from_secs(300) {
                stop.store(true, Ordering::Relaxed);
                uploaders.shutdown_background();
                return Err("the 64 uploads took over 5 minutes".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        done += usize::from(upload.await.unwrap_or(false));
    }
    stop.store(true, Ordering::Relaxed);
    let busy_elapsed = started.elapsed();
    uploaders.shutdown_background();
    let mut busy_samples = load::Samples::default();
    for worker in workers {
        busy_samples.merge(worker.await.map_err(|e| e.to_string())?);
    }
    let took = started.elapsed();
    let mut busy = busy_samples.outcome(
        "  room/get, 4 clients, beside 64 uploads of 20 MiB",
        "p99 <= 2x without uploads",
        busy_elapsed,
    );
    busy.note = format!(
        "p99 {:.2} ms against {:.2} ms without uploads ({:.1}x)",
        busy.p99_ms,
        idle.p99_ms,
        busy.p99_ms / idle.p99_ms.max(1e-9)
    );
    let mut memory = Outcome {
        scenario: "64 concurrent uploads of 20 MiB".into(),
        target: "peak memory <= 64 MiB above idle".into(),
        operations: done as u64,
        errors: (BIG_UPLOADS - done) as u64,
        seconds: took.as_secs_f64(),
        per_second: done as f64 / took.as_secs_f64(),
        ..Outcome::default()
    };
    memory.note = format!(
        "peak anonymous RSS {:.1} MiB above the {:.1} MiB before ({:.0} MiB/s in all)",
        peak.saturating_sub(before) as f64 / 1_048_576.0,
        before as f64 / 1_048_576.0,
        done as f64 * BIG_FILE as f64 / 1_048_576.0 / took.as_secs_f64()
    );
    memory.ratio_to_baseline = Some(0.0);
    outcomes.push(memory);
    outcomes.push(idle);
    outcomes.push(busy);
    Ok(outcomes)
}

/// A client API call as the SDKs make it; the envelope's `data`.
async fn client_call(
    api: &Api,
    app_key: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let response = api
        .client
        .post(format!("{}{path}", api.base()))
        .header("App-Key", app_key)
        .header("Authorization", format!("Bearer {token}"))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let envelope: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if envelope["status"] == 200 {
        Ok(envelope["data"].clone())
    } else {
        Err(format!("{path}: {}", envelope["error"]))
    }
}

/// A client API call whose answer is only checked for success, not parsed: parsing a
/// megabyte of JSON per call would take the load generator's share of the cores from the
/// server it measures (the Server API scenarios check the same prefix, see [`Api::post`]).
async fn client_ok(api: &Api, app_key: &str, token: &str, path: &str, body: &str) -> bool {
    let response = api
        .client
        .post(format!("{}{path}", api.base()))
        .header("App-Key", app_key)
        .header("Authorization", format!("Bearer {token}"))
        .body(body.to_owned())
        .send()
        .await;
    match response {
        Ok(response) => response
            .bytes()
            .await
            .is_ok_and(|bytes| bytes.starts_with(b"{\"status\":200,")),
        Err(_) => false,
    }
}

/// `room_list_and_unread` for a user with 1,000 rooms, before and after they mute 50, pin 50
/// and clear 50 of them.
pub async fn room_states(run: &Run) -> Result<Vec<Outcome>, String> {
    // The explicit probe with the most rooms up to 1,000 (1,000 in the default dataset).
    let probe = run
        .meta
        .probes
        .iter()
        .filter(|p| p.rooms <= 1_000 && !p.by_role)
        .max_by_key(|p| p.rooms)
        .ok_or("the dataset has no explicit probe")?
        .clone();
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let token = sockets::login(&run.api, &key, &probe.xc_user_id).await?;
    let path = "/v1/chat/message/room_list_and_unread";
    let list = client_call(&run.api, &key, &token, path, json!("")).await?;
    // Each room's newest message comes first in the list: the user reads up to it, as a user
    // who keeps up with their rooms has (the dataset's probe never read anything, so every
    // message of its rooms would be listed as unread).
    let (mut rooms, mut newest): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for m in list["messages"].as_array().into_iter().flatten() {
        let id = m["room"]["roomID"].as_str().unwrap_or_default().to_owned();
        if !rooms.contains(&id) {
            rooms.push(id);
            newest.push(m["messageID"].as_str().unwrap_or_default().to_owned());
        }
    }
    let read = "/v1/chat/message/feedback/read";
    for ids in newest.chunks(1_000) {
        client_call(&run.api, &key, &token, read, json!({ "messageIDs": ids })).await?;
    }
    let listed = client_call(&run.api, &key, &token, path, json!("")).await?;
    let entries = listed["messages"].as_array().map_or(0, Vec::len);
    // A twentieth of the rooms each: 50 of 1,000.
    let k = rooms.len() / 20;
    if k == 0 {
        return Err(format!("the probe lists {} rooms", rooms.len()));
    }
    let concurrency = run.concurrency.min(4);
    let measure = |label: String| {
        let (api, key, token) = (run.api.clone(), key.clone(), token.clone());
        async move {
            let (samples, elapsed) = load::run(concurrency, run.duration, move |_, _| {
                let (api, key, token) = (api.clone(), key.clone(), token.clone());
                async move { client_ok(&api, &key, &token, path, "\"\"").await }
            })
            .await;
            samples.outcome(&label, "p99 <= 25 ms", elapsed)
        }
    };
    let mut before = measure(format!("room_list_and_unread, {} rooms, read", rooms.len())).await;
    before.note = format!("{entries} messages listed, concurrency={concurrency}");
    let states = [
        ("/v1/client/room/mute", &rooms[0..k]),
        ("/v1/client/room/pin", &rooms[k..2 * k]),
        ("/v1/client/room/clear_chat", &rooms[2 * k..3 * k]),
    ];
    for (path, ids) in states {
        client_call(&run.api, &key, &token, path, json!({ "roomIDs": ids })).await?;
    }
    let mut after = measure(format!(
        "room_list_and_unread, {} rooms, {k} muted, {k} pinned, {k} cleared",
        rooms.len()
    ))
    .await;
    after.note = format!("concurrency={concurrency}");
    Ok(vec![before, after])
}

/// `count` scheduled messages due in the same second, `lead` from now, from 100 senders (one
/// user alone would meet the per-user rate limit), each into their personal room with one
/// peer: how long after that second the last is sent (looked at `settle` after it).
pub async fn scheduled(
    run: &Run,
    count: usize,
    lead: Duration,
    settle: Duration,
) -> Result<Vec<Outcome>, String> {
    const SENDERS: u32 = 100;
    let (low, _) = run.meta.plain_users;
    let key = sockets::app_key(&run.meta.app_key_id, &run.meta.app_key_secret);
    let peer = format!("u{low}");
    let mut senders = Vec::new();
    for n in 1..=SENDERS {
        let xc = format!("u{}", low + n);
        let token = sockets::login(&run.api, &key, &xc).await?;
        let id = |who: &str| {
            let (api, key, token, who) =
                (run.api.clone(), key.clone(), token.clone(), who.to_owned());
            async move {
                let found = client_call(
                    &api,
                    &key,
                    &token,
                    "/v1/client/user/get_by_xcuserid",
                    json!({"xcUserID": who}),
                )
                .await?;
                found["user"]["userID"]
                    .as_str()
                    .and_then(|id| id.parse::<u64>().ok())
                    .ok_or_else(|| format!("no userID for {who}"))
            }
        };
        let (me, other) = (id(&xc).await?, id(&peer).await?);
        senders.push((token, format!("{}-{}", me.min(other), me.max(other))));
    }
    let due = confab_now() + i64::try_from(lead.as_millis()).unwrap_or(i64::MAX);
    let created = Instant::now();
    let per_sender = count / SENDERS as usize;
    let made = futures_util::stream::iter(0..per_sender * senders.len())
        .map(|n| {
            let (token, room) = senders[n % senders.len()].clone();
            let (api, key) = (run.api.clone(), key.clone());
            let local = format!("{}s{n}", run.tag);
            async move {
                let message = json!({"room": {"roomID": room}, "localID": local, "type": 1001,
                                     "body": "scheduled", "data": ""});
                client_call(
                    &api,
                    &key,
                    &token,
                    "/v1/chat/scheduled_message/create",
                    json!({"message": message, "scheduledTime": due}),
                )
                .await
                .is_ok()
            }
        })
        .buffer_unordered(32)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    let scheduling = created.elapsed();
    let count = per_sender * senders.len();
    if made < count || confab_now() > due - 1_000 {
        return Err(format!(
            "{made} of {count} scheduled in {scheduling:?}, too late for the due time"
        ));
    }
    let settle = i64::try_from(settle.as_millis()).unwrap_or(0);
    let wait = u64::try_from(due + settle - confab_now()).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(wait)).await;
    // Each sender's room back to the due time: every message sent, once, and when.
    let prefix = format!("{}s", run.tag);
    let (mut sent, mut unsent, mut first, mut last) = (0usize, 0usize, i64::MAX, 0i64);
    let mut seen = std::collections::HashSet::new();
    for (token, room) in &senders {
        let left = client_call(
            &run.api,
            &key,
            token,
            "/v1/chat/scheduled_message/get_scheduled_list",
            json!({"roomID": room}),
        )
        .await?;
        unsent += left["items"].as_array().map_or(0, Vec::len);
        let mut before = 0i64;
        loop {
            let page = client_call(
                &run.api,
                &key,
                token,
                "/v1/chat/message/list_by_room/before",
                json!({"roomID": room, "maxCreated": before, "limit": 200}),
            )
            .await?;
            let messages = page["messages"].as_array().cloned().unwrap_or_default();
            for m in &messages {
                let at = m["created"].as_i64().unwrap_or(0);
                let local = m["localID"].as_str().unwrap_or_default();
                if local.starts_with(&prefix) && seen.insert(local.to_owned()) {
                    sent += 1;
                    first = first.min(at);
                    last = last.max(at);
                }
            }
            let oldest = messages
                .last()
                .and_then(|m| m["created"].as_i64())
                .unwrap_or(0);
            if messages.is_empty() || oldest < due || page["hasMore"] != true {
                break;
            }
            before = oldest;
        }
    }
    let outcome = Outcome {
        scenario: format!("{count} scheduled messages due in the same second"),
        target: "all sent within 5 s of it".into(),
        operations: sent as u64,
        seconds: (last - due) as f64 / 1000.0,
        per_second: if last > first {
            sent as f64 * 1000.0 / (last - first) as f64
        } else {
            0.0
        },
        note: format!(
            "sent {sent} of {count} ({unsent} left) from {} senders, first {} ms and last {} ms after the due time; scheduling them took {:.1} s",
            senders.len(),
            first - due,
            last - due,
            scheduling.as_secs_f64()
        ),
        ..Outcome::default()
    };
    Ok(vec![outcome])
}

fn confab_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
    )
    .unwrap_or(i64::MAX)
}

/// A loopback webhook receiver that answers 200 and counts what it got.
struct Receiver {
    url: String,
    got: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    async fn start(listener: tokio::net::TcpListener) -> Result<Self, String> {
        let url = format!(
            "http://{}/hook",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let got = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::Relaxed);
                    "ok"
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, got })
    }
}

/// The data of a Server API answer that must succeed.
async fn server_data(
    api: &Api,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, String> {
    let answer = api.post(path, body.to_string()).await?;
    let envelope: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    if envelope["status"] != 200 {
        return Err(format!("{path}: {envelope}"));
    }
    Ok(envelope["data"].clone())
}

/// An endpoint's backlog, from `webhook/list`.
async fn backlog(api: &Api, id: &serde_json::Value) -> Result<i64, String> {
    let listed = server_data(api, "/v1/server/webhook/list", json!({})).await?;
    Ok(listed["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| &w["webhookID"] == id)
        .and_then(|w| w["backlog"].as_i64())
        .unwrap_or(0))
}

/// Waits until the endpoint's backlog is empty (at most `limit`); how long that took.
async fn drained(api: &Api, id: &serde_json::Value, limit: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    while backlog(api, id).await? > 0 {
        if started.elapsed() > limit {
            return Err(format!(
                "the webhook backlog did not drain within {limit:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(started.elapsed())
}

/// A port nothing listens on (yet).
fn free_port() -> Result<std::net::SocketAddr, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())
}

/// Server API sends into the first `rooms` ten-member rooms (those `send-server` uses, whose
/// members no other scenario changes) for the run's duration, closed loop.
async fn send_for_a_while(run: &Run, rooms: usize, label: &str, target: &str) -> Outcome {
    let chosen: Vec<(String, Vec<String>)> = run
        .meta
        .ten_member_rooms
        .iter()
        .take(rooms)
        .cloned()
        .collect();
    let chosen = Arc::new(chosen);
    let r = run.clone();
    let (samples, elapsed) = load::run(run.concurrency, run.duration, move |w, n| {
        let mut rng = r.rng(w, n);
        let (room, members) = &chosen[rng.below(chosen.len() as u64) as usize];
        let sender = &members[rng.below(members.len() as u64) as usize];
        let body =
            json!({"senderXCUserID": sender, "xcRoomID": room, "type": 1001, "body": "hooked"});
        let api = r.api.clone();
        async move { api.ok("/v1/server/message/send", body.to_string()).await }
    })
    .await;
    samples.outcome(label, target, elapsed)
}

/// Webhooks beside Server API sends (the server runs with `CONFAB_WEBHOOK_ALLOW_PRIVATE=1`):
/// sends with no endpoint, with a loopback receiver (deliveries/s, backlog when the sends
/// stop), with an endpoint that is down (send latency must not change), then the down
/// endpoint's backlog drained once a receiver answers on its port and it is replayed.
pub async fn webhooks(run: &Run, rooms: usize) -> Result<Vec<Outcome>, String> {
    let api = &run.api;
    let mut outcomes =
        vec![send_for_a_while(run, rooms, "message/send, no webhook endpoint", "baseline").await];

    let receiver = Receiver::start(
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    let live = server_data(
        api,
        "/v1/server/webhook/create",
        json!({"url": receiver.url}),
    )
    .await?;
    let live_id = live["webhookID"].clone();
    let before = receiver.got.load(Ordering::Relaxed);
    let mut sends =
        send_for_a_while(run, rooms, "message/send, a live endpoint", "as without").await;
    let delivered = receiver.got.load(Ordering::Relaxed) - before;
    let left = backlog(api, &live_id).await?;
    let drain = drained(api, &live_id, Duration::from_secs(600)).await?;
    sends.note = format!(
        "{delivered} deliveries while sending ({:.0}/s for {:.0} sends/s); backlog when the sends \
         stopped {left}, delivered {:.2} s later",
        delivered as f64 / sends.seconds.max(1e-9),
        sends.per_second,
        drain.as_secs_f64()
    );
    outcomes.push(sends);
    server_data(
        api,
        "/v1/server/webhook/delete",
        json!({"webhookID": live_id}),
    )
    .await?;

    let dead_addr = free_port()?;
    let dead = server_data(
        api,
        "/v1/server/webhook/create",
        json!({"url": format!("http://{dead_addr}/hook")}),
    )
    .await?;
    let dead_id = dead["webhookID"].clone();
    let since = confab_now();
    let mut sends = send_for_a_while(
        run,
        rooms,
        "message/send, an endpoint that is down",
        "p99 as without",
    )
    .await;
    let piled = backlog(api, &dead_id).await?;
    let back = Receiver::start(
        tokio::net::TcpListener::bind(dead_addr)
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    let started = Instant::now();
    server_data(
        api,
        "/v1/server/webhook/replay",
        json!({"webhookID": dead_id, "since": since}),
    )
    .await?;
    let drain = drained(api, &dead_id, Duration::from_secs(1_800)).await?;
    let took = started.elapsed().max(drain);
    sends.note = format!(
        "backlog {piled}; once the endpoint was back and replayed, drained in {:.2} s ({:.0} deliveries/s)",
        took.as_secs_f64(),
        back.got.load(Ordering::Relaxed) as f64 / took.as_secs_f64().max(1e-9)
    );
    outcomes.push(sends);
    server_data(
        api,
        "/v1/server/webhook/delete",
        json!({"webhookID": dead_id}),
    )
    .await?;
    Ok(outcomes)
}

//! `confab-bench`: builds a realistic dataset and measures a running confab against it.
//!
//! Every figure is printed next to the same load against a trivial axum handler (same
//! machine, same client, same concurrency), because this machine is shared and noisy.

mod dataset;
mod json;
mod load;
mod report;
mod scenarios;
mod sockets;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use load::{Api, Outcome};
use scenarios::Run;

#[derive(Parser)]
#[command(
    name = "confab-bench",
    about = "Load generator and dataset builder for confab"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a dataset into DIR/confab.db and describe it in DIR/meta.json.
    Dataset {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        users: u32,
        #[arg(long, default_value_t = 200_000)]
        rooms: u32,
        #[arg(long, default_value_t = 10_000_000)]
        messages: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Start confab on a dataset and run scenarios against it.
    Run {
        /// The dataset folder.
        #[arg(long)]
        data: PathBuf,
        /// The confab binary to start (use a release build).
        #[arg(long, default_value = "target/release/confab")]
        server_bin: PathBuf,
        /// Scenario: all, baseline, room-get, room-create, room-update, participants, add-many, lock,
        /// lists, send-server, send-socket, fanout, idle-sockets, room-states, scheduled, webhooks; `storm`
        /// (not in `all`: a
        /// reconnect storm of `--sockets` users, at most 10,000, with 100 rooms each); `media`
        /// (not in `all`: gigabytes of uploads, removed afterwards).
        #[arg(long, default_value = "all")]
        scenario: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Idle sockets to open in idle-sockets.
        #[arg(long, default_value_t = 20_000)]
        sockets: usize,
        /// Paced write runs go at this percentage of their target rate (latency with headroom).
        #[arg(long, default_value_t = 100.0)]
        paced_percent: f64,
        /// Write the results here as JSON too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Draw get_list_by_user latency against rooms per user from result files (SVG).
    Chart {
        #[arg(long, required = true, num_args = 1..)]
        json: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Room writes and message deliveries through one or more nodes on a shared database
    /// (seeded through the Server API: 2,000 users, 50 ten-member rooms).
    Cluster {
        #[arg(long, default_value = "target/release/confab")]
        server_bin: PathBuf,
        /// Database URL every node uses (`sqlite://…` for one node, `postgres://…`).
        #[arg(long)]
        database: String,
        /// Nodes to start.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// NATS URL the nodes fan out through (needed for more than one node).
        #[arg(long)]
        bus: Option<String>,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        duration_secs: u64,
        /// Write the results here as JSON too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The time to serialize a room list, in this process (no server).
    Json {
        /// Entries in the list.
        #[arg(long, default_value_t = 1000)]
        rooms: usize,
        /// Timed runs of each writer, alternating.
        #[arg(long, default_value_t = 101)]
        runs: usize,
    },
    /// Every scenario once, briefly, on a tiny dataset (CI: keeps the tool from rotting).
    Smoke {
        #[arg(long, default_value = "target/debug/confab")]
        server_bin: PathBuf,
    },
}

/// A confab process on a free loopback port.
struct Server {
    child: Child,
    base: String,
    startup: Duration,
}

impl Server {
    fn start(bin: &Path, database: &Path) -> Result<Self, String> {
        Self::start_with(bin, &format!("sqlite://{}", database.display()), None)
    }

    /// Starts confab on a database URL, connected to a bus if one is given.
    fn start_with(bin: &Path, database: &str, bus: Option<&str>) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let started = Instant::now();
        let child = Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--database")
            .arg(database)
            .args(bus.map(|url| format!("--bus={url}")))
            // Webhook scenarios post to receivers on loopback.
            .env("CONFAB_WEBHOOK_ALLOW_PRIVATE", "true")
            // The production default (`info`, one line per request) unless the caller asks
            // for another level by setting CONFAB_LOG for confab-bench itself.
            .env(
                "CONFAB_LOG",
                std::env::var("CONFAB_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            // The request log goes nowhere, as to a log collector that keeps up.
            .stderr(if std::env::var_os("CONFAB_BENCH_SERVER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let base = format!("http://127.0.0.1:{port}");
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("confab did not start within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Self {
            child,
            base,
            startup: started.elapsed(),
        })
    }

    /// CPU time (user + system) the server process has used, seconds.
    fn cpu_seconds(pid: u32) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Resident memory of the server process, bytes.
    fn rss(pid: u32) -> u64 {
        Self::status_kb(pid, "VmRSS:")
    }

    /// Resident anonymous memory of the server process (its heap and stacks, without the
    /// pages of the database file it maps), bytes.
    fn rss_anon(pid: u32) -> u64 {
        Self::status_kb(pid, "RssAnon:")
    }

    /// A `kB` line of `/proc/<pid>/status`, in bytes.
    fn status_kb(pid: u32, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with(field)).and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<u64>().ok())
                })
            })
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn run_scenarios(
    data: &Path,
    server_bin: &Path,
    scenario: &str,
    concurrency: usize,
    duration: Duration,
    socket_count: usize,
    paced_percent: f64,
) -> Result<Vec<Outcome>, String> {
    let meta: dataset::Meta = serde_json::from_str(
        &std::fs::read_to_string(data.join("meta.json"))
            .map_err(|e| format!("{}: {e}", data.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let server = Server::start(server_bin, &data.join("confab.db"))?;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = Server::rss(pid);
    let tag = format!(
        "b{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let run = Run {
        api: Api::new(server.base.clone(), meta.server_key.clone()),
        meta: Arc::new(meta),
        concurrency,
        duration,
        tag,
    };
    let all = scenario == "all";
    // The storm only when asked for by name: its setup writes a million memberships into the
    // dataset.
    let wants = |name: &str| (all && name != "storm" && name != "media") || scenario == name;
    let mut outcomes = Vec::new();
    let mut facts = Outcome {
        scenario: "startup and idle memory".into(),
        target: "startup <= 2 s, idle RSS <= 50 MiB".into(),
        note: format!(
            "startup {:.0} ms (spawn to accepting connections), idle RSS {:.1} MiB, {:.0} bytes/message on disk",
            server.startup.as_secs_f64() * 1000.0,
            idle_rss as f64 / 1_048_576.0,
            run.meta.bytes_per_message
        ),
        ..Outcome::default()
    };
    facts.seconds = server.startup.as_secs_f64();
    outcomes.push(facts);
    let baseline = scenarios::baseline(&run).await;
    let base_rate = baseline.per_second;
    outcomes.push(baseline);
    let progress = |o: &Outcome| eprintln!("  done: {} ({:.0}/s)", o.scenario, o.per_second);
    // Server CPU over a scenario, charged to its first (main) outcome.
    let charge = |o: &mut Outcome, cpu: f64, wall: f64| {
        o.server_cores = cpu / wall.max(1e-9);
        if o.operations > 0 {
            o.server_cpu_us_per_op = cpu * 1e6 / o.operations as f64;
        }
    };
    macro_rules! one {
        ($name:literal, $call:expr) => {
            if wants($name) {
                let (cpu, wall) = (Server::cpu_seconds(pid), Instant::now());
                let mut o = $call;
                charge(
                    &mut o,
                    Server::cpu_seconds(pid) - cpu,
                    wall.elapsed().as_secs_f64(),
                );
                progress(&o);
                outcomes.push(o);
            }
        };
    }
    macro_rules! many {
        ($name:literal, $call:expr) => {
            if wants($name) {
                let (cpu, wall) = (Server::cpu_seconds(pid), Instant::now());
                let mut list: Vec<Outcome> = $call;
                if let Some(first) = list.first_mut() {
                    charge(
                        first,
                        Server::cpu_seconds(pid) - cpu,
                        wall.elapsed().as_secs_f64(),
                    );
                }
                for o in list {
                    progress(&o);
                    outcomes.push(o);
                }
            }
        };
    }
    one!("room-get", scenarios::room_get(&run).await);
    // Each write target is a rate and a p99 "at those rates": the closed loop finds the rate,
    // a second run paced at the target rate gives the p99 there.
    use scenarios::Pace;
    let paced = |target: f64| Pace::At(target * paced_percent / 100.0);
    one!(
        "room-create",
        scenarios::room_create(&run, Pace::Saturate).await
    );
    one!(
        "room-create",
        scenarios::room_create(&run, paced(3_000.0)).await
    );
    one!("room-update", scenarios::room_update(&run).await);
    one!(
        "participants",
        scenarios::participants(&run, Pace::Saturate).await
    );
    one!(
        "participants",
        scenarios::participants(&run, paced(8_000.0)).await
    );
    many!("add-many", scenarios::add_many(&run).await?);
    one!("lock", scenarios::lock(&run, Pace::Saturate).await);
    one!("lock", scenarios::lock(&run, paced(8_000.0)).await);
    for probe in run.meta.probes.clone() {
        one!("lists", scenarios::list(&run, &probe).await);
    }
    // A small socket budget (the smoke run) keeps every scenario within a default limit of
    // 1,024 open files.
    let small = socket_count < 1_000;
    let (send_rooms, socket_rooms, fanout_members) =
        if small { (5, 3, 100) } else { (50, 20, 1_000) };
    many!(
        "send-server",
        scenarios::send_server(&run, send_rooms).await?
    );
    many!(
        "send-socket",
        scenarios::send_socket(&run, socket_rooms).await?
    );
    many!("fanout", scenarios::fanout(&run, fanout_members).await?);
    one!(
        "idle-sockets",
        scenarios::idle_sockets(&run, socket_count, || Server::rss(pid)).await?
    );
    many!(
        "storm",
        scenarios::storm(&run, socket_count.min(10_000)).await?
    );
    many!(
        "media",
        scenarios::media(&run, || Server::rss_anon(pid)).await?
    );
    many!("room-states", scenarios::room_states(&run).await?);
    many!("webhooks", scenarios::webhooks(&run, send_rooms).await?);
    let (due_count, lead, settle) = if small {
        (1_000, Duration::from_secs(4), Duration::from_secs(3))
    } else {
        (10_000, Duration::from_secs(20), Duration::from_secs(8))
    };
    many!(
        "scheduled",
        scenarios::scheduled(&run, due_count, lead, settle).await?
    );
    if wants("media") {
        // Gigabytes of test uploads, beside the dataset's database.
        let _ = std::fs::remove_dir_all(data.join("media"));
    }
    // Outcomes with a yardstick of their own (media: the trivial media handlers) keep it.
    for o in outcomes.iter_mut().skip(2) {
        if o.ratio_to_baseline.is_none() && o.per_second > 0.0 && base_rate > 0.0 {
            o.ratio_to_baseline = Some(o.per_second / base_rate);
        }
    }
    Ok(outcomes)
}

/// Prints the outcomes as a table and as JSON, and writes the JSON to `json` if given.
fn publish(outcomes: Result<Vec<Outcome>, String>, json: Option<PathBuf>) -> Result<(), String> {
    let outcomes = outcomes?;
    report::table(&outcomes);
    let text = serde_json::to_string_pretty(&outcomes).unwrap_or_default();
    println!("{text}");
    match json {
        Some(path) => std::fs::write(path, text).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// What `confab-bench cluster` runs.
struct ClusterRun {
    server_bin: PathBuf,
    database: String,
    nodes: usize,
    bus: Option<String>,
    concurrency: usize,
    duration: Duration,
}

/// Runs a `confab` key command on the database and returns its JSON output.
fn key_command(bin: &Path, database: &str, kind: &str) -> Result<serde_json::Value, String> {
    let output = Command::new(bin)
        .args([kind, "create", "--app", "bench", "--database", database])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}

async fn cluster(settings: &ClusterRun) -> Result<Vec<Outcome>, String> {
    let bin = &settings.server_bin;
    let server = key_command(bin, &settings.database, "server-key")?;
    let app = key_command(bin, &settings.database, "app-key")?;
    let mut servers = Vec::new();
    for _ in 0..settings.nodes.max(1) {
        servers.push(Server::start_with(
            bin,
            &settings.database,
            settings.bus.as_deref(),
        )?);
    }
    let bases = servers.iter().map(|s| s.base.clone()).collect();
    let api = Api::spread(bases, server["header"].as_str().unwrap_or_default().into());
    // Seed through the Server API: users u1..u2000, and 50 rooms of ten of them.
    let users = 2_000u32;
    let mut workers = Vec::new();
    for worker in 0..32u32 {
        let api = api.clone();
        workers.push(tokio::spawn(async move {
            for n in (1 + worker..=users).step_by(32) {
                let body = serde_json::json!({"xcUserID": format!("u{n}"), "fullName": "U"});
                if !api.ok("/v1/server/user/update", body.to_string()).await {
                    return false;
                }
            }
            true
        }));
    }
    for worker in workers {
        if !worker.await.unwrap_or(false) {
            return Err("cannot seed the users".into());
        }
    }
    let mut ten_member_rooms = Vec::new();
    for r in 0..50u32 {
        let members: Vec<String> = (0..10).map(|i| format!("u{}", 1 + r * 10 + i)).collect();
        let room = format!("t{r}");
        let body = serde_json::json!({"xcRoomID": room, "type": 2, "name": "T",
                                      "participantXCUserIDs": members});
        if !api
            .ok("/v1/server/room/create_or_update", body.to_string())
            .await
        {
            return Err("cannot seed the rooms".into());
        }
        ten_member_rooms.push((room, members));
    }
    let meta = dataset::Meta {
        users,
        rooms: 50,
        messages: 0,
        server_key: api.server_key.clone(),
        app_key_id: app["appKeyID"].as_str().unwrap_or_default().into(),
        app_key_secret: app["appKeySecret"].as_str().unwrap_or_default().into(),
        probes: Vec::new(),
        ten_member_rooms,
        fanout_room: (String::new(), Vec::new()),
        plain_users: (1, users),
        bytes_per_message: 0.0,
        load_seconds: 0.0,
    };
    let run = Run {
        api,
        meta: Arc::new(meta),
        concurrency: settings.concurrency,
        duration: settings.duration,
        tag: format!("c{}", std::process::id()),
    };
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let cpu = || {
        pids.iter()
            .map(|pid| Server::cpu_seconds(*pid))
            .sum::<f64>()
    };
    let baseline = scenarios::baseline(&run).await;
    let base_rate = baseline.per_second;
    let mut outcomes = vec![baseline];
    let (before, wall) = (cpu(), Instant::now());
    let mut creates = scenarios::room_create(&run, scenarios::Pace::Saturate).await;
    creates.server_cores = (cpu() - before) / wall.elapsed().as_secs_f64();
    outcomes.push(creates);
    let (before, wall) = (cpu(), Instant::now());
    let mut sends = scenarios::send_server(&run, 50).await?;
    if let Some(first) = sends.first_mut() {
        first.server_cores = (cpu() - before) / wall.elapsed().as_secs_f64();
    }
    outcomes.extend(sends);
    for o in outcomes.iter_mut().skip(1) {
        if o.per_second > 0.0 && base_rate > 0.0 {
            o.ratio_to_baseline = Some(o.per_second / base_rate);
        }
    }
    Ok(outcomes)
}

async fn smoke(server_bin: &Path) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("confab-bench-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let spec = dataset::Spec {
        users: 3_000,
        rooms: 4_000,
        messages: 40_000,
        seed: 7,
    };
    let meta = dataset::generate(&dir.join("confab.db"), spec).await?;
    std::fs::write(
        dir.join("meta.json"),
        serde_json::to_string(&meta).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let outcomes = run_scenarios(
        &dir,
        server_bin,
        "all",
        4,
        Duration::from_secs(2),
        50,
        100.0,
    )
    .await?;
    report::table(&outcomes);
    let _ = std::fs::remove_dir_all(&dir);
    for o in &outcomes[1..] {
        if o.errors > 0 || (o.operations == 0 && !o.scenario.starts_with("  ")) {
            return Err(format!(
                "scenario '{}' failed: {} errors, {} operations",
                o.scenario, o.errors, o.operations
            ));
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Cmd::Dataset {
            out,
            users,
            rooms,
            messages,
            seed,
        } => {
            let spec = dataset::Spec {
                users,
                rooms,
                messages,
                seed,
            };
            async {
                std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                let meta = dataset::generate(&out.join("confab.db"), spec).await?;
                println!(
                    "dataset: {} users, {} rooms, {} messages in {:.1} s, {:.0} bytes/message on disk",
                    meta.users, meta.rooms, meta.messages, meta.load_seconds, meta.bytes_per_message
                );
                std::fs::write(out.join("meta.json"), serde_json::to_string_pretty(&meta).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())
            }
            .await
        }
        Cmd::Run {
            data,
            server_bin,
            scenario,
            concurrency,
            duration_secs,
            sockets,
            paced_percent,
            json,
        } => {
            let outcomes = run_scenarios(
                &data,
                &server_bin,
                &scenario,
                concurrency,
                Duration::from_secs(duration_secs),
                sockets,
                paced_percent,
            )
            .await;
            publish(outcomes, json)
        }
        Cmd::Chart { json, out } => report::chart(&json, &out),
        Cmd::Cluster {
            server_bin,
            database,
            nodes,
            bus,
            concurrency,
            duration_secs,
            json,
        } => {
            let settings = ClusterRun {
                server_bin,
                database,
                nodes,
                bus,
                concurrency,
                duration: Duration::from_secs(duration_secs),
            };
            publish(cluster(&settings).await, json)
        }
        Cmd::Json { rooms, runs } => json::run(rooms, runs),
        Cmd::Smoke { server_bin } => smoke(&server_bin).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("confab-bench: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

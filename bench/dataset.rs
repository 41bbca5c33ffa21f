//! The benchmark dataset: a realistic, skewed app written straight into SQLite (not through
//! the HTTP API), deterministic for a given seed.
//!
//! Shape, for the default 100,000 users / 200,000 rooms / 10,000,000 messages:
//! - most rooms have 2–8 participants drawn with a skew towards "popular" users;
//! - probe users sit in exactly 10, 1,000 and 10,000 rooms (explicitly), and role holders are
//!   participants of 10, 1,000, 10,000 and 50,000 rooms through `participantUserRoles`;
//! - the last ten rooms have 10,000 participants each, one room has 1,000 (fan-out), and 1,000
//!   rooms have exactly 10 (message sends);
//! - every room starts with its `room/create` system message; chat messages are spread over
//!   rooms with a skew, each from one of the room's participants;
//! - every participant has read all but the last 0–3 messages of their rooms.

use std::path::Path;
use std::time::Instant;

use confab::domain::secret::KeyKind;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// Dataset size.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub users: u32,
    pub rooms: u32,
    pub messages: u64,
    pub seed: u64,
}

/// What the load generator needs to know about a dataset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub users: u32,
    pub rooms: u32,
    pub messages: u64,
    pub server_key: String,
    pub app_key_id: String,
    pub app_key_secret: String,
    /// Users whose room lists are measured: (label, xcUserID, rooms, by role).
    pub probes: Vec<Probe>,
    /// Rooms with exactly ten participants, and those participants.
    pub ten_member_rooms: Vec<(String, Vec<String>)>,
    /// The fan-out room and its participants.
    pub fanout_room: (String, Vec<String>),
    /// Users with no special role, for sockets.
    pub plain_users: (u32, u32),
    pub bytes_per_message: f64,
    pub load_seconds: f64,
}

/// A user whose room list the benchmark reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub label: String,
    pub xc_user_id: String,
    pub rooms: u64,
    pub by_role: bool,
}

/// SplitMix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("ASCII")
}

/// A message text with its encoded form: texts whose length puts the codec's salt inside the
/// `localID`'s fixed middle, so one encoding serves every message that uses the template.
struct Template {
    middle: String,
    body: String,
}

const WORDS: &[&str] = &[
    "hello", "order", "shipped", "thanks", "see", "you", "soon", "payment", "received", "ok",
    "great", "where", "is", "my", "parcel", "today", "tomorrow", "please", "check", "done",
];

fn templates(rng: &mut Rng) -> Vec<Template> {
    (0..32)
        .map(|i| {
            let target = 10 + (i % 14) + 32 * (i % 3); // length % 32 in 10..24
            let mut text = String::new();
            while text.len() < target {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            }
            text.truncate(target);
            let middle = base62(rng.next_u64(), 11) + &base62(i as u64, 5);
            let local_id = format!("AAAAAAAA{middle}AAAAAAAA");
            let body = confab::codec::encode_with(&text, &local_id, 3).expect("ASCII local ID");
            Template { middle, body }
        })
        .collect()
}

struct Layout {
    members: Vec<Vec<u32>>,
    roles: Vec<Vec<&'static str>>,
    user_roles: Vec<&'static str>,
    probes: Vec<Probe>,
    ten: Vec<u32>,
    fanout: u32,
}

const ROLE_TIERS: [(&str, u32); 4] = [
    ("r50000", 50_000),
    ("r10000", 10_000),
    ("r1000", 1_000),
    ("r10", 10),
];
const EXPLICIT_TIERS: [u64; 3] = [10, 1_000, 10_000];

fn layout(spec: &Spec, rng: &mut Rng) -> Layout {
    let (users, rooms) = (spec.users, spec.rooms);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); rooms as usize + 1];
    let mut roles: Vec<Vec<&'static str>> = vec![Vec::new(); rooms as usize + 1];
    let mut user_roles = vec![""; users as usize + 1];
    let mut probes = Vec::new();
    // Role holders: users 1..=20, five per tier.
    for (tier, (role, count)) in ROLE_TIERS.iter().enumerate() {
        let count = (*count).min(rooms / 2);
        for room in 1..=count {
            roles[room as usize].push(role);
        }
        for k in 0..5 {
            let user = 1 + tier as u32 * 5 + k;
            user_roles[user as usize] = role;
        }
        probes.push(Probe {
            label: format!("role, {count} rooms"),
            xc_user_id: format!("u{}", 1 + tier as u32 * 5),
            rooms: u64::from(count),
            by_role: true,
        });
    }
    let special = 10 + 1_000 + 10 * 1_000; // big rooms, fan-out room, ten-member rooms
    let regular = rooms.saturating_sub(special).max(rooms / 2);
    // Ten big rooms at the end, one fan-out room, then the ten-member rooms.
    let big = (rooms - 9..=rooms).collect::<Vec<_>>();
    for &room in &big {
        let size = 10_000.min(users);
        let start = rng.below(u64::from(users)) as u32;
        members[room as usize] = (0..size).map(|k| 1 + (start + k * 7) % users).collect();
    }
    let fanout = rooms - 10;
    members[fanout as usize] = (0..1_000.min(users))
        .map(|k| 1 + (1_000 + k) % users)
        .collect();
    let ten: Vec<u32> = (regular + 1..fanout).take(1_000).collect();
    for (i, &room) in ten.iter().enumerate() {
        members[room as usize] = (0..10)
            .map(|k| 1 + (2_000 + i as u32 * 10 + k) % users)
            .collect();
    }
    // Regular rooms: 2..=8 participants, skewed towards low (popular) user IDs.
    for room in 1..=regular.min(fanout - 1) {
        if !members[room as usize].is_empty() {
            continue;
        }
        let size = 2 + rng.below(7) as u32;
        let mut list = Vec::with_capacity(size as usize);
        while list.len() < size as usize {
            let r = rng.unit();
            let user = 36 + ((users - 36) as f64 * r * r) as u32;
            if !list.contains(&user) {
                list.push(user);
            }
        }
        members[room as usize] = list;
    }
    // Explicit probes: users 21..=35, five per tier, spread over the regular rooms.
    for (tier, count) in EXPLICIT_TIERS.iter().enumerate() {
        let count = (*count).min(u64::from(regular));
        for k in 0..5u32 {
            let user = 21 + tier as u32 * 5 + k;
            for n in 0..count {
                let room = 1 + ((n * 7_919 + u64::from(k) * 104_729) % u64::from(regular)) as u32;
                if !members[room as usize].contains(&user) {
                    members[room as usize].push(user);
                }
            }
        }
        probes.push(Probe {
            label: format!("explicit, {count} rooms"),
            xc_user_id: format!("u{}", 21 + tier as u32 * 5),
            rooms: count,
            by_role: false,
        });
    }
    Layout {
        members,
        roles,
        user_roles,
        probes,
        ten,
        fanout,
    }
}

/// Builds the dataset into a fresh database at `path` and returns its description.
pub async fn generate(path: &Path, spec: Spec) -> Result<Meta, String> {
    if path.exists() {
        return Err(format!("{} exists; remove it first", path.display()));
    }
    let started = Instant::now();
    // Migrate and create the keys through confab itself.
    let database = confab::config::DatabaseArgs::new(format!("sqlite://{}", path.display()));
    let store = confab::app::open_store(&database, None).await?;
    let service = confab::service::Service::new(store, Default::default(), Default::default());
    let (_, server) = service
        .create_key("bench", KeyKind::Server)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (_, app) = service
        .create_key("bench", KeyKind::App)
        .await
        .map_err(|e| format!("{e:?}"))?;
    service.store().close().await;

    let mut rng = Rng::new(spec.seed);
    let layout = layout(&spec, &mut rng);
    let templates = templates(&mut rng);
    let conn = Connection::open(path).map_err(|e| e.to_string())?;
    load(&conn, &spec, &layout, &templates, &mut rng)
        .map_err(|e| format!("loading failed: {e}"))?;
    drop(conn);
    let bytes = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    let ten_member_rooms = layout
        .ten
        .iter()
        .map(|room| {
            let members = layout.members[*room as usize]
                .iter()
                .map(|u| format!("u{u}"))
                .collect();
            (format!("r{room}"), members)
        })
        .collect();
    Ok(Meta {
        users: spec.users,
        rooms: spec.rooms,
        messages: spec.messages,
        server_key: server.header_value(),
        app_key_id: app.id,
        app_key_secret: app.secret,
        probes: layout.probes.clone(),
        ten_member_rooms,
        fanout_room: (
            format!("r{}", layout.fanout),
            layout.members[layout.fanout as usize]
                .iter()
                .map(|u| format!("u{u}"))
                .collect(),
        ),
        plain_users: (36, spec.users),
        bytes_per_message: bytes as f64 / spec.messages as f64,
        load_seconds: started.elapsed().as_secs_f64(),
    })
}

fn load(
    conn: &Connection,
    spec: &Spec,
    layout: &Layout,
    templates: &[Template],
    rng: &mut Rng,
) -> rusqlite::Result<()> {
    // A fresh file that is thrown away on failure: no journal while loading (a WAL would grow
    // to the size of the whole dataset and then be copied again), WAL again at the end.
    conn.query_row("PRAGMA journal_mode = OFF", [], |_| Ok(()))?;
    conn.execute_batch(
        "PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; PRAGMA cache_size = -512000; \
         PRAGMA temp_store = MEMORY;",
    )?;
    // Secondary indexes are dropped for the load and rebuilt once at the end (a sort instead
    // of ten million random B-tree inserts).
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('messages', 'room_members', 'read_positions', 'room_roles', 'rooms', 'users')",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    let app: i64 = conn.query_row("SELECT id FROM apps WHERE name = 'bench'", [], |r| r.get(0))?;
    let t0: i64 = 1_700_000_000_000;
    // The app's own user (created with the app) moves past the generated users' IDs, which
    // are 1..=users so that user `uN` has ID N.
    conn.execute(
        "UPDATE users SET id = ?1 WHERE app_id = ?2 AND xc_user_id = ''",
        params![i64::from(spec.users) + 1, app],
    )?;
    conn.execute_batch("BEGIN")?;
    {
        let mut user = conn.prepare(
            "INSERT INTO users (id, app_id, xc_user_id, fullname, username, role_code, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?;
        for id in 1..=spec.users {
            user.execute(params![
                id,
                app,
                format!("u{id}"),
                format!("User {id}"),
                format!("user{id}"),
                layout.user_roles[id as usize],
                t0
            ])?;
        }
    }
    let rooms = spec.rooms as usize;
    let mut seq = vec![0i64; rooms + 1];
    let mut chat = vec![0i64; rooms + 1];
    let mut last_id = vec![0i64; rooms + 1];
    let mut last_created = vec![0i64; rooms + 1];
    {
        let mut message = conn.prepare(
            "INSERT INTO messages (id, room_id, seq, sender_id, local_id, type, body, action, \
                 is_delivered, is_read, ordinal, version, born, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?1, ?1, ?11, ?11)",
        )?;
        let system_body = confab::codec::encode_with(
            "{{sender}} created this room",
            "AAAAAAAAsystemmessagesAAAAAAAA",
            3,
        )
        .expect("ASCII");
        let mut id: i64 = 0;
        let mut emit = |room: usize,
                        sender: Option<u32>,
                        local: String,
                        kind: i64,
                        body: &str,
                        action: &str|
         -> rusqlite::Result<()> {
            id += 1;
            seq[room] += 1;
            let counts = kind != 9001;
            if counts {
                chat[room] += 1;
            }
            let created = t0 + id;
            message.execute(params![
                id,
                room as i64,
                seq[room],
                sender,
                local,
                kind,
                body,
                action,
                !counts,
                chat[room],
                created
            ])?;
            last_id[room] = id;
            last_created[room] = created;
            Ok(())
        };
        for room in 1..=rooms {
            emit(
                room,
                None,
                format!("sys{}", base62(room as u64, 12)),
                9001,
                &system_body,
                "room/create",
            )?;
        }
        let chat_messages = spec.messages.saturating_sub(rooms as u64);
        for n in 0..chat_messages {
            let r = rng.unit();
            let room = 1 + ((rooms as f64) * r.powf(1.5)) as usize;
            let room = room.min(rooms);
            let members = &layout.members[room];
            if members.is_empty() {
                continue;
            }
            let sender = members[rng.below(members.len() as u64) as usize];
            let template = &templates[rng.below(templates.len() as u64) as usize];
            let unique = base62(n, 16);
            let local = format!("{}{}{}", &unique[..8], template.middle, &unique[8..]);
            emit(room, Some(sender), local, 1001, &template.body, "")?;
        }
        conn.execute(
            "UPDATE counters SET value = ?1 WHERE name = 'version'",
            [id],
        )?;
    }
    {
        let mut room_row = conn.prepare(
            "INSERT INTO rooms (id, app_id, xc_room_id, type, name, roles, last_seq, chat_count, \
                 last_message_id, last_activity, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )?;
        let mut role_row = conn
            .prepare("INSERT INTO room_roles (app_id, role_code, room_id) VALUES (?1, ?2, ?3)")?;
        let mut member = conn
            .prepare("INSERT INTO room_members (room_id, user_id, joined) VALUES (?1, ?2, ?3)")?;
        let mut read = conn.prepare(
            "INSERT INTO read_positions (user_id, room_id, read_seq, read_count) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for room in 1..=rooms {
            let room_roles = &layout.roles[room];
            let kind = if room % 10 == 0 { 4 } else { 2 };
            room_row.execute(params![
                room as i64,
                app,
                format!("r{room}"),
                kind,
                format!("Room {room}"),
                serde_json::to_string(room_roles).expect("strings"),
                seq[room],
                chat[room],
                last_id[room],
                last_created[room],
                t0
            ])?;
            for role in room_roles {
                role_row.execute(params![app, role, room as i64])?;
            }
            for &user in &layout.members[room] {
                member.execute(params![room as i64, user, t0])?;
                let unread = rng.below(4) as i64;
                let read_seq = (seq[room] - unread).max(1);
                let read_count = (chat[room] - unread).max(0);
                read.execute(params![user, room as i64, read_seq, read_count])?;
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    for (_, sql) in &indexes {
        conn.execute_batch(sql)?;
    }
    // No ANALYZE: with SQLite's STAT4 statistics every bind of an indexed parameter forces
    // a re-prepare, which costs more than the better plans gain for these point queries.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    Ok(())
}

//! The SQLite and PostgreSQL schemas, each built by its migrations from nothing, have the same
//! tables, columns and indexes, except the differences listed here, each with its reason. A
//! change to one backend's schema fails this test until the other follows or the difference is
//! written down; a listed difference that no longer exists fails it too. Column types are each
//! backend's dialect and are not compared; names, index columns, uniqueness and partial
//! indexes are.

use std::collections::BTreeSet;

use crate::helpers::{TempDir, TestDb, admin_client};

/// What one backend has and the other lacks, and why.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "table confab_migrations",
        "PostgreSQL records applied migrations in a table (nodes migrate under an advisory \
         lock); SQLite records them in PRAGMA user_version",
    ),
    (
        "index messages.messages_by_created (room_id, created)",
        "PostgreSQL only (migration 0002): history pages by time read it, where SQLite binary \
         searches (room_id, seq) in memory",
    ),
    (
        "index messages.messages_by_version (room_id, version)",
        "PostgreSQL only (migration 0003): its sync scans the full version index on one \
         snapshot",
    ),
    (
        "index messages.messages_changed (room_id, version) partial",
        "SQLite only (migration 0003): messages changed after being appended; appended ones \
         are found by `born`",
    ),
    (
        "column messages.born",
        "SQLite only (migration 0003): the version a message was appended with",
    ),
    (
        "column rooms.changed",
        "SQLite only (migration 0005): the version of the room's last message change, so a \
         sync visits only the rooms changed since",
    ),
];

fn sqlite_schema() -> BTreeSet<String> {
    let dir = TempDir::new();
    let path = dir.0.join("schema.db");
    let store = confab::store::sqlite::SqliteStore::open(&path, None).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut schema = BTreeSet::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in tables {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .unwrap()
            .query_map([&table], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for column in columns {
            schema.insert(format!("column {table}.{column}"));
        }
        schema.insert(format!("table {table}"));
    }
    // Indexes created by CREATE INDEX (`sql` is NULL for those behind a PRIMARY KEY or UNIQUE
    // constraint, which PostgreSQL's side leaves out too).
    let indexes: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (name, table, sql) in indexes {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .unwrap()
            .query_map([&name], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let unique = sql.to_uppercase().starts_with("CREATE UNIQUE");
        let partial = sql.to_uppercase().contains(" WHERE ");
        schema.insert(index_line(&table, &name, &columns, unique, partial));
    }
    schema
}

async fn postgres_schema(url: &str) -> BTreeSet<String> {
    confab::store::postgres::PgStore::open(
        url,
        confab::config::Config::for_database(url.to_owned())
            .database
            .pool(),
        None,
    )
    .await
    .unwrap();
    let client = admin_client(url).await;
    let mut schema = BTreeSet::new();
    for row in client
        .query(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t USING (table_schema, table_name) \
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
            &[],
        )
        .await
        .unwrap()
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        schema.insert(format!("table {table}"));
        schema.insert(format!("column {table}.{column}"));
    }
    for row in client
        .query(
            "SELECT i.relname::text, t.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                 array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(num, pos) \
                       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.num \
                       ORDER BY k.pos) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            &[],
        )
        .await
        .unwrap()
    {
        let (name, table): (String, String) = (row.get(0), row.get(1));
        let columns: Vec<String> = row.get(4);
        schema.insert(index_line(&table, &name, &columns, row.get(2), row.get(3)));
    }
    schema
}

fn index_line(table: &str, name: &str, columns: &[String], unique: bool, partial: bool) -> String {
    format!(
        "index {table}.{name} ({}){}{}",
        columns.join(", "),
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

#[tokio::test]
async fn both_backends_build_the_same_schema_but_for_the_listed_differences() {
    let db = TestDb::postgres().await;
    let sqlite = sqlite_schema();
    let postgres = postgres_schema(db.url()).await;
    assert!(sqlite.contains("table messages") && postgres.contains("table messages"));
    let listed: BTreeSet<&str> = DIFFERENCES.iter().map(|(what, _)| *what).collect();
    let differing: BTreeSet<&str> = sqlite
        .symmetric_difference(&postgres)
        .map(String::as_str)
        .collect();
    // A table on one side only explains its columns.
    let explained = |what: &str| {
        listed.contains(what)
            || what.strip_prefix("column ").is_some_and(|column| {
                let table = column.split('.').next().unwrap_or_default();
                listed.contains(format!("table {table}").as_str())
            })
    };
    let unexplained: Vec<String> = differing
        .iter()
        .filter(|what| !explained(what))
        .map(|what| {
            let side = if sqlite.contains(*what) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            format!("{what} (only {side})")
        })
        .collect();
    let stale: Vec<&&str> = listed.difference(&differing).collect();
    assert!(
        unexplained.is_empty(),
        "the schemas differ where no reason is written: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "listed as a difference but the same in both: {stale:?}"
    );
}

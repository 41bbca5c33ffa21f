//! The two backends share one schema history: the same numbered migrations, each backend's in
//! its own dialect (what the schemas they build must agree on is checked in
//! `scale::schema`, which needs PostgreSQL).

use std::path::Path;

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_numbered_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "every migration needs a step of the same number and name in both backends (one that \
         does not apply says why and changes nothing)"
    );
    for (n, name) in sqlite.iter().enumerate() {
        assert!(
            name.starts_with(&format!("{:04}_", n + 1)) && name.ends_with(".sql"),
            "migrations are numbered from 0001 without gaps: {name}"
        );
    }
}

//! `SDK-COVERAGE.md` is complete and true: every path, socket event and system action the web
//! SDK uses is listed, and every test and SDK function it names exists (and, where the browser
//! test is said to call a function, it does).

use std::collections::BTreeSet;
use std::path::Path;

use crate::browser::{browser_dir, ensure_packages};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every string the SDK puts after `prefix`, cut at the first character not in `allowed`.
fn after(text: &str, prefix: &str, allowed: impl Fn(char) -> bool) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| allowed(*c))
                .collect()
        })
        .collect()
}

/// What the SDK uses: paths, socket events, system actions.
fn used_by_the_sdk(sdk: &str) -> [BTreeSet<String>; 3] {
    let mut paths: BTreeSet<String> = after(sdk, "baseApiUrl}/v1/", |c| {
        c.is_ascii_lowercase() || c == '_' || c == '/'
    })
    .into_iter()
    .map(|p| format!("/v1/{p}"))
    .collect();
    if sdk.contains("/connect?check=1") {
        paths.insert("/connect?check=1".into());
    }
    let events = sdk
        .lines()
        .filter_map(|l| l.trim().strip_prefix("const SOCKET_"))
        .filter_map(|l| l.split('"').nth(1))
        .map(str::to_owned)
        .collect();
    let word = |c: char| c.is_ascii_alphabetic() || c == '/';
    let mut actions = after(sdk, "message.action === \"", word);
    actions.extend(after(sdk, "message.action === '", word));
    [paths, events, actions]
}

/// The table's rows: each a list of cells.
fn rows(doc: &str) -> Vec<Vec<String>> {
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The backticked words of a cell.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Whether the named test (`module::test`, in `tests/api`, or `service::rule_tests::…` in the
/// crate) exists.
fn test_exists(name: &str) -> bool {
    let mut parts: Vec<&str> = name.split("::").collect();
    let Some(test) = parts.pop() else {
        return false;
    };
    let file = match parts.as_slice() {
        ["service", "rule_tests", module] => format!("{ROOT}/src/service/rule_tests/{module}.rs"),
        modules => format!("{ROOT}/tests/api/{}.rs", modules.join("/")),
    };
    std::fs::read_to_string(file).is_ok_and(|src| src.contains(&format!("fn {test}(")))
}

#[tokio::test]
async fn the_sdk_coverage_table_is_complete_and_true() {
    let dir = browser_dir();
    ensure_packages(&dir).await;
    let sdk = read(&dir.join("node_modules/@taptalk.io/web-sdk/index.js"));
    let page = read(&dir.join("page/app.js")) + &read(&dir.join("run.mjs"));
    let doc = read(&Path::new(ROOT).join("SDK-COVERAGE.md"));
    let table = rows(&doc);
    let listed: BTreeSet<String> = table
        .iter()
        .filter_map(|row| ticked(&row[0]).first().map(|k| (*k).to_owned()))
        .collect();

    for (used, kind) in
        used_by_the_sdk(&sdk)
            .iter()
            .zip(["paths", "socket events", "system actions"])
    {
        let missing: Vec<&String> = used.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "SDK {kind} not in SDK-COVERAGE.md: {missing:?}"
        );
        let n = used.len();
        assert!(
            doc.contains(&format!("{n} of {n} {kind}")) || doc.contains(&format!("{n} of {n}")),
            "SDK-COVERAGE.md must say {n} of {n} {kind}"
        );
    }
    for row in &table {
        let [key, .., api, browser] = row.as_slice() else {
            panic!("a row of four or three cells: {row:?}");
        };
        let tests = ticked(api);
        assert!(!tests.is_empty(), "{key}: no API test named");
        for test in tests {
            assert!(test_exists(test), "{key}: no test {test}");
        }
        let functions = ticked(browser);
        for function in &functions {
            let name = function.rsplit('.').next().unwrap_or(function);
            assert!(
                sdk.contains(&format!("{name} :")) || sdk.contains(&format!("{name}:")),
                "{key}: the SDK has no function {name}"
            );
        }
        // A cell of function names alone says the browser test calls the first of them.
        let direct = browser
            .split(", ")
            .all(|part| part.starts_with('`') && part.ends_with('`'));
        if let (true, Some(first)) = (direct, functions.first()) {
            assert!(
                page.contains(first),
                "{key}: the browser test does not call {first}"
            );
        }
    }
}

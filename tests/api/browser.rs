//! The acceptance test: the official TapTalk web SDK, unmodified, chats through confab in
//! headless Chromium (see `tests/browser/run.mjs` for the scenario).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::helpers::TestApp;

/// Access tokens live this long in the test: longer than the steps before the one that waits
/// for them to expire (about 20 s here), so that step alone meets expired tokens.
const ACCESS_TTL_SECS: u64 = 45;

pub(crate) fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs the pinned npm packages if they are missing (CI installs them up front).
pub(crate) async fn ensure_packages(dir: &Path) {
    if dir
        .join("node_modules/@taptalk.io/web-sdk/index.js")
        .exists()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .await
        .expect("npm must be installed to run the browser test");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_web_sdk_chats_through_confab() {
    let dir = browser_dir();
    ensure_packages(&dir).await;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is needed at {chromium} (Debian: apt-get install chromium) or in $CHROMIUM"
    );
    let app = TestApp::spawn_with(|c| c.access_token_ttl_secs = ACCESS_TTL_SECS).await;
    let run = Command::new("node")
        .arg(dir.join("run.mjs"))
        .env("CONFAB_URL", format!("http://{}", app.addr))
        .env("CONFAB_SERVER_KEY", &app.server_key)
        .env("CONFAB_APP_KEY_ID", &app.app_key.0)
        .env("CONFAB_APP_KEY_SECRET", &app.app_key.1)
        .env("CONFAB_ACCESS_TTL_MS", (ACCESS_TTL_SECS * 1000).to_string())
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser test took longer than 3 minutes")
        .expect("node must be installed to run the browser test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("[browser]") && l.ends_with(" passed")),
        "{stdout}"
    );
}

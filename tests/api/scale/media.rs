//! Media on several nodes: one S3-compatible bucket behind all of them.

use crate::helpers::{TestApp, TestDb, personal};
use crate::media::S3Server;

#[tokio::test]
async fn a_file_uploaded_through_one_node_downloads_through_another() {
    let s3 = tokio::task::spawn_blocking(S3Server::start).await.unwrap();
    let settings = s3.settings();
    let app = TestApp::spawn_on(TestDb::postgres().await, |config| {
        config.media.store = Some("s3://confab".into());
        config.media.s3_settings = settings;
    })
    .await;
    let other = app.another_node(|_| {}).await;
    let ann = app.login("ann", "Ann").await;
    let bob = app.login("bob", "Bob").await;
    let room = personal(&ann, &bob);
    // Larger than one S3 part (5 MiB), so it is stored in two and read back whole.
    let bytes: Vec<u8> = (0..6 * 1024 * 1024 + 123u32)
        .map(|i| (i % 253) as u8)
        .collect();
    let uploaded = app.upload_ok(&ann, &room, &bytes).await;
    let (_, got) = other
        .download(&bob, &room, uploaded["fileID"].as_str().unwrap())
        .await
        .unwrap();
    assert!(
        got == bytes,
        "the bytes come back unchanged through the other node"
    );
}

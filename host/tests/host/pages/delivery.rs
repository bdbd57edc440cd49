//! How pages arrive: gzip when the browser accepts it (files as they are), and an unknown
//! address answered with the portal's own "Page not found" page.

use crate::accounts::Env;
use crate::support::{self, TestDb};
use reqwest::StatusCode;
use std::io::Read;

#[tokio::test]
async fn pages_are_compressed_and_unknown_addresses_explained() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let env = Env::new(&t).await;
    // reqwest is built without gzip here: it sends no accept-encoding unless asked to.
    let raw = reqwest::Client::new();

    let plain = raw.get(env.server.url("/login")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.text().await.unwrap();
    let res = raw
        .get(env.server.url("/login"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["vary"], "accept-encoding");
    let packed = res.bytes().await.unwrap();
    assert!(
        packed.len() * 2 < plain.len(),
        "{} of {}",
        packed.len(),
        plain.len()
    );
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_string(&mut unpacked)
        .unwrap();
    // The same page (its CSRF token, of the same length, is new on each visit).
    assert_eq!(unpacked.len(), plain.len());
    assert!(unpacked.contains("Stay logged in") && unpacked.trim_end().ends_with("</html>"));
    // The portal's script, and the API's JSON too.
    let res = raw
        .get(env.server.url("/assets/portal.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let res = raw
        .get(env.server.url("/api/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");

    let res = raw
        .get(env.server.url("/no/such/page"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let page = raw
        .get(env.server.url("/no/such/page"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>Page not found</h1>"), "{page}");
    assert!(page.contains("Skip to content") && page.contains(r#"href="/login""#));
}

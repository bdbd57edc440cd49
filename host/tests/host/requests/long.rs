//! Long and hostile conversations: each message is rendered once, when it is written, within a
//! bound of its length (a thousand-column table is shown as the text it was written as), and
//! the page shows the newest fifty messages with a link to the earlier ones.

use super::*;
use crate::pages::{Browser, env_without_codes};

/// A table of `columns` columns: a header, its rule and seven rows (18,009 characters for a
/// thousand).
fn table(columns: usize) -> String {
    let row = format!("{}|\n", "|x".repeat(columns));
    let rule = format!("{}|\n", "|-".repeat(columns));
    format!("{row}{rule}{}", row.repeat(7))
}

async fn long_conversations_are_paged_and_wide_tables_stay_small(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let wide = table(1000);
    let id = d.raise(&d.ann, "Tables", &wide).await;
    for i in 1..55 {
        let body = if i < 40 {
            wide.clone()
        } else {
            format!("Reply number {i}.")
        };
        let (s, b) = d
            .env
            .post(
                &format!("/api/v1/requests/{id}/messages"),
                Some(&d.ann),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    // Rendered as they were written, not when they are read.
    let unrendered: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE request_id = $1 AND (html IS NULL OR html_renderer = 0)",
    )
    .bind(id)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(unrendered, 0);
    // A small table is still a table.
    let (s, b) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.ann),
            json!({ "body": table(3) }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let path = format!("/requests/{id}");
    let started = std::time::Instant::now();
    let res = agent.get(&d.env, &path).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let took = started.elapsed();
    // Unbounded, forty such messages made a page of 97 MB that took 11 s to build; the
    // benchmark (`cargo bench --bench conversation`) holds the 100 ms bar in a release build.
    assert!(html.len() < 2 << 20, "{} bytes", html.len());
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(html.matches(r#"<li class="message"#).count(), 50);
    assert_eq!(html.matches("<table>").count(), 1, "only the small table");
    assert!(html.contains("Reply number 54."));
    assert!(html.contains("|x|x|x|"), "a wide table shows as written");

    let at = html.find("?before=").expect("a link to earlier messages");
    let before: String = html[at + 8..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let earlier = agent
        .get(&d.env, &format!("{path}?before={before}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(earlier.matches(r#"<li class="message"#).count(), 6);
    assert!(!earlier.contains("?before="), "the first page of all");
    assert!(earlier.contains(&format!(r#"<a href="{path}">Newest messages</a>"#)));
    let res = agent.get(&d.env, &format!("{path}?before=soon")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
on_both_backends!(
    long_conversations,
    long_conversations_are_paged_and_wide_tables_stay_small
);

//! Lists, filters, search and keyset pages, on hand-made and generated data.

use super::*;

async fn lists_filters_search_and_pages(t: TestDb) {
    let d = Desk::new(&t).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let who = if i % 3 == 0 { &d.bob } else { &d.ann };
        let words = if i == 7 {
            "printer jams on tray two"
        } else {
            "screen flickers"
        };
        ids.push(d.raise(who, &format!("Issue {i}"), words).await);
        d.env.server.clock.advance(Duration::from_secs(1));
    }
    // Keyset pages of 10 walk every request once, newest first.
    let seen = d.all_pages(&d.agent, "limit=10").await;
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let oldest = d.list(&d.agent, "sort=oldest&limit=3").await;
    assert_eq!(oldest[0]["id"].as_i64().unwrap(), ids[0]);

    // Customers see their own; the Site Administrator sees the site's.
    assert_eq!(d.list(&d.bob, "limit=100").await.len(), 8);
    assert_eq!(d.list(&d.ann, "limit=100").await.len(), 23);

    // Search by words (stemmed) and by request number.
    let hit = d.list(&d.agent, "q=printers+jam").await;
    assert_eq!(numbers(&hit), [format!("REQ-{}", ids[7])]);
    let hit = d.list(&d.bob, &format!("q=REQ-{}", ids[3])).await;
    assert_eq!(hit.len(), 1);
    assert!(
        d.list(&d.bob, &format!("q=REQ-{}", ids[1]))
            .await
            .is_empty(),
        "not Bob's"
    );

    // Filters: status, assignee, unassigned, site.
    let (_, body) = d
        .put(
            &format!("/api/v1/requests/{}/assignee", ids[5]),
            &d.agent,
            json!({ "assignee_id": d.agent_id }),
        )
        .await;
    assert_eq!(body["status"], "in-progress");
    assert_eq!(d.list(&d.agent, "status=in-progress").await.len(), 1);
    assert_eq!(
        d.list(&d.agent, &format!("assignee={}", d.agent_id))
            .await
            .len(),
        1
    );
    assert_eq!(
        d.list(&d.agent, "unassigned=true&limit=100").await.len(),
        22
    );
    assert_eq!(d.list(&d.agent, "status=closed").await.len(), 0);
    let site = d.list(&d.agent, "limit=1").await[0]["site_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        d.list(&d.agent, &format!("site={site}&limit=100"))
            .await
            .len(),
        23
    );
    assert!(d.list(&d.agent, "site=999999").await.is_empty());

    // Bad input is a clear error.
    let (s, body) = d
        .env
        .get("/api/v1/requests?after=garbage", Some(&d.agent))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = d
        .env
        .post(
            "/api/v1/requests",
            Some(&d.ann),
            json!({ "subject": "  ", "description": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "subject");
    let (s, _) = d
        .env
        .post(
            "/api/v1/requests",
            Some(&d.agent),
            json!({ "subject": "x", "description": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "staff have no site to raise for");
}
on_both_backends!(lists, lists_filters_search_and_pages);

/// Generated data at a small scale: exact counts, and a search for a common word pages through
/// exactly the requests whose subject or public messages hold it.
async fn generated_data_and_common_words(t: TestDb) {
    use helpdesk::requests::generate::{Scale, generate};
    let d = Desk::new(&t).await;
    let db = &d.env.server.state.db;
    let scale = Scale {
        sites: 5,
        customers_per_site: 2,
        agents: 2,
        requests: 2500,
        messages: 25_000,
        seed: 3,
    };
    let hash = crate::support::hasher().hash("Sunny-Day42", &mut Default::default());
    let g = generate(db, scale, &hash, helpdesk::db::now_ms())
        .await
        .unwrap();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM requests").await, 2500);
    assert_eq!(count("SELECT COUNT(*) FROM messages").await, 25_000);
    assert_eq!(g.last_request - g.first_request + 1, 2500);

    let expected_sql = match db.backend() {
        helpdesk::db::Backend::Sqlite => {
            "SELECT rowid FROM request_search WHERE request_search MATCH '\"the\"' AND rowid IN (SELECT id FROM requests WHERE status <> 'closed') ORDER BY 1"
        }
        helpdesk::db::Backend::Postgres => {
            "SELECT request_id FROM request_search WHERE doc @@ plainto_tsquery('english', 'the fleet') AND request_id IN (SELECT id FROM requests WHERE status <> 'closed') ORDER BY 1"
        }
    };
    let word = match db.backend() {
        helpdesk::db::Backend::Sqlite => "the",
        // "the" is a stop word in PostgreSQL's English configuration: the most common word
        // that is not one.
        helpdesk::db::Backend::Postgres => {
            let mut commonest = ("", 0);
            for w in helpdesk::requests::generate::WORDS {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM request_search WHERE doc @@ plainto_tsquery('english', $1)",
                )
                .bind(*w)
                .fetch_one(db.pool())
                .await
                .unwrap();
                if n > commonest.1 {
                    commonest = (w, n);
                }
            }
            commonest.0
        }
    };
    let expected_sql = expected_sql.replace("the fleet", word);
    let mut expected: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(expected_sql))
        .fetch_all(db.pool())
        .await
        .unwrap();
    // More matches than a search reads by id (2,000, whatever their status): the pages are cut
    // by walking the list (on PostgreSQL, checking each row walked against its document).
    let all = match db.backend() {
        helpdesk::db::Backend::Sqlite => {
            "SELECT COUNT(*) FROM request_search WHERE request_search MATCH '\"the\"'"
        }
        helpdesk::db::Backend::Postgres => {
            "SELECT COUNT(*) FROM request_search WHERE doc @@ plainto_tsquery('english', 'the fleet')"
        }
    }
    .replace("the fleet", word);
    let all: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(all))
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(all > 2000, "a common word: {all}");
    assert!(expected.len() > 100, "a common word: {}", expected.len());
    let mut seen = d
        .all_pages(&d.agent, &format!("q={word}&limit=100&status=open"))
        .await;
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}
on_both_backends!(generated, generated_data_and_common_words);

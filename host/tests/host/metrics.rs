//! `/metrics`: what a Prometheus scrape reads after real traffic, and who may scrape.

use crate::support::{self, Options, TestDb, TestServer, on_both_backends};
use helpdesk::domain::rules::{PasswordContext, Slot};
use helpdesk::plugins::{Install, Loaded, Raise, measure};
use helpdesk_bundled_plugins::DEFAULTS;
use serde_json::json;

pub(crate) async fn scrape(server: &TestServer) -> String {
    let resp = support::client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        resp.headers()
    );
    resp.text().await.unwrap()
}

/// The value of the sample whose name and labels are `series` exactly (labels in the order
/// the exporter writes them).
pub(crate) fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn plugin_series(name: &str, function: &str, id: i64) -> String {
    format!(
        "{name}{{slot=\"password-policy\",function=\"{function}\",plugin=\"password-default\",version=\"0.1.0\",plugin_id=\"{id}\"}}"
    )
}

async fn traffic_is_counted(t: TestDb) {
    let server = TestServer::start(&t.db, std::time::Duration::from_millis(100)).await;
    let client = support::client();
    let plugins = &server.state.plugins;
    let bundled = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;

    for password in ["Abcdefg1", "short", "Abcdefg1"] {
        let resp = client
            .post(server.url("/api/v1/password-policy/check"))
            .json(&json!({ "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = client
        .post(server.url("/api/v1/login"))
        .json(&json!({ "email": "nobody@example.test", "password": "not-the-password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client
        .get(server.url("/no/such/page/4711"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    let text = scrape(&server).await;
    let calls = plugin_series("helpdesk_plugin_calls_total", "check-password", bundled);
    assert_eq!(value(&text, &calls), Some(3.0), "{calls}\n{text}");
    let count = plugin_series(
        "helpdesk_plugin_call_duration_seconds_count",
        "check-password",
        bundled,
    );
    assert_eq!(value(&text, &count), Some(3.0), "{text}");
    assert!(
        text.contains("helpdesk_plugin_call_duration_seconds_bucket{slot=\"password-policy\",function=\"check-password\""),
        "{text}"
    );
    assert_eq!(
        value(&text, "helpdesk_plugin_active{slot=\"password-policy\"}"),
        Some(bundled as f64)
    );
    assert_eq!(
        value(
            &text,
            "helpdesk_http_requests_total{method=\"POST\",route=\"/api/v1/password-policy/check\",status=\"200\"}"
        ),
        Some(3.0),
        "{text}"
    );
    // Unknown paths are counted together, never by their path.
    assert_eq!(
        value(
            &text,
            "helpdesk_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("4711"), "{text}");
    assert_eq!(
        value(
            &text,
            "helpdesk_logins_total{outcome=\"wrong_credentials\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "helpdesk_outbox_messages{state=\"waiting\"}"),
        Some(0.0),
        "{text}"
    );

    // A plugin that runs out of instructions is counted as such, under its own id: a budget
    // enough for every call at install, not for a check of a 4,096-character password.
    let (_, usage) = measure(|| {
        Loaded::prepare(
            &support::runtime(),
            Slot::PasswordPolicy,
            DEFAULTS[0].wasm,
            "",
            0,
        )
        .unwrap()
        .check_password("Abcdefg1", &PasswordContext::default())
        .unwrap()
    });
    let snug = plugins
        .install_with(
            &t.db,
            &Install {
                slot: Slot::PasswordPolicy,
                bytes: DEFAULTS[0].wasm,
                config: "",
                raise: Raise {
                    instructions: Some(usage.instructions + 500),
                    ..Raise::default()
                },
                signature: None,
                by: "test",
                activate: true,
            },
        )
        .await
        .unwrap();
    // The server that made the change serves it at once.
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        snug
    );
    let resp = client
        .post(server.url("/api/v1/password-policy/check"))
        .json(&json!({ "password": "Abcdefg1".repeat(512) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503, "{:?}", resp.text().await);
    let text = scrape(&server).await;
    let failures = plugin_series("helpdesk_plugin_failures_total", "check-password", snug);
    let failures = failures.replace("}", ",kind=\"out_of_fuel\"}");
    assert_eq!(value(&text, &failures), Some(1.0), "{failures}\n{text}");
    assert_eq!(
        value(&text, "helpdesk_plugin_active{slot=\"password-policy\"}"),
        Some(snug as f64)
    );
}
on_both_backends!(traffic, traffic_is_counted);

async fn only_this_machine_or_the_token(t: TestDb) {
    let client = support::client();
    let open = TestServer::start(&t.db, std::time::Duration::from_millis(100)).await;
    // Through a proxy on this machine, the client is somewhere else.
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9"),
    ] {
        let resp = client
            .get(open.url("/metrics"))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{name}");
        let body = resp.text().await.unwrap();
        assert!(body.contains("served to this machine only"), "{body}");
    }

    let guarded = TestServer::with(
        &t.db,
        Options {
            metrics_token: Some("scrape-secret-7f3a".into()),
            ..Options::default()
        },
    )
    .await;
    for auth in [None, Some("Bearer wrong"), Some("scrape-secret-7f3a")] {
        let mut req = client.get(guarded.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
    }
    let resp = client
        .get(guarded.url("/metrics"))
        .header("authorization", "Bearer scrape-secret-7f3a")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("helpdesk_plugin_active")
    );
}
on_both_backends!(access, only_this_machine_or_the_token);

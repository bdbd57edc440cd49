//! The seed pages followed in headless Chromium (playwright-core, `host/tests/browser/`): a site
//! made by CLI, a visitor joins and reads the emails a real SMTP server received, chooses the
//! site, is activated by staff, logs in with the emailed code, logs out, resets the password
//! and logs in again; a second user is approved by the first. And the operators' plugin console:
//! upload, try, replay, activate, roll back. The customer also answers a notification from
//! their mail client (a message put into a real IMAP server) and staff and customer see it.

use crate::support::dovecot::Dovecot;
use crate::support::{self, Options, SmtpSink, TestDb, TestServer};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Runs the browser script `name` with `env`, which must print "<flow> passed".
async fn script(name: &str, flow: &str, env: &[(&str, String)]) {
    let out = tokio::process::Command::new("node")
        .arg(browser_dir().join(name))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .await
        .expect("the browser test needs Node.js");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{flow} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("{flow} passed")), "{stdout}");
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    let path =
        std::env::var("HELPDESK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&path).exists(),
        "the browser test needs Chromium at {path}: install Debian's `chromium` package (.ci/run does) or set HELPDESK_CHROMIUM"
    );
    path
}

/// Installs playwright-core from the lock file the first time.
fn ensure_playwright() {
    let dir = browser_dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("the browser test needs Node.js and npm");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// What the test SMTP server received, for the script: `GET /mail?to=…&subject=…`; and
/// `POST /reply {from, subject, text, file}`: `from` answers the newest message to them about
/// `subject` from their mail client, with a PNG named `file`, delivered into the IMAP mailbox.
async fn serve_mailbox(sink: SmtpSink, imap: Option<Arc<Dovecot>>) -> String {
    async fn reply(
        State((sink, imap)): State<(SmtpSink, Option<Arc<Dovecot>>)>,
        Json(q): Json<HashMap<String, String>>,
    ) -> Json<Value> {
        let field = |k: &str| q.get(k).cloned().unwrap_or_default();
        let from = field("from");
        let notification = sink
            .to(&from)
            .into_iter()
            .rfind(|m| m.subject.contains(&field("subject")))
            .expect("the notification to answer");
        let token = crate::inbound::token_of(&notification);
        let raw = format!(
            "From: <{from}>\r\nTo: <support+{token}@example.test>\r\nSubject: Re: {subject}\r\nIn-Reply-To: <{token}@example.test>\r\nMessage-ID: <browser-{token}@client.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\nOn Tue, 1 Dec 2026, Customer Portal wrote:\r\n> {quoted}\r\n--b\r\nContent-Type: image/png; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoBAgM=\r\n--b--\r\n",
            subject = notification.subject,
            text = field("text"),
            file = field("file"),
            quoted = notification.text.lines().next().unwrap_or_default(),
        );
        imap.expect("a mailbox").append(raw.as_bytes()).await;
        Json(json!({ "appended": true }))
    }
    async fn mail(
        State((sink, _)): State<(SmtpSink, Option<Arc<Dovecot>>)>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Json<Value> {
        let to = q.get("to").cloned().unwrap_or_default();
        let subject = q.get("subject").cloned().unwrap_or_default();
        let list: Vec<Value> = sink
            .to(&to)
            .into_iter()
            .filter(|m| m.subject.contains(&subject))
            .map(|m| json!({ "subject": m.subject, "text": m.text }))
            .collect();
        Json(Value::Array(list))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new()
        .route("/mail", get(mail))
        .route("/reply", post(reply))
        .with_state((sink, imap));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_follows_the_seed_pages_in_chromium() {
    let chromium = chromium();
    ensure_playwright();
    let t = TestDb::new(support::Backend::Sqlite).await;
    let sink = SmtpSink::start();
    let imap = Arc::new(Dovecot::start().await);
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            imap: Some(imap.url()),
            ..Options::default()
        },
    )
    .await;
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
            .args(args)
            .env("HELPDESK_DATABASE_URL", &t.url)
            .env("HELPDESK_DATA_DIR", t.dir.path().join("data"))
            .env("HELPDESK_PUBLIC_URL", server.url(""))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    cli(&[
        "site",
        "add",
        "--name",
        "Acme Mining",
        "--domain",
        "acme.example",
        "--maintenance-until",
        "2099-12-31",
        "--licences",
        "3",
    ]);
    let out = cli(&[
        "staff",
        "add",
        "--email",
        "ops@vendor.test",
        "--role",
        "operator",
        "--given-name",
        "Olive",
        "--surname",
        "Ops",
    ]);
    let staff_link = out
        .split_whitespace()
        .find(|w| w.contains("/invite/"))
        .unwrap()
        .to_owned();
    let mail_url = serve_mailbox(sink.clone(), Some(imap)).await;

    script(
        "portal.mjs",
        "browser flow",
        &[
            ("BASE_URL", server.url("")),
            ("MAIL_URL", mail_url),
            ("STAFF_LINK", staff_link),
            ("CHROMIUM", chromium),
        ],
    )
    .await;

    let ann = helpdesk::db::users::by_email(t.db.pool(), "ann@acme.example")
        .await
        .unwrap()
        .unwrap();
    let bob = helpdesk::db::users::by_email(t.db.pool(), "bob@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ann.role.as_str(), ann.state.as_str()),
        ("site_admin", "active")
    );
    assert_eq!(
        (bob.role.as_str(), bob.state.as_str()),
        ("customer", "active")
    );
}

/// The operators' plugin console, clicked through in Chromium (`console.mjs`); the server's
/// state checked afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_swaps_a_workflow_from_the_console_in_chromium() {
    use helpdesk::domain::rules::Slot;
    let chromium = chromium();
    ensure_playwright();
    let t = TestDb::new(support::Backend::Sqlite).await;
    let desk = crate::requests::Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = desk.raise(&desk.bob, "Printer on fire", "It smokes.").await;
    let server = &desk.env.server;
    let default = server
        .state
        .plugins
        .active(Slot::TicketWorkflow)
        .unwrap()
        .plugin
        .id;
    let component = support::write_file(
        t.dir.path(),
        "triage.wasm",
        helpdesk_bundled_plugins::fixtures::WORKFLOW_TRIAGE,
    );
    script(
        "console.mjs",
        "console flow",
        &[
            ("BASE_URL", server.url("")),
            ("OPERATOR", "ops@vendor.test".into()),
            ("REQUEST", id.to_string()),
            ("COMPONENT", component.display().to_string()),
            ("CHROMIUM", chromium),
        ],
    )
    .await;
    // Installed from the page, shadowed, promoted, then rolled back; then the default's settings
    // changed in its form: the default component serves with the new setting, nothing is in
    // shadow, and the history says so.
    let active = server.state.plugins.active(Slot::TicketWorkflow).unwrap();
    assert_ne!(active.plugin.id, default);
    assert_eq!(active.info.name, "workflow-default");
    assert_eq!(active.config, "reopen-window-days = 30\n");
    let history = helpdesk::db::plugins::activations(&server.state.db, "ticket-workflow", 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0].plugin_id, active.plugin.id);
    assert_eq!(history[0].activated_by, "operator:ops@vendor.test");
    assert!(history[1].rolled_back_at.is_some());
    assert!(server.state.plugins.shadow(Slot::TicketWorkflow).is_none());
    let disagreements = helpdesk::db::decisions::list(
        &server.state.db,
        &helpdesk::db::decisions::Filter {
            shadow: true,
            request_id: Some(id),
            ..Default::default()
        },
        100,
    )
    .await
    .unwrap();
    assert!(
        disagreements
            .iter()
            .any(|d| d.input.contains("on-hold") && d.live_plugin_id == Some(default)),
        "{disagreements:?}"
    );
}

/// Rules that act, clicked through in Chromium (`rules.mjs`): a workflow installed, configured,
/// tried and activated from the console; a customer's request made urgent, tagged and assigned
/// by it; the agent's reply waiting with timers that remind the customer by email after 5 days
/// and close the request after 7. The test moves the desk's clock the week on, and sweeps the
/// timers, when the agent's note asks it. A webhook receiver the operator registers on the
/// console gets every change, signed, and the workflow's call on a renewal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_that_acts_is_installed_and_runs_the_desk_in_chromium() {
    let chromium = chromium();
    ensure_playwright();
    let t = TestDb::new(support::Backend::Sqlite).await;
    let (desk, webhooks) = crate::webhooks::desk(&t).await;
    let receiver = crate::webhooks::Receiver::start().await;
    let (stop_webhooks, stopped) = tokio::sync::oneshot::channel::<()>();
    let delivering = tokio::spawn(webhooks.run(async move {
        let _ = stopped.await;
    }));
    let secret_file = t.dir.path().join("webhook-secret");
    let dana = crate::requests::reacting::site_ending_in(
        &desk,
        "Borealis Drilling",
        "borealis.example",
        12,
    )
    .await;
    let id = desk
        .raise(&dana, "Invoice copy", "Please resend the invoice.")
        .await;
    let server = &desk.env.server;
    let component = support::write_file(
        t.dir.path(),
        "renewals.wasm",
        helpdesk_bundled_plugins::fixtures::WORKFLOW_RENEWALS,
    );
    // The desk's week: once the agent's note says so, the clock moves a week on and the timers
    // are swept, as every server's sweep does.
    let sweeper = tokio::spawn({
        let state = server.state.clone();
        let clock = server.clock.clone();
        async move {
            loop {
                let said: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM messages WHERE body = 'A week passes.' AND internal = 1",
                )
                .fetch_one(state.db.pool())
                .await
                .unwrap();
                if said > 0 {
                    clock.advance(Duration::from_secs(7 * 86_400 + 60));
                    state.requests.fire_all_due_timers().await.unwrap();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    script(
        "rules.mjs",
        "rules flow",
        &[
            ("BASE_URL", server.url("")),
            ("OPERATOR", "ops@vendor.test".into()),
            ("AGENT", "agent@vendor.test".into()),
            ("AGENT_ID", desk.agent_id.to_string()),
            ("AGENT_NAME", "Sam Staff".into()),
            ("CUSTOMER", "dana@borealis.example".into()),
            ("REQUEST", id.to_string()),
            ("COMPONENT", component.display().to_string()),
            ("CHROMIUM", chromium),
            ("WEBHOOK_URL", receiver.url("/hook")),
            ("SECRET_FILE", secret_file.display().to_string()),
        ],
    )
    .await;
    assert!(sweeper.is_finished());
    let _ = stop_webhooks.send(());
    delivering.await.unwrap();
    // The receiver got each change, signed with the secret the page showed once, each once.
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let got = receiver.got();
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|g| crate::webhooks::signed(g, &secret, None)),
        "{got:?}"
    );
    for event in [
        "created",
        "field-changed",
        "assigned",
        "staff-replied",
        "note-added",
        "status-changed",
        "workflow-call",
    ] {
        assert!(got.iter().any(|g| g.event == event), "{event}: {got:?}");
    }
    let mut ids: Vec<i64> = got.iter().map(|g| g.delivery).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len());
    // The request the customer raised: closed by the timer's answer, after the workflow's
    // changes on creation.
    let raised: i64 = sqlx::query_scalar("SELECT MAX(id) FROM requests")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    let r = desk
        .detail(
            &desk
                .env
                .log_in("agent@vendor.test", crate::accounts::PASSWORD)
                .await,
            raised,
        )
        .await;
    assert_eq!(r["status"], "closed");
    assert_eq!(r["priority"], "urgent");
    assert_eq!(r["tags"], serde_json::json!(["renewal"]));
    assert_eq!(r["assignee_id"], desk.agent_id);
    assert_eq!(
        r["timeline"].as_array().unwrap().last().unwrap()["cause"],
        "event:timer"
    );
    // The reminder reached the customer, once, before the close.
    let reminder = desk
        .env
        .sink
        .wait(
            "dana@borealis.example",
            "Waiting for your answer: Renew our maintenance contract",
            1,
        )
        .await;
    assert!(
        reminder.text.contains(&format!("REQ-{raised}")),
        "{}",
        reminder.text
    );
    assert_eq!(
        desk.env
            .sink
            .to("dana@borealis.example")
            .iter()
            .filter(|m| m.subject.starts_with("Waiting for your answer"))
            .count(),
        1
    );
}

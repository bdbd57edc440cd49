//! Requests over the JSON API, on both backends: raising, replying, internal notes, assignment,
//! status changes through the workflow plugin, email, attachments, concurrency, lists and
//! search, quick links, and swapping the workflow plugin while the server runs.

mod conversation;
mod custom;
mod desk;
mod failing_rules;
mod fields;
mod forms;
mod lists;
mod long;
pub(crate) mod reacting;
mod settings;
mod telling;

use crate::accounts::Env;
use crate::support::{Options, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::auth::Role;
use helpdesk::domain::rules::Slot;
use helpdesk::requests::files::AttachmentLimits;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::Duration;

/// A site with Ann (its Site Administrator) and Bob (a customer), an operator and an agent.
pub struct Desk {
    pub env: Env,
    pub operator: String,
    pub agent: String,
    pub agent_id: i64,
    pub ann: String,
    pub bob: String,
}

impl Desk {
    pub async fn new(t: &TestDb) -> Desk {
        Desk::with(Env::new(t).await).await
    }

    pub async fn with(env: Env) -> Desk {
        let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
        let operator = env.staff("ops@vendor.test", Role::Operator).await;
        let agent = env.staff("agent@vendor.test", Role::Agent).await;
        let agent_id = env.user_id("agent@vendor.test").await;
        let ann = env
            .active_customer("ann@acme.example", site, &operator)
            .await;
        let bob = env.active_customer("bob@acme.example", site, &ann).await;
        Desk {
            env,
            operator,
            agent,
            agent_id,
            ann,
            bob,
        }
    }

    pub async fn multipart(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> (StatusCode, Value) {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                "files",
                Part::bytes(bytes.to_vec())
                    .file_name(name.to_string())
                    .mime_str("text/plain")
                    .unwrap(),
            );
        }
        let res = self
            .env
            .http
            .post(self.env.server.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn raise(&self, token: &str, subject: &str, description: &str) -> i64 {
        let (s, body) = self
            .env
            .post(
                "/api/v1/requests",
                Some(token),
                json!({ "subject": subject, "description": description }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn detail(&self, token: &str, id: i64) -> Value {
        let (s, body) = self
            .env
            .get(&format!("/api/v1/requests/{id}"), Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.env.call("PUT", path, Some(token), Some(body)).await
    }

    pub async fn list(&self, token: &str, query: &str) -> Vec<Value> {
        let (s, body) = self
            .env
            .get(&format!("/api/v1/requests?{query}"), Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["requests"].as_array().unwrap().clone()
    }
}

impl Desk {
    /// The ids of every page of `query`, following each page's `next` cursor.
    pub async fn all_pages(&self, token: &str, query: &str) -> Vec<i64> {
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let (s, body) = self
                .env
                .get(&format!("/api/v1/requests?{query}{after}"), Some(token))
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
            seen.extend(
                body["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_i64().unwrap()),
            );
            match body["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => return seen,
            }
        }
    }
}

fn numbers(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect()
}

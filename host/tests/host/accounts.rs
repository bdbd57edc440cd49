//! Accounts over the JSON API: sign-up, site choice and activation, login with emailed codes,
//! reset, invitations, sessions, and every security rule, on both backends, with mail read from
//! a real SMTP server.

mod admin;
mod login;
mod recovery;
mod signup;

use crate::support::{self, Options, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::auth::{AuthConfig, MfaPolicy, Role, SiteInput};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

pub const PASSWORD: &str = "Sunny-Day42";
pub const NEW_PASSWORD: &str = "Rainy-Night77";

pub struct Env {
    pub server: TestServer,
    pub sink: SmtpSink,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn new(t: &TestDb) -> Env {
        Env::with(t, AuthConfig::default()).await
    }

    pub fn from_parts(server: TestServer, sink: SmtpSink) -> Env {
        Env {
            server,
            sink,
            http: support::client(),
        }
    }

    pub async fn with(t: &TestDb, auth: AuthConfig) -> Env {
        let sink = SmtpSink::start();
        let server = TestServer::with(
            &t.db,
            Options {
                smtp: Some(sink.url()),
                auth,
                ..Options::default()
            },
        )
        .await;
        Env {
            server,
            sink,
            http: support::client(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = self.server.url(path);
        let mut req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            "DELETE" => self.http.delete(url),
            other => panic!("method {other}"),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call("GET", path, token, None).await
    }

    pub async fn add_site(&self, name: &str, domains: &[&str], addresses: &[&str]) -> i64 {
        self.server
            .state
            .accounts
            .save_site(
                None,
                None,
                &SiteInput {
                    name: name.into(),
                    domains: domains.iter().map(|d| d.to_string()).collect(),
                    addresses: addresses.iter().map(|d| d.to_string()).collect(),
                    maintenance_until: Some("2099-12-31".into()),
                    licences: 5,
                },
            )
            .await
            .unwrap()
    }

    /// The token in the `n`th emailed link to `email` whose subject contains `subject`.
    pub async fn emailed_token(&self, email: &str, subject: &str, path: &str, n: usize) -> String {
        let m = self.sink.wait(email, subject, n).await;
        m.link(path).rsplit('/').next().unwrap().to_owned()
    }

    /// Join now → link → Create, all through the API.
    pub async fn sign_up(&self, email: &str, given: &str) {
        let (s, _) = self
            .post("/api/v1/signup", None, json!({ "email": email }))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let token = self
            .emailed_token(email, "Verify your email", "/join/verify/", 1)
            .await;
        let (s, body) = self
            .post(
                &format!("/api/v1/signup/{token}"),
                None,
                json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": given, "surname": "Tester" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }

    /// Sends a code and returns it as read from the mailbox.
    pub async fn code(&self, email: &str, token: &str) -> String {
        let before = self
            .sink
            .to(email)
            .iter()
            .filter(|m| m.subject.contains("verification code"))
            .count();
        let (s, body) = self
            .post("/api/v1/login/code", Some(token), json!({}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{body}");
        self.sink
            .wait(email, "verification code", before + 1)
            .await
            .code()
    }

    /// Logs in, passing the emailed code when asked; returns the full session's token.
    pub async fn log_in(&self, email: &str, password: &str) -> String {
        let (s, body) = self
            .post(
                "/api/v1/login",
                None,
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        if body["stage"] == "full" {
            return token;
        }
        assert_eq!(body["stage"], "mfa");
        let code = self.code(email, &token).await;
        let (s, body) = self
            .post(
                "/api/v1/login/code/verify",
                Some(&token),
                json!({ "code": code }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A vendor staff account, created as `helpdesk staff add` does, with its password set.
    pub async fn staff(&self, email: &str, role: Role) -> String {
        let link = self
            .server
            .state
            .accounts
            .add_staff(email, role, "Sam", "Staff")
            .await
            .unwrap();
        let token = link.rsplit('/').next().unwrap();
        let (s, body) = self
            .post(
                &format!("/api/v1/invitations/{token}/accept"),
                None,
                json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        self.log_in(email, PASSWORD).await
    }

    /// Signs up, chooses the site and is approved by `approver`: an active account.
    pub async fn active_customer(&self, email: &str, site: i64, approver: &str) -> String {
        self.sign_up(email, "Casey").await;
        let token = self.log_in(email, PASSWORD).await;
        let (s, body) = self
            .post("/api/v1/me/site", Some(&token), json!({ "site_id": site }))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let id = self.user_id(email).await;
        let (s, body) = self
            .post(
                &format!("/api/v1/approvals/{id}"),
                Some(approver),
                json!({ "approve": true }),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
        self.log_in(email, PASSWORD).await
    }

    pub async fn user_id(&self, email: &str) -> i64 {
        helpdesk::db::users::by_email(self.server.state.db.pool(), email)
            .await
            .unwrap()
            .unwrap()
            .id
    }
}

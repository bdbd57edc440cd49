//! The portal's pages over HTTP: CSRF tokens, cookie flags, local-only redirects and form
//! errors. The browser test (`browser.rs`) drives the same pages in Chromium.

mod branding;
mod delivery;
mod languages;
mod lists;

use crate::accounts::{Env, PASSWORD};
use crate::support::{self, Options, TestDb, TestServer, on_both_backends};
use helpdesk::auth::{AuthConfig, MfaPolicy, Role};
use reqwest::StatusCode;

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token the forms of a page carry.
pub fn form_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no form with a CSRF token in {html}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// The page at `url` as the person whose cookies are `cookies` sees it.
async fn signed_in_page(client: &reqwest::Client, url: &str, cookies: &str) -> String {
    let res = client
        .get(url)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    res.text().await.unwrap()
}

/// The CSRF cookie a page set and the token its forms carry.
async fn csrf(client: &reqwest::Client, url: &str, cookie_name: &str) -> (String, String) {
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let cookie = set
        .iter()
        .find(|c| c.starts_with(&format!("{cookie_name}=")))
        .unwrap_or_else(|| panic!("no {cookie_name} in {set:?}"))
        .clone();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let token = form_token(&res.text().await.unwrap());
    assert_eq!(value, token);
    (format!("{cookie_name}={value}"), token)
}

/// Accounts whose logins never ask for the emailed code, for tests about what comes after.
pub async fn env_without_codes(t: &TestDb) -> Env {
    Env::with(
        t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await
}

/// A browser signed in through the login page: its cookies and the CSRF token of its forms.
pub struct Browser {
    pub client: reqwest::Client,
    pub cookies: String,
    pub csrf: String,
}

impl Browser {
    /// Signs `email` in with [`PASSWORD`]; the server must not ask for a code.
    pub async fn sign_in(env: &Env, email: &str) -> Browser {
        let client = no_redirects();
        let (cookie, csrf) = csrf(&client, &env.server.url("/login"), "hd_csrf").await;
        let res = client
            .post(env.server.url("/login"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("password", PASSWORD),
                ("next", "/dashboard"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/dashboard", "{email} signs in");
        let session = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let cookies = format!("{session}; {cookie}");
        // The forms of a session carry a token of their own, new at sign-in.
        let res = client
            .get(env.server.url("/preferences"))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let csrf = form_token(&res.text().await.unwrap());
        Browser {
            client,
            cookies,
            csrf,
        }
    }

    pub async fn get(&self, env: &Env, path: &str) -> reqwest::Response {
        self.client
            .get(env.server.url(path))
            .header("cookie", &self.cookies)
            .send()
            .await
            .unwrap()
    }

    /// Posts `fields` with this browser's CSRF token.
    pub async fn post(&self, env: &Env, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = fields.to_vec();
        form.push(("csrf", &self.csrf));
        self.client
            .post(env.server.url(path))
            .header("cookie", &self.cookies)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_multipart(
        &self,
        env: &Env,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        self.client
            .post(env.server.url(path))
            .header("cookie", &self.cookies)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

async fn forms_need_csrf_and_cookies_are_strict(t: TestDb) {
    let env = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await;
    env.staff("ops@vendor.test", Role::Operator).await;
    let c = no_redirects();
    let (cookie, token) = csrf(&c, &env.server.url("/login"), "hd_csrf").await;
    let form = |csrf: &str, next: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("email", "ops@vendor.test".into()),
            ("password", PASSWORD.into()),
            ("next", next.into()),
            ("stay", "1".into()),
        ]
    };

    // No token, a wrong token, or a token without its cookie: refused, nothing happens.
    for (cookie_header, csrf) in [
        (cookie.as_str(), ""),
        (cookie.as_str(), "f".repeat(64).as_str()),
        ("", token.as_str()),
    ] {
        let res = c
            .post(env.server.url("/login"))
            .header("cookie", cookie_header)
            .form(&form(csrf, "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.headers().get("set-cookie").is_none());
    }

    // With both: signed in, HttpOnly + SameSite=Lax session cookie, persistent for "Stay logged in".
    let res = c
        .post(env.server.url("/login"))
        .header("cookie", &cookie)
        .form(&form(&token, "//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        "/",
        "redirects stay on this site"
    );
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("hd_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Max-Age=2592000")
            && !session.contains("Secure"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_owned();
    let res = c
        .get(env.server.url("/dashboard"))
        .header("cookie", format!("{session}; {cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Dashboard") && html.contains("Audit log"),
        "{html}"
    );
    assert_eq!(
        res_headers_ok(
            &c,
            &env.server.url("/dashboard"),
            &format!("{session}; {cookie}")
        )
        .await,
        "DENY"
    );

    // A signed-in browser's forms carry a token bound to its session: new at sign-in, so the
    // one from before no longer works, and worthless with any other session.
    let signed_in = form_token(&html);
    assert_ne!(signed_in, token, "a new token at sign-in");
    let logout = |cookies: String, csrf: String| {
        c.post(env.server.url("/logout"))
            .header("cookie", cookies)
            .form(&[("csrf", csrf)])
            .send()
    };
    let res = logout(format!("{session}; {cookie}"), token.clone())
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the token from before sign-in"
    );
    let res = c
        .post(env.server.url("/login"))
        .header("cookie", &cookie)
        .form(&form(&token, "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let other = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("hd_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let res = logout(format!("{other}; {cookie}"), signed_in.clone())
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );

    // Logging out is a form post too.
    let res = logout(format!("{session}; {cookie}"), signed_in.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = c
        .get(env.server.url("/dashboard"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the old session cookie no longer works"
    );
}
on_both_backends!(csrf_and_cookies, forms_need_csrf_and_cookies_are_strict);

async fn res_headers_ok(c: &reqwest::Client, url: &str, cookie: &str) -> String {
    let res = c.get(url).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    res.headers()["x-frame-options"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn https_portals_use_secure_host_cookies() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let server = TestServer::with(
        &t.db,
        Options {
            public_url: Some("https://portal.example.test".into()),
            ..Options::default()
        },
    )
    .await;
    let c = no_redirects();
    let (cookie, token) = csrf(&c, &server.url("/join"), "__Host-hd_csrf").await;
    let res = c.get(server.url("/join")).send().await.unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("__Host-hd_csrf=") && set.contains("; Secure") && set.contains("Path=/"),
        "{set}"
    );
    let res = c
        .post(server.url("/join"))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str()), ("email", "a@b.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Check your email"));
}

#[tokio::test]
async fn the_signup_form_lists_every_violation() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let env = Env::new(&t).await;
    env.add_site("Acme Mining", &["acme.example"], &[]).await;
    env.post(
        "/api/v1/signup",
        None,
        serde_json::json!({ "email": "ann@acme.example" }),
    )
    .await;
    let token = env
        .emailed_token("ann@acme.example", "Verify your email", "/join/verify/", 1)
        .await;
    let c = no_redirects();
    let url = env.server.url(&format!("/join/create/{token}"));
    let (cookie, csrf) = csrf(&c, &url, "hd_csrf").await;
    let page = c.get(&url).send().await.unwrap().text().await.unwrap();
    for label in [
        "New password",
        "Confirm new password",
        "Given name",
        "Surname",
        "Create",
    ] {
        assert!(page.contains(label), "{label}");
    }
    assert!(page.contains("8"), "the requirement sentence is shown");
    let res = c
        .post(&url)
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "abc"),
            ("confirm_password", "abd"),
            ("given_name", "Ann"),
            ("surname", "Lee"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    let items = html.matches("<li>").count();
    assert!(items >= 2, "{html}");
    assert!(html.contains("The confirmation does not match the new password."));
    assert!(html.contains("value=\"Ann\""), "names typed are kept");
    // The error is tied to the field it is about, for screen readers.
    assert!(
        html.contains(r#"aria-describedby="requirements form-error" aria-invalid="true""#)
            && html.contains(r#"id="form-error""#),
        "{html}"
    );
    assert!(
        helpdesk::db::users::by_email(t.db.pool(), "ann@acme.example")
            .await
            .unwrap()
            .is_none()
    );
    let _ = PASSWORD;
}

async fn operators_add_and_edit_sites_in_pages(t: TestDb) {
    let env = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await;
    env.staff("ops@vendor.test", Role::Operator).await;
    let c = no_redirects();
    let (cookie, token) = csrf(&c, &env.server.url("/login"), "hd_csrf").await;
    let res = c
        .post(env.server.url("/login"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("email", "ops@vendor.test"),
            ("password", PASSWORD),
            ("next", "/staff/sites"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/staff/sites");
    let session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookies = format!("{session}; {cookie}");
    // Signed in, forms carry the session's own token, not the one the login form had.
    let token = form_token(&signed_in_page(&c, &env.server.url("/staff/sites"), &cookies).await);
    let post = |path: &str, fields: &[(&'static str, &'static str)]| {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", token.as_str()));
        c.post(env.server.url(path))
            .header("cookie", &cookies)
            .form(&form)
            .send()
    };
    let res = post(
        "/staff/sites",
        &[
            ("name", "Acme Mining"),
            ("domains", "acme.example, Acme.example.au"),
            ("addresses", ""),
            ("maintenance_until", "2030-06-30"),
            ("licences", "4"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Site Acme Mining added.")
    );
    let id = env.server.state.accounts.sites(None).await.unwrap()[0].id;

    // The edit page shows the current values; a bad value changes nothing.
    let page = c
        .get(env.server.url(&format!("/staff/sites/{id}")))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Edit Acme Mining")
            && page.contains("value=\"acme.example, acme.example.au\"")
            && page.contains("value=\"2030-06-30\""),
        "{page}"
    );
    let path = format!("/staff/sites/{id}");
    let res = post(
        &path,
        &[
            ("name", "Acme Mining"),
            ("domains", "not a domain!"),
            ("addresses", ""),
            ("maintenance_until", "2030-06-30"),
            ("licences", "4"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        env.server.state.accounts.sites(None).await.unwrap()[0].domains,
        ["acme.example", "acme.example.au"]
    );
    let res = post(
        &path,
        &[
            ("name", "Acme Mining Pty"),
            ("domains", "acme.example"),
            ("addresses", "pat@gmail.example"),
            ("maintenance_until", ""),
            ("licences", "7"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let site = env
        .server
        .state
        .accounts
        .sites(None)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (
            site.name.as_str(),
            site.domains.len(),
            site.addresses.len(),
            site.maintenance_until,
            site.licences
        ),
        ("Acme Mining Pty", 1, 1, None, 7)
    );
}
on_both_backends!(site_pages, operators_add_and_edit_sites_in_pages);

#[tokio::test]
async fn operators_change_roles_and_disable_people_in_pages() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let env = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await;
    env.staff("ops@vendor.test", Role::Operator).await;
    let agent = env.staff("agent@vendor.test", Role::Agent).await;
    let c = no_redirects();
    let (cookie, token) = csrf(&c, &env.server.url("/login"), "hd_csrf").await;
    let res = c
        .post(env.server.url("/login"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("email", "ops@vendor.test"),
            ("password", PASSWORD),
            ("next", "/staff/people"),
        ])
        .send()
        .await
        .unwrap();
    let session = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookies = format!("{session}; {cookie}");
    let page = signed_in_page(&c, &env.server.url("/staff/people"), &cookies).await;
    // Signed in, forms carry the session's own token, not the one the login form had.
    let token = form_token(&page);
    assert!(
        page.contains("agent@vendor.test") && page.contains("Change role"),
        "{page}"
    );
    let res = c
        .post(env.server.url("/staff/people/role"))
        .header("cookie", &cookies)
        .form(&[
            ("csrf", token.as_str()),
            ("email", "Agent@Vendor.test"),
            ("role", "operator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        env.get("/api/v1/me", Some(&agent)).await.1["role"],
        "operator"
    );
    let res = c
        .post(env.server.url("/staff/people/disable"))
        .header("cookie", &cookies)
        .form(&[("csrf", token.as_str()), ("email", "nobody@vendor.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = c
        .post(env.server.url("/staff/people/disable"))
        .header("cookie", &cookies)
        .form(&[("csrf", token.as_str()), ("email", "agent@vendor.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        env.get("/api/v1/me", Some(&agent)).await.0,
        StatusCode::UNAUTHORIZED,
        "a disabled account's sessions end"
    );
}

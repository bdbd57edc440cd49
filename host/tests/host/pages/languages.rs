//! The portal speaks the reader's language: German or English by `Accept-Language`, by the
//! footer's switch, or by the preference a person saves, which also sets their time zone. A
//! language or zone the portal does not know is refused and changes nothing.

use super::{Browser, csrf, env_without_codes, no_redirects};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn page(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn visitors_read_their_browsers_language_or_the_one_they_pick(t: TestDb) {
    let env = env_without_codes(&t).await;
    let c = no_redirects();
    let login = env.server.url("/login");

    let (_, de) = page(
        &c,
        &login,
        &[("accept-language", "de-AT,de;q=0.9,en;q=0.5")],
    )
    .await;
    assert!(de.contains(r#"<html lang="de""#), "{de}");
    assert!(
        de.contains("<title>Anmelden · Kundenportal</title>"),
        "{de}"
    );
    assert!(de.contains(">Passwort vergessen?</a>"), "{de}");
    assert!(de.contains(r#"<label for="email">E-Mail-Adresse</label>"#));
    let (_, en) = page(
        &c,
        &login,
        &[("accept-language", "fr-FR, en;q=0.5, de;q=0.4")],
    )
    .await;
    assert!(en.contains(r#"<html lang="en""#));
    assert!(en.contains("<title>Log in · Customer Portal</title>"));
    let (_, none) = page(&c, &login, &[("accept-language", "ja")]).await;
    assert!(
        none.contains(r#"<html lang="en""#),
        "English when none is spoken"
    );

    // Pages no handler rendered speak it too.
    let (status, missing) = page(
        &c,
        &env.server.url("/no/such/page"),
        &[("accept-language", "de")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("Seite nicht gefunden"), "{missing}");
    assert!(
        missing.contains("Unter dieser Adresse gibt es nichts."),
        "{missing}"
    );

    // A form error, in German.
    let (cookie, token) = csrf(&c, &login, "hd_csrf").await;
    let res = c
        .post(&login)
        .header("cookie", &cookie)
        .header("accept-language", "de")
        .form(&[
            ("csrf", token.as_str()),
            ("email", "nobody@example.com"),
            ("password", "wrong password"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("E-Mail-Adresse oder Passwort ist falsch.")
    );

    // A form without its token: refused, in the portal's look and the reader's language.
    let res = c
        .post(&login)
        .header("accept-language", "de")
        .form(&[("email", "nobody@example.com"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let expired = res.text().await.unwrap();
    assert!(
        expired.contains("<title>Formular abgelaufen · Kundenportal</title>"),
        "{expired}"
    );

    // The footer's switch: remembered in a cookie, above what the browser says.
    let switch = |lang: &'static str| {
        let (c, cookie, token, env) = (&c, &cookie, &token, &env);
        async move {
            c.post(env.server.url("/language"))
                .header("cookie", cookie)
                .form(&[
                    ("csrf", token.as_str()),
                    ("lang", lang),
                    ("next", "/login?x=1"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let res = switch("de").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?x=1");
    let chosen = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        chosen.starts_with("hd_lang=de;") && chosen.contains("Max-Age=31536000"),
        "{chosen}"
    );
    let (_, picked) = page(
        &c,
        &login,
        &[("accept-language", "en"), ("cookie", "hd_lang=de")],
    )
    .await;
    assert!(picked.contains("<title>Anmelden · Kundenportal</title>"));
    assert!(picked.contains(r#"<button type="submit" name="lang" value="de" lang="de" class="link" aria-current="true">Deutsch</button>"#), "{picked}");
    let res = switch("xx").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("set-cookie").is_none(), "nothing changes");
}

on_both_backends!(
    visitors_languages,
    visitors_read_their_browsers_language_or_the_one_they_pick
);

async fn customers_save_their_language_and_time_zone(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let id = desk
        .raise(&desk.ann, "Pump 3 stopped", "It stopped at noon.")
        .await;
    let ann = Browser::sign_in(env, "ann@acme.example").await;

    // Before: English and UTC, whatever the zone.
    let before = ann
        .get(env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        before.contains(r#"<html lang="en" data-attached"#),
        "no zone chosen yet"
    );
    assert!(before.contains(" UTC</time>"));

    // A zone the database does not know, or a language the portal does not speak: refused,
    // and nothing is saved.
    for (language, zone) in [("de", "Mars/Olympus_Mons"), ("fr", "Europe/Berlin")] {
        let res = ann
            .post(
                env,
                "/preferences",
                &[("language", language), ("time_zone", zone)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = res.text().await.unwrap();
        assert!(body.contains("from the list."), "{body}");
    }
    let unchanged = ann.get(env, "/preferences").await.text().await.unwrap();
    assert!(unchanged.contains(r#"<html lang="en""#));
    assert!(unchanged.contains("Times are shown in your browser"));

    let res = ann
        .post(
            env,
            "/preferences",
            &[("language", "de"), ("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/preferences?saved=1");
    let saved = ann
        .get(env, "/preferences?saved=1")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        saved.contains("Ihre Einstellungen sind gespeichert."),
        "{saved}"
    );
    assert!(saved.contains(r#"<option selected>Europe/Berlin</option>"#));
    assert!(saved.contains(r#"<option value="de" lang="de" selected>Deutsch</option>"#));

    // Every page now: German whatever the browser asks, times in Berlin's zone.
    let dashboard = ann.get(env, "/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains(r#"<html lang="de" data-tz="Europe/Berlin""#),
        "{dashboard}"
    );
    assert!(dashboard.contains("<h1>Übersicht</h1>"));
    assert!(dashboard.contains("Willkommen, Casey."));
    assert!(
        dashboard.contains(r#"<td data-label="Status">Offen</td>"#)
            || dashboard.contains(">Offen</td>"),
        "{dashboard}"
    );
    let request = ann
        .get(env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        request.contains("<dt>Status</dt><dd id=\"request-status\">Offen</dd>"),
        "{request}"
    );
    assert!(request.contains("Anfrage schließen"), "{request}");
    assert!(
        request.contains(" CET</time>") || request.contains(" CEST</time>"),
        "{request}"
    );
    assert!(!request.contains(" UTC</time>"));

    // A refused field, worded in German by its field and rule.
    let long = "x".repeat(201);
    let form = reqwest::multipart::Form::new()
        .text("subject", long)
        .text("description", "Beschreibung");
    let res = ann
        .post_multipart(env, &format!("/requests?csrf={}", ann.csrf), form)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Betreff: höchstens 200 Zeichen erlaubt."),
        "{body}"
    );

    // The API reads and sets the same preferences; a bad one changes nothing.
    let (s, me) = env.get("/api/v1/me", Some(&desk.ann)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (me["language"].as_str(), me["time_zone"].as_str()),
        (Some("de"), Some("Europe/Berlin"))
    );
    for bad in [
        json!({ "language": "de-AT", "time_zone": null }),
        json!({ "language": "fr", "time_zone": null }),
        json!({ "language": null, "time_zone": "Europe/Atlantis" }),
        json!({ "language": null, "time_zone": "EST5EDT" }),
        json!({ "language": "en" }),
        json!([null, null]),
    ] {
        let (s, body) = env
            .call(
                "PUT",
                "/api/v1/me/preferences",
                Some(&desk.ann),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, me) = env.get("/api/v1/me", Some(&desk.ann)).await;
    assert_eq!(me["language"], "de", "unchanged");
    let (s, body) = env
        .call(
            "PUT",
            "/api/v1/me/preferences",
            Some(&desk.ann),
            Some(json!({ "language": "en", "time_zone": "America/New_York" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "language": "en", "time_zone": "America/New_York" })
    );
    let american = ann
        .get(env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(american.contains(r#"<html lang="en" data-tz="America/New_York""#));
    assert!(
        american.contains(" EST</time>") || american.contains(" EDT</time>"),
        "{american}"
    );

    // Back to following the browser.
    let res = ann
        .post(env, "/preferences", &[("language", ""), ("time_zone", "")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let english = ann.get(env, "/dashboard").await.text().await.unwrap();
    assert!(english.contains(r#"<html lang="en" data-attached"#));
}

on_both_backends!(
    customer_preferences,
    customers_save_their_language_and_time_zone
);

//! The portal's brand: operators set its name, accent colour and logo; every page carries them;
//! a colour white text cannot be read on, or a logo that is not a picture, is refused.

use super::{Browser, env_without_codes};
use crate::support::{TestDb, on_both_backends};
use helpdesk::auth::Role;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
];

fn form(name: &str, accent: &str, logo: Option<(&str, &[u8])>) -> Form {
    let mut f = Form::new()
        .text("name", name.to_owned())
        .text("accent", accent.to_owned());
    if let Some((file, bytes)) = logo {
        f = f.part(
            "logo",
            Part::bytes(bytes.to_vec())
                .file_name(file.to_owned())
                .mime_str("image/png")
                .unwrap(),
        );
    }
    f
}

async fn operators_brand_the_portal(t: TestDb) {
    let env = env_without_codes(&t).await;
    env.staff("ops@vendor.test", Role::Operator).await;
    env.staff("al@vendor.test", Role::Agent).await;
    let ops = Browser::sign_in(&env, "ops@vendor.test").await;
    let post = |f: Form| {
        let ops = &ops;
        let env = &env;
        async move {
            ops.post_multipart(env, &format!("/staff/branding?csrf={}", ops.csrf), f)
                .await
        }
    };
    let visitor = reqwest::Client::new();
    let login = || async {
        visitor
            .get(env.server.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(
        login()
            .await
            .contains("<title>Log in · Customer Portal</title>")
    );

    let res = post(form("Acme Support", "#0B6E4F", Some(("logo.png", PNG)))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Branding saved."));
    let page = login().await;
    assert!(
        page.contains("<title>Log in · Acme Support</title>"),
        "{page}"
    );
    assert!(page.contains("--accent: #0b6e4f;"));
    assert!(page.contains(r#"<img src="/brand/logo?v="#));
    let logo = visitor
        .get(env.server.url("/brand/logo"))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert!(
        logo.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);

    // Refused, and nothing changes: a pale accent, a logo that is not a picture, no name.
    for (f, says) in [
        (form("Acme Support", "#ffcc00", None), "contrast"),
        (
            form(
                "Acme Support",
                "#0b6e4f",
                Some(("logo.png", b"<svg onload=alert(1)>")),
            ),
            "must be a PNG, JPEG, GIF or WebP",
        ),
        (form(" ", "#0b6e4f", None), "Portal name"),
    ] {
        let res = post(f).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains(says), "{says}");
    }
    let page = login().await;
    assert!(page.contains("--accent: #0b6e4f;") && page.contains("/brand/logo?v="));

    // The logo removed; the name and colour kept.
    let res = post(form("Acme Support", "#0b6e4f", None).text("remove_logo", "1")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!login().await.contains("/brand/logo"));
    assert_eq!(
        visitor
            .get(env.server.url("/brand/logo"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Operators only, and audited.
    let al = Browser::sign_in(&env, "al@vendor.test").await;
    assert_eq!(
        al.get(&env, "/staff/branding").await.status(),
        StatusCode::FORBIDDEN
    );
    let log = ops.get(&env, "/staff/audit?event=branding_changed").await;
    let log = log.text().await.unwrap();
    assert_eq!(
        log.matches("<td data-label=\"Event\">Branding changed</td>")
            .count(),
        2,
        "{log}"
    );
}
on_both_backends!(branding, operators_brand_the_portal);

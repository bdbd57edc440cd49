//! Password reset and invitations.

use super::*;

async fn password_reset(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    let ann = env.active_customer("ann@acme.example", site, &ops).await;

    let (s1, b1) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ann@acme.example" }),
        )
        .await;
    let (s2, b2) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ghost@acme.example" }),
        )
        .await;
    assert_eq!((s1, &b1), (s2, &b2), "same answer for unknown addresses");
    let token = env
        .emailed_token("ann@acme.example", "Reset your", "/reset/", 1)
        .await;
    let (s, _) = env
        .get(&format!("/api/v1/password-reset/{token}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = env
        .post(
            &format!("/api/v1/password-reset/{token}"),
            None,
            json!({ "password": "weak", "confirm_password": "weak" }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password_rejected"))
    );

    // Used at the same moment twice: exactly one wins.
    let body = json!({ "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD });
    let path = format!("/api/v1/password-reset/{token}");
    let (r1, r2) = tokio::join!(
        env.post(&path, None, body.clone()),
        env.post(&path, None, body.clone())
    );
    let mut statuses = [r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);

    // Every session ended; the new password works, the old one does not.
    assert_eq!(
        env.get("/api/v1/me", Some(&ann)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    env.log_in("ann@acme.example", NEW_PASSWORD).await;

    // A link lasts an hour.
    env.post(
        "/api/v1/password-reset",
        None,
        json!({ "email": "ann@acme.example" }),
    )
    .await;
    let token = env
        .emailed_token("ann@acme.example", "Reset your", "/reset/", 2)
        .await;
    env.server.clock.advance(Duration::from_secs(3601));
    let (s, body) = env
        .post(
            &format!("/api/v1/password-reset/{token}"),
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid_link"))
    );

    // A disabled account gets no link at all.
    let id = env.user_id("ann@acme.example").await;
    let (s, body) = env
        .post(
            &format!("/api/v1/users/{id}/disable"),
            Some(&ops),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let before = env.sink.to("ann@acme.example").len();
    let (s, _) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ann@acme.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after: Vec<String> = env
        .sink
        .to("ann@acme.example")
        .into_iter()
        .skip(before)
        .map(|m| m.subject)
        .collect();
    assert!(after.is_empty(), "{after:?}");
}
on_both_backends!(reset, password_reset);

async fn invitations(t: TestDb) {
    let env = Env::new(&t).await;
    let acme = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let other = env.add_site("Other Co", &["other.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    let ann = env.active_customer("ann@acme.example", acme, &ops).await;

    // A Site Administrator invites to their own site, whatever site they name.
    let (s, body) = env
        .post("/api/v1/invitations", Some(&ann), json!({ "email": "cy@gmail.example", "given_name": "Cy", "surname": "Doe", "site_id": other }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let cy = body["user_id"].as_i64().unwrap();
    let first = env
        .emailed_token("cy@gmail.example", "Welcome", "/invite/", 1)
        .await;
    assert!(
        env.sink
            .wait("cy@gmail.example", "Welcome", 1)
            .await
            .text
            .contains("Acme Mining")
    );
    // Resend: a new link, and the old one stops working.
    assert_eq!(
        env.post(
            &format!("/api/v1/users/{cy}/resend-invitation"),
            Some(&ann),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let m = env.sink.wait("cy@gmail.example", "Welcome", 2).await;
    let second = m.link("/invite/").rsplit('/').next().unwrap().to_owned();
    assert_ne!(first, second);
    let envr = &env;
    let accept = |token: String| async move {
        envr.post(
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
        )
        .await
    };
    assert_eq!(accept(first).await.0, StatusCode::NOT_FOUND);
    assert_eq!(accept(second).await.0, StatusCode::OK);
    let cy_token = env.log_in("cy@gmail.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&cy_token)).await;
    assert_eq!(
        (me["site_id"].as_i64(), me["role"].as_str()),
        (Some(acme), Some("customer"))
    );
    // A customer invites nobody.
    let (s, _) = env
        .post(
            "/api/v1/invitations",
            Some(&cy_token),
            json!({ "email": "x@acme.example", "given_name": "X", "surname": "Y" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A temporary password must be replaced at first sign-in.
    let (s, _) = env
        .post("/api/v1/invitations", Some(&ops), json!({ "email": "tem@other.example", "given_name": "Tem", "surname": "P", "site_id": other, "mode": "temporary_password" }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let m = env.sink.wait("tem@other.example", "Welcome", 1).await;
    let temp = m
        .text
        .split("Temporary password: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (_, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "tem@other.example", "password": temp }),
        )
        .await;
    let half = body["token"].as_str().unwrap().to_owned();
    let code = env.code("tem@other.example", &half).await;
    let (_, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&half),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(body["stage"], "password_change");
    let token = body["token"].as_str().unwrap().to_owned();
    let (s, body) = env.get("/api/v1/sessions", Some(&token)).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    let (s, body) = env
        .post(
            "/api/v1/me/password",
            Some(&token),
            json!({ "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!((s, body["stage"].as_str()), (StatusCode::OK, Some("full")));
    assert_eq!(
        env.get("/api/v1/sessions", Some(body["token"].as_str().unwrap()))
            .await
            .0,
        StatusCode::OK
    );

    // Invitation links expire after 72 hours.
    env.post("/api/v1/invitations", Some(&ops), json!({ "email": "late@other.example", "given_name": "La", "surname": "Te", "site_id": other })).await;
    let late = env
        .emailed_token("late@other.example", "Welcome", "/invite/", 1)
        .await;
    env.server.clock.advance(Duration::from_secs(72 * 3600 + 1));
    assert_eq!(accept(late).await.0, StatusCode::NOT_FOUND);
}
on_both_backends!(invite, invitations);

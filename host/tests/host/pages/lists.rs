//! The operators' long lists in pages: People, Sites and the audit log search and page, a
//! site's own page holds only its form, and no two fields of a page share an id.

use super::{Browser, env_without_codes};
use crate::support::{TestDb, on_both_backends};
use helpdesk::auth::Role;
use helpdesk::db::users::{NewUser, insert};
use reqwest::StatusCode;

async fn html(b: &Browser, env: &crate::accounts::Env, path: &str) -> String {
    let res = b.get(env, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

/// The address of the page's "Next page" link, if it has one.
fn next(page: &str) -> Option<String> {
    let at = page.find(r#"" rel="next">Next page"#)?;
    let start = page[..at].rfind("href=\"")? + 6;
    Some(page[start..at].replace("&amp;", "&"))
}

fn rows(page: &str) -> usize {
    page.matches("<tr>").count().saturating_sub(1)
}

async fn operators_search_and_page_long_lists(t: TestDb) {
    let env = env_without_codes(&t).await;
    env.staff("ops@vendor.test", Role::Operator).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    for i in 0..70 {
        let email = format!("person{i:02}@acme.example");
        let given = format!("Given{i:02}");
        insert(
            t.db.pool(),
            &NewUser {
                email: &email,
                given_name: &given,
                surname: "Person",
                password_hash: None,
                role: "customer",
                state: "active",
                site_id: Some(site),
                must_change_password: false,
            },
            1,
        )
        .await
        .unwrap();
    }
    for i in 0..55 {
        env.add_site(&format!("Site {i:02}"), &[&format!("s{i:02}.example")], &[])
            .await;
    }
    let ops = Browser::sign_in(&env, "ops@vendor.test").await;

    // People: 71 accounts, 50 to a page, in email order; the rest on the next page.
    let first = html(&ops, &env, "/staff/people").await;
    assert_eq!(rows(&first), 50);
    assert_eq!(
        first.matches(r#"id="email""#).count(),
        1,
        "field ids are unique"
    );
    let second = html(&ops, &env, &next(&first).expect("a next page")).await;
    assert_eq!(rows(&second), 21);
    assert!(first.contains("ops@vendor.test") && second.contains("person69@acme.example"));
    assert!(next(&second).is_none());
    // Search by name or address, in any letter case; `%` and `_` are plain characters.
    let found = html(&ops, &env, "/staff/people?q=GIVEN07").await;
    assert_eq!(rows(&found), 1, "{found}");
    assert!(found.contains("person07@acme.example"));
    assert_eq!(rows(&html(&ops, &env, "/staff/people?q=person6").await), 10);
    assert!(
        html(&ops, &env, "/staff/people?q=%25")
            .await
            .contains("Nobody matches.")
    );

    // Sites: 56, 50 to a page, searched by name or domain.
    let first = html(&ops, &env, "/staff/sites").await;
    assert_eq!(rows(&first), 50);
    let second = html(&ops, &env, &next(&first).expect("a next page")).await;
    assert_eq!(rows(&second), 6);
    let found = html(&ops, &env, "/staff/sites?q=s42.example").await;
    assert_eq!(rows(&found), 1);
    assert!(found.contains("Site 42"));
    // A site's own page is its form, not the list.
    let own = html(&ops, &env, &format!("/staff/sites/{site}")).await;
    assert!(own.contains("Edit Acme Mining") && own.contains(r#"value="acme.example""#));
    assert!(!own.contains("Site 42"), "{own}");

    // The audit log reads in words, and filters by event.
    let log = html(&ops, &env, "/staff/audit").await;
    assert!(log.contains("Signed in"), "{log}");
    assert!(!log.contains("<td>login_succeeded</td>"));
    let only = html(&ops, &env, "/staff/audit?event=site_saved").await;
    assert_eq!(rows(&only), 56, "{only}");
    assert!(!only.contains("Signed in</td>"));
    assert!(only.contains(r#"<option value="site_saved" selected>"#));
}
on_both_backends!(long_lists, operators_search_and_page_long_lists);

/// Staff invite to a site named in a text field (a list of every site would outweigh the
/// page), and the page lists only the invitations still open.
async fn staff_invite_to_a_site_by_name(t: TestDb) {
    let env = env_without_codes(&t).await;
    env.staff("ops@vendor.test", Role::Operator).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    for i in 0..30 {
        env.add_site(&format!("Site {i:02}"), &[&format!("s{i:02}.example")], &[])
            .await;
    }
    let ops = Browser::sign_in(&env, "ops@vendor.test").await;
    let page = html(&ops, &env, "/invitations").await;
    assert!(
        page.contains(r#"<input id="site" name="site" type="text""#),
        "{page}"
    );
    assert!(!page.contains("Site 07"), "no list of every site");

    let invite = |site: &'static str| {
        let (ops, env) = (&ops, &env);
        async move {
            ops.post(
                env,
                "/invitations",
                &[
                    ("email", "new.person@acme.example"),
                    ("given_name", "New"),
                    ("surname", "Person"),
                    ("site", site),
                    ("mode", "link"),
                ],
            )
            .await
        }
    };
    let res = invite("Nowhere Ltd").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let refused = res.text().await.unwrap();
    assert!(
        refused.contains("There is no site named") && refused.contains("Nowhere Ltd"),
        "{refused}"
    );
    assert!(
        helpdesk::db::users::by_email(t.db.pool(), "new.person@acme.example")
            .await
            .unwrap()
            .is_none(),
        "nothing changes"
    );

    let res = invite("acme mining").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Invitation sent to new.person@acme.example."),
        "{page}"
    );
    let invited = helpdesk::db::users::by_email(t.db.pool(), "new.person@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invited.site_id, Some(site));
    // Open invitations only: the invitee, not the operator who is active.
    assert!(
        page.contains("<td data-label=\"Email\">new.person@acme.example</td>"),
        "{page}"
    );
    assert!(!page.contains("<td data-label=\"Email\">ops@vendor.test</td>"));
}
on_both_backends!(invite_by_site_name, staff_invite_to_a_site_by_name);

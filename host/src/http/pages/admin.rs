//! Approvals and invitations (Site Administrators and staff), and the operators' pages: people
//! and the audit log; sites in `admin/sites.rs`, email in `admin/mail.rs`.

use super::*;
use crate::http::extract::Query;

mod mail;
mod sites;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(approvals_page))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
        .route("/staff/reviews", get(reviews_page))
        .route("/staff/reviews/{id}/approve", post(approve_review))
        .route("/staff/reviews/{id}/refuse", post(refuse_review))
        .route("/invitations", get(invitations_page).post(invite))
        .route("/invitations/{id}/resend", post(resend_invitation))
        .route("/staff/audit", get(audit_page))
        .route("/staff/people", get(people_page))
        .route("/staff/people/role", post(change_role))
        .route("/staff/people/disable", post(disable_person))
        .merge(sites::router())
        .merge(mail::router())
}

// --- approvals and invitations ---

async fn approvals_page(v: Visit) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let pending = match v.state.accounts.pending_approvals(me).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("approvals-title")),
        &v.t("approvals-title"),
        &v.t("approvals-none"),
        vec!["col-name", "col-email", "col-site", "col-signed-up"],
    );
    page.rows = pending
        .into_iter()
        .map(|p| Row {
            id: p.id,
            label: p.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", p.given_name, p.surname),
                p.email,
                p.site_name,
                v.when(p.created_at),
            ],
        })
        .collect();
    page.actions = vec![
        ("/approvals".into(), "/approve".into(), v.t("approve")),
        ("/approvals".into(), "/reject".into(), v.t("reject")),
    ];
    if me.role == Role::Operator {
        page.related = Some(("/staff/reviews".into(), v.t("reviews-title")));
    }
    v.render(StatusCode::OK, page)
}

/// One sign-up waiting for review, as its page shows it.
struct ReviewView {
    id: i64,
    name: String,
    email: String,
    when: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    layout: Layout,
    reviews: Vec<ReviewView>,
    error: Option<String>,
    notice: Option<String>,
}

async fn reviews_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let reviews = match v.state.accounts.pending_reviews(me).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let reviews = reviews
        .into_iter()
        .map(|r| ReviewView {
            id: r.id,
            name: format!("{} {}", r.given_name, r.surname).trim().to_owned(),
            email: r.email,
            when: v.when(r.created_at),
            reason: r.reason,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    v.render(
        status,
        ReviewsPage {
            layout: v.layout(&v.t("reviews-title")),
            reviews,
            error,
            notice,
        },
    )
}

async fn reviews_page(v: Visit) -> Response {
    match v.require_active("/staff/reviews") {
        Ok(me) => reviews_view(&v, me, None, None).await,
        Err(r) => r,
    }
}

async fn approve_review(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match v.require_active("/staff/reviews") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let typed = f.get("site").trim();
    let site = match v.state.accounts.site_named(typed).await {
        Ok(Some(site)) => site,
        Ok(None) => {
            let msg = v.ta("reviews-unknown-site", &[("name", typed.into())]);
            return reviews_view(&v, me, Some(msg), None).await;
        }
        Err(e) => return error_page(e),
    };
    review_decided(&v, me, id, Some(site)).await
}

async fn refuse_review(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/reviews") {
        Ok(me) => me,
        Err(r) => return r,
    };
    review_decided(&v, me, id, None).await
}

async fn review_decided(v: &Visit, me: &Me, id: i64, site: Option<(i64, String)>) -> Response {
    let email = match v.state.accounts.pending_reviews(me).await {
        Ok(all) => all
            .into_iter()
            .find(|r| r.id == id)
            .map(|r| r.email)
            .unwrap_or_default(),
        Err(e) => return error_page(e),
    };
    match v
        .state
        .accounts
        .decide_review(me, id, site.as_ref().map(|s| s.0), &v.client)
        .await
    {
        Ok(()) => {
            let notice = match &site {
                Some((_, name)) => v.ta(
                    "reviews-approved",
                    &[
                        ("email", email.as_str().into()),
                        ("site", name.as_str().into()),
                    ],
                ),
                None => v.ta("reviews-refused", &[("email", email.as_str().into())]),
            };
            reviews_view(v, me, None, Some(notice)).await
        }
        Err(AuthError::NotFound | AuthError::Conflict(_)) => see_other("/staff/reviews"),
        Err(e) => error_page(e),
    }
}

async fn decide(v: Visit, id: i64, approve: bool) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .accounts
        .decide_approval(me, id, approve, &v.client)
        .await
    {
        Ok(()) | Err(AuthError::Conflict(_)) => see_other("/approvals"),
        Err(e) => error_page(e),
    }
}

async fn approve(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, true).await
}

async fn reject(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, false).await
}

async fn invitations_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let users = match v.state.accounts.open_invitations(me).await {
        Ok(u) => u,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("nav-invitations")),
        &v.t("nav-invitations"),
        &v.t("invitations-none"),
        vec!["col-name", "col-email", "col-state"],
    );
    page.error = error;
    page.notice = notice;
    page.rows = users
        .into_iter()
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                v.t("invitation-state"),
            ],
        })
        .collect();
    page.actions = vec![("/invitations".into(), "/resend".into(), v.t("resend"))];
    let mut fields = vec![
        Field::new("email", "field-email", "email", true),
        Field::new("given_name", "field-given_name", "text", true),
        Field::new("surname", "field-surname", "text", true),
    ];
    if me.is_staff() {
        // A site by its name: a list of every site would outweigh the page.
        let mut site = Field::new("site", "col-site", "text", true);
        site.hint = "invite-site-hint";
        fields.push(site);
    }
    let mut mode = Field::new("mode", "invite-welcome", "select", true);
    mode.options = vec![
        ("link".into(), v.t("invite-link")),
        ("temporary_password".into(), v.t("invite-temporary")),
    ];
    fields.push(mode);
    page.forms = vec![FormSpec {
        action: "/invitations".into(),
        title: v.t("invite-title"),
        button: v.t("invite"),
        fields,
    }];
    v.render(
        if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        page,
    )
}

async fn invitations_page(v: Visit) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    invitations_view(&v, &me, None, None).await
}

async fn invite(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    // Staff name the site; a Site Administrator invites to their own.
    let site_id = if me.is_staff() {
        let typed = f.get("site").trim();
        match crate::db::sites::by_name(v.state.db.pool(), typed).await {
            Ok(Some((id, _))) => Some(id),
            Ok(None) => {
                let msg = v.ta("queue-no-site", &[("name", typed.into())]);
                return invitations_view(&v, &me, Some(msg), None).await;
            }
            Err(e) => return error_page(AuthError::Db(e)),
        }
    } else {
        None
    };
    let invite = Invite {
        email: f.get("email").to_owned(),
        given_name: f.get("given_name").to_owned(),
        surname: f.get("surname").to_owned(),
        site_id,
        mode: if f.get("mode") == "temporary_password" {
            InviteMode::TemporaryPassword
        } else {
            InviteMode::Link
        },
    };
    match v.state.accounts.invite(&me, &invite, &v.client).await {
        Ok(_) => {
            invitations_view(
                &v,
                &me,
                None,
                Some(v.ta("invitation-sent", &[("email", invite.email.trim().into())])),
            )
            .await
        }
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn resend_invitation(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    match v.state.accounts.resend_invitation(&me, id, &v.client).await {
        Ok(()) => invitations_view(&v, &me, None, Some(v.t("invitation-resent"))).await,
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

// --- operators ---
/// What a searchable list (People, Sites) shows: a search and where the page starts.
#[derive(Debug, Default, serde::Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

/// People listed per page.
const PEOPLE_PER_PAGE: i64 = 50;

async fn people_view(
    v: &Visit,
    me: &Me,
    p: &SearchParams,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (people, next) = match v
        .state
        .accounts
        .people(me, &p.q, &p.after, PEOPLE_PER_PAGE)
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("nav-people")),
        &v.t("nav-people"),
        &v.t(if p.q.is_empty() {
            "people-none"
        } else {
            "people-no-match"
        }),
        vec!["col-name", "col-email", "col-role", "col-state", "col-site"],
    );
    page.error = error;
    page.notice = notice;
    page.search = Some(p.q.clone());
    page.next = next.map(|after| next_page("/staff/people", &p.q, &after));
    page.rows = people
        .into_iter()
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                v.tr.find(&format!("role-{}", u.role))
                    .unwrap_or_else(|| u.role.replace('_', " ")),
                v.tr.find(&format!("state-{}", u.state))
                    .unwrap_or_else(|| u.state.replace('_', " ")),
                u.site_name.unwrap_or_default(),
            ],
        })
        .collect();
    let mut role = Field::new("role", "col-role", "select", true);
    role.options = ["customer", "site_admin", "agent", "operator"]
        .iter()
        .map(|r| ((*r).to_owned(), v.t(&format!("role-{r}"))))
        .collect();
    page.forms = vec![
        FormSpec {
            action: "/staff/people/role".into(),
            title: v.t("people-role-title"),
            button: v.t("people-role-button"),
            fields: vec![Field::new("email", "field-email", "email", true), role],
        },
        FormSpec {
            action: "/staff/people/disable".into(),
            title: v.t("people-disable-title"),
            button: v.t("people-disable-button"),
            fields: vec![Field::new("email", "field-email", "email", true)],
        },
    ];
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

async fn people_page(v: Visit, Query(p): Query<SearchParams>) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    people_view(&v, &me, &p, None, None).await
}

/// The person an operator's form names by email address.
async fn person(v: &Visit, me: &Me, email: &str) -> Result<i64, AuthError> {
    v.state.accounts.person(me, email).await?.ok_or_else(|| {
        AuthError::Invalid(
            "unknown_person",
            format!("Nobody has the address {}.", email.trim().to_lowercase()),
        )
    })
}

async fn change_role(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match (
        person(&v, &me, f.get("email")).await,
        Role::parse(f.get("role")),
    ) {
        (Ok(id), Some(role)) => v.state.accounts.set_role(&me, id, role, &v.client).await,
        (Err(e), _) => Err(e),
        (_, None) => Err(AuthError::Invalid("invalid_role", "Choose a role.".into())),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                &SearchParams::default(),
                None,
                Some(v.ta(
                    "people-role-changed",
                    &[("email", f.get("email").trim().into())],
                )),
            )
            .await
        }
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => people_view(&v, &me, &SearchParams::default(), Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn disable_person(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match person(&v, &me, f.get("email")).await {
        Ok(id) => v.state.accounts.disable(&me, id, &v.client).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                &SearchParams::default(),
                None,
                Some(v.ta(
                    "people-disabled",
                    &[("email", f.get("email").trim().into())],
                )),
            )
            .await
        }
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => people_view(&v, &me, &SearchParams::default(), Some(msg), None).await,
            Err(page) => page,
        },
    }
}

/// What the audit log shows: one event, entries about an account, and where the page starts.
#[derive(Debug, Default, serde::Deserialize)]
struct AuditParams {
    #[serde(default)]
    event: String,
    #[serde(default)]
    q: String,
    before: Option<i64>,
}

/// Audit entries per page.
const AUDIT_PER_PAGE: i64 = 100;

async fn audit_page(v: Visit, Query(p): Query<AuditParams>) -> Response {
    let me = match v.require_active("/staff/audit") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let events = match v
        .state
        .accounts
        .audit_log(me, p.before, &p.event, &p.q, AUDIT_PER_PAGE + 1)
        .await
    {
        Ok(e) => e,
        Err(e) => return error_page(e),
    };
    let (events, before) = crate::db::page_of(events, AUDIT_PER_PAGE, |e| e.id);
    let mut page = TablePage::new(
        v.layout(&v.t("nav-audit-log")),
        &v.t("nav-audit-log"),
        &v.t("audit-none"),
        vec![
            "timeline-when",
            "col-event",
            "col-account",
            "timeline-by",
            "col-address",
            "col-detail",
        ],
    );
    page.search = Some(p.q.clone());
    page.search_label = "audit-search";
    let mut choice = Field::new("event", "col-event", "select", false);
    choice.options = std::iter::once((String::new(), v.t("audit-all-events")))
        .chain(
            crate::db::audit::EVENTS
                .iter()
                .map(|key| ((*key).to_owned(), audit_words(&v, key))),
        )
        .collect();
    choice.value = p.event.clone();
    page.filters = vec![choice];
    page.next = before.map(|before| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, val) in [("event", &p.event), ("q", &p.q)] {
            if !val.is_empty() {
                q.append_pair(k, val);
            }
        }
        q.append_pair("before", &before.to_string());
        format!("/staff/audit?{}", q.finish())
    });
    page.rows = events
        .into_iter()
        .map(|e| Row {
            id: e.id,
            label: e.event.clone(),
            href: None,
            cells: vec![
                v.when(e.at),
                audit_words(&v, &e.event),
                e.email,
                e.actor,
                e.ip,
                e.detail,
            ],
        })
        .collect();
    v.render(StatusCode::OK, page)
}

/// An audit event in the reader's words.
fn audit_words(v: &Visit, event: &str) -> String {
    v.tr.find(&format!("audit-event-{event}"))
        .unwrap_or_else(|| crate::db::audit::describe(event))
}

/// The address of the next page of a searchable list.
fn next_page(path: &str, search: &str, after: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if !search.is_empty() {
        q.append_pair("q", search);
    }
    q.append_pair("after", after);
    format!("{path}?{}", q.finish())
}

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
        v.layout("Approve a New User Account"),
        "Approve a New User Account",
        "Nobody is waiting for activation.",
        vec!["Name", "Email", "Site", "Signed up"],
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
                when(p.created_at),
            ],
        })
        .collect();
    page.actions = vec![
        ("/approvals".into(), "/approve".into(), "Approve".into()),
        ("/approvals".into(), "/reject".into(), "Reject".into()),
    ];
    v.render(StatusCode::OK, page)
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
    let users = match v.state.accounts.users(me).await {
        Ok(u) => u,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Invitations"),
        "Invitations",
        "No invitations are waiting.",
        vec!["Name", "Email", "State"],
    );
    page.error = error;
    page.notice = notice;
    page.rows = users
        .into_iter()
        .filter(|u| u.state == "invited" || u.must_change_password == 1)
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                "Invited".into(),
            ],
        })
        .collect();
    page.actions = vec![("/invitations".into(), "/resend".into(), "Resend".into())];
    let mut fields = vec![
        Field::new("email", "Email address", "email", true),
        Field::new("given_name", "Given name", "text", true),
        Field::new("surname", "Surname", "text", true),
    ];
    if me.is_staff() {
        let mut site = Field::new("site_id", "Site", "select", true);
        site.options = v
            .state
            .accounts
            .sites(Some(me))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect();
        fields.push(site);
    }
    let mut mode = Field::new("mode", "Welcome email", "select", true);
    mode.options = vec![
        ("link".into(), "A sign-in link".into()),
        ("temporary_password".into(), "A temporary password".into()),
    ];
    fields.push(mode);
    page.forms = vec![FormSpec {
        action: "/invitations".into(),
        title: "Invite someone".into(),
        button: "Invite".into(),
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
    let invite = Invite {
        email: f.get("email").to_owned(),
        given_name: f.get("given_name").to_owned(),
        surname: f.get("surname").to_owned(),
        site_id: f.get("site_id").parse().ok(),
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
                Some(format!("Invitation sent to {}.", invite.email.trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
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
        Ok(()) => {
            invitations_view(
                &v,
                &me,
                None,
                Some("Invitation sent again; the earlier one no longer works.".into()),
            )
            .await
        }
        Err(e) => match visible(e) {
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
        v.layout("People"),
        "People",
        if p.q.is_empty() {
            "Nobody yet."
        } else {
            "Nobody matches."
        },
        vec!["Name", "Email", "Role", "State", "Site"],
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
                u.role.replace('_', " "),
                u.state.replace('_', " "),
                u.site_name.unwrap_or_default(),
            ],
        })
        .collect();
    let mut role = Field::new("role", "Role", "select", true);
    role.options = ["customer", "site_admin", "agent", "operator"]
        .iter()
        .map(|r| ((*r).to_owned(), (*r).replace('_', " ")))
        .collect();
    page.forms = vec![
        FormSpec {
            action: "/staff/people/role".into(),
            title: "Change a role".into(),
            button: "Change role".into(),
            fields: vec![Field::new("email", "Email address", "email", true), role],
        },
        FormSpec {
            action: "/staff/people/disable".into(),
            title: "Disable an account".into(),
            button: "Disable".into(),
            fields: vec![Field::new("email", "Email address", "email", true)],
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
                Some(format!("Role of {} changed.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
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
                Some(format!("{} can no longer sign in.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
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
        v.layout("Audit log"),
        "Audit log",
        "No events match.",
        vec!["When", "Event", "Account", "By", "Address", "Detail"],
    );
    page.search = Some(p.q.clone());
    page.search_label = "Account or actor";
    let mut choice = Field::new("event", "Event", "select", false);
    choice.options = std::iter::once((String::new(), "All events".to_owned()))
        .chain(
            crate::db::audit::EVENTS
                .iter()
                .map(|(key, words)| ((*key).to_owned(), (*words).to_owned())),
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
                when(e.at),
                crate::db::audit::describe(&e.event),
                e.email,
                e.actor,
                e.ip,
                e.detail,
            ],
        })
        .collect();
    v.render(StatusCode::OK, page)
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

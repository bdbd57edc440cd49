//! The operators' sites pages: the searchable list, adding a site, and one site's own page.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/sites", get(sites_page).post(create_site))
        .route("/staff/sites/{id}", get(edit_site_page).post(update_site))
}

/// Sites listed per page.
const SITES_PER_PAGE: i64 = 50;

async fn sites_view(
    v: &Visit,
    me: &Me,
    p: &SearchParams,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (sites, next) = match v
        .state
        .accounts
        .sites_page(me, &p.q, &p.after, SITES_PER_PAGE)
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout(&v.t("nav-sites")),
        &v.t("nav-sites"),
        &v.t(if p.q.is_empty() {
            "sites-none"
        } else {
            "sites-no-match"
        }),
        vec![
            "col-name",
            "col-domains",
            "col-addresses",
            "site-maintenance",
            "col-licences",
        ],
    );
    page.error = error;
    page.notice = notice;
    page.search = Some(p.q.clone());
    page.search_label = "sites-search";
    page.next = next.map(|after| next_page("/staff/sites", &p.q, &after));
    page.forms = vec![site_form(
        "/staff/sites".into(),
        v.t("sites-add-title"),
        &v.t("sites-add"),
        None,
    )];
    page.rows = sites
        .into_iter()
        .map(|s| Row {
            id: s.id,
            label: s.name.clone(),
            href: Some(format!("/staff/sites/{}", s.id)),
            cells: vec![
                s.name,
                s.domains.join(", "),
                s.addresses.join(", "),
                s.maintenance_until.unwrap_or_else(|| "none".into()),
                s.licences.to_string(),
            ],
        })
        .collect();
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

/// One site's own page: its form, with nothing else to scroll past.
async fn site_view(v: &Visit, me: &Me, id: i64, error: Option<String>) -> Response {
    let site = match v.state.accounts.site(me, id).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(v.layout(&site.name), &site.name, "", Vec::new());
    page.back = Some(("/staff/sites", "sites-all"));
    page.forms = vec![site_form(
        format!("/staff/sites/{}", site.id),
        v.ta("sites-edit", &[("name", (&site.name).into())]),
        &v.t("sites-save"),
        Some(&site),
    )];
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page.error = error;
    v.render(status, page)
}

/// The form that adds a site, or edits `site` with its current values filled in.
fn site_form(
    action: String,
    title: String,
    button: &str,
    site: Option<&crate::db::sites::Site>,
) -> FormSpec {
    let mut name = Field::new("name", "col-name", "text", true);
    let mut domains = Field::new("domains", "site-domains", "text", false);
    domains.hint = "site-domains-hint";
    let mut addresses = Field::new("addresses", "site-addresses", "text", false);
    addresses.hint = "site-addresses-hint";
    let mut until = Field::new("maintenance_until", "site-maintenance", "date", false);
    let mut licences = Field::new("licences", "site-licences", "number", true);
    licences.value = "0".into();
    if let Some(s) = site {
        name.value = s.name.clone();
        domains.value = s.domains.join(", ");
        addresses.value = s.addresses.join(", ");
        until.value = s.maintenance_until.clone().unwrap_or_default();
        licences.value = s.licences.to_string();
    }
    FormSpec {
        action,
        title,
        button: button.to_owned(),
        fields: vec![name, domains, addresses, until, licences],
    }
}

async fn sites_page(v: Visit, Query(p): Query<SearchParams>) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    sites_view(&v, &me, &p, None, None).await
}

async fn edit_site_page(v: Visit, Path(id): Path<i64>) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    site_view(&v, &me, id, None).await
}

fn list(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn create_site(v: Visit, f: Posted) -> Response {
    save_site(v, None, f).await
}

async fn update_site(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    save_site(v, Some(id), f).await
}

async fn save_site(v: Visit, id: Option<i64>, f: Posted) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let Ok(licences) = f.get("licences").trim().parse::<i64>() else {
        let msg = v.t("site-licences-number");
        return site_refused(&v, &me, id, msg).await;
    };
    let input = SiteInput {
        name: f.get("name").to_owned(),
        domains: list(f.get("domains")),
        addresses: list(f.get("addresses")),
        maintenance_until: Some(f.get("maintenance_until").trim().to_owned()),
        licences,
    };
    match v.state.accounts.save_site(Some(&me), id, &input).await {
        Ok(_) => {
            let done = if id.is_some() {
                "site-saved"
            } else {
                "site-added"
            };
            let notice = v.ta(done, &[("name", input.name.trim().into())]);
            sites_view(&v, &me, &SearchParams::default(), None, Some(notice)).await
        }
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => site_refused(&v, &me, id, msg).await,
            Err(page) => page,
        },
    }
}

/// The page a refused site form came from, with what was wrong.
async fn site_refused(v: &Visit, me: &Me, id: Option<i64>, msg: String) -> Response {
    match id {
        Some(id) => site_view(v, me, id, Some(msg)).await,
        None => sites_view(v, me, &SearchParams::default(), Some(msg), None).await,
    }
}

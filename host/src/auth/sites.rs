//! Customer sites as operators (pages, API) and the CLI type them: names, registered domains and
//! addresses, maintenance contract and licences.

use super::*;

/// Registered domains one site may have.
pub const MAX_DOMAINS: usize = 100;
/// Registered individual addresses one site may have.
pub const MAX_ADDRESSES: usize = 1000;

/// A site as an operator types it, before checks.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteInput {
    pub name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    /// `YYYY-MM-DD`; absent or empty for no contract.
    #[serde(default)]
    pub maintenance_until: Option<String>,
    #[serde(default)]
    pub licences: i64,
}

impl SiteInput {
    /// Checks and normalises the fields; the error names the field.
    pub fn validate(&self) -> Result<db::sites::SiteFields> {
        let name = text::required(&text::SITE_NAME, &self.name)
            .map_err(|e| AuthError::Invalid("invalid_name", e.message))?;
        let name = name.as_str();
        if self.domains.len() > MAX_DOMAINS || self.addresses.len() > MAX_ADDRESSES {
            return Err(AuthError::Invalid(
                "too_many_registrations",
                format!(
                    "A site has at most {MAX_DOMAINS} domains and {MAX_ADDRESSES} individual addresses."
                ),
            ));
        }
        let mut domains = Vec::new();
        for raw in &self.domains {
            let d = raw.trim_start_matches('@').to_lowercase();
            let ok = raw.chars().count() <= text::DOMAIN.max
                && d.split('.').count() >= 2
                && d.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                let shown: String = raw.chars().take(60).filter(|c| !c.is_control()).collect();
                return Err(AuthError::Invalid(
                    "invalid_domain",
                    format!("`{shown}` is not a domain like example.com."),
                ));
            }
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let mut addresses = Vec::new();
        for a in &self.addresses {
            let a = normalize_email(a).map_err(|_| {
                AuthError::Invalid(
                    "invalid_address",
                    format!("`{}` is not an email address.", a.trim()),
                )
            })?;
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        let maintenance_until = match self.maintenance_until.as_deref() {
            None | Some("") => None,
            Some(d) => {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| {
                        AuthError::Invalid(
                            "invalid_maintenance_until",
                            format!("`{d}` is not a date like 2027-06-30."),
                        )
                    })?;
                Some(d.to_owned())
            }
        };
        if self.licences < 0 || self.licences > 1_000_000 {
            return Err(AuthError::Invalid(
                "invalid_licences",
                "Licences must be between 0 and 1000000.".into(),
            ));
        }
        Ok(db::sites::SiteFields {
            name: name.to_owned(),
            domains,
            addresses,
            maintenance_until,
            licences: self.licences,
        })
    }
}

impl Accounts {
    /// The site named `name` (any letter case): its id and name.
    pub async fn site_named(&self, name: &str) -> Result<Option<(i64, String)>> {
        Ok(db::sites::by_name(self.db.pool(), name.trim()).await?)
    }

    /// Creates (`id` = `None`) or replaces a site. `me` is `None` for the CLI.
    pub async fn save_site(
        &self,
        me: Option<&Me>,
        id: Option<i64>,
        input: &SiteInput,
    ) -> Result<i64> {
        if let Some(me) = me
            && !(me.is_active() && me.role == Role::Operator)
        {
            return Err(AuthError::Forbidden);
        }
        let fields = input.validate()?;
        if db::sites::name_taken(self.db.pool(), &fields.name, id.unwrap_or(0)).await? {
            return Err(AuthError::Conflict(format!(
                "A site named `{}` already exists.",
                fields.name
            )));
        }
        let mut tx = self.db.begin().await?;
        let id = match id {
            None => db::sites::insert(&mut tx, &fields, self.now()).await?,
            Some(id) => {
                if !db::sites::update(&mut tx, id, &fields).await? {
                    return Err(AuthError::NotFound);
                }
                id
            }
        };
        tx.commit().await?;
        let actor = me.map(|m| m.email.as_str()).unwrap_or("cli");
        self.audit(
            "site_saved",
            None,
            "",
            actor,
            &Client::default(),
            &fields.name,
        )
        .await?;
        Ok(id)
    }

    pub async fn sites(&self, me: Option<&Me>) -> Result<Vec<db::sites::Site>> {
        if let Some(me) = me
            && !(me.is_active() && me.is_staff())
        {
            return Err(AuthError::Forbidden);
        }
        Ok(db::sites::list(&mut *self.db.pool().acquire().await?).await?)
    }

    /// A page of sites (staff only) whose name or a domain holds `search`, after the name
    /// `after`; with the name to continue from when there are more.
    pub async fn sites_page(
        &self,
        me: &Me,
        search: &str,
        after: &str,
        limit: i64,
    ) -> Result<(Vec<db::sites::Site>, Option<String>)> {
        if !(me.is_active() && me.is_staff()) {
            return Err(AuthError::Forbidden);
        }
        let search = checked_search(search)?;
        let mut conn = self.db.pool().acquire().await?;
        let rows = db::sites::page(&mut conn, &search, after, limit + 1).await?;
        Ok(db::page_of(rows, limit, |s| s.name.clone()))
    }

    /// The site `id` (staff only).
    pub async fn site(&self, me: &Me, id: i64) -> Result<db::sites::Site> {
        if !(me.is_active() && me.is_staff()) {
            return Err(AuthError::Forbidden);
        }
        let mut conn = self.db.pool().acquire().await?;
        db::sites::get(&mut conn, id)
            .await?
            .ok_or(AuthError::NotFound)
    }

    /// The id of the person at `email` (as typed, any case), if `me` may see them.
    pub async fn person(&self, me: &Me, email: &str) -> Result<Option<i64>> {
        let site = people_scope(me)?;
        let email = email.trim().to_lowercase();
        Ok(db::users::by_email(self.db.pool(), &email)
            .await?
            .filter(|u| site.is_none() || u.site_id == site)
            .map(|u| u.id))
    }

    /// People an operator (everyone) or a Site Administrator (their site) may see.
    pub async fn users(&self, me: &Me) -> Result<Vec<UserRow>> {
        let site = people_scope(me)?;
        Ok(db::users::list(self.db.pool(), site).await?)
    }

    /// The invitations still open among the people `me` may see.
    pub async fn open_invitations(&self, me: &Me) -> Result<Vec<UserRow>> {
        let site = people_scope(me)?;
        Ok(db::users::open_invitations(self.db.pool(), site).await?)
    }

    /// A page of the people `me` may see whose email or name holds `search`, after the email
    /// `after`; with the email to continue from when there are more.
    pub async fn people(
        &self,
        me: &Me,
        search: &str,
        after: &str,
        limit: i64,
    ) -> Result<(Vec<db::users::Person>, Option<String>)> {
        let site = people_scope(me)?;
        let search = checked_search(search)?;
        let rows = db::users::page(self.db.pool(), site, &search, after, limit + 1).await?;
        Ok(db::page_of(rows, limit, |p| p.email.clone()))
    }
}

/// Whose accounts `me` may list: everyone's (`None`) for staff, their site's for a Site
/// Administrator.
fn people_scope(me: &Me) -> Result<Option<i64>> {
    let site = match me.role {
        Role::Operator | Role::Agent if me.is_active() => None,
        Role::SiteAdmin if me.is_active() => me.site_id,
        _ => return Err(AuthError::Forbidden),
    };
    if site.is_none() && !me.is_staff() {
        return Err(AuthError::Forbidden);
    }
    Ok(site)
}

fn checked_search(search: &str) -> Result<String> {
    text::check(&text::SEARCH, search).map_err(|e| AuthError::Invalid(e.field, e.message))
}

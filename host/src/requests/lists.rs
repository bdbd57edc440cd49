//! Lists of requests: what a list asks for, who may see what in it, its order and its pages.

use super::*;

/// What a list asks for. `status` is `open`, `closed`, a status key, or empty for all.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: String,
    pub site: Option<i64>,
    pub assignee: Option<i64>,
    pub unassigned: bool,
    /// Only this priority (`low`, `normal`, `high`, `urgent`), or any when empty.
    pub priority: String,
    /// Only requests holding this tag, or any when empty (staff only).
    pub tag: String,
    /// Only requests of this type.
    pub type_id: Option<i64>,
    /// Only requests whose custom field holds a value: `key:value`, or any when empty.
    pub field: String,
    pub search: String,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub oldest_first: bool,
    /// Most urgent first, then by last change.
    pub by_priority: bool,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub requests: Vec<RequestRow>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// The `tag:<tag>` terms of a staff search (each a tag the request must hold, in any letter
/// case; one no tag can be matches nothing), and the rest of the search.
fn search_tags(search: &str) -> (Vec<String>, String) {
    let mut tags = Vec::new();
    let mut rest = Vec::new();
    for term in search.split_whitespace() {
        match term.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("tag:") => {
                let typed = &term[4..];
                tags.push(
                    crate::domain::fields::tag(typed).unwrap_or_else(|_| typed.to_lowercase()),
                );
            }
            _ => rest.push(term),
        }
    }
    (tags, rest.join(" "))
}

/// Words of a search, lowercased; at most 8.
fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// Where a page ends: `updated_at.id`, or `rank.updated_at.id` in a list ordered by priority.
fn cursor(r: &RequestRow, by_priority: bool) -> String {
    if by_priority {
        format!("{}.{}.{}", sql::rank(&r.priority), r.updated_at, r.id)
    } else {
        format!("{}.{}", r.updated_at, r.id)
    }
}

/// A cursor as [`cursor`] writes it for the same order: digits only, at most 18 each.
fn parse_cursor(s: &str, by_priority: bool) -> Result<Key> {
    let number = |p: &str| {
        (!p.is_empty() && p.len() <= 18 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let parts: Option<Vec<i64>> = s.split('.').map(number).collect();
    match (by_priority, parts.as_deref()) {
        (false, Some(&[updated_at, id])) => Ok(Key {
            rank: 0,
            updated_at,
            id,
        }),
        (true, Some(&[rank, updated_at, id])) => Ok(Key {
            rank,
            updated_at,
            id,
        }),
        (_, Some([_, _] | [_, _, _])) => Err(RequestError::Rule(
            "invalid_cursor",
            "The page cursor is one of a list in another order: ask for the first page again."
                .into(),
        )),
        _ => Err(RequestError::Invalid(
            "invalid_cursor",
            "The page cursor is not one this server gave.".into(),
        )),
    }
}

impl Requests {
    /// What `q` asks of the requests `me` may see.
    async fn filter(&self, me: &Me, q: &ListQuery, workflow: &Workflow) -> Result<Filter> {
        let mut f = Filter::default();
        match me.role {
            Role::Customer => {
                f.requester = Some(me.id);
                f.shared = sql::cc::requests_of(self.db.pool(), me.id).await?;
            }
            Role::SiteAdmin => f.site = Some(me.site_id.ok_or(RequestError::Forbidden)?),
            Role::Agent | Role::Operator => {
                f.site = q.site;
                f.assignee = q.assignee;
                f.unassigned = q.unassigned;
            }
        }
        let status = text::check(&text::STATUS, &q.status)?;
        match status.as_str() {
            "" | "all" => {}
            "open" => f.status_not_in = Some(workflow.closed_keys()),
            "closed" => f.status_in = Some(workflow.closed_keys()),
            // Keys the workflow no longer knows can still be listed, as long as requests hold
            // them: that is how operators find what to map.
            key if workflow.get(key).is_some()
                || sql::status_in_use(self.db.pool(), key).await? =>
            {
                f.status_in = Some(vec![key.to_owned()])
            }
            key => {
                return Err(RequestError::Invalid(
                    "unknown_status",
                    format!(
                        "There is no status \"{key}\": use all, open, closed or one of the {} workflow's statuses.",
                        workflow.by.name
                    ),
                ));
            }
        }
        if !q.priority.is_empty() {
            let p = crate::domain::fields::Priority::parse(&q.priority)
                .map_err(|why| RequestError::Invalid("invalid_priority", why))?;
            f.priority = Some(p.as_str().to_owned());
        }
        if !q.tag.is_empty() {
            if !me.is_staff() {
                return Err(RequestError::Forbidden);
            }
            let t = crate::domain::fields::tag(&q.tag)
                .map_err(|why| RequestError::Invalid("invalid_tag", why))?;
            f.tags.push(t);
        }
        f.type_id = q.type_id;
        if !q.field.is_empty() {
            f.value = Some(self.field_filter(me, &q.field).await?);
        }
        let mut search = text::check(&text::SEARCH, &q.search)?;
        if me.is_staff() {
            let (tags, rest) = search_tags(&search);
            f.tags.extend(tags);
            search = rest;
        }
        if !search.is_empty() {
            f.id = parse_number(&search);
            let words = search_words(&search);
            if !words.is_empty() {
                f.search = Some(words);
            }
        }
        Ok(f)
    }

    /// How many requests `me` may see match each of `qs`, each counted up to `cap` (saved
    /// views' counts): the workflow is asked once, and one connection reads them all.
    pub async fn counts(&self, me: &Me, qs: &[ListQuery], cap: i64) -> Result<Vec<Option<i64>>> {
        require_active(me)?;
        let workflow = self.workflow().await?;
        let mut conn = self.db.pool().acquire().await?;
        let mut counts = Vec::with_capacity(qs.len());
        for q in qs {
            // A saved list the workflow no longer answers (a status it dropped) counts as
            // nothing to show, rather than failing the page it is listed on.
            let f = match self.filter(me, q, &workflow).await {
                Ok(f) => f,
                Err(RequestError::Invalid(..)) => {
                    counts.push(None);
                    continue;
                }
                Err(e) => return Err(e),
            };
            counts.push(Some(
                sql::count(&mut conn, self.db.backend(), &f, cap).await?,
            ));
        }
        Ok(counts)
    }

    /// A page of the requests `me` may see that match `q`.
    pub async fn list(&self, me: &Me, q: &ListQuery) -> Result<(ListPage, Workflow)> {
        require_active(me)?;
        let workflow = self.workflow().await?;
        let f = self.filter(me, q, &workflow).await?;
        let limit = if q.limit <= 0 { 25 } else { q.limit.min(100) };
        let page = Page {
            after: match &q.after {
                Some(a) => Some(parse_cursor(
                    &text::check(&text::CURSOR, a)?,
                    q.by_priority,
                )?),
                None => None,
            },
            oldest_first: q.oldest_first,
            by_priority: q.by_priority,
            limit: limit + 1,
        };
        let mut conn = self.db.pool().acquire().await?;
        let rows = sql::list(&mut conn, self.db.backend(), &f, page).await?;
        let (mut requests, next) = crate::db::page_of(rows, limit, |r| cursor(r, q.by_priority));
        for r in &mut requests {
            redact(me, r);
        }
        Ok((ListPage { requests, next }, workflow))
    }

    /// What the dashboard shows `me`: the first open requests they may see, and the quick links
    /// their role sees.
    pub async fn dashboard(&self, me: &Me) -> Result<(ListPage, Workflow, Vec<QuickLink>)> {
        let q = ListQuery {
            status: "open".into(),
            limit: 10,
            ..ListQuery::default()
        };
        let (page, workflow) = self.list(me, &q).await?;
        Ok((page, workflow, self.quick_links(me).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_drop_operators() {
        assert_eq!(
            search_words("printer* OR \"NEAR(x)\""),
            vec!["printer", "or", "near", "x"]
        );
    }
}

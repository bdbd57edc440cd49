//! What staff set for every request: mappings of statuses the active workflow does not
//! know, the dashboard's quick links, and the replies staff keep to insert.

use super::*;
use crate::db::saved_replies::{self as saved, QueueView, SavedReply};

impl Requests {
    /// Status keys held by requests that the active workflow does not know, with their counts.
    /// Operators only; `None` is the command line, which needs no account.
    pub async fn unknown_statuses(
        &self,
        me: Option<&Me>,
    ) -> Result<(Vec<(String, i64)>, Workflow)> {
        if let Some(me) = me {
            require_operator(me)?;
        }
        let workflow = self.workflow().await?;
        let counts = sql::status_counts(self.db.pool()).await?;
        Ok((
            counts
                .into_iter()
                .filter(|(k, _)| workflow.get(k).is_none())
                .collect(),
            workflow,
        ))
    }

    /// Moves every request in the unknown status `from` to the active workflow's status `to`.
    /// Operators only; each move is recorded in the request's timeline.
    pub async fn map_status(&self, me: &Me, from: &str, to: &str) -> Result<u64> {
        require_active(me)?;
        if me.role != Role::Operator {
            return Err(RequestError::Forbidden);
        }
        let from = text::required(&text::STATUS, from)?;
        let from = from.as_str();
        let workflow = self.workflow().await?;
        if workflow.get(from).is_some() {
            return Err(RequestError::Rule(
                "known_status",
                format!(
                    "\"{from}\" is a status of the active workflow; change such requests one by one."
                ),
            ));
        }
        if workflow.get(to).is_none() {
            return Err(RequestError::Invalid(
                "unknown_status",
                format!(
                    "There is no status \"{to}\" in the {} workflow.",
                    workflow.by.name
                ),
            ));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let n = sql::map_status(&mut tx, from, to, me.id, &workflow.by, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// `me`'s saved queue views (staff).
    pub async fn queue_views(&self, me: &Me) -> Result<Vec<QueueView>> {
        require_staff(me)?;
        Ok(saved::views(self.db.pool(), me.id).await?)
    }

    /// Saves the queue's filter `query` (its query string) as `me`'s view `name`; its id.
    pub async fn save_queue_view(&self, me: &Me, name: &str, query: &str) -> Result<i64> {
        require_staff(me)?;
        let name = text::required(&text::LINK_TITLE, name)?;
        let query = text::check(&text::URL, query)?;
        Ok(saved::insert_view(self.db.pool(), me.id, &name, &query, self.now()).await?)
    }

    pub async fn delete_queue_view(&self, me: &Me, id: i64) -> Result<()> {
        require_staff(me)?;
        if saved::delete_view(self.db.pool(), id, me.id).await? {
            Ok(())
        } else {
            Err(RequestError::NotFound)
        }
    }

    /// The request emails `me` chose to get.
    pub async fn notifications(&self, me: &Me) -> Result<crate::db::users::Notifications> {
        require_active(me)?;
        Ok(crate::db::users::notifications(self.db.pool(), me.id).await?)
    }

    pub async fn set_notifications(
        &self,
        me: &Me,
        n: crate::db::users::Notifications,
    ) -> Result<()> {
        require_active(me)?;
        Ok(crate::db::users::set_notifications(self.db.pool(), me.id, n, self.now()).await?)
    }

    /// The saved replies `me` (staff) may insert: their own and the shared ones.
    pub async fn saved_replies(&self, me: &Me) -> Result<Vec<SavedReply>> {
        require_staff(me)?;
        Ok(saved::usable(self.db.pool(), me.id).await?)
    }

    /// Keeps an answer for `me` to insert into replies, or for all staff when `shared`; its id.
    pub async fn save_reply(&self, me: &Me, title: &str, body: &str, shared: bool) -> Result<i64> {
        require_staff(me)?;
        let title = text::required(&text::LINK_TITLE, title)?;
        let body = text::required(&text::MESSAGE, body)?;
        let owner = if shared { None } else { Some(me.id) };
        Ok(saved::insert(self.db.pool(), owner, &title, &body, self.now()).await?)
    }

    /// Removes a saved reply: one's own, or a shared one (any member of staff may tidy those).
    pub async fn delete_saved_reply(&self, me: &Me, id: i64) -> Result<()> {
        require_staff(me)?;
        match saved::by_id(self.db.pool(), id).await? {
            Some(r) if r.owner_id.is_none_or(|o| o == me.id) => {
                saved::delete(self.db.pool(), id).await?;
                Ok(())
            }
            _ => Err(RequestError::NotFound),
        }
    }

    /// The quick links `me`'s role may see.
    pub async fn quick_links(&self, me: &Me) -> Result<Vec<QuickLink>> {
        let role = me.role.as_str();
        Ok(sql::quick_links(self.db.pool())
            .await?
            .into_iter()
            .filter(|l| l.roles.split(',').any(|r| r == role))
            .collect())
    }

    /// Every quick link; operators only.
    pub async fn all_quick_links(&self, me: &Me) -> Result<Vec<QuickLink>> {
        require_operator(me)?;
        Ok(sql::quick_links(self.db.pool()).await?)
    }

    /// Adds a quick link shown on the dashboard to `roles`. Operators only.
    pub async fn add_quick_link(
        &self,
        me: &Me,
        title: &str,
        url: &str,
        roles: &[String],
    ) -> Result<i64> {
        require_operator(me)?;
        let title = text::required(&text::LINK_TITLE, title)?;
        // Taken as sent: the pages trim what people type.
        if url.chars().count() > text::URL.max {
            return Err(RequestError::Invalid(
                "url",
                format!("URL: at most {} characters allowed.", text::URL.max),
            ));
        }
        let ok = (url.starts_with("https://")
            || url.starts_with("http://")
            || (url.starts_with('/') && !url.starts_with("//")))
            && url.len() <= 2000
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(RequestError::Invalid(
                "url",
                "Enter a URL starting with https://, http:// or / (a page of this portal).".into(),
            ));
        }
        if roles.is_empty() {
            return Err(RequestError::Invalid(
                "roles",
                "Choose at least one role that sees the link.".into(),
            ));
        }
        if let Some(bad) = roles.iter().find(|r| Role::parse(r).is_none()) {
            return Err(RequestError::Invalid(
                "roles",
                format!("Unknown role \"{bad}\": use customer, site_admin, agent or operator."),
            ));
        }
        let position = sql::quick_links(self.db.pool()).await?.len() as i64;
        Ok(sql::insert_quick_link(self.db.pool(), &title, url, &roles.join(","), position).await?)
    }

    pub async fn delete_quick_link(&self, me: &Me, id: i64) -> Result<()> {
        require_operator(me)?;
        if sql::delete_quick_link(self.db.pool(), id).await? {
            Ok(())
        } else {
            Err(RequestError::NotFound)
        }
    }
}

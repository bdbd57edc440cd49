//! Sharing a request with colleagues of its site (CC): they see it, answer it and get its
//! emails as its requester does, each as they chose at Notifications.

use super::*;
use crate::db::requests::cc;

/// Whether `me` may change who request `r` is shared with: staff, its requester, and the
/// administrators of its site.
pub fn may_share(me: &Me, r: &RequestRow) -> bool {
    me.is_staff()
        || me.id == r.requester_id
        || (me.role == Role::SiteAdmin && me.site_id == Some(r.site_id))
}

impl Requests {
    /// Shares request `id` with the colleague at `email`: an active customer or Site
    /// Administrator of the request's site, who is emailed about it.
    pub async fn share(&self, me: &Me, id: i64, email: &str) -> Result<()> {
        let r = self.visible(me, id).await?;
        if !may_share(me, &r) {
            return Err(RequestError::Forbidden);
        }
        let email = email.trim().to_lowercase();
        let colleague = crate::db::users::by_email(self.db.pool(), &email)
            .await?
            .filter(|u| {
                u.state == "active"
                    && matches!(u.role.as_str(), "customer" | "site_admin")
                    && u.site_id == Some(r.site_id)
            });
        let Some(colleague) = colleague else {
            return Err(RequestError::Rule(
                "not_a_colleague",
                format!(
                    "A request can be shared only with active people of {}; {email} is not one.",
                    r.site_name
                ),
            ));
        };
        if colleague.id == r.requester_id {
            return Err(RequestError::Rule(
                "already_requester",
                format!("{email} raised this request."),
            ));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if cc::add(&mut *tx, id, colleague.id, me.id, now).await? {
            let who = me.full_name();
            let email = messages::request_shared(
                &colleague.email,
                &number(id),
                &r.subject,
                &who,
                &self.link(id),
            )
            .about(id);
            self.mailer.queue(&mut tx, &email, now).await?;
        }
        tx.commit().await?;
        self.mailer.wake();
        Ok(())
    }

    /// Stops sharing request `id` with `user_id`; anyone may take themselves off.
    pub async fn unshare(&self, me: &Me, id: i64, user_id: i64) -> Result<()> {
        let r = self.visible(me, id).await?;
        if !(may_share(me, &r) || me.id == user_id) {
            return Err(RequestError::Forbidden);
        }
        if cc::remove(self.db.pool(), id, user_id).await? {
            Ok(())
        } else {
            Err(RequestError::NotFound)
        }
    }
}

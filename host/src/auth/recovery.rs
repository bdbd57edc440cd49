//! "Forgot your password?" and changing a password: reset links, the policy plugin, and the
//! sessions that end with the old password.

use super::*;

impl Accounts {
    /// "Forgot your password?": the same answer whether or not the address has an account.
    pub async fn request_reset(&self, raw_email: &str, client: &Client) -> Result<()> {
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("reset:ip:{}", client.network()), l.reset_per_ip)
            .await?;
        let email = normalize_email(raw_email)?;
        self.limiter()
            .hit(&format!("reset:email:{email}"), l.reset_per_email)
            .await?;
        let user = db::users::by_email(self.db.pool(), &email).await?;
        let Some(user) = user.filter(|u| {
            matches!(
                u.state.as_str(),
                "active" | "choosing_site" | "pending_activation"
            )
        }) else {
            return self
                .audit(
                    "reset_requested",
                    None,
                    &email,
                    "visitor",
                    client,
                    "no resettable account",
                )
                .await;
        };
        let now = self.now();
        let (token, hash) = secret::new_token();
        let mut tx = self.db.begin().await?;
        db::tokens::retire(&mut *tx, user.id, "reset", now).await?;
        db::tokens::insert(
            &mut *tx,
            &hash,
            "reset",
            &email,
            Some(user.id),
            now,
            now + HOUR,
        )
        .await?;
        self.mailer
            .queue(
                &mut tx,
                &messages::password_reset(&email, &self.mailer.link(&format!("/reset/{token}"))),
                now,
            )
            .await?;
        tx.commit().await?;
        self.mailer.wake();
        self.audit(
            "reset_requested",
            Some(&user),
            &email,
            "visitor",
            client,
            "link sent",
        )
        .await
    }

    /// Whether a reset link can still be used, for the page that asks for the new password.
    pub async fn reset_link_usable(&self, token: &str) -> Result<bool> {
        Ok(
            db::tokens::usable(self.db.pool(), &secret::hash(token), "reset", self.now())
                .await?
                .is_some(),
        )
    }

    /// Sets the new password from a reset link and ends every session of the account.
    pub async fn complete_reset(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        client: &Client,
    ) -> Result<()> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "reset", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let user = db::users::by_id(self.db.pool(), row.user_id.unwrap_or(0))
            .await?
            .ok_or(AuthError::InvalidLink)?;
        if !matches!(
            user.state.as_str(),
            "active" | "choosing_site" | "pending_activation"
        ) {
            return Err(AuthError::InvalidLink);
        }
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let mut tx = self.db.begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
        }
        db::users::set_password(&mut *tx, user.id, &hash, false, now).await?;
        db::sessions::revoke_all(&mut *tx, user.id, None, now).await?;
        // Whoever had the old password may have remembered a device with it.
        db::sessions::forget_devices(&mut *tx, user.id).await?;
        tx.commit().await?;
        self.audit(
            "password_reset",
            Some(&user),
            "",
            "user",
            client,
            "all sessions ended",
        )
        .await
    }

    /// Replaces the password of the signed-in user (required after a temporary password);
    /// other sessions end, this one continues with a new secret.
    pub async fn change_password(
        &self,
        me: &Me,
        current: Option<&str>,
        password: &str,
        confirm: &str,
        client: &Client,
    ) -> Result<SignedIn> {
        let user = db::users::by_id(self.db.pool(), me.id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        match me.stage {
            Stage::PasswordChange => {}
            Stage::Full => {
                let hasher = self.hasher.clone();
                let cur = current.unwrap_or_default().to_owned();
                let stored = user.password_hash.clone();
                if self
                    .argon(move |memory| hasher.verify(&cur, stored.as_deref(), memory))
                    .await?
                    == Verified::Wrong
                {
                    return Err(AuthError::Rule(
                        "wrong_current_password",
                        "The current password is not correct.".into(),
                    ));
                }
            }
            Stage::Mfa => return Err(AuthError::Forbidden),
        }
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        db::users::set_password(&mut *tx, me.id, &hash, false, now).await?;
        db::tokens::retire(&mut *tx, me.id, "invite", now).await?;
        db::sessions::revoke_all(&mut *tx, me.id, Some(me.session_id), now).await?;
        db::sessions::forget_devices(&mut *tx, me.id).await?;
        tx.commit().await?;
        let signed_in = self.rotate(me, Stage::Full).await?;
        self.audit("password_changed", Some(&user), "", "user", client, "")
            .await?;
        Ok(signed_in)
    }
}

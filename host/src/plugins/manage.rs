//! Installing, activating, rolling back and shadowing plugins: every change an operator makes
//! to what serves a slot, checked on this host before the database is changed.

use super::*;

/// Why a plugin could not be installed, activated or rolled back.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("the plugin's config is invalid: {0}")]
    InvalidConfig(String),
    #[error("no plugin #{0} is installed")]
    UnknownPlugin(i64),
    #[error("plugin #{id} is a {actual} plugin, not a {wanted} plugin")]
    WrongSlot {
        id: i64,
        actual: String,
        wanted: Slot,
    },
    #[error("plugin #{0} is already the active {1} plugin")]
    AlreadyActive(i64, Slot),
    #[error("there is no earlier {0} plugin to roll back to")]
    NothingToRollBack(Slot),
    #[error("no plugin is in shadow for {0}")]
    NoShadow(Slot),
    #[error(
        "{compiling} of the {of} servers are still compiling the plugin; activate it again once they are done (the console shows when)"
    )]
    NotReady { compiling: usize, of: usize },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<PrepareError> for ManageError {
    fn from(e: PrepareError) -> ManageError {
        match e {
            PrepareError::Refused(why) => ManageError::Refused(why),
            PrepareError::InvalidConfig(why) => ManageError::InvalidConfig(why),
            PrepareError::Plugin(p) => ManageError::Plugin(p),
        }
    }
}

/// A component to install, and how.
#[derive(Debug, Clone, Copy)]
pub struct Install<'a> {
    pub slot: Slot,
    pub bytes: &'a [u8],
    pub config: &'a str,
    /// The installation's own budget, where it differs from its slot's default.
    pub raise: Raise,
    /// The text of the component's detached signature file, if it has one.
    pub signature: Option<&'a str>,
    /// Who installs it, for the audit trail.
    pub by: &'a str,
    /// Also make it the active plugin of its slot.
    pub activate: bool,
}

impl Plugins {
    /// Checks a component and stores it, with its slot's default budget; with `activate`, also
    /// makes it the slot's active plugin. Installing the same bytes with the same config again
    /// returns the existing id.
    pub async fn install(
        &self,
        db: &Db,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        by: &str,
        activate: bool,
    ) -> Result<i64, ManageError> {
        let install = Install {
            slot,
            bytes,
            config,
            raise: Raise::default(),
            signature: None,
            by,
            activate,
        };
        self.install_with(db, &install).await
    }

    /// [`Plugins::install`] with a budget of the operator's own for this installation, and the
    /// component's signature where the operator requires one.
    pub async fn install_with(&self, db: &Db, install: &Install<'_>) -> Result<i64, ManageError> {
        if !self.trusted.is_empty() {
            let Some(signature) = install.signature else {
                return Err(ManageError::Refused(
                    "this server accepts only signed components (HELPDESK_PLUGIN_TRUSTED_KEYS): pass the component's signature with --signature".into(),
                ));
            };
            let key = self
                .trusted
                .verify(install.bytes, signature)
                .map_err(ManageError::Refused)?;
            tracing::info!(slot = %install.slot, key, "plugin signature verified");
        }
        self.store(db, install).await
    }

    /// Prepares and stores a component whose origin is settled.
    async fn store(&self, db: &Db, install: &Install<'_>) -> Result<i64, ManageError> {
        let &Install {
            slot,
            bytes,
            config,
            raise,
            by,
            activate,
            ..
        } = install;
        let budget_json = serde_json::to_string(&raise).expect("a budget serialises");
        let loaded = self
            .prepare_blocking(slot, bytes.to_vec(), config.to_owned(), raise, 0)
            .await?;
        let found = db::plugins::find(
            db,
            slot.as_str(),
            &loaded.plugin.sha256,
            config,
            &budget_json,
        )
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                db::plugins::insert(
                    db,
                    &db::plugins::NewPlugin {
                        slot: slot.as_str(),
                        name: &loaded.info.name,
                        version: &loaded.info.version,
                        summary: &loaded.info.summary,
                        sha256: &loaded.plugin.sha256,
                        wasm: bytes,
                        config,
                        budget: &budget_json,
                        installed_by: by,
                    },
                )
                .await?
            }
        };
        tracing::info!(slot = %slot, id, plugin.name = %loaded.info.name, plugin.version = %loaded.info.version, plugin.sha256 = %loaded.plugin.sha256, by, "plugin installed");
        // The component was prepared on this host just above: no need to prove it again.
        self.record_compiled(db, id, None).await;
        if activate && db::plugins::active_id(db, slot.as_str()).await? != Some(id) {
            self.wait_until_compiled(db, id).await?;
            self.record_activation(db, slot, id, by).await?;
        }
        Ok(id)
    }

    /// Makes plugin `id` the active plugin of `slot` on every replica.
    pub async fn activate(
        &self,
        db: &Db,
        slot: Slot,
        id: i64,
        by: &str,
    ) -> Result<(), ManageError> {
        let row = db::plugins::get(db, id)
            .await?
            .ok_or(ManageError::UnknownPlugin(id))?;
        if row.slot != slot.as_str() {
            return Err(ManageError::WrongSlot {
                id,
                actual: row.slot,
                wanted: slot,
            });
        }
        if db::plugins::active_id(db, slot.as_str()).await? == Some(id) {
            return Err(ManageError::AlreadyActive(id, slot));
        }
        // Prove it still loads on this host before any replica is told to switch.
        let wasm = db::plugins::wasm(db, id)
            .await?
            .ok_or(ManageError::UnknownPlugin(id))?;
        self.prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await?;
        self.record_compiled(db, id, None).await;
        // Every replica switches within milliseconds only to what it has compiled.
        self.wait_until_compiled(db, id).await?;
        self.record_activation(db, slot, id, by).await
    }

    async fn record_activation(
        &self,
        db: &Db,
        slot: Slot,
        id: i64,
        by: &str,
    ) -> Result<(), ManageError> {
        db::plugins::activate(db, slot.as_str(), id, by).await?;
        tracing::info!(slot = %slot, id, by, "plugin activated");
        // This replica serves it at once; the others hear of it from the database.
        self.follow_now(db, slot).await;
        Ok(())
    }

    /// A new installation of plugin `id`'s component with another config, checked by the
    /// plugin like any install; not activated. The component was verified when it was first
    /// installed, so no signature is asked again. Returns the new installation's id (or the
    /// existing one with that config).
    pub async fn reconfigure(
        &self,
        db: &Db,
        id: i64,
        config: &str,
        by: &str,
    ) -> Result<i64, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        let install = Install {
            slot,
            bytes: &wasm,
            config,
            raise: raise_of(&row),
            signature: None,
            by,
            activate: false,
        };
        self.store(db, &install).await
    }

    /// Installed plugin `id`, prepared on this host (from memory when it was prepared lately):
    /// to be asked questions by hand, outside the request path.
    pub async fn prepared(&self, db: &Db, id: i64) -> Result<Loaded, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        let loaded = self
            .prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await?;
        self.record_compiled(db, id, None).await;
        Ok(loaded)
    }

    /// Returns `slot` to the plugin that was active before the current one.
    pub async fn rollback(&self, db: &Db, slot: Slot, by: &str) -> Result<i64, ManageError> {
        let id = db::plugins::rollback(db, slot.as_str(), by)
            .await?
            .ok_or(ManageError::NothingToRollBack(slot))?;
        tracing::info!(slot = %slot, id, by, "plugin rolled back");
        self.follow_now(db, slot).await;
        Ok(id)
    }

    /// Puts installed plugin `id` in shadow for its slot on every replica, in place of any
    /// other shadow there. Returns the slot.
    pub async fn start_shadow(&self, db: &Db, id: i64, by: &str) -> Result<Slot, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        if db::plugins::active_id(db, slot.as_str()).await? == Some(id) {
            return Err(ManageError::AlreadyActive(id, slot));
        }
        // Prove it loads on this host before any replica starts asking it.
        self.prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await?;
        db::plugins::start_shadow(db, slot.as_str(), id, by).await?;
        tracing::info!(slot = %slot, id, by, "plugin in shadow");
        self.follow_now(db, slot).await;
        Ok(slot)
    }

    /// Stops `slot`'s shadow on every replica; returns it with its counts.
    pub async fn stop_shadow(
        &self,
        db: &Db,
        slot: Slot,
        by: &str,
    ) -> Result<db::plugins::Shadow, ManageError> {
        let shadow = db::plugins::stop_shadow(db, slot.as_str())
            .await?
            .ok_or(ManageError::NoShadow(slot))?;
        tracing::info!(slot = %slot, id = shadow.plugin_id, by, "shadow stopped");
        self.follow_now(db, slot).await;
        Ok(shadow)
    }

    /// Makes `slot`'s shadow its active plugin on every replica (which ends the shadowing);
    /// returns the shadow as it was.
    pub async fn promote_shadow(
        &self,
        db: &Db,
        slot: Slot,
        by: &str,
    ) -> Result<db::plugins::Shadow, ManageError> {
        let shadow = db::plugins::shadows(db)
            .await?
            .into_iter()
            .find(|s| s.slot == slot.as_str())
            .ok_or(ManageError::NoShadow(slot))?;
        self.activate(db, slot, shadow.plugin_id, by).await?;
        Ok(shadow)
    }

    /// Installs and activates the bundled default of every slot that has no active plugin yet.
    pub async fn ensure_defaults(&self, db: &Db) -> Result<(), ManageError> {
        for bundled in helpdesk_bundled_plugins::DEFAULTS {
            let slot: Slot = bundled.slot.parse().map_err(ManageError::Refused)?;
            if db::plugins::active_id(db, slot.as_str()).await?.is_some() {
                continue;
            }
            // Part of this binary: trusted as the binary is.
            let install = Install {
                slot,
                bytes: bundled.wasm,
                config: "",
                raise: Raise::default(),
                signature: None,
                by: "bundled",
                activate: false,
            };
            let id = self.store(db, &install).await?;
            // Another replica starting at the same moment may win; either way one is active.
            db::plugins::activate_if_none(db, slot.as_str(), id, "bundled").await?;
        }
        Ok(())
    }

    /// Compiling can take tens of milliseconds: keep it off the async workers.
    pub(super) async fn prepare_blocking(
        &self,
        slot: Slot,
        bytes: Vec<u8>,
        config: String,
        raise: Raise,
        id: i64,
    ) -> Result<Loaded, ManageError> {
        let runtime = self.runtime.clone();
        let budget = raise.apply(runtime.limits().budget(slot));
        tokio::task::spawn_blocking(move || {
            Loaded::prepare_with(&runtime, slot, &bytes, &config, id, budget)
        })
        .await
        .map_err(|e| ManageError::Refused(format!("plugin preparation stopped: {e}")))?
        .map_err(ManageError::from)
    }
}

/// Installation `id` as stored: its row, its slot and its component.
async fn stored(db: &Db, id: i64) -> Result<(db::plugins::PluginRow, Slot, Vec<u8>), ManageError> {
    let row = db::plugins::get(db, id)
        .await?
        .ok_or(ManageError::UnknownPlugin(id))?;
    let slot: Slot = row.slot.parse().map_err(ManageError::Refused)?;
    let wasm = db::plugins::wasm(db, id)
        .await?
        .ok_or(ManageError::UnknownPlugin(id))?;
    Ok((row, slot, wasm))
}

/// An installation's own budget; a row this binary cannot read (written by a newer one) falls
/// back to the slot's default, and says so.
pub(super) fn raise_of(row: &db::plugins::PluginRow) -> Raise {
    serde_json::from_str(&row.budget).unwrap_or_else(|e| {
        tracing::warn!(id = row.id, error = %e, "plugin budget unreadable; using the slot's default");
        Raise::default()
    })
}

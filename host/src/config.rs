//! Settings shared by every command, from flags or `HELPDESK_*` environment variables.

use crate::plugins::Limits;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Folder for the SQLite database, plugin artifacts, the mail outbox and attachments.
    #[arg(
        long,
        env = "HELPDESK_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: an SQLite file in the data dir.
    #[arg(long, env = "HELPDESK_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Wall-clock deadline of one plugin call, in milliseconds.
    #[arg(long, env = "HELPDESK_PLUGIN_DEADLINE_MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub plugin_deadline_ms: u64,

    /// Memory cap of one plugin call, in MiB.
    #[arg(long, env = "HELPDESK_PLUGIN_MEMORY_MIB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096), global = true)]
    pub plugin_memory_mib: u64,

    /// Largest answer one plugin call may return, in KiB.
    #[arg(long, env = "HELPDESK_PLUGIN_OUTPUT_KIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65_536), global = true)]
    pub plugin_output_kib: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "HELPDESK_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    pub log_format: String,
}

impl Settings {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("helpdesk.db").display()),
        }
    }

    pub fn plugin_limits(&self) -> Limits {
        Limits {
            deadline: Duration::from_millis(self.plugin_deadline_ms),
            max_memory: (self.plugin_memory_mib as usize) << 20,
            max_output: (self.plugin_output_kib as usize) << 10,
            ..Limits::default()
        }
    }

    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }
}

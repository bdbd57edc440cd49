//! Settings shared by every command, from flags or `HELPDESK_*` environment variables.

use crate::auth::{AuthConfig, MfaPolicy};
use crate::plugins::{Budget, Limits, TrustedKeys};
use crate::requests::files::s3::S3Store;
use crate::requests::files::{AttachmentLimits, BlobStore, Files, LocalStore};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
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

    /// Instructions one plugin call may execute, by default (an installation may be given more).
    #[arg(long, env = "HELPDESK_PLUGIN_INSTRUCTIONS", default_value_t = 20_000_000, value_parser = clap::value_parser!(u64).range(1_000..=100_000_000_000), global = true)]
    pub plugin_instructions: u64,

    /// Wall-clock backstop of one plugin call, in milliseconds, by default.
    #[arg(long, env = "HELPDESK_PLUGIN_BACKSTOP_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub plugin_backstop_ms: u64,

    /// Memory one plugin call may use, in MiB, by default.
    #[arg(long, env = "HELPDESK_PLUGIN_MEMORY_MIB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096), global = true)]
    pub plugin_memory_mib: u64,

    /// The most memory any installation may be given, in MiB.
    #[arg(long, env = "HELPDESK_PLUGIN_MEMORY_CEILING_MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=4096), global = true)]
    pub plugin_memory_ceiling_mib: u64,

    /// Compiled plugin code kept in memory for components not serving (recent versions,
    /// candidates), in MiB; beyond it they are loaded from the compiled-plugin cache on disk.
    #[arg(long, env = "HELPDESK_PLUGIN_COMPILED_MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(0..=65_536), global = true)]
    pub plugin_compiled_mib: u64,

    /// Largest answer one plugin call may return, in KiB, by default.
    #[arg(long, env = "HELPDESK_PLUGIN_OUTPUT_KIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=65_536), global = true)]
    pub plugin_output_kib: u64,

    /// ed25519 public keys (base64, separated by commas) trusted to sign plugins; when set, every
    /// component installed needs a signature by one of them (the bundled plugins excepted).
    #[arg(long, env = "HELPDESK_PLUGIN_TRUSTED_KEYS", global = true)]
    pub plugin_trusted_keys: Option<String>,

    /// The portal's public URL: every link in email is built from it (never from a request's
    /// Host header), and cookies are `Secure` and `__Host-` prefixed when it is https.
    #[arg(
        long,
        env = "HELPDESK_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,

    /// Reverse proxies (addresses and ranges, separated by commas) whose word about the client
    /// is believed, in the header `--proxy-header` names: the client is then the right-most
    /// address that is not one of them. Unset: the connection's own address, whatever the
    /// headers say.
    #[arg(
        long,
        env = "HELPDESK_TRUSTED_PROXIES",
        value_parser = crate::http::proxies::TrustedProxies::parse,
        global = true
    )]
    pub trusted_proxies: Option<crate::http::proxies::TrustedProxies>,

    /// The one header the trusted proxies write the client's address in: `x-forwarded-for`
    /// (nginx's `$proxy_add_x_forwarded_for`, most load balancers), `forwarded` (RFC 7239) or
    /// `x-real-ip`. Every other such header is ignored, since a proxy passes on what it does not
    /// write.
    #[arg(
        long,
        env = "HELPDESK_PROXY_HEADER",
        default_value = "x-forwarded-for",
        value_parser = crate::http::proxies::ProxyHeader::parse,
        global = true
    )]
    pub proxy_header: crate::http::proxies::ProxyHeader,

    /// Where attachments are kept: unset for `<data dir>/attachments`, or `s3://bucket/prefix`
    /// for S3-compatible object storage shared by every replica (credentials, region and
    /// endpoint from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`).
    #[arg(long, env = "HELPDESK_BLOB_URL", global = true)]
    pub blob_url: Option<String>,

    /// Seconds a stopping server keeps serving after SIGTERM or Ctrl-C while `/readyz` answers
    /// 503, so that a proxy stops sending it requests first; a second signal cuts it short.
    /// Then it stops accepting, finishes the requests in flight and stops its workers.
    #[arg(long, env = "HELPDESK_DRAIN_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600), global = true)]
    pub drain_seconds: u64,

    /// Seconds between two sweeps of the timers workflows set on requests; a timer fires at the
    /// first sweep after it falls due.
    #[arg(long, env = "HELPDESK_TIMER_SWEEP_SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub timer_sweep_seconds: u64,

    /// The server's secret key, 64 hexadecimal digits (`openssl rand -hex 32`): stored secrets
    /// the server must use again (webhook signing secrets) are sealed with it. Unset: the key in
    /// `<data dir>/secret.key`, made on first start. Replicas must share one key.
    #[arg(
        long,
        env = "HELPDESK_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,

    /// Address ranges webhook endpoints may reach although they are internal (loopback,
    /// private, link-local), separated by commas: `10.0.5.0/24, 127.0.0.1`. Unset: none.
    #[arg(long, env = "HELPDESK_WEBHOOK_ALLOW", value_parser = crate::webhooks::Allowed::parse, global = true)]
    pub webhook_allow: Option<crate::webhooks::Allowed>,

    /// Token a Prometheus scrape of `/metrics` sends as `Authorization: Bearer <token>`.
    /// Unset: `/metrics` answers only clients on this machine that connect directly.
    #[arg(
        long,
        env = "HELPDESK_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,

    /// Sender of every email, e.g. `Customer Portal <portal@example.com>`.
    #[arg(
        long,
        env = "HELPDESK_MAIL_FROM",
        default_value = "Customer Portal <portal@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// SMTP server for outgoing mail (`smtp://host:2525`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host`). Unset: each message is written as a `.eml` file in `<data dir>/outbox/`.
    #[arg(long, env = "HELPDESK_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Support mailbox read for replies and new requests by email
    /// (`imaps://user:password@host/INBOX`, or `imap://…` on a trusted network). Dealt-with
    /// mail is moved to the folders `Processed` and `Failed`. Unset: no mail is read.
    #[arg(long, env = "HELPDESK_IMAP_URL", hide_env_values = true, global = true)]
    pub imap_url: Option<String>,

    /// The address the support mailbox receives, when it differs from the sender address:
    /// a notification's reply address is `local+<token>@domain` of it.
    #[arg(long, env = "HELPDESK_MAIL_INBOX", global = true)]
    pub mail_inbox: Option<String>,

    /// Messages one address may send to the support mailbox in an hour; more are ignored.
    #[arg(long, env = "HELPDESK_MAIL_PER_HOUR", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=100_000), global = true)]
    pub mail_per_hour: i64,

    /// When mail without a reply token of its sender's own acts in the name its `From` gives
    /// (a reply by the subject's request number, a new request): `never`, `authenticated` (when
    /// the mail server named by `--mail-authserv-id` found the sender authentic) or `always`.
    #[arg(
        long,
        env = "HELPDESK_MAIL_TRUST_FROM",
        default_value = "authenticated",
        value_parser = crate::requests::mailbox::TrustFrom::parse,
        global = true
    )]
    pub mail_trust_from: crate::requests::mailbox::TrustFrom,

    /// The id your receiving mail server writes its `Authentication-Results` header under
    /// (its host name, usually). It must remove such headers it did not write, as RFC 8601 asks.
    #[arg(long, env = "HELPDESK_MAIL_AUTHSERV_ID", global = true)]
    pub mail_authserv_id: Option<String>,

    /// Days the original of a message read from the support mailbox is kept (staff can
    /// download it from the request).
    #[arg(long, env = "HELPDESK_MAIL_KEEP_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=3650), global = true)]
    pub mail_keep_days: i64,

    /// A PEM file of certificate authorities to trust for `imaps://` besides the public ones
    /// (a mail server with a certificate from a private CA).
    #[arg(long, env = "HELPDESK_IMAP_CA", global = true)]
    pub imap_ca: Option<PathBuf>,

    /// When a login asks for an emailed code: `always`, `new-device` or `never`.
    #[arg(
        long,
        env = "HELPDESK_MFA",
        value_enum,
        default_value = "new-device",
        global = true
    )]
    pub mfa: MfaPolicy,

    /// Days a device that passed the emailed code may skip it.
    #[arg(long, env = "HELPDESK_MFA_TRUST_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(0..=365), global = true)]
    pub mfa_trust_days: i64,

    /// Days the decision log keeps a plugin decision.
    #[arg(long, env = "HELPDESK_DECISION_LOG_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=3650), global = true)]
    pub decision_log_days: i64,

    /// Days the audit log keeps an entry.
    #[arg(long, env = "HELPDESK_AUDIT_KEEP_DAYS", default_value_t = 400, value_parser = clap::value_parser!(i64).range(1..=36500), global = true)]
    pub audit_keep_days: i64,

    /// Most plugin decisions the decision log keeps; the oldest go first.
    #[arg(long, env = "HELPDESK_DECISION_LOG_ROWS", default_value_t = 1_000_000, value_parser = clap::value_parser!(i64).range(1_000..=1_000_000_000), global = true)]
    pub decision_log_rows: i64,

    /// Largest file one message may carry, in MiB.
    #[arg(long, env = "HELPDESK_ATTACHMENT_MAX_MIB", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1024), global = true)]
    pub attachment_max_mib: u64,

    /// Most files one message may carry.
    #[arg(long, env = "HELPDESK_ATTACHMENT_MAX_FILES", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=100), global = true)]
    pub attachment_max_files: u64,

    /// Upload bytes the server holds at once (staged, not yet stored), in MiB; an upload that
    /// would go beyond is answered 503 with `Retry-After`.
    #[arg(long, env = "HELPDESK_UPLOADS_IN_FLIGHT_MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65_536), global = true)]
    pub uploads_in_flight_mib: u64,

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
        let budget = Budget {
            instructions: self.plugin_instructions,
            memory: (self.plugin_memory_mib as usize) << 20,
            output: (self.plugin_output_kib as usize) << 10,
            backstop: Duration::from_millis(self.plugin_backstop_ms),
        };
        Limits {
            memory_ceiling: ((self.plugin_memory_ceiling_mib as usize) << 20).max(budget.memory),
            compiled_memory: (self.plugin_compiled_mib as usize) << 20,
            ..Limits::default()
        }
        .with_budget(budget)
    }

    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            mfa: self.mfa,
            mfa_trust_days: self.mfa_trust_days,
            ..AuthConfig::default()
        }
    }

    pub fn retention(&self) -> crate::decisions::Retention {
        crate::decisions::Retention {
            days: self.decision_log_days,
            rows: self.decision_log_rows,
        }
    }

    /// How long what accumulates is kept: originals of received mail, the audit log.
    pub fn keeping(&self) -> Keeping {
        const DAY: i64 = 24 * 3600 * 1000;
        Keeping {
            decisions: self.retention(),
            mail_originals_ms: self.mail_keep_days * DAY,
            audit_ms: self.audit_keep_days * DAY,
        }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Webhooks as configured: the secret key (see `secret_key`) and the allowed ranges.
    pub fn webhooks(&self) -> Result<crate::webhooks::Webhooks, String> {
        Ok(crate::webhooks::Webhooks {
            sealer: Arc::new(crate::webhooks::Sealer::from_settings(
                self.secret_key.as_deref(),
                &self.data_dir.join("secret.key"),
            )?),
            allow: self.webhook_allow.clone().unwrap_or_default().0,
        })
    }

    /// The attachment store (files under `<data dir>/attachments/`), its limits, and the
    /// staging folder uploads stream to (`<data dir>/tmp/uploads/`).
    /// Where attachments are kept (see `blob_url`).
    pub fn blob_store(&self) -> Result<Arc<dyn BlobStore>, String> {
        Ok(match self.blob_url.as_deref().filter(|u| !u.is_empty()) {
            None => Arc::new(LocalStore::new(self.data_dir.join("attachments"))),
            Some(url) => Arc::new(S3Store::from_url(url)?),
        })
    }

    pub fn files(&self, store: Arc<dyn BlobStore>) -> Files {
        Files::new(
            store,
            AttachmentLimits {
                max_file_bytes: (self.attachment_max_mib as usize) << 20,
                max_files: self.attachment_max_files as usize,
            },
            self.data_dir.join("tmp").join("uploads"),
            (self.uploads_in_flight_mib as usize) << 20,
        )
    }

    pub fn plugin_trusted_keys(&self) -> Result<TrustedKeys, String> {
        TrustedKeys::parse(self.plugin_trusted_keys.as_deref().unwrap_or_default())
    }

    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }
}

/// How long the housekeeping keeps what accumulates.
#[derive(Debug, Clone, Copy)]
pub struct Keeping {
    pub decisions: crate::decisions::Retention,
    /// Originals of mail read from the support mailbox.
    pub mail_originals_ms: i64,
    pub audit_ms: i64,
}

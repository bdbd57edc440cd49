//! Synthetic data at scale, for benchmarks and for trying the portal with a realistic load:
//! sites with their people, staff, requests spread over a year, and their conversations. The
//! same seed gives the same data. Rows are written in large multi-row statements, then the
//! search index is built in one pass.

use crate::db::{Backend, Db, DbError};
use sqlx::AnyConnection;

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub sites: usize,
    /// Customers per site; the first of each site is its Site Administrator.
    pub customers_per_site: usize,
    pub agents: usize,
    pub requests: usize,
    /// Messages in all, descriptions included (at least one per request).
    pub messages: usize,
    pub seed: u64,
}

/// What was generated: ids the benchmark drives its queries with.
#[derive(Debug, Clone)]
pub struct Generated {
    pub site_ids: Vec<i64>,
    /// `(email, site id)` of every generated customer; the first of each site is its Site
    /// Administrator.
    pub customers: Vec<(String, i64)>,
    pub agents: Vec<String>,
    pub first_request: i64,
    pub last_request: i64,
}

/// Words of generated text, most frequent first: text draws from the front far more often, so
/// searches range from very common words to rare ones.
pub const WORDS: &[&str] = &[
    "the",
    "to",
    "and",
    "a",
    "of",
    "is",
    "in",
    "it",
    "we",
    "not",
    "for",
    "on",
    "with",
    "this",
    "after",
    "when",
    "error",
    "please",
    "can",
    "our",
    "since",
    "again",
    "users",
    "system",
    "update",
    "login",
    "page",
    "report",
    "server",
    "issue",
    "shows",
    "cannot",
    "access",
    "email",
    "license",
    "version",
    "install",
    "screen",
    "message",
    "works",
    "failed",
    "account",
    "data",
    "network",
    "upload",
    "export",
    "import",
    "printer",
    "dashboard",
    "password",
    "timeout",
    "database",
    "backup",
    "restore",
    "invoice",
    "contract",
    "renewal",
    "maintenance",
    "sensor",
    "gateway",
    "firmware",
    "calibration",
    "warning",
    "alarm",
    "schedule",
    "shift",
    "pump",
    "valve",
    "conveyor",
    "crusher",
    "drill",
    "truck",
    "fleet",
    "survey",
    "assay",
    "sample",
    "laboratory",
    "blast",
    "ventilation",
    "hoist",
    "mill",
    "flotation",
    "tailings",
    "pipeline",
    "reagent",
    "spectrometer",
    "telemetry",
    "dispatch",
    "payload",
    "haulage",
    "stockpile",
    "geology",
    "borehole",
    "core",
    "grade",
    "tonnage",
    "throughput",
    "downtime",
    "vibration",
    "bearing",
    "gearbox",
    "hydraulic",
    "compressor",
    "generator",
    "inverter",
    "substation",
    "transformer",
    "cable",
    "antenna",
    "radio",
    "modem",
    "router",
    "firewall",
    "certificate",
    "proxy",
    "spreadsheet",
    "template",
    "macro",
    "plugin",
    "driver",
    "kernel",
    "patch",
    "rollback",
    "migration",
    "cluster",
    "replica",
    "snapshot",
    "archive",
    "quota",
    "bandwidth",
    "latency",
    "encoding",
    "locale",
    "timezone",
    "daylight",
    "leap",
    "checksum",
    "signature",
    "barcode",
    "scanner",
    "label",
    "pallet",
    "warehouse",
    "forklift",
    "inventory",
    "requisition",
    "purchase",
    "vendor",
    "supplier",
    "courier",
    "customs",
    "tariff",
    "audit",
    "compliance",
    "permit",
    "inspection",
    "hazard",
    "incident",
    "evacuation",
    "refinery",
    "smelter",
    "furnace",
    "ladle",
    "cathode",
    "anode",
    "electrolyte",
    "leach",
    "cyanide",
    "carbon",
    "thickener",
    "cyclone",
    "screen-deck",
    "agitator",
    "impeller",
    "slurry",
    "densitometer",
    "magnetometer",
    "gravimeter",
    "seismograph",
    "piezometer",
    "inclinometer",
    "extensometer",
    "tiltmeter",
    "anemometer",
    "hygrometer",
    "pyrometer",
    "tachometer",
    "odometer",
    "altimeter",
    "barometer",
    "ammeter",
    "voltmeter",
    "ohmmeter",
    "wattmeter",
    "flowmeter",
    "manometer",
];

/// A small deterministic generator (xorshift64*): the same seed gives the same data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Skewed toward 0: index `i` is drawn with a weight falling off like a power law.
    pub fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * u) * n as f64) as usize % n.max(1)
    }

    /// Between `min` and `min + spread - 1` words of [`WORDS`].
    pub fn words(&mut self, min: usize, spread: usize) -> String {
        let count = min + self.below(spread);
        let mut out = String::new();
        for i in 0..count {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[self.skewed(WORDS.len())]);
        }
        out
    }
}

enum Value {
    Int(i64),
    Text(String),
    Null,
}

/// Inserts `rows` into `table` in statements of at most ~30,000 parameters.
async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), DbError> {
    let per_statement = (30_000 / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        // Only column names and `$n` placeholders are formatted in; values are bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for v in row {
                q = match v {
                    Value::Int(i) => q.bind(i),
                    Value::Text(s) => q.bind(s),
                    Value::Null => q.bind(None::<i64>),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn max_id(conn: &mut AnyConnection, table: &str) -> Result<i64, DbError> {
    let v: Option<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT MAX(id) FROM {table}")))
            .fetch_one(&mut *conn)
            .await?;
    Ok(v.unwrap_or(0))
}

/// Fills the database with `scale` worth of data, every person with `password_hash`, the
/// newest change at `now` (Unix ms) and the oldest a year before. Statuses are those of the
/// default workflow.
pub async fn generate(
    db: &Db,
    scale: Scale,
    password_hash: &str,
    now: i64,
) -> Result<Generated, DbError> {
    let mut rng = Rng::new(scale.seed);
    let mut conn = db.pool().acquire().await?;
    let tag = scale.seed;

    // Sites.
    let first_site = max_id(&mut conn, "sites").await? + 1;
    let sites: Vec<Vec<Value>> = (0..scale.sites)
        .map(|i| {
            vec![
                Value::Text(format!("Generated site {tag}-{i:05}")),
                Value::Text("2099-12-31".into()),
                Value::Int(5),
                Value::Int(now),
            ]
        })
        .collect();
    insert_rows(
        &mut conn,
        "sites",
        &["name", "maintenance_until", "licences", "created_at"],
        sites,
    )
    .await?;
    let site_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM sites WHERE id >= $1 ORDER BY id")
        .bind(first_site)
        .fetch_all(&mut *conn)
        .await?;

    // People.
    let user_columns = [
        "email",
        "given_name",
        "surname",
        "password_hash",
        "role",
        "state",
        "site_id",
        "created_at",
        "updated_at",
    ];
    let person = |email: String, role: &str, site: Option<i64>, i: usize| {
        vec![
            Value::Text(email),
            Value::Text(format!("Person{i}")),
            Value::Text(format!("Generated{tag}")),
            Value::Text(password_hash.to_owned()),
            Value::Text(role.to_owned()),
            Value::Text("active".to_owned()),
            site.map_or(Value::Null, Value::Int),
            Value::Int(now),
            Value::Int(now),
        ]
    };
    let first_user = max_id(&mut conn, "users").await? + 1;
    let mut people = Vec::new();
    let mut customer_emails = Vec::new();
    for (s, site) in site_ids.iter().enumerate() {
        for c in 0..scale.customers_per_site {
            let email = format!("c{c}.s{s}.g{tag}@site{s}.generated.example");
            let role = if c == 0 { "site_admin" } else { "customer" };
            people.push(person(email.clone(), role, Some(*site), people.len()));
            customer_emails.push((email, *site));
        }
    }
    let agents: Vec<String> = (0..scale.agents)
        .map(|a| format!("agent{a}.g{tag}@vendor.generated.example"))
        .collect();
    for a in &agents {
        people.push(person(a.clone(), "agent", None, people.len()));
    }
    insert_rows(&mut conn, "users", &user_columns, people).await?;
    let user_ids: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT id, role, site_id FROM users WHERE id >= $1 ORDER BY id")
            .bind(first_user)
            .fetch_all(&mut *conn)
            .await?;
    let customers: Vec<(i64, i64)> = user_ids
        .iter()
        .filter(|(_, r, _)| r != "agent")
        .map(|(id, _, s)| (*id, s.unwrap_or_default()))
        .collect();
    let agent_ids: Vec<i64> = user_ids
        .iter()
        .filter(|(_, r, _)| r == "agent")
        .map(|(id, _, _)| *id)
        .collect();

    // Requests, spread over the past year; their messages follow their creation.
    const YEAR_MS: i64 = 365 * 86_400_000;
    const STATUSES: [(&str, usize); 4] = [
        ("open", 25),
        ("in-progress", 20),
        ("on-hold", 10),
        ("closed", 45),
    ];
    let mut first_request = None;
    let extra_messages = scale.messages.saturating_sub(scale.requests);
    let share = extra_messages / scale.requests.max(1);
    let mut made = 0usize;
    let mut written = 0usize;
    let batch = 5_000;
    while made < scale.requests {
        let n = batch.min(scale.requests - made);
        let mut requests = Vec::with_capacity(n);
        // Per request: (author, body, internal, at) of each message, in order.
        let mut conversations: Vec<Vec<(i64, String, bool, i64)>> = Vec::with_capacity(n);
        for i in 0..n {
            let (requester, site) = customers[rng.below(customers.len())];
            let created = now - YEAR_MS + (rng.next_u64() % YEAR_MS as u64) as i64;
            let mut pick = rng.below(100);
            let mut status = "open";
            for (key, weight) in STATUSES {
                if pick < weight {
                    status = key;
                    break;
                }
                pick -= weight;
            }
            let assignee = if agent_ids.is_empty() || status == "open" && rng.below(2) == 0 {
                None
            } else {
                Some(agent_ids[rng.below(agent_ids.len())])
            };
            // The last request takes what is left, so the total is exact.
            let more = if made + i + 1 == scale.requests {
                scale.messages.saturating_sub(written + 1)
            } else {
                (share.saturating_sub(2) + rng.below(5)).min(
                    scale
                        .messages
                        .saturating_sub(written + 1 + (scale.requests - made - i - 1)),
                )
            };
            let mut at = created;
            let mut conversation = vec![(requester, rng.words(15, 30), false, at)];
            for m in 0..more {
                at += 60_000 + (rng.next_u64() % 86_400_000) as i64;
                let by_staff = m % 2 == 0 && assignee.is_some();
                let author = if by_staff {
                    assignee.unwrap_or(requester)
                } else {
                    requester
                };
                let internal = by_staff && rng.below(10) == 0;
                conversation.push((author, rng.words(8, 30), internal, at.min(now)));
            }
            written += conversation.len();
            let updated = at.min(now);
            requests.push(vec![
                Value::Int(site),
                Value::Int(requester),
                assignee.map_or(Value::Null, Value::Int),
                Value::Text(rng.words(3, 5)),
                Value::Text(status.to_owned()),
                Value::Int(updated),
                Value::Int(1),
                Value::Int(created),
                Value::Int(updated),
            ]);
            conversations.push(conversation);
        }
        // On SQLite the write lock is taken at once: a transaction that reads first would fail
        // to write if the server it generates for committed in between.
        let mut tx = match db.backend() {
            Backend::Sqlite => sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?,
            Backend::Postgres => sqlx::Acquire::begin(&mut *conn).await?,
        };
        let before = max_id(&mut tx, "requests").await?;
        insert_rows(
            &mut tx,
            "requests",
            &[
                "site_id",
                "requester_id",
                "assignee_id",
                "subject",
                "status",
                "status_since",
                "version",
                "created_at",
                "updated_at",
            ],
            requests,
        )
        .await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM requests WHERE id > $1 ORDER BY id")
            .bind(before)
            .fetch_all(&mut *tx)
            .await?;
        first_request = first_request.or(ids.first().copied());
        let messages: Vec<Vec<Value>> = ids
            .iter()
            .zip(conversations)
            .flat_map(|(id, conversation)| {
                conversation
                    .into_iter()
                    .map(move |(author, body, internal, at)| {
                        let html = crate::domain::markdown::render(&body);
                        vec![
                            Value::Int(*id),
                            Value::Int(author),
                            Value::Text(body),
                            Value::Int(i64::from(internal)),
                            Value::Int(at),
                            Value::Text(html),
                            Value::Int(crate::domain::markdown::RENDERER),
                        ]
                    })
            })
            .collect();
        insert_rows(
            &mut tx,
            "messages",
            &[
                "request_id",
                "author_id",
                "body",
                "internal",
                "created_at",
                "html",
                "html_renderer",
            ],
            messages,
        )
        .await?;
        tx.commit().await?;
        made += n;
    }
    let last_request = max_id(&mut conn, "requests").await?;
    let first_request = first_request.unwrap_or(last_request + 1);
    index(&mut conn, db.backend(), first_request, last_request).await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    Ok(Generated {
        site_ids,
        customers: customer_emails,
        agents,
        first_request,
        last_request,
    })
}

/// Builds the search documents of requests `first..=last`: subject and public messages.
async fn index(
    conn: &mut AnyConnection,
    backend: Backend,
    first: i64,
    last: i64,
) -> Result<(), DbError> {
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO request_search (rowid, text)
             SELECT r.id, r.subject || char(10) || group_concat(m.body, char(10))
             FROM requests r JOIN messages m ON m.request_id = r.id AND m.internal = 0
             WHERE r.id BETWEEN $1 AND $2
             GROUP BY r.id, r.subject"
        }
        Backend::Postgres => {
            "INSERT INTO request_search (request_id, doc)
             SELECT r.id, to_tsvector('english', r.subject || chr(10) || string_agg(m.body, chr(10) ORDER BY m.id))
             FROM requests r JOIN messages m ON m.request_id = r.id AND m.internal = 0
             WHERE r.id BETWEEN $1 AND $2
             GROUP BY r.id, r.subject"
        }
    };
    sqlx::query(sql)
        .bind(first)
        .bind(last)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

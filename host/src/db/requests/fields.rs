//! SQL for a request's fields beside its status (priority, tags) and the timeline of their
//! changes.

use super::DbError;
use sqlx::{Any, AnyConnection, Executor, FromRow};

/// Writes the stored, space-separated tags as a JSON list.
pub fn serialize_tags<S: serde::Serializer>(stored: &str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(stored.split_whitespace())
}

pub async fn set_priority(
    conn: &mut AnyConnection,
    id: i64,
    priority: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET priority = $2 WHERE id = $1")
        .bind(id)
        .bind(priority)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces request `id`'s tags, `before` with `after` (both sorted): the stored list and the
/// rows that find the request by tag.
pub async fn set_tags(
    conn: &mut AnyConnection,
    id: i64,
    before: &[String],
    after: &[String],
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET tags = $2 WHERE id = $1")
        .bind(id)
        .bind(after.join(" "))
        .execute(&mut *conn)
        .await?;
    for gone in before.iter().filter(|t| !after.contains(t)) {
        sqlx::query("DELETE FROM request_tags WHERE tag = $1 AND request_id = $2")
            .bind(gone)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    for new in after.iter().filter(|t| !before.contains(t)) {
        sqlx::query("INSERT INTO request_tags (tag, request_id) VALUES ($1, $2)")
            .bind(new)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug)]
pub struct NewFieldChange<'a> {
    pub request_id: i64,
    /// `priority` or `tags`.
    pub field: &'a str,
    pub old_value: &'a str,
    pub new_value: &'a str,
    pub actor_id: Option<i64>,
    pub actor_role: &'a str,
    /// `requested` (a person), or `event:<name>` (the workflow's answer to an event).
    pub cause: &'a str,
    /// The workflow that changed it (`name version`), if one did.
    pub plugin: Option<&'a str>,
    pub now: i64,
}

pub async fn insert_change(
    conn: &mut AnyConnection,
    c: &NewFieldChange<'_>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO field_changes (request_id, field, old_value, new_value, actor_id, actor_role, cause, plugin, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(c.request_id)
    .bind(c.field)
    .bind(c.old_value)
    .bind(c.new_value)
    .bind(c.actor_id)
    .bind(c.actor_role)
    .bind(c.cause)
    .bind(c.plugin)
    .bind(c.now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A change of a field, as the timeline shows it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct FieldChangeRow {
    pub id: i64,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub cause: String,
    pub plugin: Option<String>,
    pub at: i64,
}

/// The field changes of request `request_id`, oldest first.
pub async fn changes<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Vec<FieldChangeRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT c.id, c.field, c.old_value, c.new_value, c.actor_id, ",
        display_name!("u"),
        " AS actor_name, c.actor_role, c.cause, c.plugin, c.at
         FROM field_changes c LEFT JOIN users u ON u.id = c.actor_id
         WHERE c.request_id = $1 ORDER BY c.id",
    ))
    .bind(request_id)
    .fetch_all(e)
    .await?)
}

/// Sets the timer `name` of request `id` to fall due at `due_at`, replacing one of that name.
pub async fn set_timer(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    due_at: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO request_timers (request_id, name, due_at, set_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (request_id, name) DO UPDATE SET due_at = EXCLUDED.due_at, set_at = EXCLUDED.set_at",
    )
    .bind(id)
    .bind(name)
    .bind(due_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the timer `name` of request `id`; whether there was one.
pub async fn cancel_timer(conn: &mut AnyConnection, id: i64, name: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM request_timers WHERE request_id = $1 AND name = $2")
            .bind(id)
            .bind(name)
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0,
    )
}

/// A timer on a request.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TimerRow {
    pub name: String,
    pub due_at: i64,
    pub set_at: i64,
}

/// The timers of request `id`, soonest first.
pub async fn timers<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Vec<TimerRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT name, due_at, set_at FROM request_timers WHERE request_id = $1 ORDER BY due_at, name",
    )
    .bind(id)
    .fetch_all(e)
    .await?)
}

/// What a rule is told of a request beyond its row: its site's contract, its requester, its
/// first message and who has written how much.
#[derive(Debug, Clone, FromRow)]
pub struct RuleFacts {
    /// `YYYY-MM-DD`.
    pub maintenance_until: Option<String>,
    pub licences: i64,
    pub requester_role: String,
    pub requester_language: Option<String>,
    pub first_body: Option<String>,
    pub first_channel: Option<String>,
    pub customer_messages: i64,
    pub staff_messages: i64,
    pub last_customer_at: Option<i64>,
    pub last_staff_at: Option<i64>,
    /// The custom fields it holds a value of, `(key, value)`, in the fields' order.
    #[sqlx(skip)]
    pub fields: Vec<(String, String)>,
}

/// [`RuleFacts`] of request `id`, reading its messages by their index.
pub async fn rule_facts(conn: &mut AnyConnection, id: i64) -> Result<RuleFacts, DbError> {
    let mut facts = rule_facts_of(conn, &[id]).await?;
    facts
        .pop()
        .map(|(_, f)| f)
        .ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
}

#[derive(FromRow)]
struct FactsRow {
    request_id: i64,
    #[sqlx(flatten)]
    facts: RuleFacts,
}

/// [`RuleFacts`] of requests `ids` (those that exist), by request id: two statements.
pub async fn rule_facts_of(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<(i64, RuleFacts)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = crate::db::id_list(ids);
    let rows: Vec<FactsRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT r.id AS request_id, s.maintenance_until, s.licences, q.role AS requester_role,
                q.language AS requester_language,
                f.body AS first_body, f.channel AS first_channel,
                COALESCE(p.customer_messages, 0) AS customer_messages,
                COALESCE(p.staff_messages, 0) AS staff_messages,
                p.last_customer_at, p.last_staff_at
         FROM requests r
         JOIN sites s ON s.id = r.site_id
         JOIN users q ON q.id = r.requester_id
         LEFT JOIN messages f ON f.id = (SELECT MIN(id) FROM messages WHERE request_id = r.id)
         LEFT JOIN (
             SELECT m.request_id,
                    SUM(CASE WHEN u.role IN ('agent', 'operator') THEN 0 ELSE 1 END) AS customer_messages,
                    SUM(CASE WHEN u.role IN ('agent', 'operator') THEN 1 ELSE 0 END) AS staff_messages,
                    MAX(CASE WHEN u.role IN ('agent', 'operator') THEN NULL ELSE m.created_at END) AS last_customer_at,
                    MAX(CASE WHEN u.role IN ('agent', 'operator') THEN m.created_at ELSE NULL END) AS last_staff_at
             FROM messages m JOIN users u ON u.id = m.author_id
             WHERE m.request_id IN ({list}) AND m.internal = 0
             GROUP BY m.request_id
         ) p ON p.request_id = r.id
         WHERE r.id IN ({list})"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut facts: Vec<(i64, RuleFacts)> =
        rows.into_iter().map(|r| (r.request_id, r.facts)).collect();
    for (request_id, key, value) in crate::db::custom::keyed_values_of(conn, ids).await? {
        if let Some((_, f)) = facts.iter_mut().find(|(id, _)| *id == request_id) {
            f.fields.push((key, value));
        }
    }
    Ok(facts)
}

/// Claims up to `limit` timers due by `now` for the transaction `conn`: each is removed (the
/// transaction fires it; if it never commits, the timer stays and fires later). On PostgreSQL,
/// timers another transaction has claimed are skipped, so several servers sweep at once without
/// firing one twice. Returned by request, and a request's in the order they fell due (then by
/// name), so that a reminder due before a closing fires first.
pub async fn claim_due(
    conn: &mut AnyConnection,
    backend: super::Backend,
    now: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    let lock = match backend {
        super::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Backend::Sqlite => "",
    };
    // Only our own SQL fragment is formatted in; values are bound.
    let mut claimed: Vec<(i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM request_timers WHERE (request_id, name) IN (
             SELECT request_id, name FROM request_timers WHERE due_at <= $1
             ORDER BY due_at, request_id, name LIMIT $2{lock})
         RETURNING request_id, due_at, name"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    claimed.sort();
    Ok(claimed
        .into_iter()
        .map(|(request, _, name)| (request, name))
        .collect())
}

/// A person a rule's email may go to: `kind` says how they stand to the request
/// (`requester`, `assignee`, `site-admin`).
#[derive(Debug, Clone, FromRow)]
pub struct Reader {
    pub kind: String,
    pub name: String,
    pub email: String,
    pub language: Option<String>,
}

/// The people of request `id` a rule can email: its requester, its assignee, and the active
/// administrators of its site.
pub async fn readers(conn: &mut AnyConnection, id: i64) -> Result<Vec<Reader>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT 'requester' AS kind, ",
        display_name!("u"),
        " AS name, u.email, u.language FROM requests r JOIN users u ON u.id = r.requester_id WHERE r.id = $1
         UNION ALL SELECT 'assignee', ",
        display_name!("u"),
        ", u.email, u.language FROM requests r JOIN users u ON u.id = r.assignee_id WHERE r.id = $1
         UNION ALL SELECT 'site-admin', ",
        display_name!("u"),
        ", u.email, u.language FROM requests r
           JOIN users u ON u.site_id = r.site_id AND u.role = 'site_admin' AND u.state = 'active'
         WHERE r.id = $1",
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

//! SQL for requests: the request rows, their messages, attachments and status timeline, the
//! full-text index of public messages, and the operators' quick links.
//!
//! Lists page by keyset on `(updated_at, id)`, so every page costs the same however deep it is.

use super::{Backend, DbError};
use sqlx::{Any, AnyConnection, Executor, FromRow};

pub mod cc;
pub mod fields;
mod list;

pub use list::{Filter, Key, Page, count, list, rank};

/// One request with the names a list shows.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RequestRow {
    pub id: i64,
    pub site_id: i64,
    pub site_name: String,
    pub requester_id: i64,
    pub requester_name: String,
    pub requester_email: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub assignee_email: Option<String>,
    pub subject: String,
    pub status: String,
    pub status_since: i64,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// Sorted, separated by spaces when stored; a list in JSON.
    #[serde(serialize_with = "fields::serialize_tags")]
    pub tags: String,
    /// Its type, from the list operators edit.
    pub type_id: Option<i64>,
    pub type_name: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SELECT_REQUEST: &str = concat!(
    "SELECT r.id, r.site_id, s.name AS site_name, r.requester_id,
        ",
    display_name!("q"),
    " AS requester_name, q.email AS requester_email,
        r.assignee_id, ",
    display_name!("a"),
    " AS assignee_name, a.email AS assignee_email,
        r.subject, r.status, r.status_since, r.priority, r.tags,
        r.type_id, t.name AS type_name, r.version, r.created_at, r.updated_at
     FROM requests r
     JOIN sites s ON s.id = r.site_id
     JOIN users q ON q.id = r.requester_id
     LEFT JOIN users a ON a.id = r.assignee_id
     LEFT JOIN request_types t ON t.id = r.type_id"
);

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    /// The person who wrote it; `None` for a workflow's note, whose `author_name` is the plugin
    /// and `author_role` is `system`.
    pub author_id: Option<i64>,
    pub author_name: String,
    pub author_role: String,
    pub body: String,
    pub internal: i64,
    /// `portal`, `api` or `email`.
    pub channel: String,
    pub created_at: i64,
    /// The body as sanitized HTML, rendered when it was written by the rules numbered
    /// `html_renderer` (0: not rendered yet).
    #[serde(skip)]
    pub html: Option<String>,
    #[serde(skip)]
    pub html_renderer: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub request_id: i64,
    pub message_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
    /// 1 when the message it belongs to is an internal note.
    pub internal: i64,
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct StatusChangeRow {
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_role: String,
    pub cause: String,
    pub plugin_id: i64,
    pub plugin_name: String,
    pub plugin_version: String,
    pub plugin_sha256: String,
    pub at: i64,
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<RequestRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_REQUEST} WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(e)
    .await?)
}

#[derive(Debug)]
pub struct NewRequest<'a> {
    pub site_id: i64,
    pub requester_id: i64,
    pub subject: &'a str,
    pub status: &'a str,
    pub now: i64,
}

pub async fn insert(conn: &mut AnyConnection, r: &NewRequest<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO requests (site_id, requester_id, subject, status, status_since, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $5, $5) RETURNING id",
    )
    .bind(r.site_id)
    .bind(r.requester_id)
    .bind(r.subject)
    .bind(r.status)
    .bind(r.now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Raises the version of request `id` if it is still `expected` (any version when `None`);
/// returns the new version, or `None` when someone else changed it first.
pub async fn bump(
    conn: &mut AnyConnection,
    id: i64,
    expected: Option<i64>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE requests SET version = version + 1, updated_at = $2
         WHERE id = $1 AND ($3 IS NULL OR version = $3) RETURNING version",
    )
    .bind(id)
    .bind(now)
    .bind(expected)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET status = $2, status_since = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_assignee(
    conn: &mut AnyConnection,
    id: i64,
    assignee: Option<i64>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET assignee_id = $2 WHERE id = $1")
        .bind(id)
        .bind(assignee)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds `text`, a new public message, to the search document of request `id`. PostgreSQL
/// appends to the document; SQLite's contentless index rebuilds the request's row from its
/// subject and public messages, `text` among them.
async fn index(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    text: &str,
) -> Result<(), DbError> {
    match backend {
        Backend::Postgres => {
            sqlx::query(
                "INSERT INTO request_search (request_id, doc) VALUES ($1, to_tsvector('english', $2))
                 ON CONFLICT (request_id) DO UPDATE SET doc = request_search.doc || EXCLUDED.doc",
            )
            .bind(id)
            .bind(text)
            .execute(&mut *conn)
            .await?;
        }
        Backend::Sqlite => {
            sqlx::query("DELETE FROM request_search WHERE rowid = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO request_search (rowid, text)
                 SELECT r.id, r.subject || char(10) || (SELECT group_concat(body, char(10)) FROM messages WHERE request_id = r.id AND internal = 0)
                 FROM requests r WHERE r.id = $1",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

#[derive(Debug)]
pub struct NewMessage<'a> {
    pub request_id: i64,
    /// `None`: written by the workflow `plugin`.
    pub author_id: Option<i64>,
    pub plugin: Option<&'a str>,
    pub body: &'a str,
    pub internal: bool,
    /// Indexed for search beside the body: the subject, for a request's first message.
    pub extra: &'a str,
    pub channel: &'a str,
    /// The body as sanitized HTML, and the version of the rules it was rendered by.
    pub html: &'a str,
    pub renderer: i64,
    pub now: i64,
}

/// Stores a message; a public one is also indexed for search, with `extra` beside its body.
pub async fn insert_message(
    conn: &mut AnyConnection,
    backend: Backend,
    m: &NewMessage<'_>,
) -> Result<i64, DbError> {
    let NewMessage {
        request_id,
        author_id,
        plugin,
        body,
        internal,
        extra,
        channel,
        html,
        renderer,
        now,
    } = *m;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (request_id, author_id, body, internal, channel, created_at, html, html_renderer, plugin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(request_id)
    .bind(author_id)
    .bind(body)
    .bind(i64::from(internal))
    .bind(channel)
    .bind(now)
    .bind(html)
    .bind(renderer)
    .bind(plugin)
    .fetch_one(&mut *conn)
    .await?;
    if !internal {
        index(conn, backend, request_id, &format!("{extra}\n{body}")).await?;
    }
    Ok(id)
}

/// The messages of request `request_id`, oldest first: the newest `limit` + 1 of those before
/// message `before` (all of them when it is `None`), so the caller can tell there are more.
pub async fn messages<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    with_internal: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let mut rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT m.id, m.author_id, COALESCE(",
        display_name!("u"),
        ", m.plugin, '') AS author_name, COALESCE(u.role, 'system') AS author_role,
                m.body, m.internal, m.channel, m.created_at, m.html, m.html_renderer
         FROM messages m LEFT JOIN users u ON u.id = m.author_id
         WHERE m.request_id = $1 AND ($2 = 1 OR m.internal = 0) AND m.id < $3
         ORDER BY m.id DESC LIMIT $4",
    ))
    .bind(request_id)
    .bind(i64::from(with_internal))
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.saturating_add(1))
    .fetch_all(e)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Up to `limit` messages not rendered by rules `renderer`: (id, body).
pub async fn unrendered<'e, E: Executor<'e, Database = Any>>(
    e: E,
    renderer: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, body FROM messages WHERE html_renderer < $1 ORDER BY html_renderer, id LIMIT $2",
    )
    .bind(renderer)
    .bind(limit)
    .fetch_all(e)
    .await?)
}

/// Stores message `id`'s HTML, rendered by rules `renderer`.
pub async fn set_html<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    html: &str,
    renderer: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE messages SET html = $1, html_renderer = $2 WHERE id = $3")
        .bind(html)
        .bind(renderer)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

#[derive(Debug)]
pub struct NewAttachment<'a> {
    pub request_id: i64,
    pub message_id: i64,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub now: i64,
}

pub async fn insert_attachment(
    conn: &mut AnyConnection,
    a: &NewAttachment<'_>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO attachments (request_id, message_id, file_name, content_type, size, sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(a.request_id)
    .bind(a.message_id)
    .bind(a.file_name)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.sha256)
    .bind(a.now)
    .fetch_one(&mut *conn)
    .await?)
}

const SELECT_ATTACHMENT: &str =
    "SELECT a.id, a.request_id, a.message_id, a.file_name, a.content_type, a.size,
        a.sha256, a.created_at, m.internal
     FROM attachments a JOIN messages m ON m.id = a.message_id";

pub async fn attachments<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    with_internal: bool,
) -> Result<Vec<AttachmentRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ATTACHMENT} WHERE a.request_id = $1 AND ($2 = 1 OR m.internal = 0) ORDER BY a.id"
    )))
    .bind(request_id)
    .bind(i64::from(with_internal))
    .fetch_all(e)
    .await?)
}

pub async fn attachment<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    id: i64,
) -> Result<Option<AttachmentRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_ATTACHMENT} WHERE a.request_id = $1 AND a.id = $2"
    )))
    .bind(request_id)
    .bind(id)
    .fetch_optional(e)
    .await?)
}

#[derive(Debug)]
pub struct NewStatusChange<'a> {
    pub request_id: i64,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub actor_id: Option<i64>,
    pub actor_role: &'a str,
    pub cause: &'a str,
    pub plugin: &'a crate::domain::rules::PluginRef,
    pub now: i64,
}

pub async fn insert_status_change(
    conn: &mut AnyConnection,
    c: &NewStatusChange<'_>,
) -> Result<(), DbError> {
    insert_status_changes(conn, std::slice::from_ref(c)).await
}

/// Inserts `changes` (at most a few hundred) in one statement, in order.
async fn insert_status_changes(
    conn: &mut AnyConnection,
    changes: &[NewStatusChange<'_>],
) -> Result<(), DbError> {
    // Only `$n` placeholders are formatted in; values are bound.
    let sql = format!(
        "INSERT INTO status_changes (request_id, from_status, to_status, actor_id, actor_role, cause,
                                     plugin_id, plugin_name, plugin_version, plugin_sha256, at)
         VALUES {}",
        super::value_rows(changes.len(), 11)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for c in changes {
        q = q
            .bind(c.request_id)
            .bind(c.from)
            .bind(c.to)
            .bind(c.actor_id)
            .bind(c.actor_role)
            .bind(c.cause)
            .bind(c.plugin.id)
            .bind(&c.plugin.name)
            .bind(&c.plugin.version)
            .bind(&c.plugin.sha256)
            .bind(c.now);
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Requests `ids` as they stand in the transaction `conn`: on PostgreSQL their rows locked in
/// ascending id order, so two batches that share requests never wait on each other in a
/// circle. Nothing is written: [`apply_changes`] bumps the versions of those that change. A
/// request that is gone is not returned.
pub async fn lock_many(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<Vec<RequestRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_list(ids);
    if backend == Backend::Postgres {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM requests WHERE id IN ({list}) ORDER BY id FOR UPDATE"
        )))
        .execute(&mut *conn)
        .await?;
    }
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_REQUEST} WHERE r.id IN ({list}) ORDER BY r.id"
    )))
    .fetch_all(&mut *conn)
    .await?)
}

/// Writes what a batch changed, in a few statements: every request of `touched` changed once
/// at `now` (its version bumped), each taking the last of `changes` for it as its status (with
/// `status_since` at that change), so each request's row is written once; then every change is
/// inserted in order. `touched` holds every request of `changes`.
pub async fn apply_changes(
    conn: &mut AnyConnection,
    touched: &[i64],
    changes: &[NewStatusChange<'_>],
    now: i64,
) -> Result<(), DbError> {
    // Bound parameters per statement stay far below both databases' limits.
    for ids in touched.chunks(200) {
        let mut last: Vec<&NewStatusChange<'_>> = Vec::new();
        for c in changes.iter().filter(|c| ids.contains(&c.request_id)) {
            last.retain(|l| l.request_id != c.request_id);
            last.push(c);
        }
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut sql = String::from("UPDATE requests SET version = version + 1, updated_at = $1");
        if !last.is_empty() {
            let mut status = String::from(", status = CASE id");
            let mut since = String::from(" ELSE status END, status_since = CASE id");
            for _ in &last {
                status.push_str(&format!(" WHEN {} THEN {}", next(), next()));
            }
            for _ in &last {
                since.push_str(&format!(" WHEN {} THEN {}", next(), next()));
            }
            sql.push_str(&status);
            sql.push_str(&since);
            sql.push_str(" ELSE status_since END");
        }
        sql.push_str(&format!(" WHERE id IN ({})", super::id_list(ids)));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
        for c in &last {
            q = q.bind(c.request_id).bind(c.to);
        }
        for c in &last {
            q = q.bind(c.request_id).bind(c.now);
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in changes.chunks(500) {
        insert_status_changes(conn, chunk).await?;
    }
    Ok(())
}

pub async fn status_changes<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Vec<StatusChangeRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT c.id, c.from_status, c.to_status, c.actor_id, ",
        display_name!("u"),
        " AS actor_name, c.actor_role, c.cause,
                c.plugin_id, c.plugin_name, c.plugin_version, c.plugin_sha256, c.at
         FROM status_changes c LEFT JOIN users u ON u.id = c.actor_id
         WHERE c.request_id = $1 ORDER BY c.id",
    ))
    .bind(request_id)
    .fetch_all(e)
    .await?)
}

/// A customer's rating of a closed request.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct RatingRow {
    /// `good` or `bad`.
    pub rating: String,
    pub comment: String,
    pub rated_at: i64,
}

pub async fn rating<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Option<RatingRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT rating, comment, rated_at FROM satisfaction WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(e)
            .await?,
    )
}

/// Records `user_id`'s rating of request `request_id`, replacing an earlier one.
pub async fn rate<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    user_id: i64,
    rating: &str,
    comment: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO satisfaction (request_id, rating, comment, user_id, rated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (request_id) DO UPDATE
           SET rating = excluded.rating, comment = excluded.comment,
               user_id = excluded.user_id, rated_at = excluded.rated_at",
    )
    .bind(request_id)
    .bind(rating)
    .bind(comment)
    .bind(user_id)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// How many requests hold each status key.
pub async fn status_counts<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Vec<(String, i64)>, DbError> {
    Ok(
        sqlx::query_as("SELECT status, COUNT(*) FROM requests GROUP BY status ORDER BY status")
            .fetch_all(e)
            .await?,
    )
}

/// Whether any attachment, or any email kept as received, references the blob `sha256`.
pub async fn blob_in_use<'e, E: Executor<'e, Database = Any>>(
    e: E,
    sha256: &str,
) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(1 AS BIGINT) WHERE EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)
                    OR EXISTS (SELECT 1 FROM inbound_mail WHERE eml_sha256 = $1)",
    )
    .bind(sha256)
    .fetch_optional(e)
    .await?;
    Ok(found.is_some())
}

/// Whether any request holds status `key`.
pub async fn status_in_use<'e, E: Executor<'e, Database = Any>>(
    e: E,
    key: &str,
) -> Result<bool, DbError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM requests WHERE status = $1 LIMIT 1")
            .bind(key)
            .fetch_optional(e)
            .await?;
    Ok(found.is_some())
}

/// Moves every request in status `from` to `to`, recording each move; returns how many moved.
pub async fn map_status(
    conn: &mut AnyConnection,
    from: &str,
    to: &str,
    actor_id: i64,
    plugin: &crate::domain::rules::PluginRef,
    now: i64,
) -> Result<u64, DbError> {
    sqlx::query(
        "INSERT INTO status_changes (request_id, from_status, to_status, actor_id, actor_role, cause,
                                     plugin_id, plugin_name, plugin_version, plugin_sha256, at)
         SELECT id, status, $2, $3, 'operator', 'mapped', $4, $5, $6, $7, $8 FROM requests WHERE status = $1",
    )
    .bind(from)
    .bind(to)
    .bind(actor_id)
    .bind(plugin.id)
    .bind(&plugin.name)
    .bind(&plugin.version)
    .bind(&plugin.sha256)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query(
        "UPDATE requests SET status = $2, status_since = $3, updated_at = $3, version = version + 1
         WHERE status = $1",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Active staff who asked to hear about customer replies to unassigned requests.
pub async fn queue_watchers<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT email FROM users WHERE watches_queue = 1 AND state = 'active' AND role IN ('agent', 'operator') ORDER BY id",
    )
    .fetch_all(e)
    .await?)
}

pub async fn set_watching<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    watching: bool,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET watches_queue = $2 WHERE id = $1")
        .bind(user_id)
        .bind(i64::from(watching))
        .execute(e)
        .await?;
    Ok(())
}

pub async fn is_watching<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
) -> Result<bool, DbError> {
    let v: Option<i64> = sqlx::query_scalar("SELECT watches_queue FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(e)
        .await?;
    Ok(v == Some(1))
}

/// Active staff, for the assignee choice: `(id, name, email)`.
pub async fn staff<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Vec<(i64, String, String)>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT u.id, ",
        display_name!("u"),
        ", u.email FROM users u
         WHERE u.state = 'active' AND u.role IN ('agent', 'operator')
         ORDER BY u.given_name, u.surname, u.id",
    ))
    .fetch_all(e)
    .await?)
}

#[derive(Debug, Clone, FromRow, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct QuickLink {
    pub id: i64,
    pub title: String,
    pub url: String,
    /// Comma-separated roles that see the link.
    pub roles: String,
    pub position: i64,
}

pub async fn quick_links<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Vec<QuickLink>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, title, url, roles, position FROM quick_links ORDER BY position, id",
    )
    .fetch_all(e)
    .await?)
}

pub async fn insert_quick_link<'e, E: Executor<'e, Database = Any>>(
    e: E,
    title: &str,
    url: &str,
    roles: &str,
    position: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO quick_links (title, url, roles, position) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(title)
    .bind(url)
    .bind(roles)
    .bind(position)
    .fetch_one(e)
    .await?)
}

pub async fn delete_quick_link<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM quick_links WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?
        .rows_affected()
        > 0)
}

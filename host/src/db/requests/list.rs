//! Lists of requests: filters, full-text search and keyset pages on `(updated_at, id)`.

use super::{Backend, DbError, RequestRow, SELECT_REQUEST};
use sqlx::{AnyConnection, FromRow};

/// Which requests a list holds. Every field narrows it; `None` and `false` leave it open.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub requester: Option<i64>,
    /// With `requester`: also these requests (the ones shared with them).
    pub shared: Vec<i64>,
    pub site: Option<i64>,
    pub assignee: Option<i64>,
    pub unassigned: bool,
    /// Only these status keys.
    pub status_in: Option<Vec<String>>,
    /// None of these status keys (how "open" is asked: not in a closed status, so a status the
    /// active workflow does not know still shows as open).
    pub status_not_in: Option<Vec<String>>,
    /// Words that must all appear in the subject or a public message.
    pub search: Option<Vec<String>>,
    /// Also match this request number exactly (a search for `REQ-1042`).
    pub id: Option<i64>,
    /// Only this priority.
    pub priority: Option<String>,
    /// Only requests holding every one of these tags.
    pub tags: Vec<String>,
    /// Only requests of this type.
    pub type_id: Option<i64>,
    /// Only requests whose custom field (by id) holds this value, in canonical form.
    pub value: Option<(i64, String)>,
}

/// Where a page starts, what it is ordered by and which way it runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    /// The key of the last row of the previous page.
    pub after: Option<Key>,
    pub oldest_first: bool,
    /// Most urgent first (least urgent with `oldest_first`), then by last change.
    pub by_priority: bool,
    pub limit: i64,
}

/// Where a row stands in a list: its priority's [`rank`] (read only when a list is ordered by
/// priority), its last change and its id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Key {
    pub rank: i64,
    pub updated_at: i64,
    pub id: i64,
}

/// How urgent a priority is, as a list ordered by priority sorts it: urgent 3 to low 0.
pub fn rank(priority: &str) -> i64 {
    match priority {
        "urgent" => 3,
        "high" => 2,
        "normal" => 1,
        _ => 0,
    }
}

/// [`rank`] in SQL, written as the `requests_by_priority` index is, so that the index serves
/// the order.
const RANK: &str =
    "(CASE r.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END)";

enum Param {
    Int(i64),
    Text(String),
}

/// Words quoted for FTS5, so its operators in the input are plain text.
fn fts_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds `p` to `params`; its placeholder.
fn push(params: &mut Vec<Param>, p: Param) -> String {
    params.push(p);
    format!("${}", params.len())
}

/// The conditions of `f` but its search, pushing their parameters.
fn conditions(f: &Filter, params: &mut Vec<Param>) -> Vec<String> {
    let mut conds: Vec<String> = Vec::new();
    if let Some(id) = f.requester {
        let mine = format!("r.requester_id = {}", push(params, Param::Int(id)));
        if f.shared.is_empty() {
            conds.push(mine);
        } else {
            // Ids read from the database.
            let ids = crate::db::id_list(&f.shared);
            conds.push(format!("({mine} OR r.id IN ({ids}))"));
        }
    }
    if let Some(id) = f.site {
        conds.push(format!("r.site_id = {}", push(params, Param::Int(id))));
    }
    if let Some(id) = f.assignee {
        conds.push(format!("r.assignee_id = {}", push(params, Param::Int(id))));
    }
    if f.unassigned {
        conds.push("r.assignee_id IS NULL".to_owned());
    }
    if let Some(p) = &f.priority {
        conds.push(format!(
            "r.priority = {}",
            push(params, Param::Text(p.clone()))
        ));
    }
    for t in &f.tags {
        conds.push(format!(
            "r.id IN (SELECT request_id FROM request_tags WHERE tag = {})",
            push(params, Param::Text(t.clone()))
        ));
    }
    if let Some(id) = f.type_id {
        conds.push(format!("r.type_id = {}", push(params, Param::Int(id))));
    }
    if let Some((field, value)) = &f.value {
        conds.push(format!(
            "r.id IN (SELECT request_id FROM request_values WHERE field_id = {} AND value = {})",
            push(params, Param::Int(*field)),
            push(params, Param::Text(value.clone()))
        ));
    }
    for (keys, op) in [(&f.status_in, "IN"), (&f.status_not_in, "NOT IN")] {
        if let Some(keys) = keys {
            if keys.is_empty() {
                conds.push(if op == "IN" { "1 = 0" } else { "1 = 1" }.to_owned());
                continue;
            }
            let list: Vec<String> = keys
                .iter()
                .map(|k| push(params, Param::Text(k.clone())))
                .collect();
            conds.push(format!("r.status {op} ({})", list.join(", ")));
        }
    }
    // A search is answered from the full-text index first ([`search`]), which passes only the
    // rest of the filter here.
    if f.search.is_none()
        && let Some(id) = f.id
    {
        conds.push(format!("r.id = {}", push(params, Param::Int(id))));
    }
    conds
}

/// One page of requests matching `f`, newest change first unless `page.oldest_first`.
pub async fn list(
    conn: &mut AnyConnection,
    backend: Backend,
    f: &Filter,
    page: Page,
) -> Result<Vec<RequestRow>, DbError> {
    let page = Page {
        limit: page.limit.clamp(1, 200),
        ..page
    };
    match &f.search {
        Some(words) => search(conn, backend, f, words, page).await,
        None => ordered(conn, backend, SELECT_REQUEST, f, None, page).await,
    }
}

/// How many requests match `f`, counting at most `cap`: reading stops there, so a count costs
/// little however many match.
pub async fn count(
    conn: &mut AnyConnection,
    backend: Backend,
    f: &Filter,
    cap: i64,
) -> Result<i64, DbError> {
    let cap = cap.clamp(1, 10_000);
    if let Some(words) = &f.search {
        let page = Page {
            limit: cap,
            ..Page::default()
        };
        return Ok(search(conn, backend, f, words, page).await?.len() as i64);
    }
    let mut params = Vec::new();
    let conds = conditions(f, &mut params);
    let mut sql = "SELECT COUNT(*) FROM (SELECT 1 FROM requests r".to_owned();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(&format!(" LIMIT {cap}) matching"));
    // Only our own SQL fragments and `$n` placeholders are formatted in; values are bound.
    let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
    for p in params {
        q = match p {
            Param::Int(i) => q.bind(i),
            Param::Text(s) => q.bind(s),
        };
    }
    Ok(q.fetch_one(&mut *conn).await?)
}

/// Rows of `select` (over `requests r`) matching `f` and the condition `extra`, in list order.
async fn ordered<T>(
    conn: &mut AnyConnection,
    backend: Backend,
    select: &str,
    f: &Filter,
    extra: Option<String>,
    page: Page,
) -> Result<Vec<T>, DbError>
where
    T: for<'r> FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut params = Vec::new();
    let mut conds = conditions(f, &mut params);
    conds.extend(extra);
    let (cmp, dir) = if page.oldest_first {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(key) = page.after {
        let mut bind = |v: i64| push(&mut params, Param::Int(v));
        let (at, id) = (bind(key.updated_at), bind(key.id));
        conds.push(match (backend, page.by_priority) {
            // PostgreSQL bounds an index by the whole key only as a row value; spelled out, it
            // bounds the first column alone and reads every row sharing it.
            (Backend::Postgres, false) => format!("(r.updated_at, r.id) {cmp} ({at}, {id})"),
            (Backend::Postgres, true) => {
                let rank = bind(key.rank);
                format!("({RANK}, r.updated_at, r.id) {cmp} ({rank}, {at}, {id})")
            }
            // SQLite walks the index from the cursor only with the bound on its first column
            // alone first.
            (Backend::Sqlite, false) => {
                format!("r.updated_at {cmp}= {at} AND (r.updated_at {cmp} {at} OR r.id {cmp} {id})")
            }
            (Backend::Sqlite, true) => {
                let rank = bind(key.rank);
                format!(
                    "{RANK} {cmp}= {rank} AND ({RANK} {cmp} {rank} OR r.updated_at {cmp} {at} \
                     OR (r.updated_at = {at} AND r.id {cmp} {id}))"
                )
            }
        });
    }
    let mut sql = select.to_owned();
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let rank = if page.by_priority {
        format!("{RANK} {dir}, ")
    } else {
        String::new()
    };
    sql.push_str(&format!(
        " ORDER BY {rank}r.updated_at {dir}, r.id {dir} LIMIT {}",
        page.limit
    ));
    // Only our own SQL fragments, ids read from the database and `$n` placeholders are
    // formatted in; values are bound.
    let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
    for p in params {
        q = match p {
            Param::Int(i) => q.bind(i),
            Param::Text(s) => q.bind(s),
        };
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Matches at most this many requests: a search page is read by id. Beyond it, the filtered
/// list is walked in order and kept where it matches, which fills a page quickly.
const READ_BY_ID: usize = 2000;

/// Which of the rows a walk reads match the search.
enum Matching {
    /// Every matching id (SQLite's full-text index hands them all over in milliseconds).
    Known(std::collections::HashSet<i64>),
    /// Too many to fetch (PostgreSQL, a common word): each chunk of the walk is checked against
    /// its rows' documents, and the request number searched for is added.
    Asked { words: String, number: Option<i64> },
}

/// A search. The full-text index yields the matching request ids in one cheap pass (and a
/// request number searched for is added to them), then the page is cut from them in list order:
/// however many requests there are, a search that matches few reads few. A search that matches
/// many walks the list in order instead, keeping what matches, so it reads about a page's worth
/// of rows divided by how common its words are.
async fn search(
    conn: &mut AnyConnection,
    backend: Backend,
    f: &Filter,
    words: &[String],
    page: Page,
) -> Result<Vec<RequestRow>, DbError> {
    // One row holding every id: tens of thousands of ids cost milliseconds this way, many
    // times less than as rows. PostgreSQL reads its index row by row, so it stops just past
    // what is read by id: a common word in a million requests would cost a third of a second.
    let joined: Option<String> = match backend {
        Backend::Sqlite => {
            sqlx::query_scalar(
                "SELECT group_concat(rowid) FROM request_search WHERE request_search MATCH $1",
            )
            .bind(fts_query(words))
            .fetch_one(&mut *conn)
            .await?
        }
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT string_agg(request_id::text, ',') FROM (SELECT request_id
                 FROM request_search WHERE doc @@ plainto_tsquery('english', $1) LIMIT $2) m",
            )
            .bind(words.join(" "))
            .bind((READ_BY_ID + 1) as i64)
            .fetch_one(&mut *conn)
            .await?
        }
    };
    let mut ids: Vec<i64> = joined
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    let partial = backend == Backend::Postgres && ids.len() > READ_BY_ID;
    ids.extend(f.id);
    let rest = Filter {
        search: None,
        id: None,
        ..f.clone()
    };
    let id_list = |ids: &[i64]| format!("r.id IN ({})", crate::db::id_list(ids));
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() <= READ_BY_ID {
        return ordered(
            conn,
            backend,
            SELECT_REQUEST,
            &rest,
            Some(id_list(&ids)),
            page,
        )
        .await;
    }
    let matching = if partial {
        Matching::Asked {
            words: words.join(" "),
            number: f.id,
        }
    } else {
        Matching::Known(ids.into_iter().collect())
    };
    let wanted = usize::try_from(page.limit).unwrap_or(1);
    let mut chosen = Vec::new();
    // Small steps first, growing: a very common word fills a page from its first rows, and a
    // rarer one is read in ever larger chunks.
    let mut walk = Page {
        limit: (page.limit * 4).max(100),
        ..page
    };
    loop {
        let chunk: Vec<(i64, i64, i64)> = ordered(
            conn,
            backend,
            &format!("SELECT {RANK}, r.updated_at, r.id FROM requests r"),
            &rest,
            None,
            walk,
        )
        .await?;
        let ids: Vec<i64> = chunk.iter().map(|(_, _, id)| *id).collect();
        let asked;
        let found = match &matching {
            Matching::Known(set) => set,
            Matching::Asked { words, number } => {
                asked = matching_among(conn, &ids, words, *number).await?;
                &asked
            }
        };
        chosen.extend(
            ids.iter()
                .copied()
                .filter(|id| found.contains(id))
                .take(wanted - chosen.len()),
        );
        if chosen.len() >= wanted || (chunk.len() as i64) < walk.limit {
            break;
        }
        walk.after = chunk.last().map(|&(rank, updated_at, id)| Key {
            rank,
            updated_at,
            id,
        });
        walk.limit = (walk.limit * 4).min(4000);
    }
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let by_id = Page {
        after: None,
        ..page
    };
    ordered(
        conn,
        backend,
        SELECT_REQUEST,
        &Filter::default(),
        Some(id_list(&chosen)),
        by_id,
    )
    .await
}

/// Which of the requests `chunk` match `words` on PostgreSQL, with `number` if it is among
/// them: each row's document is checked by its key (the `OFFSET 0` keeps the planner from
/// reading the full-text index instead, which for a common word means most of it).
async fn matching_among(
    conn: &mut AnyConnection,
    chunk: &[i64],
    words: &str,
    number: Option<i64>,
) -> Result<std::collections::HashSet<i64>, DbError> {
    let mut found: std::collections::HashSet<i64> = number.into_iter().collect();
    if chunk.is_empty() {
        return Ok(found);
    }
    // Only ids read from the database and a `$n` placeholder are formatted in.
    let sql = format!(
        "SELECT string_agg(request_id::text, ',') FROM (SELECT request_id, doc FROM request_search
         WHERE request_id IN ({}) OFFSET 0) d WHERE doc @@ plainto_tsquery('english', $1)",
        crate::db::id_list(chunk)
    );
    let joined: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(words)
        .fetch_one(&mut *conn)
        .await?;
    found.extend(
        joined
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.parse::<i64>().ok()),
    );
    Ok(found)
}

//! SQL for customer sites: their registered domains and individual addresses, contract and
//! licences.

use super::DbError;
use sqlx::{Any, AnyConnection, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
struct SiteRow {
    id: i64,
    name: String,
    maintenance_until: Option<String>,
    licences: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    pub addresses: Vec<String>,
    /// `YYYY-MM-DD`, the last day covered.
    pub maintenance_until: Option<String>,
    pub licences: i64,
}

/// What an operator sets on a site; lists replace the stored ones.
#[derive(Debug, Clone, Default)]
pub struct SiteFields {
    pub name: String,
    pub domains: Vec<String>,
    pub addresses: Vec<String>,
    pub maintenance_until: Option<String>,
    pub licences: i64,
}

/// A site matched to an email address, for the eligibility plugin.
#[derive(Debug, Clone, FromRow)]
pub struct MatchedSite {
    pub id: i64,
    pub name: String,
    pub maintenance_until: Option<String>,
    pub licences: i64,
    /// 1 when matched by the full address, 0 by domain.
    pub by_address: i64,
}

pub async fn insert(conn: &mut AnyConnection, f: &SiteFields, now: i64) -> Result<i64, DbError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sites (name, maintenance_until, licences, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&f.name)
    .bind(&f.maintenance_until)
    .bind(f.licences)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    set_lists(conn, id, f).await?;
    Ok(id)
}

pub async fn update(conn: &mut AnyConnection, id: i64, f: &SiteFields) -> Result<bool, DbError> {
    let n = sqlx::query(
        "UPDATE sites SET name = $1, maintenance_until = $2, licences = $3 WHERE id = $4",
    )
    .bind(&f.name)
    .bind(&f.maintenance_until)
    .bind(f.licences)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM site_domains WHERE site_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM site_addresses WHERE site_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    set_lists(conn, id, f).await?;
    Ok(true)
}

async fn set_lists(conn: &mut AnyConnection, id: i64, f: &SiteFields) -> Result<(), DbError> {
    for d in &f.domains {
        sqlx::query("INSERT INTO site_domains (site_id, domain) VALUES ($1, $2)")
            .bind(id)
            .bind(d)
            .execute(&mut *conn)
            .await?;
    }
    for a in &f.addresses {
        sqlx::query("INSERT INTO site_addresses (site_id, address) VALUES ($1, $2)")
            .bind(id)
            .bind(a)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn name_taken<'e, E: Executor<'e, Database = Any>>(
    e: E,
    name: &str,
    except: i64,
) -> Result<bool, DbError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE lower(name) = lower($1) AND id <> $2")
            .bind(name)
            .bind(except)
            .fetch_one(e)
            .await?;
    Ok(n > 0)
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Site>, DbError> {
    let rows: Vec<SiteRow> =
        sqlx::query_as("SELECT id, name, maintenance_until, licences FROM sites ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
    with_lists(conn, rows, "").await
}

/// A page of sites in name order after the name `after`, whose name or one of whose domains
/// holds `search` (any letter case).
pub async fn page(
    conn: &mut AnyConnection,
    search: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Site>, DbError> {
    let pattern = super::like_pattern(search);
    let rows: Vec<SiteRow> = sqlx::query_as(
        "SELECT id, name, maintenance_until, licences FROM sites
         WHERE name > $1
           AND ($2 = '%%' OR lower(name) LIKE $2 ESCAPE '\\'
                OR id IN (SELECT site_id FROM site_domains WHERE domain LIKE $2 ESCAPE '\\'))
         ORDER BY name LIMIT $3",
    )
    .bind(after)
    .bind(pattern)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let only = format!(" WHERE site_id IN ({})", ids.join(", "));
    with_lists(conn, rows, if ids.is_empty() { "" } else { &only }).await
}

/// `rows` with their domains and addresses, read from the rows `filter` keeps of each list.
async fn with_lists(
    conn: &mut AnyConnection,
    rows: Vec<SiteRow>,
    filter: &str,
) -> Result<Vec<Site>, DbError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // `filter` holds only ids read from the database.
    let domains: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT site_id, domain FROM site_domains{filter} ORDER BY domain"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let addresses: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT site_id, address FROM site_addresses{filter} ORDER BY address"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Site {
            domains: domains
                .iter()
                .filter(|(s, _)| *s == r.id)
                .map(|(_, d)| d.clone())
                .collect(),
            addresses: addresses
                .iter()
                .filter(|(s, _)| *s == r.id)
                .map(|(_, a)| a.clone())
                .collect(),
            id: r.id,
            name: r.name,
            maintenance_until: r.maintenance_until,
            licences: r.licences,
        })
        .collect())
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Site>, DbError> {
    let rows: Vec<SiteRow> =
        sqlx::query_as("SELECT id, name, maintenance_until, licences FROM sites WHERE id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let only = format!(" WHERE site_id = {id}");
    Ok(with_lists(conn, rows, &only).await?.pop())
}

/// The id and name of the site named `name`, in any letter case.
pub async fn by_name<'e, E: Executor<'e, Database = Any>>(
    e: E,
    name: &str,
) -> Result<Option<(i64, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM sites WHERE lower(name) = lower($1)")
            .bind(name)
            .fetch_optional(e)
            .await?,
    )
}

pub async fn name<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT name FROM sites WHERE id = $1")
        .bind(id)
        .fetch_optional(e)
        .await?)
}

/// Sites whose registered domains include `domain` or whose registered addresses include
/// `email`; a site matching both is reported once, as matched by address.
pub async fn matching<'e, E: Executor<'e, Database = Any>>(
    e: E,
    email: &str,
    domain: &str,
) -> Result<Vec<MatchedSite>, DbError> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.name, s.maintenance_until, s.licences,
                CAST(MAX(m.by_address) AS BIGINT) AS by_address
         FROM sites s
         JOIN (SELECT site_id, 0 AS by_address FROM site_domains WHERE domain = $1
               UNION ALL
               SELECT site_id, 1 AS by_address FROM site_addresses WHERE address = $2) m
           ON m.site_id = s.id
         GROUP BY s.id, s.name, s.maintenance_until, s.licences
         ORDER BY s.name",
    )
    .bind(domain)
    .bind(email)
    .fetch_all(e)
    .await?)
}

/// Takes the site's row lock until the transaction ends (a write both backends serialise on).
pub async fn lock<'e, E: Executor<'e, Database = Any>>(e: E, id: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE sites SET licences = licences WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

//! SQL for people: customers, Site Administrators and vendor staff.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub state: String,
    pub site_id: Option<i64>,
    pub must_change_password: i64,
    pub created_at: i64,
    /// The portal language they chose (`en`, `de`), if any.
    pub language: Option<String>,
    /// Their IANA time zone, if they chose one.
    pub time_zone: Option<String>,
    /// Why the eligibility plugin sent their sign-up to staff for review.
    pub review_reason: Option<String>,
}

const COLUMNS: &str = "id, email, given_name, surname, password_hash, role, state, site_id, must_change_password, created_at, language, time_zone, review_reason";

#[derive(Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub given_name: &'a str,
    pub surname: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub state: &'a str,
    pub site_id: Option<i64>,
    pub must_change_password: bool,
}

/// Inserts a user; `None` when the address already has an account.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    u: &NewUser<'_>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO users (email, given_name, surname, password_hash, role, state, site_id, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(u.email)
    .bind(u.given_name)
    .bind(u.surname)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.state)
    .bind(u.site_id)
    .bind(u.must_change_password as i64)
    .bind(now)
    .fetch_optional(e)
    .await?)
}

pub async fn by_email<'e, E: Executor<'e, Database = Any>>(
    e: E,
    email: &str,
) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email = $1"
    )))
    .bind(email)
    .fetch_optional(e)
    .await?)
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(e)
    .await?)
}

/// Users in `state`, optionally only those of one site, oldest first.
pub async fn in_state<'e, E: Executor<'e, Database = Any>>(
    e: E,
    state: &str,
    site_id: Option<i64>,
) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE state = $1 AND ($2 IS NULL OR site_id = $2) ORDER BY id"
    )))
    .bind(state)
    .bind(site_id)
    .fetch_all(e)
    .await?)
}

/// One person as the People page lists them.
#[derive(Debug, Clone, FromRow)]
pub struct Person {
    pub id: i64,
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub role: String,
    pub state: String,
    pub site_name: Option<String>,
}

/// A page of people (of `site_id`, or everyone), in email order after `after`, whose email or
/// name holds `search` (any letter case).
pub async fn page<'e, E: Executor<'e, Database = Any>>(
    e: E,
    site_id: Option<i64>,
    search: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Person>, DbError> {
    let pattern = super::like_pattern(search);
    Ok(sqlx::query_as(
        "SELECT u.id, u.email, u.given_name, u.surname, u.role, u.state, s.name AS site_name
         FROM users u LEFT JOIN sites s ON s.id = u.site_id
         WHERE ($1 IS NULL OR u.site_id = $1) AND u.email > $2
           AND ($3 = '%%' OR lower(u.email) LIKE $3 ESCAPE '\\'
                OR lower(u.given_name || ' ' || u.surname) LIKE $3 ESCAPE '\\')
         ORDER BY u.email LIMIT $4",
    )
    .bind(site_id)
    .bind(after)
    .bind(pattern)
    .bind(limit)
    .fetch_all(e)
    .await?)
}

pub async fn list<'e, E: Executor<'e, Database = Any>>(
    e: E,
    site_id: Option<i64>,
) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE ($1 IS NULL OR site_id = $1) ORDER BY email"
    )))
    .bind(site_id)
    .fetch_all(e)
    .await?)
}

/// People invited who have not yet set their own password (those given a temporary one
/// included), optionally only those of one site, by email.
pub async fn open_invitations<'e, E: Executor<'e, Database = Any>>(
    e: E,
    site_id: Option<i64>,
) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE (state = 'invited' OR must_change_password = 1) AND ($1 IS NULL OR site_id = $1) ORDER BY email"
    )))
    .bind(site_id)
    .fetch_all(e)
    .await?)
}

/// Active users with one of `roles`, for notifications: the Site Administrators of a site, or
/// vendor staff when `site_id` is `None`.
pub async fn active_with_role<'e, E: Executor<'e, Database = Any>>(
    e: E,
    role: &str,
    site_id: Option<i64>,
) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE state = 'active' AND role = $1 AND ($2 IS NULL OR site_id = $2) ORDER BY id"
    )))
    .bind(role)
    .bind(site_id)
    .fetch_all(e)
    .await?)
}

/// Moves a user from `from_state` to `to_state`; false when the user was not in `from_state`
/// (someone else got there first).
pub async fn transition<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    from_state: &str,
    to_state: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n =
        sqlx::query("UPDATE users SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(to_state)
            .bind(now)
            .bind(id)
            .bind(from_state)
            .execute(e)
            .await?
            .rows_affected();
    Ok(n == 1)
}

pub async fn set_site<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    site_id: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query(
        "UPDATE users SET site_id = $1, state = 'pending_activation', updated_at = $2 WHERE id = $3 AND state = 'choosing_site'",
    )
    .bind(site_id)
    .bind(now)
    .bind(id)
    .execute(e)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Makes `id` a person of site `site_id`, whatever their state.
pub async fn assign_site<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    site_id: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET site_id = $1, updated_at = $2 WHERE id = $3")
        .bind(site_id)
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Why `id`'s sign-up waits for review.
pub async fn set_review_reason<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    reason: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET review_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn set_role<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    role: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(role)
        .bind(now)
        .bind(id)
        .execute(e)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn set_password<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    hash: &str,
    must_change: bool,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, updated_at = $3 WHERE id = $4")
        .bind(hash)
        .bind(must_change as i64)
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Replaces a hash only if it is still the one that was verified (a login upgrading old
/// parameters must not undo a concurrent password change).
pub async fn upgrade_hash<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    old: &str,
    new: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn set_profile<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    given_name: &str,
    surname: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET given_name = $1, surname = $2, updated_at = $3 WHERE id = $4")
        .bind(given_name)
        .bind(surname)
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Whether the site has an active Site Administrator.
pub async fn site_has_admin<'e, E: Executor<'e, Database = Any>>(
    e: E,
    site_id: i64,
) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE site_id = $1 AND role = 'site_admin' AND state = 'active'",
    )
    .bind(site_id)
    .fetch_one(e)
    .await?;
    Ok(n > 0)
}

/// The request emails a person chose to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notifications {
    /// The acknowledgement of a request they raise.
    pub created: bool,
    /// Replies from the support team.
    pub replies: bool,
    /// Status changes made by others.
    pub status: bool,
}

pub async fn notifications<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Notifications, DbError> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT notify_created, notify_replies, notify_status FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?;
    let (created, replies, status) = row.unwrap_or((1, 1, 1));
    Ok(Notifications {
        created: created == 1,
        replies: replies == 1,
        status: status == 1,
    })
}

pub async fn set_notifications<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    n: Notifications,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE users SET notify_created = $1, notify_replies = $2, notify_status = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(i64::from(n.created))
    .bind(i64::from(n.replies))
    .bind(i64::from(n.status))
    .bind(now)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

/// Saves the language and time zone a person reads the portal in (`None`: follow the browser).
pub async fn set_preferences<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    language: Option<&str>,
    time_zone: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET language = $1, time_zone = $2, updated_at = $3 WHERE id = $4")
        .bind(language)
        .bind(time_zone)
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

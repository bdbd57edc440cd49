//! SQL for webhooks: the endpoints operators register, and their deliveries. A delivery is
//! written in the transaction of the event it reports, one per endpoint that wants the event,
//! and claimed by one worker at a time, on any replica.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

/// An endpoint as operators see it (never its secret).
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    /// Between single spaces, or ` * `.
    #[serde(skip)]
    pub events: String,
    pub description: String,
    pub state: String,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
}

/// An endpoint to register.
#[derive(Debug, Clone, Copy)]
pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub events: &'a str,
    pub description: &'a str,
    pub secret_sealed: &'a str,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

const ENDPOINT: &str =
    "id, url, events, description, state, disabled_reason, failing_since, created_at";

pub async fn create<'e, E: Executor<'e, Database = Any>>(
    e: E,
    n: &NewEndpoint<'_>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (url, events, description, secret_sealed, state, created_by, created_at)
         VALUES ($1, $2, $3, $4, 'active', $5, $6) RETURNING id",
    )
    .bind(n.url)
    .bind(n.events)
    .bind(n.description)
    .bind(n.secret_sealed)
    .bind(n.created_by)
    .bind(n.created_at)
    .fetch_one(e)
    .await?)
}

pub async fn endpoints<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Vec<EndpointRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints ORDER BY id"
    )))
    .fetch_all(e)
    .await?)
}

pub async fn endpoint<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<EndpointRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(e)
    .await?)
}

/// Where a delivery goes: an endpoint's URL, its sealed secret, whether it is on, and since
/// when it fails.
#[derive(Debug, Clone, FromRow)]
pub struct Target {
    pub url: String,
    pub secret_sealed: String,
    pub state: String,
    pub failing_since: Option<i64>,
}

pub async fn target<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<Target>, DbError> {
    Ok(sqlx::query_as(
        "SELECT url, secret_sealed, state, failing_since FROM webhook_endpoints WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?)
}

/// Turns endpoint `id` on (clearing its failures) or off (`reason` says why); returns whether
/// it exists. Turning it off fails what it had waiting.
pub async fn set_state(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET state = $1, disabled_reason = $2, failing_since = NULL WHERE id = $3",
    )
    .bind(if reason.is_some() { "disabled" } else { "active" })
    .bind(reason)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if let Some(reason) = reason {
        fail_waiting(&mut *conn, id, reason, now).await?;
    }
    Ok(done.rows_affected() == 1)
}

/// Gives up every delivery waiting for endpoint `id`.
async fn fail_waiting<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'failed', last_error = $1, last_attempt_at = COALESCE(last_attempt_at, $2)
         WHERE endpoint_id = $3 AND state = 'pending'",
    )
    .bind(reason)
    .bind(now)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

/// Removes endpoint `id` and its delivery log; returns whether it existed.
pub async fn delete(conn: &mut sqlx::AnyConnection, id: i64) -> Result<bool, DbError> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues one delivery of `event` (about request `request_id`, with `body`) for each active
/// endpoint that wants it: one statement, which writes nothing when none does.
pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    e: E,
    event: &str,
    request_id: Option<i64>,
    body: &str,
    now: i64,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event, request_id, body, state, next_attempt_at, created_at)
         SELECT id, $1, $2, $3, 'pending', $4, $4 FROM webhook_endpoints
         WHERE state = 'active' AND (events = ' * ' OR events LIKE '% ' || $1 || ' %')",
    )
    .bind(event)
    .bind(request_id)
    .bind(body)
    .bind(now)
    .execute(e)
    .await?
    .rows_affected())
}

/// A delivery as a worker sends it.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub endpoint_id: i64,
    pub event: String,
    pub body: String,
    pub attempts: i64,
}

/// Claims the oldest due delivery of an active endpoint for `lease_ms`, counting the attempt.
/// The guarded UPDATE lets exactly one of two racing workers win it.
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    e: E,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Claimed>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE webhook_deliveries SET locked_until = $2, attempts = attempts + 1
         WHERE id = (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
                     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.locked_until <= $1 AND w.state = 'active'
                     ORDER BY d.next_attempt_at, d.id LIMIT 1)
           AND state = 'pending' AND locked_until <= $1
         RETURNING id, endpoint_id, event, body, attempts",
    )
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(e)
    .await?)
}

/// Records a delivered attempt: the delivery is done and its endpoint no longer failing.
pub async fn mark_delivered(
    conn: &mut sqlx::AnyConnection,
    d: &Claimed,
    status: u16,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $1, last_attempt_at = $1, last_status = $2,
                last_error = NULL, locked_until = 0 WHERE id = $3",
    )
    .bind(now)
    .bind(i64::from(status))
    .bind(d.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1")
        .bind(d.endpoint_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records a failed attempt, to be tried again at `next` (or given up when `None`), and marks
/// the endpoint failing since now unless it already was. A delivery given up meanwhile (its
/// endpoint turned off) stays given up.
pub async fn mark_failed(
    conn: &mut sqlx::AnyConnection,
    d: &Claimed,
    status: Option<u16>,
    error: &str,
    next: Option<i64>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_attempt_at = $3,
                last_status = $4, last_error = $5, locked_until = 0 WHERE id = $6 AND state = 'pending'",
    )
    .bind(if next.is_some() { "pending" } else { "failed" })
    .bind(next)
    .bind(now)
    .bind(status.map(i64::from))
    .bind(error)
    .bind(d.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2",
    )
    .bind(now)
    .bind(d.endpoint_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery as its endpoint's log shows it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub request_id: Option<i64>,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<i64>,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub resent_from: Option<i64>,
    pub created_at: i64,
}

const DELIVERY: &str = "id, event, request_id, state, attempts, last_status, last_error, last_attempt_at, next_attempt_at, delivered_at, resent_from, created_at";

/// The newest `limit` deliveries of endpoint `id`, newest first.
pub async fn deliveries<'e, E: Executor<'e, Database = Any>>(
    e: E,
    endpoint_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY} FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(e)
    .await?)
}

/// Queues delivery `id` of endpoint `endpoint_id` again, as a new delivery with its own id and
/// the same body; returns the new id, or `None` when there is no such delivery.
pub async fn resend<'e, E: Executor<'e, Database = Any>>(
    e: E,
    endpoint_id: i64,
    id: i64,
    now: i64,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (endpoint_id, event, request_id, body, state, next_attempt_at, resent_from, created_at)
         SELECT endpoint_id, event, request_id, body, 'pending', $1, id, $1 FROM webhook_deliveries
         WHERE id = $2 AND endpoint_id = $3 RETURNING id",
    )
    .bind(now)
    .bind(id)
    .bind(endpoint_id)
    .fetch_optional(e)
    .await?)
}

/// The earliest time a waiting delivery becomes due, if any waits.
pub async fn next_due<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(CASE WHEN d.locked_until > d.next_attempt_at THEN d.locked_until ELSE d.next_attempt_at END)
         FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
         WHERE d.state = 'pending' AND w.state = 'active'",
    )
    .fetch_one(e)
    .await?)
}

/// Deliveries waiting to be tried again, endpoints failing (on, with a failed attempt since
/// their last delivered one) and endpoints disabled, for metrics.
pub async fn health<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<(i64, i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'),
                (SELECT COUNT(*) FROM webhook_endpoints WHERE state = 'active' AND failing_since IS NOT NULL),
                (SELECT COUNT(*) FROM webhook_endpoints WHERE state = 'disabled')",
    )
    .fetch_one(e)
    .await?)
}

/// The endpoints that are on, by id: when there are none, an event has nobody to tell.
pub async fn active<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Vec<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM webhook_endpoints WHERE state = 'active' ORDER BY id")
            .fetch_all(e)
            .await?,
    )
}

/// Writes one delivery of `event` to endpoint `endpoint`, whatever events it wants, if it is
/// active; returns whether it was written.
pub async fn enqueue_to<'e, E: Executor<'e, Database = Any>>(
    e: E,
    endpoint: i64,
    event: &str,
    request_id: Option<i64>,
    body: &str,
    now: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event, request_id, body, state, next_attempt_at, created_at)
         SELECT id, $1, $2, $3, 'pending', $4, $4 FROM webhook_endpoints WHERE id = $5 AND state = 'active'",
    )
    .bind(event)
    .bind(request_id)
    .bind(body)
    .bind(now)
    .bind(endpoint)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}

//! A request's fields beside its status (priority, tags): setting them inside a change's
//! transaction, each change kept in the request's timeline with who made it.

use super::*;
use crate::db::requests::fields::{self as field_sql, NewFieldChange};
use crate::domain::fields::{self, Priority};

/// Who made a change and why: the person (none for the workflow), their role's name, the
/// cause (`requested`, or `event:<name>` for the workflow) and the workflow (`name version`).
#[derive(Debug, Clone, Copy)]
pub(super) struct By<'a> {
    pub actor_id: Option<i64>,
    pub role: &'static str,
    pub cause: &'a str,
    pub plugin: Option<&'a str>,
}

impl Requests {
    /// Sets `r`'s priority on `conn` and in `r`; whether it changed.
    pub(super) async fn set_priority(
        &self,
        conn: &mut AnyConnection,
        r: &mut RequestRow,
        to: Priority,
        by: By<'_>,
        now: i64,
    ) -> Result<bool> {
        if r.priority == to.as_str() {
            return Ok(false);
        }
        field_sql::set_priority(conn, r.id, to.as_str()).await?;
        record(conn, r.id, "priority", &r.priority, to.as_str(), by, now).await?;
        r.priority = to.as_str().to_owned();
        Ok(true)
    }

    /// Gives `r` exactly `tags` (checked, sorted) on `conn` and in `r`; whether they changed.
    pub(super) async fn set_tags(
        &self,
        conn: &mut AnyConnection,
        r: &mut RequestRow,
        tags: &[String],
        by: By<'_>,
        now: i64,
    ) -> Result<bool> {
        let before = fields::split(&r.tags);
        if before == tags {
            return Ok(false);
        }
        field_sql::set_tags(conn, r.id, &before, tags).await?;
        let after = fields::joined(tags);
        record(conn, r.id, "tags", &r.tags, &after, by, now).await?;
        r.tags = after;
        Ok(true)
    }
}

pub(super) async fn record(
    conn: &mut AnyConnection,
    request_id: i64,
    field: &str,
    old_value: &str,
    new_value: &str,
    by: By<'_>,
    now: i64,
) -> Result<()> {
    field_sql::insert_change(
        conn,
        &NewFieldChange {
            request_id,
            field,
            old_value,
            new_value,
            actor_id: by.actor_id,
            actor_role: by.role,
            cause: by.cause,
            plugin: by.plugin,
            now,
        },
    )
    .await?;
    Ok(())
}

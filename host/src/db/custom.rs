//! SQL for request types and custom fields: the definitions operators keep, and each request's
//! type and values.

use super::DbError;
use sqlx::{Any, AnyConnection, Executor, FromRow};

/// A request type of the list operators edit.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TypeRow {
    pub id: i64,
    pub name: String,
    pub position: i64,
    /// Offered no more; requests keep it.
    #[serde(serialize_with = "flag")]
    pub retired: i64,
}

/// A custom field operators defined.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct FieldRow {
    pub id: i64,
    pub key: String,
    pub label: String,
    /// `text`, `number`, `date`, `choice` or `checkbox`.
    pub kind: String,
    /// A choice's options, one per line when stored; a list in JSON.
    #[serde(serialize_with = "lines")]
    pub options: String,
    #[serde(serialize_with = "flag")]
    pub required: i64,
    /// Shown to the customer's side.
    #[serde(serialize_with = "flag")]
    pub customers: i64,
    /// Offered on the new-request form.
    #[serde(serialize_with = "flag")]
    pub on_form: i64,
    pub position: i64,
    #[serde(serialize_with = "flag")]
    pub retired: i64,
}

impl FieldRow {
    pub fn options(&self) -> Vec<String> {
        self.options.lines().map(str::to_owned).collect()
    }
}

fn flag<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

fn lines<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.lines())
}

/// Every type, in the operators' order.
pub async fn types<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Vec<TypeRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, position, retired FROM request_types ORDER BY position, id",
    )
    .fetch_all(e)
    .await?)
}

pub async fn insert_type(conn: &mut AnyConnection, name: &str, now: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO request_types (name, position, created_at)
         VALUES ($1, (SELECT COALESCE(MAX(position) + 1, 0) FROM request_types), $2) RETURNING id",
    )
    .bind(name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Renames type `id` and retires or restores it; whether there is such a type.
pub async fn update_type(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    retired: bool,
) -> Result<bool, DbError> {
    Ok(
        sqlx::query("UPDATE request_types SET name = $2, retired = $3 WHERE id = $1")
            .bind(id)
            .bind(name)
            .bind(i64::from(retired))
            .execute(&mut *conn)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Every field, in the operators' order.
pub async fn fields<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Vec<FieldRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, key, label, kind, options, required, customers, on_form, position, retired
         FROM custom_fields ORDER BY position, id",
    )
    .fetch_all(e)
    .await?)
}

/// What a field's definition says beside its key and kind, which never change.
#[derive(Debug, Clone)]
pub struct FieldSettings<'a> {
    pub label: &'a str,
    /// One per line.
    pub options: &'a str,
    pub required: bool,
    pub customers: bool,
    pub on_form: bool,
    pub retired: bool,
}

pub async fn insert_field(
    conn: &mut AnyConnection,
    key: &str,
    kind: &str,
    f: &FieldSettings<'_>,
    now: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO custom_fields (key, label, kind, options, required, customers, on_form, retired, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT COALESCE(MAX(position) + 1, 0) FROM custom_fields), $9)
         RETURNING id",
    )
    .bind(key)
    .bind(f.label)
    .bind(kind)
    .bind(f.options)
    .bind(i64::from(f.required))
    .bind(i64::from(f.customers))
    .bind(i64::from(f.on_form))
    .bind(i64::from(f.retired))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// Whether there is such a field.
pub async fn update_field(
    conn: &mut AnyConnection,
    id: i64,
    f: &FieldSettings<'_>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE custom_fields SET label = $2, options = $3, required = $4, customers = $5,
            on_form = $6, retired = $7
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.label)
    .bind(f.options)
    .bind(i64::from(f.required))
    .bind(i64::from(f.customers))
    .bind(i64::from(f.on_form))
    .bind(i64::from(f.retired))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0)
}

/// Whether a request holds a value of field `id` that is not among `options` (before a
/// choice loses an option).
pub async fn values_outside<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    options: &[String],
) -> Result<Option<String>, DbError> {
    let values: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT value FROM request_values WHERE field_id = $1")
            .bind(id)
            .fetch_all(e)
            .await?;
    Ok(values.into_iter().find(|v| !options.contains(v)))
}

/// Request `request_id`'s values: (field id, value).
pub async fn values<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT field_id, value FROM request_values WHERE request_id = $1 ORDER BY field_id",
    )
    .bind(request_id)
    .fetch_all(e)
    .await?)
}

/// The values requests `ids` hold, with their fields' keys, `(request, key, value)`: by request,
/// each request's in the fields' order.
pub async fn keyed_values_of(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<(i64, String, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = crate::db::id_list(ids);
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT v.request_id, f.key, v.value FROM request_values v
         JOIN custom_fields f ON f.id = v.field_id
         WHERE v.request_id IN ({list}) ORDER BY v.request_id, f.position, f.id"
    )))
    .fetch_all(&mut *conn)
    .await?)
}

/// Gives request `request_id` this value of field `field_id`, or none.
pub async fn set_value(
    conn: &mut AnyConnection,
    request_id: i64,
    field_id: i64,
    value: Option<&str>,
) -> Result<(), DbError> {
    match value {
        Some(v) => {
            sqlx::query(
                "INSERT INTO request_values (request_id, field_id, value) VALUES ($1, $2, $3)
                 ON CONFLICT (request_id, field_id) DO UPDATE SET value = EXCLUDED.value",
            )
            .bind(request_id)
            .bind(field_id)
            .bind(v)
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM request_values WHERE request_id = $1 AND field_id = $2")
                .bind(request_id)
                .bind(field_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

pub async fn set_type(
    conn: &mut AnyConnection,
    request_id: i64,
    type_id: Option<i64>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET type_id = $2 WHERE id = $1")
        .bind(request_id)
        .bind(type_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

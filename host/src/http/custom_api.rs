//! Request types and custom fields in the API: the definitions (everyone reads what they may
//! see; operators add and change them), and the `type_id` and `fields` a request is raised with
//! or given.

use super::accounts_api::full;
use super::extract::{Json, Path};
use super::session::Bearer;
use super::{ApiError, AppState};
use crate::db::custom::{FieldRow, TypeRow};
use crate::requests::custom::{Answers, FieldForm};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/request-types", get(types).post(add_type))
        .route("/api/v1/request-types/{id}", put(edit_type))
        .route("/api/v1/request-fields", get(fields).post(add_field))
        .route("/api/v1/request-fields/{id}", put(edit_field))
}

type ApiResult<T> = Result<T, ApiError>;

/// A present field that may be `null`: `Some(None)`.
pub(super) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What a body asks to set: `type_id` (`null` clears it) and `fields` by key, each a string, a
/// number, a boolean (a checkbox) or `null` (clears it).
pub(super) fn answers(
    type_id: Option<Option<i64>>,
    fields: Option<Map<String, Value>>,
) -> ApiResult<Answers> {
    let mut values = Vec::new();
    for (key, v) in fields.unwrap_or_default() {
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(true) => "yes".into(),
            Value::Bool(false) | Value::Null => String::new(),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    format!("Field \"{key}\": give a string, a number, true, false or null."),
                )
                .with_field("fields"));
            }
        };
        values.push((key, text));
    }
    Ok(Answers { type_id, values })
}

async fn types(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Vec<TypeRow>>> {
    full(&b.0)?;
    Ok(Json(s.requests.definitions(&b.0).await?.types))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeBody {
    name: String,
    #[serde(default)]
    retired: bool,
}

async fn add_type(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<TypeBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    full(&b.0)?;
    if p.retired {
        return Err(ApiError::bad_request(
            "invalid_type",
            "A new type is offered: leave `retired` out.",
        )
        .with_field("retired"));
    }
    let id = s.requests.add_type(&b.0, &p.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn edit_type(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<TypeBody>,
) -> ApiResult<Json<Vec<TypeRow>>> {
    full(&b.0)?;
    s.requests.edit_type(&b.0, id, &p.name, p.retired).await?;
    Ok(Json(s.requests.definitions(&b.0).await?.types))
}

async fn fields(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Vec<FieldRow>>> {
    full(&b.0)?;
    Ok(Json(s.requests.definitions(&b.0).await?.fields))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    /// Only when adding: a field's key and kind never change.
    key: Option<String>,
    kind: Option<String>,
    label: String,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    customers: bool,
    #[serde(default)]
    on_form: bool,
    #[serde(default)]
    retired: bool,
}

impl FieldBody {
    fn form<'a>(&'a self, options: &'a str) -> FieldForm<'a> {
        FieldForm {
            key: self.key.as_deref().unwrap_or_default(),
            kind: self.kind.as_deref().unwrap_or_default(),
            label: &self.label,
            options,
            required: self.required,
            customers: self.customers,
            on_form: self.on_form,
            retired: self.retired,
        }
    }
}

/// A choice's options as one text, one per line; an option is one line, not blank.
fn options(p: &FieldBody) -> ApiResult<String> {
    if p.options
        .iter()
        .any(|o| o.contains(['\n', '\r']) || o.trim().is_empty())
    {
        return Err(ApiError::bad_request(
            "options",
            "An option is one line, with at least one character that is not a space.",
        )
        .with_field("options"));
    }
    Ok(p.options.join("\n"))
}

async fn add_field(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<FieldBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    full(&b.0)?;
    let (Some(_), Some(_)) = (&p.key, &p.kind) else {
        return Err(ApiError::bad_request(
            "invalid_field",
            "A new field needs a `key` and a `kind`.",
        ));
    };
    let options = options(&p)?;
    let id = s.requests.add_field(&b.0, &p.form(&options)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn edit_field(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<FieldBody>,
) -> ApiResult<Json<Vec<FieldRow>>> {
    full(&b.0)?;
    if p.key.is_some() || p.kind.is_some() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "A field's key and kind never change: leave them out.",
        ));
    }
    let options = options(&p)?;
    s.requests.edit_field(&b.0, id, &p.form(&options)).await?;
    Ok(Json(s.requests.definitions(&b.0).await?.fields))
}

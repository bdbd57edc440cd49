//! Request types and custom fields on the pages: the inputs of the new-request form and of the
//! staff's field form, what a posted form asks to set, and the operators' page that defines
//! them.

use super::*;
use crate::db::custom::FieldRow;
use crate::requests::custom::{Answers, Definitions, FieldForm};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/request-fields", get(definitions_page))
        .route("/staff/request-fields/types", post(add_type))
        .route("/staff/request-fields/types/{id}", post(edit_type))
        .route("/staff/request-fields/fields", post(add_field))
        .route("/staff/request-fields/fields/{id}", post(edit_field))
}

/// One custom field's input on a form.
pub(super) struct FieldInput {
    /// The form's name for it: `field.<key>`.
    pub name: String,
    pub label: String,
    /// `text`, `number`, `date`, `choice` or `checkbox`.
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    /// As typed, or as the request holds it.
    pub value: String,
    /// As the request holds it, for a staff form to tell a change.
    pub was: String,
}

impl FieldInput {
    fn of(f: &FieldRow, required: bool, value: String, was: String) -> FieldInput {
        FieldInput {
            name: format!("field.{}", f.key),
            label: f.label.clone(),
            kind: f.kind.clone(),
            options: f.options(),
            required,
            value,
            was,
        }
    }
}

/// The inputs of `fields`, each holding what `value` says of its key.
pub(super) fn inputs<'a>(
    fields: impl Iterator<Item = &'a FieldRow>,
    value: impl Fn(&str) -> Option<String>,
) -> Vec<FieldInput> {
    fields
        .map(|f| {
            let typed = value(&f.key).unwrap_or_default();
            FieldInput::of(f, f.required != 0, typed, String::new())
        })
        .collect()
}

/// The inputs of `fields` on a request's staff form: each holding what `typed` says of its key,
/// else what the request `holds`. None is marked required: a reply is never held up by a field
/// a request raised by email lacks (the server still refuses to clear a required one).
pub(super) fn edits<'a>(
    fields: impl Iterator<Item = &'a FieldRow>,
    typed: impl Fn(&str) -> Option<String>,
    holds: impl Fn(&str) -> Option<String>,
) -> Vec<FieldInput> {
    fields
        .map(|f| {
            let was = holds(&f.key).unwrap_or_default();
            let value = typed(&f.key).unwrap_or_else(|| was.clone());
            FieldInput::of(f, false, value, was)
        })
        .collect()
}

/// What a staff form changed: its type, when it differs from `type_was`, and each field whose
/// value differs from its `field.<key>_was`; (type, (key, typed value)).
pub(super) fn changed(
    fields: &std::collections::HashMap<String, String>,
) -> (Option<String>, Vec<(String, String)>) {
    let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    let kind = fields
        .contains_key("type_was")
        .then(|| get("type"))
        .filter(|t| *t != get("type_was"))
        .map(str::to_owned);
    let mut values: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(name, was)| {
            let key = name.strip_prefix("field.")?.strip_suffix("_was")?;
            let now = get(&format!("field.{key}"));
            (now != was).then(|| (key.to_owned(), now.to_owned()))
        })
        .collect();
    values.sort();
    (kind, values)
}

/// What a posted form asks to set: its `type` (an id, or empty for none) when it has one, and
/// the value of each of `fields` (a checkbox not ticked is posted as nothing: no value).
pub(super) fn posted<'a>(
    get: impl Fn(&str) -> Option<String>,
    fields: impl Iterator<Item = &'a FieldRow>,
) -> Answers {
    let type_id = get("type").map(|t| t.trim().parse::<i64>().ok());
    let values = fields
        .map(|f| {
            let typed = get(&format!("field.{}", f.key)).unwrap_or_default();
            (f.key.clone(), typed)
        })
        .collect();
    Answers { type_id, values }
}

/// The types to choose from as (id, name): those offered, and `current` even when retired.
pub(super) fn type_choices(d: &Definitions, current: Option<i64>) -> Vec<(String, String)> {
    d.types
        .iter()
        .filter(|t| t.retired == 0 || Some(t.id) == current)
        .map(|t| (t.id.to_string(), t.name.clone()))
        .collect()
}

#[derive(Template)]
#[template(path = "request_fields.html")]
struct DefinitionsPage {
    layout: Layout,
    d: Definitions,
    kinds: [&'static str; 5],
    error: Option<String>,
    notice: Option<String>,
}

async fn definitions_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    if me.role != Role::Operator {
        return failed(v, RequestError::Forbidden);
    }
    let d = match v.state.requests.definitions(me).await {
        Ok(d) => d,
        Err(e) => return failed(v, e),
    };
    v.render(
        status,
        DefinitionsPage {
            layout: v.layout(&v.t("nav-request-fields")),
            d,
            kinds: crate::domain::custom::Kind::ALL.map(|k| k.as_str()),
            error,
            notice,
        },
    )
}

async fn definitions_page(v: Visit) -> Response {
    match active(&v, "/staff/request-fields") {
        Ok(me) => definitions_view(&v, &me, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

/// The page again after a change: with the notice, or with why it was refused.
async fn after(v: &Visit, me: &Me, done: Result<(), RequestError>) -> Response {
    match done {
        Ok(()) => {
            definitions_view(v, me, StatusCode::OK, None, Some(v.t("definitions-saved"))).await
        }
        Err(e @ (RequestError::Invalid(..) | RequestError::Rule(..))) => {
            let api = ApiError::from(e);
            definitions_view(v, me, api.status, Some(v.error_words(&api)), None).await
        }
        Err(e) => failed(v, e),
    }
}

async fn add_type(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/staff/request-fields") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = v.state.requests.add_type(&me, f.get("name")).await;
    after(&v, &me, done.map(|_| ())).await
}

async fn edit_type(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, "/staff/request-fields") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = v
        .state
        .requests
        .edit_type(&me, id, f.get("name"), f.checked("retired"))
        .await;
    after(&v, &me, done).await
}

fn field_form(f: &Posted) -> FieldForm<'_> {
    FieldForm {
        key: f.get("key").trim(),
        kind: f.get("kind"),
        label: f.get("label"),
        options: f.get("options"),
        required: f.checked("required"),
        customers: f.checked("customers"),
        on_form: f.checked("on_form"),
        retired: f.checked("retired"),
    }
}

async fn add_field(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/staff/request-fields") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = v.state.requests.add_field(&me, &field_form(&f)).await;
    after(&v, &me, done.map(|_| ())).await
}

async fn edit_field(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, "/staff/request-fields") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let done = v.state.requests.edit_field(&me, id, &field_form(&f)).await;
    after(&v, &me, done).await
}

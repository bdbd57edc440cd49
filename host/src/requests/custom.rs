//! Request types and custom fields: the definitions operators keep, and a request's type and
//! values. Customers give what the new-request form offers when they raise a request; staff
//! set the rest, and change any of it later. Each change is kept in the request's timeline.

use super::fields::By;
use super::*;
use crate::db::custom::{self as custom_sql, FieldRow, FieldSettings, TypeRow};
use crate::domain::custom::{self, Kind};

/// Keys a custom field cannot take: the request's own fields go by them in filters, the
/// timeline and the plugins' events.
const RESERVED_KEYS: [&str; 6] = ["priority", "tags", "type", "status", "assignee", "site"];

/// Request types and custom fields, as someone may see them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Definitions {
    pub types: Vec<TypeRow>,
    pub fields: Vec<FieldRow>,
}

impl Definitions {
    pub fn field(&self, key: &str) -> Option<&FieldRow> {
        self.fields.iter().find(|f| f.key == key)
    }

    pub fn type_by_id(&self, id: i64) -> Option<&TypeRow> {
        self.types.iter().find(|t| t.id == id)
    }

    /// Every request type and custom field, as rules see them, read on `conn`.
    pub(super) async fn all(conn: &mut AnyConnection) -> Result<Definitions> {
        Ok(Definitions {
            types: custom_sql::types(&mut *conn).await?,
            fields: custom_sql::fields(&mut *conn).await?,
        })
    }

    /// The fields of the new-request form.
    pub fn form_fields(&self) -> impl Iterator<Item = &FieldRow> {
        self.fields
            .iter()
            .filter(|f| f.retired == 0 && f.on_form != 0)
    }
}

/// A field's definition as operators write it. Its key and kind are given when it is added
/// and never change.
#[derive(Debug, Clone, Default)]
pub struct FieldForm<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub label: &'a str,
    /// A choice's options, one per line.
    pub options: &'a str,
    pub required: bool,
    pub customers: bool,
    pub on_form: bool,
    pub retired: bool,
}

impl FieldForm<'_> {
    /// The definition to store, with its checked label and options.
    fn stored<'a>(&self, label: &'a str, options: &'a str) -> FieldSettings<'a> {
        FieldSettings {
            label,
            options,
            required: self.required,
            customers: self.customers,
            on_form: self.on_form,
            retired: self.retired,
        }
    }
}

/// One of a request's values, as someone sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Value {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub value: String,
}

/// What someone asks to set: a type (`Some(None)` clears it) and values by field key (an empty
/// value clears one; fields not named keep theirs).
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub type_id: Option<Option<i64>>,
    pub values: Vec<(String, String)>,
}

impl Answers {
    pub fn is_empty(&self) -> bool {
        self.type_id.is_none() && self.values.is_empty()
    }
}

/// Answers checked against the definitions: the type to give, and each field with its value
/// in canonical form.
#[derive(Debug, Clone, Default)]
pub(super) struct Checked {
    pub type_to: Option<Option<TypeRow>>,
    pub values: Vec<(FieldRow, Option<String>)>,
}

impl Requests {
    /// Every type and field for staff; for the customer's side, the types they may choose and
    /// the fields they are shown.
    pub async fn definitions(&self, me: &Me) -> Result<Definitions> {
        require_active(me)?;
        let mut d = Definitions {
            types: custom_sql::types(self.db.pool()).await?,
            fields: custom_sql::fields(self.db.pool()).await?,
        };
        if !me.is_staff() {
            d.types.retain(|t| t.retired == 0);
            d.fields.retain(|f| f.retired == 0 && f.customers != 0);
        }
        Ok(d)
    }

    /// Adds a request type at the end of the list. Operators only; its id.
    pub async fn add_type(&self, me: &Me, name: &str) -> Result<i64> {
        require_operator(me)?;
        let name = custom::name("Name", name).map_err(|why| RequestError::Invalid("name", why))?;
        let types = custom_sql::types(self.db.pool()).await?;
        if types.len() >= custom::MAX_TYPES {
            return Err(RequestError::Rule(
                "too_many_types",
                format!("A desk has at most {} request types.", custom::MAX_TYPES),
            ));
        }
        taken_name(&types, &name, None)?;
        let mut tx = self.db.begin().await?;
        let id = custom_sql::insert_type(&mut tx, &name, self.now()).await?;
        audit(&mut tx, me, "request_type_added", &name, self.now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames a request type, retires it (offered no more; requests keep it) or restores it.
    /// Operators only.
    pub async fn edit_type(&self, me: &Me, id: i64, name: &str, retired: bool) -> Result<()> {
        require_operator(me)?;
        let name = custom::name("Name", name).map_err(|why| RequestError::Invalid("name", why))?;
        let types = custom_sql::types(self.db.pool()).await?;
        let Some(old) = types.iter().find(|t| t.id == id) else {
            return Err(RequestError::NotFound);
        };
        taken_name(&types, &name, Some(id))?;
        let detail = format!(
            "{} → {name}{}",
            old.name,
            if retired { " (retired)" } else { "" }
        );
        let mut tx = self.db.begin().await?;
        custom_sql::update_type(&mut tx, id, &name, retired).await?;
        audit(&mut tx, me, "request_type_changed", &detail, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a custom field at the end of the list. Operators only; its id.
    pub async fn add_field(&self, me: &Me, f: &FieldForm<'_>) -> Result<i64> {
        require_operator(me)?;
        let key = custom::key(f.key).map_err(|why| RequestError::Invalid("key", why))?;
        if RESERVED_KEYS.contains(&key.as_str()) {
            return Err(RequestError::Rule(
                "key",
                format!("\"{key}\" names one of the request's own fields; choose another key."),
            ));
        }
        let kind = Kind::parse(f.kind).map_err(|why| RequestError::Invalid("kind", why))?;
        let fields = custom_sql::fields(self.db.pool()).await?;
        if fields.len() >= custom::MAX_FIELDS {
            return Err(RequestError::Rule(
                "too_many_fields",
                format!("A desk has at most {} custom fields.", custom::MAX_FIELDS),
            ));
        }
        if fields.iter().any(|x| x.key == key) {
            return Err(RequestError::Rule(
                "field_exists",
                format!("There is a field \"{key}\" already."),
            ));
        }
        let (label, options) = settings(kind, f)?;
        let mut tx = self.db.begin().await?;
        let id = custom_sql::insert_field(
            &mut tx,
            &key,
            kind.as_str(),
            &f.stored(&label, &options.join("\n")),
            self.now(),
        )
        .await?;
        audit(
            &mut tx,
            me,
            "custom_field_added",
            &format!("{key} ({kind}): {label}"),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a custom field's label, options and settings (its key and kind stay). A choice
    /// keeps every option some request holds. Operators only.
    pub async fn edit_field(&self, me: &Me, id: i64, f: &FieldForm<'_>) -> Result<()> {
        require_operator(me)?;
        let fields = custom_sql::fields(self.db.pool()).await?;
        let Some(old) = fields.iter().find(|x| x.id == id) else {
            return Err(RequestError::NotFound);
        };
        let kind = Kind::parse(&old.kind).map_err(|why| RequestError::Invalid("kind", why))?;
        let (label, options) = settings(kind, f)?;
        if kind == Kind::Choice
            && let Some(held) = custom_sql::values_outside(self.db.pool(), id, &options).await?
        {
            return Err(RequestError::Rule(
                "option_in_use",
                format!(
                    "Requests hold the option \"{held}\": keep it, or retire the field instead."
                ),
            ));
        }
        let mut tx = self.db.begin().await?;
        custom_sql::update_field(&mut tx, id, &f.stored(&label, &options.join("\n"))).await?;
        audit(
            &mut tx,
            me,
            "custom_field_changed",
            &format!(
                "{}: {label}{}",
                old.key,
                if f.retired { " (retired)" } else { "" }
            ),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The values request `id` holds of the fields of `defs` (what the asker may see), in the
    /// fields' order. The caller has checked that the asker may see the request.
    pub(super) async fn values_of(&self, defs: &Definitions, id: i64) -> Result<Vec<Value>> {
        let held = custom_sql::values(self.db.pool(), id).await?;
        Ok(defs
            .fields
            .iter()
            .filter_map(|f| {
                held.iter()
                    .find(|(fid, _)| *fid == f.id)
                    .map(|(_, v)| Value {
                        key: f.key.clone(),
                        label: f.label.clone(),
                        kind: f.kind.clone(),
                        value: v.clone(),
                    })
            })
            .collect())
    }

    /// A list's filter by a field `me` may see, `key:value`: the field's id and the value in
    /// canonical form. Without the colon it is malformed; a field `me` does not see, or a value
    /// its kind cannot hold, is refused as such.
    pub(super) async fn field_filter(&self, me: &Me, asked: &str) -> Result<(i64, String)> {
        let Some((key, typed)) = asked.split_once(':') else {
            return Err(RequestError::Invalid(
                "invalid_field",
                format!("Filter by a field as key:value; \"{asked}\" has no colon."),
            ));
        };
        let invalid = |why: String| RequestError::Rule("invalid_field", why);
        let defs = self.definitions(me).await?;
        let field = defs
            .field(key)
            .ok_or_else(|| invalid(format!("There is no field \"{key}\".")))?;
        let kind = Kind::parse(&field.kind).map_err(invalid)?;
        match custom::value(kind, &field.options(), typed) {
            Ok(Some(v)) => Ok((field.id, v)),
            Ok(None) => Err(invalid(format!(
                "{}: give the value to filter by.",
                field.label
            ))),
            Err(why) => Err(invalid(format!("{}: {why}", field.label))),
        }
    }

    /// Checks what `me` asks to set. Raising a request (`raising`), a customer gives only what
    /// the form offers, and must give its required fields; staff set any type or field not
    /// retired, and cannot clear a required one.
    pub(super) async fn check_answers(
        &self,
        me: &Me,
        a: &Answers,
        raising: bool,
    ) -> Result<Checked> {
        if a.is_empty() && !raising {
            return Ok(Checked::default());
        }
        let defs = self.definitions(me).await?;
        let staff = me.is_staff();
        let mut out = Checked::default();
        if let Some(type_id) = a.type_id {
            out.type_to = Some(match type_id {
                None => None,
                Some(id) => match defs.type_by_id(id).filter(|t| t.retired == 0) {
                    Some(t) => Some(t.clone()),
                    None => {
                        return Err(RequestError::Rule(
                            "unknown_type",
                            format!("There is no request type {id} to choose."),
                        ));
                    }
                },
            });
        }
        for (key, typed) in &a.values {
            if out.values.iter().any(|(f, _)| &f.key == key) {
                return Err(RequestError::Invalid(
                    "duplicate_field",
                    format!("The field \"{key}\" is given twice."),
                ));
            }
            let field = defs
                .field(key)
                .filter(|f| f.retired == 0 && (staff || (raising && f.on_form != 0)))
                .ok_or_else(|| {
                    RequestError::Rule(
                        "unknown_field",
                        format!("There is no field \"{key}\" you can set."),
                    )
                })?;
            let kind = Kind::parse(&field.kind)
                .map_err(|why| RequestError::Invalid("unknown_field", why))?;
            let value = custom::value(kind, &field.options(), typed).map_err(|why| {
                RequestError::Rule("invalid_field", format!("{}: {why}", field.label))
            })?;
            if value.is_none() && field.required != 0 && (staff || raising) {
                return Err(RequestError::Rule(
                    "required_field",
                    format!("{} is required.", field.label),
                ));
            }
            out.values.push((field.clone(), value));
        }
        if raising && !staff {
            for f in defs.form_fields().filter(|f| f.required != 0) {
                if !out.values.iter().any(|(g, v)| g.id == f.id && v.is_some()) {
                    return Err(RequestError::Rule(
                        "required_field",
                        format!("{} is required.", f.label),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Gives a request being raised its checked type and values on `conn`: what it was raised
    /// with, not changes to keep in its timeline.
    pub(super) async fn give_answers(
        &self,
        conn: &mut AnyConnection,
        r: &mut RequestRow,
        c: &Checked,
    ) -> Result<()> {
        if let Some(Some(t)) = &c.type_to {
            custom_sql::set_type(conn, r.id, Some(t.id)).await?;
            r.type_id = Some(t.id);
            r.type_name = Some(t.name.clone());
        }
        for (field, value) in &c.values {
            custom_sql::set_value(conn, r.id, field.id, value.as_deref()).await?;
        }
        Ok(())
    }

    /// Gives request `r` its checked type and values on `conn`, each change in its timeline;
    /// the names of the fields that changed (`type`, or a custom field's key), for the audit
    /// log as `name old → new` and for the workflow's `field-changed`.
    pub(super) async fn apply_answers(
        &self,
        conn: &mut AnyConnection,
        r: &mut RequestRow,
        c: &Checked,
        by: By<'_>,
        now: i64,
    ) -> Result<Vec<(String, String)>> {
        let mut changed = Vec::new();
        if let Some(to) = &c.type_to
            && r.type_id != to.as_ref().map(|t| t.id)
        {
            let old = r.type_name.clone().unwrap_or_default();
            let new = to.as_ref().map(|t| t.name.clone()).unwrap_or_default();
            custom_sql::set_type(conn, r.id, to.as_ref().map(|t| t.id)).await?;
            fields::record(conn, r.id, "type", &old, &new, by, now).await?;
            r.type_id = to.as_ref().map(|t| t.id);
            r.type_name = to.as_ref().map(|t| t.name.clone());
            changed.push((
                "type".to_owned(),
                format!("type {} → {}", shown(&old), shown(&new)),
            ));
        }
        if c.values.is_empty() {
            return Ok(changed);
        }
        let held = custom_sql::values(&mut *conn, r.id).await?;
        for (field, value) in &c.values {
            let old = held
                .iter()
                .find(|(id, _)| *id == field.id)
                .map(|(_, v)| v.as_str());
            if old == value.as_deref() {
                continue;
            }
            custom_sql::set_value(conn, r.id, field.id, value.as_deref()).await?;
            let (old, new) = (
                old.unwrap_or_default(),
                value.as_deref().unwrap_or_default(),
            );
            fields::record(conn, r.id, &field.key, old, new, by, now).await?;
            changed.push((
                field.key.clone(),
                format!("{} {} → {}", field.key, shown(old), shown(new)),
            ));
        }
        Ok(changed)
    }
}

/// A value in the audit log: `none` when there is none.
fn shown(v: &str) -> &str {
    if v.is_empty() { "none" } else { v }
}

fn taken_name(types: &[TypeRow], name: &str, except: Option<i64>) -> Result<()> {
    if types
        .iter()
        .any(|t| Some(t.id) != except && t.name.to_lowercase() == name.to_lowercase())
    {
        return Err(RequestError::Rule(
            "type_exists",
            format!("There is a request type \"{name}\" already."),
        ));
    }
    Ok(())
}

/// A field's label and options, checked for its kind.
fn settings(kind: Kind, f: &FieldForm<'_>) -> Result<(String, Vec<String>)> {
    let label =
        custom::name("Label", f.label).map_err(|why| RequestError::Invalid("label", why))?;
    // What the kind asks of its options, and the settings of each other, no schema states: a
    // refusal as such.
    let options =
        custom::options(kind, f.options).map_err(|why| RequestError::Rule("options", why))?;
    if f.on_form && !f.customers {
        return Err(RequestError::Rule(
            "on_form",
            "A field on the new-request form is one customers see: tick both, or neither.".into(),
        ));
    }
    Ok((label, options))
}

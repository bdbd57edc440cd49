//! What the workflow does on its own: after every event, it is handed the whole request and
//! answers with actions (contract 0.4's `react`; an older workflow's automatic move is a
//! one-action answer). The host checks every action and applies all of them in the
//! transaction of the event, or none; the events the actions raise are answered in turn, up
//! to [`CASCADE`] answers deep. Every event, whoever raised it, is also told to the webhook
//! endpoints that want it.

use super::custom::{Checked, Definitions};
use super::fields::By;
use super::*;
use crate::db::requests::fields::{self as field_sql, RuleFacts};
use crate::domain::custom::{self as custom_values, Kind};
use crate::domain::fields::{self as request_fields, Priority};
use crate::domain::rules::{
    Action, Channel, FIRST_MESSAGE_BYTES, FieldValue, Priority as RulePriority, Reaction,
    RequestEvent, RequestSite, RequestView, Requester,
};
use std::collections::{HashSet, VecDeque};

/// How many answers deep events are answered: the event a person, an email or a timer caused
/// is answered first; the events its actions raise second; theirs third. Deeper events are
/// not asked, and the cut is recorded.
pub const CASCADE: usize = 3;

fn rule_priority(p: &str) -> RulePriority {
    match p {
        "low" => RulePriority::Low,
        "high" => RulePriority::High,
        "urgent" => RulePriority::Urgent,
        _ => RulePriority::Normal,
    }
}

fn host_priority(p: RulePriority) -> Priority {
    match p {
        RulePriority::Low => Priority::Low,
        RulePriority::Normal => Priority::Normal,
        RulePriority::High => Priority::High,
        RulePriority::Urgent => Priority::Urgent,
    }
}

/// `s` cut to at most `max` bytes, between characters.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// An action the check let through that cannot apply after all: the definitions are read in
/// the event's transaction, so only a defect gets here.
fn refused(why: String) -> RequestError {
    RequestError::Invalid("action", why)
}

/// `values` with field `key` holding `value` (or none), in the order of the fields of `defs`.
fn hold(values: &mut Vec<(String, String)>, defs: &Definitions, key: &str, value: Option<String>) {
    values.retain(|(k, _)| k != key);
    if let Some(v) = value {
        values.push((key.to_owned(), v));
    }
    let position = |k: &str| defs.fields.iter().position(|f| f.key == k);
    values.sort_by_key(|(k, _)| position(k));
}

/// A date stored as `YYYY-MM-DD`.
fn date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// What the host says of actions on one request, beyond their form: an assignee must be active
/// staff, the request holds at most [`request_fields::MAX_TAGS`] tags, a webhook endpoint
/// called must be active, and a type or field set must be one operators keep, not retired, with
/// a value its kind holds (a required field is never cleared).
struct Check {
    staff: HashSet<i64>,
    tags: Vec<String>,
    endpoints: Vec<i64>,
    defs: Definitions,
}

/// The value `value` of field `key` a rule sets, checked against the definitions `defs`: the
/// field and the value in canonical form (`None` clears it).
fn rule_value<'d>(
    defs: &'d Definitions,
    key: &str,
    value: &str,
) -> std::result::Result<(&'d crate::db::custom::FieldRow, Option<String>), String> {
    let field = defs
        .field(key)
        .filter(|f| f.retired == 0)
        .ok_or_else(|| format!("there is no custom field {key:?} to set"))?;
    let kind = Kind::parse(&field.kind)?;
    let value = custom_values::value(kind, &field.options(), value)
        .map_err(|why| format!("{key}: {why}"))?;
    if value.is_none() && field.required != 0 {
        return Err(format!("{key} is required and cannot be cleared"));
    }
    Ok((field, value))
}

/// The type named `name` (letter case aside) a rule sets, if operators keep it and it is not
/// retired.
fn rule_type<'d>(
    defs: &'d Definitions,
    name: &str,
) -> std::result::Result<&'d crate::db::custom::TypeRow, String> {
    defs.types
        .iter()
        .find(|t| t.retired == 0 && t.name.to_lowercase() == name.trim().to_lowercase())
        .ok_or_else(|| format!("there is no request type {name:?} to set"))
}

impl Check {
    fn check(&self, actions: &[Action]) -> std::result::Result<(), String> {
        let mut tags = self.tags.clone();
        for (i, a) in actions.iter().enumerate() {
            let which = || format!("action {} ({})", i + 1, a.name());
            match a {
                Action::Assign { staff }
                    if !i64::try_from(*staff).is_ok_and(|id| self.staff.contains(&id)) =>
                {
                    return Err(format!(
                        "{}: {staff} is not an active member of support staff",
                        which()
                    ));
                }
                Action::AddTag { tag } => {
                    let t =
                        request_fields::tag(tag).map_err(|why| format!("{}: {why}", which()))?;
                    if !tags.contains(&t) {
                        tags.push(t);
                    }
                    if tags.len() > request_fields::MAX_TAGS {
                        return Err(format!(
                            "{}: the request would hold more than {} tags",
                            which(),
                            request_fields::MAX_TAGS
                        ));
                    }
                }
                Action::RemoveTag { tag } => {
                    let t = tag.to_ascii_lowercase();
                    tags.retain(|x| *x != t);
                }
                Action::CallWebhook { endpoint, .. }
                    if !i64::try_from(*endpoint).is_ok_and(|id| self.endpoints.contains(&id)) =>
                {
                    return Err(format!(
                        "{}: there is no active webhook endpoint {endpoint}",
                        which()
                    ));
                }
                Action::SetType {
                    request_type: Some(name),
                } => {
                    rule_type(&self.defs, name).map_err(|why| format!("{}: {why}", which()))?;
                }
                Action::SetField { .. } | Action::ClearField { .. } => {
                    let (key, value) = a.field_set().unwrap_or_default();
                    rule_value(&self.defs, key, value)
                        .map_err(|why| format!("{}: {why}", which()))?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// What answering an event needs that a caller may have read already: the active support
/// staff, the request's [`RuleFacts`], the webhook endpoints that are on (none: events are
/// told to nobody), and the request types and custom fields.
#[derive(Clone, Copy)]
pub(super) struct Among<'a> {
    pub staff: &'a [(i64, String, String)],
    pub facts: &'a RuleFacts,
    pub endpoints: &'a [i64],
    pub defs: &'a Definitions,
}

/// What a batch's answers changed, gathered by [`Requests::react_among`] and written together
/// by [`Moves::write`] in the same transaction: the requests changed, each written once, and
/// the status changes `(request, move, at)`.
#[derive(Default)]
pub(super) struct Moves {
    touched: Vec<i64>,
    moves: Vec<(i64, Move, i64)>,
}

impl Moves {
    /// Counts request `r` as changed at `now`: the first time, its version is bumped (in `r`
    /// now, in the database at [`Moves::write`]).
    fn touch(&mut self, r: &mut RequestRow, now: i64) {
        if !self.touched.contains(&r.id) {
            self.touched.push(r.id);
            r.version += 1;
        }
        r.updated_at = now;
    }

    pub(super) async fn write(self, conn: &mut AnyConnection, now: i64) -> Result<()> {
        let changes: Vec<NewStatusChange<'_>> = self
            .moves
            .iter()
            .map(|(id, m, at)| NewStatusChange {
                request_id: *id,
                from: Some(&m.from),
                to: &m.to,
                actor_id: m.actor_id,
                actor_role: actor_name(m.role),
                cause: &m.cause,
                plugin: &m.by,
                now: *at,
            })
            .collect();
        sql::apply_changes(conn, &self.touched, &changes, now).await?;
        Ok(())
    }
}

impl Requests {
    /// What the workflow is asked after `event` on request `id` as it is now, if `me` may see
    /// it: for trying a rule by hand (the console's dry run), which changes nothing.
    pub async fn reaction(&self, me: &Me, id: i64, event: RequestEvent) -> Result<Reaction> {
        let r = self.visible(me, id).await?;
        let mut conn = self.db.pool().acquire().await?;
        let facts = field_sql::rule_facts(&mut conn, r.id).await?;
        Ok(Reaction {
            event,
            request: self.rule_view(&r, &facts, &facts.fields),
        })
    }

    /// The request `r` as a rule sees it, with `f`, what it is told beyond the request's row
    /// (which no action changes), and the custom fields' values `fields` (which actions do).
    fn rule_view(&self, r: &RequestRow, f: &RuleFacts, fields: &[(String, String)]) -> RequestView {
        let seconds = |ms: i64| u64::try_from(ms / 1000).unwrap_or(0);
        let domain = r
            .requester_email
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        RequestView {
            id: r.id as u64,
            site: RequestSite {
                id: r.site_id as u64,
                name: r.site_name.clone(),
                contract_end: f.maintenance_until.as_deref().and_then(date),
                active_licences: f.licences.clamp(0, i64::from(u32::MAX)) as u32,
            },
            requester: Requester {
                id: r.requester_id as u64,
                role: if f.requester_role == "site_admin" {
                    ActorRole::SiteAdmin
                } else {
                    ActorRole::Customer
                },
                email_domain: domain,
                language: f.requester_language.clone().unwrap_or_default(),
            },
            assignee: r.assignee_id.map(|a| a as u64),
            status: r.status.clone(),
            seconds_in_status: self.seconds_in_status(r),
            priority: rule_priority(&r.priority),
            tags: request_fields::split(&r.tags),
            subject: r.subject.clone(),
            first_message: cut(
                f.first_body.as_deref().unwrap_or_default(),
                FIRST_MESSAGE_BYTES,
            ),
            customer_messages: f.customer_messages.clamp(0, i64::from(u32::MAX)) as u32,
            staff_messages: f.staff_messages.clamp(0, i64::from(u32::MAX)) as u32,
            channel: match f.first_channel.as_deref() {
                Some("email") => Channel::Email,
                Some("api") => Channel::Api,
                _ => Channel::Portal,
            },
            created_at: seconds(r.created_at),
            updated_at: seconds(r.updated_at),
            last_customer_message_at: f.last_customer_at.map(seconds),
            last_staff_message_at: f.last_staff_at.map(seconds),
            now: seconds(self.now()),
            request_type: r.type_name.clone(),
            fields: fields
                .iter()
                .map(|(key, value)| FieldValue {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }

    /// Answers `event` on request `r` (as it stands in `conn`'s transaction, which `r` follows
    /// through every change): the workflow's actions are applied in `conn`, and the events they
    /// raise answered in turn, up to [`CASCADE`] answers deep. An answer that fails or that the
    /// host refuses changes nothing and is recorded; the event stands. Returns whether the
    /// status moved.
    pub(super) async fn react(
        &self,
        conn: &mut AnyConnection,
        event: RequestEvent,
        r: &mut RequestRow,
        now: i64,
    ) -> Result<bool> {
        let staff = sql::staff(&mut *conn).await?;
        let facts = field_sql::rule_facts(conn, r.id).await?;
        let endpoints = crate::db::webhooks::active(&mut *conn).await?;
        let defs = Definitions::all(conn).await?;
        let among = Among {
            staff: &staff,
            facts: &facts,
            endpoints: &endpoints,
            defs: &defs,
        };
        self.react_among(conn, event, r, now, among, None).await
    }

    /// [`Requests::react`] with what `among` says read already. With `moves`, the request is
    /// one the caller has locked without changing it: every change counts it as changed there
    /// (its version bumped once), and status changes are gathered there too, for the caller to
    /// write in one go ([`Moves::write`]) instead of one by one; `r` holds the request as they
    /// leave it.
    pub(super) async fn react_among(
        &self,
        conn: &mut AnyConnection,
        event: RequestEvent,
        r: &mut RequestRow,
        now: i64,
        among: Among<'_>,
        mut moves: Option<&mut Moves>,
    ) -> Result<bool> {
        let Among {
            staff,
            facts,
            endpoints,
            defs,
        } = among;
        // The values as the answers leave them.
        let mut values = facts.fields.clone();
        let mut pending = VecDeque::from([(event, 1)]);
        let mut moved = false;
        while let Some((event, depth)) = pending.pop_front() {
            if !endpoints.is_empty() {
                self.tell_webhooks(conn, &event, r, now).await?;
            }
            let cause = format!("event:{}", event.name());
            if depth > CASCADE {
                tracing::warn!(request = %number(r.id), event = event.name(), "the workflow's answers raised events {CASCADE} deep; this one is not asked");
                self.record_cut(conn, r.id, &cause).await?;
                continue;
            }
            let reaction = Reaction {
                event: event.clone(),
                request: self.rule_view(r, facts, &values),
            };
            let check = Check {
                staff: staff.iter().map(|(id, _, _)| *id).collect(),
                tags: request_fields::split(&r.tags),
                endpoints: endpoints.to_vec(),
                defs: defs.clone(),
            };
            let about = r.id;
            let asked = self
                .ask(move |p| p.react(&reaction, Some(about), |a| check.check(a)))
                .await;
            let d = match asked {
                Ok(d) => d,
                Err(RequestError::Plugin(e)) => {
                    tracing::warn!(request = %number(r.id), event = event.name(), error = %e, "the workflow failed on an event; none of its answer applied");
                    self.record_failure(conn, r.id, &cause, &e).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let plugin = format!("{} {}", d.by.name, d.by.version);
            let by = By {
                actor_id: None,
                role: "system",
                cause: &cause,
                plugin: Some(&plugin),
            };
            // Whether this answer changed the request's row, and its tags among that.
            let (mut changed, mut tags_changed) = (false, false);
            for action in &d.value {
                let raised = match action {
                    Action::SetStatus { status } if *status != r.status => {
                        let m = Move {
                            from: r.status.clone(),
                            to: status.clone(),
                            actor_id: None,
                            role: ActorRole::System,
                            cause: cause.clone(),
                            by: d.by.clone(),
                        };
                        match moves.as_deref_mut() {
                            Some(gathered) => gathered.moves.push((r.id, m.clone(), now)),
                            None => apply_move(conn, r.id, &m, now).await?,
                        }
                        r.status = m.to.clone();
                        r.status_since = now;
                        moved = true;
                        changed = true;
                        Some(RequestEvent::StatusChanged(m.from))
                    }
                    Action::SetPriority { priority } => {
                        let set = self
                            .set_priority(conn, r, host_priority(*priority), by, now)
                            .await?;
                        changed |= set;
                        set.then(|| RequestEvent::FieldChanged("priority".into()))
                    }
                    Action::AddTag { tag } | Action::RemoveTag { tag } => {
                        let t = request_fields::tag(tag).unwrap_or_else(|_| tag.clone());
                        let mut tags = request_fields::split(&r.tags);
                        if matches!(action, Action::AddTag { .. }) {
                            tags.push(t);
                        } else {
                            tags.retain(|x| *x != t);
                        }
                        tags.sort();
                        tags.dedup();
                        tags_changed |= self.set_tags(conn, r, &tags, by, now).await?;
                        None
                    }
                    Action::Assign { staff: id } if r.assignee_id != Some(*id as i64) => {
                        let id = *id as i64;
                        sql::set_assignee(conn, r.id, Some(id)).await?;
                        let person = staff.iter().find(|(s, _, _)| *s == id);
                        r.assignee_id = Some(id);
                        r.assignee_name = person.map(|p| p.1.clone());
                        r.assignee_email = person.map(|p| p.2.clone());
                        changed = true;
                        Some(RequestEvent::Assigned)
                    }
                    Action::Unassign if r.assignee_id.is_some() => {
                        sql::set_assignee(conn, r.id, None).await?;
                        r.assignee_id = None;
                        r.assignee_name = None;
                        r.assignee_email = None;
                        changed = true;
                        None
                    }
                    Action::SetTimer {
                        name,
                        after_seconds,
                    } => {
                        let due = now.saturating_add((*after_seconds as i64).saturating_mul(1000));
                        field_sql::set_timer(conn, r.id, name, due, now).await?;
                        None
                    }
                    Action::CancelTimer { name } => {
                        field_sql::cancel_timer(conn, r.id, name).await?;
                        None
                    }
                    Action::AddNote { text } => {
                        let html = render(text).await?;
                        sql::insert_message(
                            conn,
                            self.db.backend(),
                            &NewMessage {
                                request_id: r.id,
                                author_id: None,
                                plugin: Some(&plugin),
                                body: text,
                                internal: true,
                                extra: "",
                                channel: "workflow",
                                html: &html,
                                renderer: markdown::RENDERER,
                                now,
                            },
                        )
                        .await?;
                        changed = true;
                        Some(RequestEvent::NoteAdded)
                    }
                    Action::SendEmail { to, wordings } => {
                        self.send_rule_email(conn, r, to, wordings, now).await?;
                        None
                    }
                    Action::CallWebhook { endpoint, name } => {
                        self.call_webhook(conn, r, *endpoint as i64, name, &plugin, now)
                            .await?;
                        None
                    }
                    Action::SetType { request_type } => {
                        let to = match request_type {
                            Some(name) => Some(rule_type(defs, name).map_err(refused)?.clone()),
                            None => None,
                        };
                        let c = Checked {
                            type_to: Some(to),
                            values: Vec::new(),
                        };
                        let set = !self.apply_answers(conn, r, &c, by, now).await?.is_empty();
                        changed |= set;
                        set.then(|| RequestEvent::FieldChanged("type".into()))
                    }
                    Action::SetField { .. } | Action::ClearField { .. } => {
                        let (key, typed) = action.field_set().unwrap_or_default();
                        let (field, value) = rule_value(defs, key, typed).map_err(refused)?;
                        let c = Checked {
                            type_to: None,
                            values: vec![(field.clone(), value.clone())],
                        };
                        let set = !self.apply_answers(conn, r, &c, by, now).await?.is_empty();
                        if set {
                            hold(&mut values, defs, key, value);
                        }
                        changed |= set;
                        set.then(|| RequestEvent::FieldChanged(key.to_owned()))
                    }
                    // Already so: nothing to change, nothing raised.
                    _ => None,
                };
                pending.extend(raised.map(|e| (e, depth + 1)));
            }
            if tags_changed {
                pending.push_back((RequestEvent::FieldChanged("tags".into()), depth + 1));
            }
            if (changed || tags_changed)
                && let Some(gathered) = moves.as_deref_mut()
            {
                gathered.touch(r, now);
            }
        }
        Ok(moved)
    }
}

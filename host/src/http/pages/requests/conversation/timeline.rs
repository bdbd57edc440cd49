//! A request's timeline as its page shows it: status changes, and for staff the changes of its
//! fields and the rules that failed to act, in the order they happened.

use super::*;
use crate::requests::Detail;

pub(super) struct TimelineView {
    pub at: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub plugin: String,
    /// A rule that failed to act (staff only).
    pub failed: bool,
    /// When it happened, to order status changes and failures.
    pub ms: i64,
}

/// The timeline of `d`, oldest first.
pub(super) fn entries(v: &Visit, w: &Workflow, d: &Detail, staff: bool) -> Vec<TimelineView> {
    let mut timeline: Vec<TimelineView> = d
        .timeline
        .iter()
        .map(|c| TimelineView {
            at: v.time_tag(c.at),
            from: c
                .from_status
                .as_deref()
                .map(|k| v.status_label(w, k))
                .unwrap_or_default(),
            to: v.status_label(w, &c.to_status),
            by: match (&c.actor_name, c.cause.as_str()) {
                (Some(name), "created") => v.ta("by-raised", &[("name", name.into())]),
                (Some(name), "mapped") => v.ta("by-mapped", &[("name", name.into())]),
                (Some(name), _) => name.clone(),
                (None, cause) => v.ta(
                    "by-workflow",
                    &[(
                        "event",
                        cause
                            .trim_start_matches("event:")
                            .replace('-', " ")
                            .as_str()
                            .into(),
                    )],
                ),
            },
            // Which plugin allowed a move is for staff; customers see who and when.
            plugin: if staff {
                format!(
                    "{} {} (sha256 {})",
                    c.plugin_name,
                    c.plugin_version,
                    c.plugin_sha256.get(..12).unwrap_or(&c.plugin_sha256)
                )
            } else {
                String::new()
            },
            failed: false,
            ms: c.at,
        })
        .collect();
    // Rules that failed to act stand in the timeline where they happened (staff only).
    timeline.extend(d.rule_failures.iter().map(|f| {
        TimelineView {
            at: v.time_tag(f.at),
            from: String::new(),
            to: v.ta(
                "timeline-rule-failed",
                &[(
                    "event",
                    f.cause
                        .trim_start_matches("event:")
                        .replace('-', " ")
                        .as_str()
                        .into(),
                )],
            ),
            by: String::new(),
            plugin: f.message.clone(),
            failed: true,
            ms: f.at,
        }
    }));
    // So do changes of the request's fields (staff only).
    timeline.extend(d.field_changes.iter().map(|c| {
        let none = || v.t("field-none");
        let or_none = |s: &str| if s.is_empty() { none() } else { s.to_owned() };
        let to = if c.field == "priority" {
            let label = |p: &str| v.t(&format!("priority-{p}"));
            v.ta(
                "timeline-priority",
                &[
                    ("from", label(&c.old_value).as_str().into()),
                    ("to", label(&c.new_value).as_str().into()),
                ],
            )
        } else if c.field != "tags" {
            let name = match c.field.as_str() {
                "type" => v.t("col-type"),
                key => d
                    .definitions
                    .field(key)
                    .map_or_else(|| key.to_owned(), |f| f.label.clone()),
            };
            v.ta(
                "timeline-field",
                &[
                    ("field", name.as_str().into()),
                    ("from", or_none(&c.old_value).as_str().into()),
                    ("to", or_none(&c.new_value).as_str().into()),
                ],
            )
        } else {
            let (old, new) = (
                crate::domain::fields::split(&c.old_value),
                crate::domain::fields::split(&c.new_value),
            );
            let added: Vec<&str> = new
                .iter()
                .filter(|t| !old.contains(t))
                .map(String::as_str)
                .collect();
            let removed: Vec<&str> = old
                .iter()
                .filter(|t| !new.contains(t))
                .map(String::as_str)
                .collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(v.ta(
                    "timeline-tags-added",
                    &[("tags", added.join(" ").as_str().into())],
                ));
            }
            if !removed.is_empty() {
                parts.push(v.ta(
                    "timeline-tags-removed",
                    &[("tags", removed.join(" ").as_str().into())],
                ));
            }
            parts.join("; ")
        };
        let event = c.cause.trim_start_matches("event:").replace('-', " ");
        TimelineView {
            at: v.time_tag(c.at),
            from: String::new(),
            to,
            by: match &c.actor_name {
                Some(name) => name.clone(),
                None => v.ta("by-workflow", &[("event", event.as_str().into())]),
            },
            plugin: c.plugin.clone().unwrap_or_default(),
            failed: false,
            ms: c.at,
        }
    }));
    timeline.sort_by_key(|t| t.ms);
    timeline
}

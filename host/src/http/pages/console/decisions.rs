//! The decision log as operators read it: filtered by slot, plugin, outcome and request.

use super::*;

struct DecisionView {
    at: String,
    slot: String,
    function: String,
    plugin: String,
    request: Option<(i64, String)>,
    input: String,
    answer: String,
    /// On a shadow's disagreement: the live plugin and its answer.
    live: Option<String>,
    outcome: String,
    micros: i64,
}

#[derive(Template)]
#[template(path = "decisions.html")]
struct DecisionsPage {
    layout: Layout,
    error: Option<String>,
    slots: Vec<&'static str>,
    outcomes: &'static [&'static str],
    slot: String,
    outcome: String,
    plugin: String,
    request: String,
    /// Shadows' disagreements instead of live decisions.
    shadow: bool,
    rows: Vec<DecisionView>,
    /// The query of the next (older) page, if there is one.
    older: Option<String>,
}

pub(super) async fn decisions_page(v: Visit, Query(q): Query<DecisionQuery>) -> Response {
    let me = match v.require_active("/staff/decisions") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mut page = DecisionsPage {
        layout: v.layout(&v.t("decisions-title")),
        error: None,
        slots: Slot::ALL.iter().map(|s| s.as_str()).collect(),
        outcomes: OUTCOMES,
        slot: q.slot.clone().unwrap_or_default(),
        outcome: q.outcome.clone().unwrap_or_default(),
        plugin: q.plugin.clone().unwrap_or_default(),
        request: q.request.clone().unwrap_or_default(),
        shadow: q.shadow.as_deref() == Some("true"),
        rows: Vec::new(),
        older: None,
    };
    let (filter, limit) = match q.parse() {
        Ok(x) => x,
        Err(e) => {
            page.error = Some(e.message);
            return v.render(StatusCode::BAD_REQUEST, page);
        }
    };
    let rows = match v.state.accounts.decisions(me, &filter, limit).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    if rows.len() as i64 == limit
        && let Some(last) = rows.last()
    {
        let mut older = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("slot", &page.slot),
            ("outcome", &page.outcome),
            ("plugin", &page.plugin),
            ("request", &page.request),
        ] {
            if !v.is_empty() {
                older.append_pair(k, v);
            }
        }
        if page.shadow {
            older.append_pair("shadow", "true");
        }
        older.append_pair("before", &last.id.to_string());
        page.older = Some(older.finish());
    }
    page.rows = rows
        .into_iter()
        .map(|d| DecisionView {
            at: v.when(d.decided_at),
            slot: d.slot,
            function: d.function,
            plugin: format!("#{} ({})", d.plugin_id, &d.sha256[..d.sha256.len().min(12)]),
            request: d.request_id.map(|id| (id, crate::requests::number(id))),
            input: d.input,
            answer: d.answer.unwrap_or_else(|| "—".into()),
            live: d.live_plugin_id.map(|id| {
                format!(
                    "#{id}: {}",
                    d.live_answer
                        .or(d.live_outcome)
                        .unwrap_or_else(|| "—".into())
                )
            }),
            // What a failure failed with stands beside its kind.
            outcome: match d.error {
                Some(e) => format!("{}: {e}", d.outcome),
                None => d.outcome,
            },
            micros: d.micros,
        })
        .collect();
    v.render(StatusCode::OK, page)
}

//! Metrics in the Prometheus text format, served at `/metrics` (see docs/operations.md for
//! every name and label).
//!
//! Each server owns its registry (no process-wide recorder), so two servers in one process
//! count apart. Hot paths hold their handles: a plugin decision costs two atomic updates,
//! with no label formatting and no registry lookup.

use crate::domain::rules::Slot;
use helpdesk_plugin_host::rules::PluginRef;
use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use std::sync::Arc;
use std::time::Duration;

/// Bucket bounds, in seconds, for one plugin call: a bundled plugin answers in about 10 µs, an
/// interpreted one in about a millisecond.
const PLUGIN_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.1, 1.0,
];

/// Bucket bounds, in seconds, for one HTTP request.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// A registry and what reads it; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Prefix("helpdesk_plugin_".into()), PLUGIN_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Prefix("helpdesk_http_".into()), HTTP_BUCKETS)
            })
            .expect("bucket bounds are non-empty")
            .build_recorder();
        let metrics = Metrics {
            recorder: Arc::new(recorder),
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        let r = &*self.recorder;
        let text = |s: &'static str| metrics::SharedString::const_str(s);
        r.describe_counter(
            "helpdesk_plugin_calls_total".into(),
            None,
            text("Plugin calls, by slot, function and plugin."),
        );
        r.describe_counter("helpdesk_plugin_failures_total".into(), None, text("Plugin calls that failed, by kind (out_of_fuel, timeout, memory_limit, trap, output_too_large, malformed, not_active)."));
        r.describe_histogram(
            "helpdesk_plugin_call_duration_seconds".into(),
            None,
            text("Time of one plugin call, as the host measured it."),
        );
        r.describe_gauge(
            "helpdesk_plugin_active".into(),
            None,
            text("The id of the plugin this server serves in each slot."),
        );
        r.describe_counter(
            "helpdesk_http_requests_total".into(),
            None,
            text("HTTP requests answered, by method, route and status."),
        );
        r.describe_histogram(
            "helpdesk_http_request_duration_seconds".into(),
            None,
            text("Time to answer an HTTP request, up to its headers."),
        );
        r.describe_counter(
            "helpdesk_logins_total".into(),
            None,
            text("Password logins, by outcome."),
        );
        r.describe_counter(
            "helpdesk_decision_log_stored_total".into(),
            None,
            text("Plugin decisions stored in the decision log."),
        );
        r.describe_counter(
            "helpdesk_decision_log_dropped_total".into(),
            None,
            text("Plugin decisions not logged because the log's queue was full."),
        );
        r.describe_counter(
            "helpdesk_plugin_shadow_asked_total".into(),
            None,
            text("Live decisions also asked of the slot's shadow, by slot and shadow plugin."),
        );
        r.describe_counter(
            "helpdesk_plugin_shadow_disagreements_total".into(),
            None,
            text("Live decisions the shadow answered otherwise (or failed where the live plugin did not), by slot and shadow plugin."),
        );
        r.describe_counter(
            "helpdesk_plugin_shadow_dropped_total".into(),
            None,
            text("Live decisions not asked of the shadow because its queue was full."),
        );
        r.describe_gauge(
            "helpdesk_outbox_messages".into(),
            None,
            text("Outbox messages not sent: waiting (to be tried) or failed (given up)."),
        );
        r.describe_gauge(
            "helpdesk_webhook_deliveries_waiting".into(),
            None,
            text("Webhook deliveries waiting to be sent: new, or to be tried again."),
        );
        r.describe_gauge(
            "helpdesk_webhook_endpoints".into(),
            None,
            text("Webhook endpoints in trouble: failing (on, not answering) or disabled (off)."),
        );
    }

    pub fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    pub fn gauge(&self, name: &'static str, labels: Vec<Label>) -> Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    /// Counts one HTTP request. `route` is the route's pattern, never the path itself, so that
    /// ids and link tokens stay out of the labels.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.counter(
            "helpdesk_http_requests_total",
            vec![
                Label::new("method", method.to_owned()),
                Label::new("route", route.to_owned()),
                Label::new("status", status.to_string()),
            ],
        )
        .increment(1);
        self.histogram(
            "helpdesk_http_request_duration_seconds",
            vec![
                Label::new("method", method.to_owned()),
                Label::new("route", route.to_owned()),
            ],
        )
        .record(took.as_secs_f64());
    }

    pub fn login(&self, outcome: &'static str) {
        self.counter(
            "helpdesk_logins_total",
            vec![Label::new("outcome", outcome)],
        )
        .increment(1);
    }

    /// The instruments of one plugin serving one slot, registered once when it starts serving.
    pub fn plugin(&self, slot: Slot, plugin: &PluginRef) -> PluginMeters {
        self.gauge(
            "helpdesk_plugin_active",
            vec![Label::new("slot", slot.as_str())],
        )
        .set(plugin.id as f64);
        let functions = slot_functions(slot)
            .iter()
            .map(|&function| {
                let labels = plugin_labels(slot, function, plugin);
                FunctionMeters {
                    function,
                    calls: self.counter("helpdesk_plugin_calls_total", labels.clone()),
                    duration: self.histogram("helpdesk_plugin_call_duration_seconds", labels),
                }
            })
            .collect();
        PluginMeters {
            metrics: self.clone(),
            slot,
            plugin: plugin.clone(),
            functions,
        }
    }

    /// The counters of a candidate in shadow for `slot`.
    pub fn shadow(&self, slot: Slot, plugin: &PluginRef) -> ShadowMeters {
        let labels = vec![
            Label::new("slot", slot.as_str()),
            Label::new("plugin", plugin.name.clone()),
            Label::new("version", plugin.version.clone()),
            Label::new("plugin_id", plugin.id.to_string()),
        ];
        ShadowMeters {
            asked: self.counter("helpdesk_plugin_shadow_asked_total", labels.clone()),
            disagreed: self.counter("helpdesk_plugin_shadow_disagreements_total", labels),
        }
    }

    /// The text a Prometheus scrape reads.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }

    /// Moves recorded samples into the histograms, so that memory stays bounded between
    /// scrapes. The server runs it every few seconds.
    pub fn upkeep(&self) {
        self.recorder.handle().run_upkeep();
    }

    /// Runs [`Metrics::upkeep`] every 5 seconds until `shutdown` resolves.
    pub async fn keep_up(self, shutdown: impl Future<Output = ()>) {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => self.upkeep(),
            }
        }
    }
}

/// The functions of a slot's world that the host calls for decisions.
fn slot_functions(slot: Slot) -> &'static [&'static str] {
    match slot {
        Slot::PasswordPolicy => &["check-password", "password-requirements"],
        Slot::SignupEligibility => &["decide"],
        Slot::TicketWorkflow => &["can-transition", "on-event"],
    }
}

fn plugin_labels(slot: Slot, function: &'static str, plugin: &PluginRef) -> Vec<Label> {
    vec![
        Label::new("slot", slot.as_str()),
        Label::new("function", function),
        Label::new("plugin", plugin.name.clone()),
        Label::new("version", plugin.version.clone()),
        Label::new("plugin_id", plugin.id.to_string()),
    ]
}

#[derive(Debug)]
struct FunctionMeters {
    function: &'static str,
    calls: Counter,
    duration: Histogram,
}

/// What a shadow counts.
#[derive(Debug)]
pub struct ShadowMeters {
    pub asked: Counter,
    pub disagreed: Counter,
}

/// What one serving plugin counts.
#[derive(Debug)]
pub struct PluginMeters {
    metrics: Metrics,
    slot: Slot,
    plugin: PluginRef,
    functions: Vec<FunctionMeters>,
}

impl PluginMeters {
    /// Counts one call of `function`, and its failure's kind if it failed.
    pub fn call(&self, function: &'static str, took: Duration, failure: Option<&'static str>) {
        if let Some(f) = self.functions.iter().find(|f| f.function == function) {
            f.calls.increment(1);
            f.duration.record(took.as_secs_f64());
        }
        if let Some(kind) = failure {
            let mut labels = plugin_labels(self.slot, function, &self.plugin);
            labels.push(Label::new("kind", kind));
            self.metrics
                .counter("helpdesk_plugin_failures_total", labels)
                .increment(1);
        }
    }
}

//! `GET /metrics`: a session's latest snapshot as Prometheus metrics, built
//! with `prometheus-client` at each scrape (a registry of the snapshot's
//! values; the data path keeps no metric of its own).
//!
//! OpenMetrics text when the scraper asks for it (`Accept:
//! application/openmetrics-text`, as Prometheus does), else the Prometheus
//! text format 0.0.4 (what `curl` and `promtool check metrics` read).
//!
//! Every plugin series has the labels `plugin`, `version` and `kind`.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::journal::decimal;
use crate::policy::Pressure;
use crate::trading::Snapshot;
use crate::trading::report::PluginReport;

/// The content type of an OpenMetrics answer.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of a Prometheus text answer.
pub const PROMETHEUS_TEXT: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    version: String,
    kind: String,
}

impl PluginLabels {
    fn of(p: &PluginReport) -> Self {
        Self {
            plugin: p.name.clone(),
            version: p.version.clone(),
            kind: p.kind.to_string(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FaultLabels {
    plugin: String,
    version: String,
    kind: String,
    fault: String,
}

/// Labels named at the call: `vec![("outcome", ...)]`.
type Labels = Vec<(&'static str, String)>;

/// A float gauge.
type FloatGauge = Gauge<f64, std::sync::atomic::AtomicU64>;

/// A family of `M` over labels `L`, registered.
fn family<M, L>(registry: &mut Registry, name: &str, help: &str) -> Family<L, M>
where
    M: Default + Clone,
    L: Clone + std::hash::Hash + Eq,
    Family<L, M>: prometheus_client::registry::Metric,
{
    let family = Family::<L, M>::default();
    registry.register(name, help, family.clone());
    family
}

/// One plugin's call latencies: sum (s), count, and each bucket's own count
/// by upper bound (s).
#[derive(Debug)]
struct Latency {
    labels: PluginLabels,
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

/// Call latencies of every plugin, in the buckets the snapshot holds.
#[derive(Debug)]
struct Latencies(Vec<Latency>);

impl EncodeMetric for Latencies {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        for l in &self.0 {
            encoder
                .encode_family(&l.labels)?
                .encode_histogram::<NoLabelSet>(l.sum, l.count, &l.buckets, None)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let counter: Counter = Counter::default();
    counter.inc_by(value);
    registry.register(name, help, counter);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let gauge = FloatGauge::default();
    gauge.set(value);
    registry.register(name, help, gauge);
}

/// A network connector's connection (live and paper trading).
fn live_metrics(r: &mut Registry, live: &crate::trading::report::ConnectionReport) {
    gauge(
        r,
        "tradsys_live_connected",
        "1 while the network connector's connection is open",
        f64::from(u8::from(live.connected())),
    );
    counter(
        r,
        "tradsys_live_connections",
        "Connections made to the venue",
        live.connections,
    );
    counter(
        r,
        "tradsys_live_disconnects",
        "Connections lost or closed",
        live.disconnects,
    );
    counter(
        r,
        "tradsys_live_bytes_in",
        "Bytes received from the venue",
        live.bytes_in,
    );
    counter(
        r,
        "tradsys_live_bytes_out",
        "Bytes sent to the venue",
        live.bytes_out,
    );
    counter(
        r,
        "tradsys_live_refused_reports",
        "Reports of the venue the host's checks refused (none booked)",
        live.refused_reports,
    );
    counter(
        r,
        "tradsys_live_unanswered_orders",
        "Orders the venue did not answer within [venue] answer_ms",
        live.unanswered,
    );
    counter(
        r,
        "tradsys_live_reconciliation_differences",
        "Differences between the venue's view and the host's (unknown orders, positions, order states)",
        live.differences,
    );
    if let Some(t) = &live.tick_to_order {
        for (name, ns) in [
            ("tradsys_live_tick_to_order_p50_seconds", t.p50_ns),
            ("tradsys_live_tick_to_order_p99_seconds", t.p99_ns),
            ("tradsys_live_tick_to_order_p999_seconds", t.p999_ns),
        ] {
            let help = "Tick-to-order inside the host over the session (HdrHistogram)";
            gauge(r, name, help, ns as f64 / 1e9);
        }
    }
}

/// The registry of `snapshot`'s values.
fn registry(snapshot: &Snapshot) -> Registry {
    let mut r = Registry::default();
    gauge(
        &mut r,
        "tradsys_session_running",
        "1 while the session runs",
        f64::from(u8::from(snapshot.running)),
    );
    gauge(
        &mut r,
        "tradsys_session_uptime_seconds",
        "Wall time since the session started",
        snapshot.uptime_ms as f64 / 1e3,
    );
    gauge(
        &mut r,
        "tradsys_events_per_second",
        "Market events per second of wall time, over the last snapshot interval",
        snapshot.events_per_second,
    );
    let Some(report) = &snapshot.report else {
        return r;
    };
    counter(
        &mut r,
        "tradsys_events",
        "Market events processed",
        report.events,
    );
    counter(
        &mut r,
        "tradsys_batches",
        "Market batches processed",
        report.batches,
    );
    counter(
        &mut r,
        "tradsys_orders_submitted",
        "Commands strategies sent (submits, cancels, modifies)",
        report.orders.submitted,
    );
    let orders = family::<Counter, Labels>(
        &mut r,
        "tradsys_orders",
        "Commands by outcome: approved (sent to the matcher) or rejected",
    );
    orders
        .get_or_create(&vec![("outcome", "approved".into())])
        .inc_by(report.orders.approved);
    orders
        .get_or_create(&vec![("outcome", "rejected".into())])
        .inc_by(report.orders.rejected);
    let rejections = family::<Counter, Labels>(
        &mut r,
        "tradsys_order_rejections",
        "Refusals by who refused (host or a validator) and why",
    );
    for rejection in &report.orders.rejections {
        rejections
            .get_or_create(&vec![
                ("by", rejection.by.clone()),
                ("reason", rejection.reason.clone()),
            ])
            .inc_by(rejection.count);
    }
    let venue = family::<Counter, Labels>(
        &mut r,
        "tradsys_venue_rejections",
        "Approved orders the matcher refused, by reason",
    );
    for (reason, n) in &report.orders.venue_rejections {
        venue
            .get_or_create(&vec![("reason", reason.clone())])
            .inc_by(*n);
    }
    counter(
        &mut r,
        "tradsys_fills",
        "Fills of strategy orders",
        report.fills,
    );
    gauge(
        &mut r,
        "tradsys_trading_halted",
        "1 once trading halted (the matcher failed, or the operator's kill switch)",
        f64::from(u8::from(report.halted.is_some())),
    );
    if let Some(live) = &report.live {
        live_metrics(&mut r, live);
    }
    counter(
        &mut r,
        "tradsys_connector_restarts",
        "Times the connector was restarted after a fault",
        u64::from(report.connector_restarts),
    );
    let refused = family::<Counter, Labels>(
        &mut r,
        "tradsys_feed_events_dropped",
        "Connector events the host refused, by the rule they broke",
    );
    for (rule, n) in &report.connector_dropped {
        refused
            .get_or_create(&vec![("rule", rule.clone())])
            .inc_by(*n);
    }
    strategies(&mut r, report);
    plugins(&mut r, report);
    memory(&mut r, snapshot, report);
    let swaps = family::<Counter, Labels>(&mut r, "tradsys_swaps", "Swap records by outcome");
    for (outcome, n) in &snapshot.tally.swaps {
        swaps
            .get_or_create(&vec![("outcome", outcome.clone())])
            .inc_by(*n);
    }
    let compared = family::<Counter, Labels>(
        &mut r,
        "tradsys_shadow_comparisons",
        "Inputs a shadow candidate and its live version both answered",
    );
    for (plugin, n) in &snapshot.tally.shadow_compared {
        compared
            .get_or_create(&vec![("plugin", plugin.clone())])
            .inc_by(*n);
    }
    let differing = family::<Counter, Labels>(
        &mut r,
        "tradsys_shadow_differences",
        "Inputs on which a shadow candidate's output differed from the live version's",
    );
    for (plugin, n) in &snapshot.tally.shadow_differing {
        differing
            .get_or_create(&vec![("plugin", plugin.clone())])
            .inc_by(*n);
    }
    let alerts = family::<Counter, Labels>(
        &mut r,
        "tradsys_alerts",
        "Alerts raised, by kind (quarantined, halted, memory-pressure, connector-restart, shadow-differs)",
    );
    for (kind, n) in &snapshot.tally.alerts {
        alerts
            .get_or_create(&vec![("kind", kind.clone())])
            .inc_by(*n);
    }
    r
}

fn strategies(r: &mut Registry, report: &crate::trading::Report) {
    let position = family::<Gauge, Labels>(
        r,
        "tradsys_strategy_position",
        "Net position of a strategy in an instrument",
    );
    let realized = family::<FloatGauge, Labels>(
        r,
        "tradsys_strategy_realized_pnl",
        "Realized PnL of a strategy, fees included",
    );
    let unrealized = family::<FloatGauge, Labels>(
        r,
        "tradsys_strategy_unrealized_pnl",
        "Open positions of a strategy marked at last prices",
    );
    let fills =
        family::<Counter, Labels>(r, "tradsys_strategy_fills", "Fills booked for a strategy");
    for s in &report.strategies {
        let labels = vec![("strategy", s.name.clone())];
        realized
            .get_or_create(&labels)
            .set(decimal::approx(&s.realized_pnl));
        unrealized
            .get_or_create(&labels)
            .set(decimal::approx(&s.unrealized_pnl));
        fills.get_or_create(&labels).inc_by(s.fills);
        for p in &s.positions {
            let labels = vec![
                ("strategy", s.name.clone()),
                ("instrument", p.instrument.clone()),
            ];
            let quantity = decimal::parse(&p.quantity).map_or(0, |q| q / decimal::SCALE);
            position
                .get_or_create(&labels)
                .set(i64::try_from(quantity).unwrap_or(i64::MAX));
        }
    }
}

fn plugins(r: &mut Registry, report: &crate::trading::Report) {
    let counter =
        |r: &mut Registry, name: &str, help: &str| family::<Counter, PluginLabels>(r, name, help);
    let gauge =
        |r: &mut Registry, name: &str, help: &str| family::<Gauge, PluginLabels>(r, name, help);
    let calls = counter(
        r,
        "tradsys_plugin_calls",
        "Plugin calls made, init included",
    );
    let fuel = counter(
        r,
        "tradsys_plugin_fuel_consumed",
        "Fuel the plugin's data-path calls burnt (about one unit per wasm instruction)",
    );
    let instantiations = counter(r, "tradsys_plugin_instantiations", "Instances created");
    let evictions = counter(r, "tradsys_plugin_evictions", "Instances evicted");
    let dropped = counter(
        r,
        "tradsys_plugin_log_lines_dropped",
        "Log lines the rate limit dropped",
    );
    let cut = counter(
        r,
        "tradsys_plugin_texts_cut",
        "Texts of the plugin's output cut to their bound",
    );
    let memory = gauge(
        r,
        "tradsys_plugin_memory_bytes",
        "Linear memory of the plugin's instance (0 when none is live)",
    );
    let quarantined = gauge(
        r,
        "tradsys_plugin_quarantined",
        "1 when the plugin's circuit breaker is open (quarantined)",
    );
    let up = gauge(
        r,
        "tradsys_plugin_up",
        "1 when the plugin can be called (not failed, not quarantined)",
    );
    let faults =
        family::<Counter, FaultLabels>(r, "tradsys_plugin_faults", "Plugin faults by kind");
    let mut latencies = Latencies(Vec::new());
    for p in &report.plugins {
        let labels = PluginLabels::of(p);
        calls.get_or_create(&labels).inc_by(p.calls);
        fuel.get_or_create(&labels).inc_by(p.fuel_used);
        instantiations
            .get_or_create(&labels)
            .inc_by(p.instantiations);
        evictions.get_or_create(&labels).inc_by(p.memory.evictions);
        dropped.get_or_create(&labels).inc_by(p.logs.dropped);
        cut.get_or_create(&labels).inc_by(p.texts_cut);
        memory
            .get_or_create(&labels)
            .set(i64::try_from(p.memory.bytes).unwrap_or(i64::MAX));
        quarantined
            .get_or_create(&labels)
            .set(i64::from(p.quarantined.is_some()));
        up.get_or_create(&labels)
            .set(i64::from(p.quarantined.is_none() && p.failure.is_none()));
        for (fault, n) in &p.faults {
            let labels = FaultLabels {
                plugin: p.name.clone(),
                version: p.version.clone(),
                kind: p.kind.to_string(),
                fault: fault.clone(),
            };
            faults.get_or_create(&labels).inc_by(*n);
        }
        let timing = &p.timing;
        // Each bucket's own count: the encoder adds them up.
        let buckets = timing
            .buckets
            .iter()
            .map(|&(bound, n)| match bound {
                u64::MAX => (f64::INFINITY, n),
                ns => (ns as f64 / 1e9, n),
            })
            .collect();
        let sum = timing.mean_ns as f64 * timing.timed as f64 / 1e9;
        latencies.0.push(Latency {
            labels,
            sum,
            count: timing.timed,
            buckets,
        });
    }
    r.register(
        "tradsys_plugin_call_duration_seconds",
        "Plugin call latency",
        latencies,
    );
}

fn memory(r: &mut Registry, snapshot: &Snapshot, report: &crate::trading::Report) {
    gauge(
        r,
        "tradsys_memory_budget_bytes",
        "Linear memory all plugin instances may hold together",
        report.memory.budget_bytes as f64,
    );
    gauge(
        r,
        "tradsys_memory_in_use_bytes",
        "Linear memory the plugin instances hold now",
        snapshot.memory_in_use as f64,
    );
    gauge(
        r,
        "tradsys_memory_peak_bytes",
        "Most linear memory the plugin instances held at once",
        report.memory.peak_bytes as f64,
    );
    let level = match snapshot.pressure.unwrap_or(Pressure::Low) {
        Pressure::Low => 0.0,
        Pressure::Medium => 1.0,
        Pressure::High => 2.0,
        Pressure::Critical => 3.0,
    };
    gauge(
        r,
        "tradsys_memory_pressure",
        "Memory pressure now: 0 low, 1 medium, 2 high, 3 critical",
        level,
    );
}

/// `snapshot` as metrics text: OpenMetrics when `openmetrics`, else the
/// Prometheus text format.
pub fn encode(snapshot: &Snapshot, openmetrics: bool) -> String {
    let registry = registry(snapshot);
    let mut text = String::new();
    let written = if openmetrics {
        prometheus_client::encoding::text::encode(&mut text, &registry)
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
    };
    if written.is_err() {
        let _ = writeln!(text, "# the metrics could not be encoded");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_before_the_session_has_only_the_session_gauges() {
        let text = encode(&Snapshot::default(), false);
        assert!(text.contains("tradsys_session_running 0"), "{text}");
        assert!(!text.contains("tradsys_events_total"), "{text}");
        let open = encode(&Snapshot::default(), true);
        assert!(open.ends_with("# EOF\n"), "{open}");
    }
}

//! Alerts and the timeline: what changed between two snapshots of a
//! session, told once. A plugin quarantined, trading halted, memory pressure
//! at high or critical, a connector restarting and a shadow whose outputs
//! differ are alerts: a log line at warn or error naming the plugin and
//! version, a count (`tradsys_alerts_total{kind}`) and a timeline entry.
//! Swaps, shadows starting and ending, plugins joining and leaving,
//! configuration changes (old and new values) and faults are timeline
//! entries too.
//!
//! Everything is derived from the reports the session publishes, so the
//! alerts say exactly what the report says.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::live::recent::Recent;
use crate::policy::{PluginKind, Pressure};
use crate::trading::report::Report;

/// Timeline entries kept (the oldest go first).
pub const TIMELINE_LENGTH: usize = 500;

/// One thing that happened, as the dashboard's timeline shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// Market time when it was seen, ns since the epoch.
    pub ts: u64,
    /// `info`, `warn` or `error`.
    pub level: &'static str,
    /// `swap`, `shadow`, `fault`, `membership`, `config`, `quarantined`, `halted`,
    /// `memory-pressure`, `connector-restart`, `shadow-differs`.
    pub kind: &'static str,
    /// The plugin concerned (`name@version`), if one is.
    pub plugin: Option<String>,
    /// What happened.
    pub message: String,
}

/// Running counts that outlive the bounded logs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Alerts raised, by kind.
    pub alerts: BTreeMap<String, u64>,
    /// Swap records, by outcome (`swapped`, `already-running`, `refused`,
    /// `file-refused`, `shadow-refused`).
    pub swaps: BTreeMap<String, u64>,
    /// Shadow inputs compared, by plugin.
    pub shadow_compared: BTreeMap<String, u64>,
    /// Shadow inputs whose outputs differed, by plugin.
    pub shadow_differing: BTreeMap<String, u64>,
}

/// What the last snapshot showed of one shadow run.
#[derive(Default)]
struct ShadowSeen {
    state: String,
    compared: u64,
    differing: u64,
}

/// The differ: what the previous snapshot showed.
#[derive(Default)]
pub(crate) struct Alerts {
    faults: BTreeMap<String, u64>,
    quarantined: BTreeMap<String, bool>,
    halted: bool,
    pressure: Option<Pressure>,
    restarts: u32,
    /// A network connector's connection: disconnects, refused reports,
    /// unanswered orders and reconciliation differences seen so far.
    live_seen: (u64, u64, u64, u64),
    swaps_seen: u64,
    members_seen: usize,
    configs_seen: usize,
    shadows: BTreeMap<u64, ShadowSeen>,
    timeline: Recent<TimelineEntry, TIMELINE_LENGTH>,
    tally: Tally,
}

impl Alerts {
    /// The timeline, oldest first.
    pub(crate) fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline.iter().cloned().collect()
    }

    /// The running counts.
    pub(crate) fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Compare `report` (at market time `ts`, with `pressure` the highest
    /// memory pressure since the last report)
    /// with the last one seen: log, count and note what changed.
    pub(crate) fn observe(&mut self, report: &Report, pressure: Pressure, ts: u64) {
        for plugin in &report.plugins {
            let id = format!("{}@{}", plugin.name, plugin.version);
            let faults: u64 = plugin.faults.values().sum();
            let before = self.faults.insert(id.clone(), faults).unwrap_or(0);
            if faults > before {
                let kinds: Vec<String> = plugin
                    .faults
                    .iter()
                    .map(|(kind, n)| format!("{kind} {n}"))
                    .collect();
                let message = format!(
                    "{} new fault(s) ({} in all: {})",
                    faults - before,
                    faults,
                    kinds.join(", ")
                );
                self.note(ts, "warn", "fault", Some(&id), message);
            }
            let quarantined = plugin.quarantined.is_some();
            let was = self.quarantined.insert(id.clone(), quarantined);
            if quarantined && was != Some(true) {
                let why = plugin.quarantined.clone().unwrap_or_default();
                self.alert(ts, "error", "quarantined", Some(&id), why);
            }
        }
        if let Some(why) = &report.halted
            && !self.halted
        {
            self.halted = true;
            let matcher = report
                .plugins
                .iter()
                .find(|p| p.kind == PluginKind::Matcher);
            let id = matcher.map(|m| format!("{}@{}", m.name, m.version));
            self.alert(ts, "error", "halted", id.as_deref(), why.to_string());
        }
        if pressure >= Pressure::High && self.pressure.is_none_or(|p| pressure > p) {
            let level = if pressure == Pressure::Critical {
                "error"
            } else {
                "warn"
            };
            let message = format!("plugin memory pressure {pressure:?}");
            self.alert(ts, level, "memory-pressure", None, message);
        }
        self.pressure = Some(pressure);
        if report.connector_restarts > self.restarts {
            let connector = report
                .plugins
                .iter()
                .find(|p| p.kind == PluginKind::Connector);
            let id = connector.map(|c| format!("{}@{}", c.name, c.version));
            let message = format!(
                "connector restarted ({} time(s) in all)",
                report.connector_restarts
            );
            self.restarts = report.connector_restarts;
            self.alert(ts, "warn", "connector-restart", id.as_deref(), message);
        }
        self.observe_live(report, ts);
        self.observe_swaps(report, ts);
        self.observe_members(report, ts);
        self.observe_configs(report, ts);
        self.observe_shadows(report, ts);
    }

    /// A live venue: the connection lost, a report refused, an order
    /// without an answer, a reconciliation difference.
    fn observe_live(&mut self, report: &Report, ts: u64) {
        let Some(live) = &report.live else { return };
        let connector = report
            .plugins
            .iter()
            .find(|p| p.kind == PluginKind::Connector)
            .map(|c| format!("{}@{}", c.name, c.version));
        let (disconnects, refused, unanswered, differences) = self.live_seen;
        self.live_seen = (
            live.disconnects,
            live.refused_reports,
            live.unanswered,
            live.differences,
        );
        if live.disconnects > disconnects && live.ended.is_none() {
            let message = format!(
                "connection to the venue lost ({} time(s) in all)",
                live.disconnects
            );
            self.alert(ts, "warn", "disconnected", connector.as_deref(), message);
        }
        if live.refused_reports > refused {
            let why = live.refusals.last().cloned().unwrap_or_default();
            let message = format!(
                "venue report refused, not booked ({} in all): {why}",
                live.refused_reports
            );
            self.alert(
                ts,
                "error",
                "venue-report-refused",
                connector.as_deref(),
                message,
            );
        }
        if live.unanswered > unanswered {
            let message = format!(
                "{} order(s) without an answer from the venue ({} in all)",
                live.unanswered - unanswered,
                live.unanswered
            );
            self.alert(ts, "warn", "no-answer", connector.as_deref(), message);
        }
        if live.differences > differences {
            let latest = live
                .reconciliation
                .last()
                .map_or(String::new(), |e| format!(": {} ({})", e.detail, e.action));
            let message = format!(
                "{} difference(s) between the venue and the host ({} in all){latest}",
                live.differences - differences,
                live.differences
            );
            self.alert(ts, "warn", "reconciliation", connector.as_deref(), message);
        }
    }

    fn observe_swaps(&mut self, report: &Report, ts: u64) {
        let total = report.swaps_dropped + report.swaps.len() as u64;
        let new = total.saturating_sub(self.swaps_seen) as usize;
        self.swaps_seen = total;
        let first = report.swaps.len().saturating_sub(new);
        for record in &report.swaps[first..] {
            let label = record.outcome.label();
            *self.tally.swaps.entry(label.to_string()).or_default() += 1;
            let level = if record.outcome.is_success() {
                "info"
            } else {
                "warn"
            };
            let message = format!(
                "{}: {} ({})",
                record.plugins.join(", "),
                record.outcome,
                record.cause
            );
            self.note(ts, level, "swap", None, message);
        }
    }

    fn observe_members(&mut self, report: &Report, ts: u64) {
        let first = self.members_seen.min(report.membership.len());
        self.members_seen = report.membership.len();
        for m in &report.membership[first..] {
            let level = match m.to {
                crate::live::Presence::Active => "info",
                _ if m.kind == PluginKind::RiskValidator => "warn",
                crate::live::Presence::RemovalPending => "warn",
                _ => "info",
            };
            let canceled = match m.canceled_orders {
                0 => String::new(),
                n => format!("; {n} working orders canceled"),
            };
            let message = format!("{} {}: {}{canceled}", m.kind, m.change, m.cause);
            self.note(ts, level, "membership", Some(&m.plugin), message);
        }
    }

    fn observe_configs(&mut self, report: &Report, ts: u64) {
        let first = self.configs_seen.min(report.config_changes.len());
        self.configs_seen = report.config_changes.len();
        for c in &report.config_changes[first..] {
            let what: Vec<String> = c
                .differences
                .iter()
                .map(|d| format!("{} {}", d.setting, d.values()))
                .collect();
            let (level, outcome) = match &c.reason {
                None => ("info", "applied".to_string()),
                Some(why) => ("warn", format!("refused: {why}")),
            };
            let message = format!("{} ({}): {outcome}", what.join(", "), c.cause);
            self.note(ts, level, "config", Some(&c.plugin), message);
        }
    }

    fn observe_shadows(&mut self, report: &Report, ts: u64) {
        for (i, shadow) in report.shadows.iter().enumerate() {
            let key = report.shadows_dropped + i as u64;
            let id = format!("{}@{}", shadow.plugin, shadow.candidate_version);
            let state = serde_json::to_value(shadow.state)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let seen = self.shadows.entry(key).or_default();
            let compared = shadow.compared.saturating_sub(seen.compared);
            let differing = shadow.differing.saturating_sub(seen.differing);
            let first_difference = seen.differing == 0 && shadow.differing > 0;
            let changed = seen.state != state;
            *seen = ShadowSeen {
                state: state.clone(),
                compared: shadow.compared,
                differing: shadow.differing,
            };
            let plugin = shadow.plugin.clone();
            *self
                .tally
                .shadow_compared
                .entry(plugin.clone())
                .or_default() += compared;
            *self.tally.shadow_differing.entry(plugin).or_default() += differing;
            if changed {
                let message = format!(
                    "shadow of {} {} beside {}: {state} ({} compared, {} differing)",
                    shadow.plugin,
                    shadow.candidate_version,
                    shadow.live_version,
                    shadow.compared,
                    shadow.differing
                );
                self.note(ts, "info", "shadow", Some(&id), message);
            }
            if first_difference {
                let first = shadow
                    .diffs
                    .first()
                    .map_or_else(String::new, |d| format!(": first on {}", d.input));
                let message = format!(
                    "the candidate's outputs differ from {}'s ({} of {} inputs){first}",
                    shadow.live_version, shadow.differing, shadow.compared
                );
                self.alert(ts, "warn", "shadow-differs", Some(&id), message);
            }
        }
        // Shadows dropped from the report's log are not seen again.
        self.shadows.retain(|key, _| *key >= report.shadows_dropped);
    }

    /// An alert: a log line, a count, a timeline entry.
    fn alert(
        &mut self,
        ts: u64,
        level: &'static str,
        kind: &'static str,
        plugin: Option<&str>,
        message: String,
    ) {
        *self.tally.alerts.entry(kind.to_string()).or_default() += 1;
        self.note(ts, level, kind, plugin, message);
    }

    /// A timeline entry (alerts and faults are logged too).
    fn note(
        &mut self,
        ts: u64,
        level: &'static str,
        kind: &'static str,
        plugin: Option<&str>,
        message: String,
    ) {
        let (name, version) = plugin
            .and_then(|p| p.split_once('@'))
            .map_or(("-", "-"), |(n, v)| (n, v));
        let alert = self.tally.alerts.contains_key(kind);
        match level {
            "error" => tracing::error!(plugin = name, version, "alert: {kind}: {message}"),
            "warn" if alert => tracing::warn!(plugin = name, version, "alert: {kind}: {message}"),
            _ => tracing::debug!(plugin = name, version, "{kind}: {message}"),
        }
        self.timeline.push(TimelineEntry {
            ts,
            level,
            kind,
            plugin: plugin.map(str::to_string),
            message,
        });
    }
}

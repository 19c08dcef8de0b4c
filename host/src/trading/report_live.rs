//! The report's `live` object: a network connector's connection over the
//! session (live and paper trading), what was refused, what reconciliation
//! found.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::journal::ReconcileEntry;

/// Reconciliation findings kept for the report (the latest).
pub const KEEP_FINDINGS: usize = 50;

/// A network connector's connection over the session (live and paper trading).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// Connections made.
    pub connections: u64,
    /// Connections lost or closed.
    pub disconnects: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Reports of the venue the host's checks refused (none was booked).
    pub refused_reports: u64,
    /// The latest of them: the rule each broke.
    pub refusals: Vec<String>,
    /// Orders (and cancels, modifies) the venue had not answered after
    /// `[venue] answer_ms` (each an alert).
    pub unanswered: u64,
    /// Why the connection ended for good (`stopped` when the host stopped it).
    pub ended: Option<String>,
    /// Tick-to-order inside the host: an event (bytes, a tick) taken from
    /// the connection to the bytes of an order it caused handed to the
    /// socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_to_order: Option<Percentiles>,
    /// Positions the venue reported that were compared with the host's.
    #[serde(default)]
    pub positions_checked: u64,
    /// Differences between the venue's view and the host's (each an
    /// alert): unknown orders, positions, orders whose state differed.
    #[serde(default)]
    pub differences: u64,
    /// The latest of them, with what the host did.
    #[serde(default)]
    pub reconciliation: Vec<ReconcileEntry>,
}

impl ConnectionReport {
    /// Whether the connection is open now (made more often than lost).
    pub fn connected(&self) -> bool {
        self.connections > self.disconnects
    }

    /// Keep a reconciliation difference.
    pub(crate) fn difference(&mut self, entry: ReconcileEntry) {
        self.differences += 1;
        self.reconciliation.push(entry);
        if self.reconciliation.len() > KEEP_FINDINGS {
            self.reconciliation.remove(0);
        }
    }

    /// The connection's lines of the text report.
    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "connection: {} connections, {} closed, {} bytes in, {} bytes out{}",
            self.connections,
            self.disconnects,
            self.bytes_in,
            self.bytes_out,
            self.ended
                .as_ref()
                .map_or(String::new(), |why| format!("; ended: {why}"))
        );
        if let Some(t) = &self.tick_to_order {
            let us = |ns: u64| ns as f64 / 1e3;
            let _ = writeln!(
                out,
                "tick-to-order: {} orders, p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
                t.samples,
                us(t.p50_ns),
                us(t.p99_ns),
                us(t.p999_ns),
                us(t.max_ns)
            );
        }
        if self.refused_reports > 0 {
            let _ = writeln!(
                out,
                "VENUE REPORTS REFUSED by the host's checks (not booked): {}",
                self.refused_reports
            );
            for why in &self.refusals {
                let _ = writeln!(out, "  {why}");
            }
        }
        if self.differences > 0 {
            let _ = writeln!(
                out,
                "RECONCILIATION: {} difference(s) between the venue and the host \
                 ({} position(s) compared):",
                self.differences, self.positions_checked
            );
            for entry in &self.reconciliation {
                let _ = writeln!(
                    out,
                    "  {}: {} ({})",
                    entry.finding, entry.detail, entry.action
                );
            }
        } else if self.positions_checked > 0 {
            let _ = writeln!(
                out,
                "reconciliation: the venue's {} position(s) match the host's",
                self.positions_checked
            );
        }
    }
}

/// Percentiles of a latency, nanoseconds (HdrHistogram, three significant figures).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// How many were measured.
    pub samples: u64,
    /// The median.
    pub p50_ns: u64,
    /// The 99th percentile.
    pub p99_ns: u64,
    /// The 99.9th percentile.
    pub p999_ns: u64,
    /// The largest.
    pub max_ns: u64,
}

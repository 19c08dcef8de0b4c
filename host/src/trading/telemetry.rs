//! What a running session shows its operators: a [`Snapshot`] (the report
//! so far, the memory pressure now, the curve of each strategy's PnL and
//! position, the timeline of changes and alerts) published after a batch at
//! most every [`PUBLISH_EVERY`] of wall time, and once more at the end.
//!
//! The data path never waits for a reader: publishing swaps one pointer
//! (`arc-swap`), and the HTTP server reads the latest snapshot whenever it
//! likes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::policy::{PluginKind, Pressure};
use crate::trading::alerts::{Alerts, Tally, TimelineEntry};
use crate::trading::report::Report;

/// How often a running session publishes a snapshot, at most.
pub const PUBLISH_EVERY: Duration = Duration::from_millis(200);

/// Points a curve keeps: when full, every other one goes and the sampling
/// interval doubles, so a month of trading takes the room of a minute.
pub const CURVE_POINTS: usize = 512;

/// A session's latest snapshot, shared with whoever reads it.
#[derive(Clone)]
pub struct Telemetry(Arc<ArcSwap<Snapshot>>);

impl Default for Telemetry {
    fn default() -> Self {
        Self(Arc::new(ArcSwap::from_pointee(Snapshot::default())))
    }
}

impl Telemetry {
    /// The latest snapshot.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    pub(crate) fn publish(&self, snapshot: Snapshot) {
        self.0.store(Arc::new(snapshot));
    }
}

/// A running session as its operators see it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// Snapshots published before this one.
    pub sequence: u64,
    /// Whether the session is still running (false before it starts and
    /// after it ends).
    pub running: bool,
    /// Whether it started.
    pub started: bool,
    /// Wall time since the session started, milliseconds.
    pub uptime_ms: u64,
    /// Market events per second of wall time since the last snapshot.
    pub events_per_second: f64,
    /// Plugin memory in use now, bytes.
    pub memory_in_use: u64,
    /// The memory pressure now.
    pub pressure: Option<Pressure>,
    /// The report so far (`None` before the session starts).
    pub report: Option<Report>,
    /// Each strategy's PnL and net position over the session.
    pub curve: Curve,
    /// Swaps, shadows, faults, halts and alerts, oldest first (the last
    /// [`crate::trading::alerts::TIMELINE_LENGTH`]).
    pub timeline: Vec<TimelineEntry>,
    /// Running counts: alerts by kind, swaps by outcome, shadow comparisons.
    pub tally: Tally,
}

impl Snapshot {
    /// Whether the session runs and can trade: its connector and matcher
    /// are not failed, and trading has not halted. The reason when not.
    pub fn ready(&self) -> Result<(), String> {
        let Some(report) = &self.report.as_ref().filter(|_| self.started) else {
            return Err("the session has not started".into());
        };
        if !self.running {
            return Err(match &report.stopped {
                Some(why) => format!("the session ended: {why}"),
                None => "the session ended".into(),
            });
        }
        if let Some(why) = &report.halted {
            return Err(format!("trading halted: {why}"));
        }
        for plugin in report
            .plugins
            .iter()
            .filter(|p| matches!(p.kind, PluginKind::Connector | PluginKind::Matcher))
        {
            if let Some(why) = plugin.quarantined.as_ref().or(plugin.failure.as_ref()) {
                return Err(format!("{} {}: {why}", plugin.kind, plugin.name));
            }
        }
        Ok(())
    }
}

/// Each strategy's PnL and net position, sampled every `stride` batches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Curve {
    /// Strategy names, in the order of each point's values.
    pub strategies: Vec<String>,
    /// Batches between two points.
    pub stride: u64,
    /// The points, oldest first.
    pub points: Vec<CurvePoint>,
}

/// One sample of the curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurvePoint {
    /// Market time, ns since the epoch.
    pub ts: u64,
    /// Market events processed.
    pub events: u64,
    /// Realized plus unrealized PnL of each strategy.
    pub pnl: Vec<f64>,
    /// Net position of each strategy, summed over its instruments.
    pub position: Vec<f64>,
}

impl Curve {
    pub(crate) fn sample(&mut self, batch: u64, point: impl FnOnce() -> CurvePoint) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if !batch.is_multiple_of(self.stride) {
            return;
        }
        self.points.push(point());
        if self.points.len() >= CURVE_POINTS {
            let mut keep = false;
            self.points.retain(|_| {
                keep = !keep;
                keep
            });
            self.stride *= 2;
        }
    }
}

/// The session's side of its telemetry: when it published last, the curve
/// and the alerts it keeps.
#[derive(Default)]
pub(crate) struct Publisher {
    pub(crate) telemetry: Telemetry,
    /// When the first batch was published.
    pub(crate) started: Option<Instant>,
    /// When the last snapshot was published, and the events then.
    pub(crate) last: Option<(Instant, u64)>,
    pub(crate) sequence: u64,
    pub(crate) curve: Curve,
    pub(crate) alerts: Alerts,
}

impl Publisher {
    /// The hub readers hold.
    pub(crate) fn telemetry(&self) -> Telemetry {
        self.telemetry.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(events: u64) -> CurvePoint {
        CurvePoint {
            ts: events,
            events,
            pnl: vec![events as f64],
            position: vec![0.0],
        }
    }

    #[test]
    fn a_curve_of_a_million_batches_keeps_at_most_its_points_spread_over_all_of_them() {
        let mut curve = Curve::default();
        for batch in 0..1_000_000 {
            curve.sample(batch, || point(batch));
        }
        assert!(curve.points.len() < CURVE_POINTS);
        assert!(
            curve.points.len() > CURVE_POINTS / 4,
            "{}",
            curve.points.len()
        );
        assert_eq!(curve.points[0].events, 0);
        let last = curve.points.last().unwrap().events;
        assert!(
            last > 1_000_000 - 2 * curve.stride,
            "{last}, stride {}",
            curve.stride
        );
        assert!(curve.points.windows(2).all(|w| w[0].events < w[1].events));
    }
}

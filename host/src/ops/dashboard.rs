//! The live dashboard: one self-contained page (`dashboard.html`: its own
//! script and SVG charts, nothing fetched from elsewhere) and the view it
//! draws, sent as server-sent events.

use serde_json::{Value, json};

use crate::journal::decimal;
use crate::trading::Snapshot;

/// The page served at `/`.
pub const PAGE: &str = include_str!("dashboard.html");

/// Timeline entries the view carries (the newest).
const TIMELINE_IN_VIEW: usize = 200;

/// What the dashboard shows of `snapshot`.
pub fn view(snapshot: &Snapshot) -> Value {
    let Some(report) = &snapshot.report else {
        return json!({ "started": false, "running": false, "sequence": snapshot.sequence });
    };
    let plugins: Vec<Value> = report
        .plugins
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version,
                "kind": p.kind,
                "state": match p.presence {
                    crate::live::Presence::Active => serde_json::to_value(p.state).unwrap_or_default(),
                    other => serde_json::to_value(other).unwrap_or_default(),
                },
                "signer": p.signers.first().map(|s| s.chars().take(16).collect::<String>()),
                "calls": p.calls,
                "p99_us": p.timing.p99_ns as f64 / 1e3,
                "memory_bytes": p.memory.bytes,
                "faults": p.faults.values().sum::<u64>(),
                "quarantined": p.quarantined,
                "failure": p.failure,
            })
        })
        .collect();
    let strategies: Vec<Value> = report
        .strategies
        .iter()
        .map(|s| {
            let positions: Vec<String> = s
                .positions
                .iter()
                .map(|p| format!("{} {}", p.instrument, p.quantity))
                .collect();
            json!({
                "name": s.name,
                "orders": s.submitted,
                "fills": s.fills,
                "realized": decimal::approx(&s.realized_pnl),
                "unrealized": decimal::approx(&s.unrealized_pnl),
                "pnl": decimal::approx(&s.pnl),
                "positions": positions.join(", "),
            })
        })
        .collect();
    let shadows: Vec<Value> = report
        .shadows
        .iter()
        .map(|s| {
            json!({
                "plugin": s.plugin,
                "live": s.live_version,
                "candidate": s.candidate_version,
                "state": s.state,
                "compared": s.compared,
                "differing": s.differing,
                "diffs": s.diffs.iter().take(3).collect::<Vec<_>>(),
            })
        })
        .collect();
    let venue = report.gateway.as_ref().map(|g| {
        let accounts: Vec<Value> = g
            .accounts
            .iter()
            .map(|a| {
                let connections: Vec<&str> = g
                    .connected
                    .iter()
                    .filter(|c| c.account == a.account)
                    .map(|c| c.protocol.as_str())
                    .collect();
                let positions: Vec<String> = a
                    .positions
                    .iter()
                    .map(|p| format!("{} {}", p.instrument, p.quantity))
                    .collect();
                json!({
                    "account": a.account,
                    "connections": connections.join(", "),
                    "orders": a.submitted,
                    "rejected": a.rejected,
                    "fills": a.fills,
                    "realized": decimal::approx(&a.realized_pnl),
                    "positions": positions.join(", "),
                })
            })
            .collect();
        json!({
            "connected": g.connected.len(),
            "refused_logons": g.refused_logons,
            "accounts": accounts,
            "books": g.books,
        })
    });
    let skip = snapshot.timeline.len().saturating_sub(TIMELINE_IN_VIEW);
    json!({
        "started": snapshot.started,
        "running": snapshot.running,
        "ready": snapshot.ready().err(),
        "sequence": snapshot.sequence,
        "uptime_ms": snapshot.uptime_ms,
        "events": report.events,
        "batches": report.batches,
        "events_per_second": snapshot.events_per_second,
        "orders": {
            "submitted": report.orders.submitted,
            "approved": report.orders.approved,
            "rejected": report.orders.rejected,
        },
        "fills": report.fills,
        "halted": report.halted,
        "stopped": report.stopped,
        "memory": {
            "budget_bytes": report.memory.budget_bytes,
            "in_use_bytes": snapshot.memory_in_use,
            "peak_bytes": report.memory.peak_bytes,
            "pressure": snapshot.pressure,
            "evictions": report.memory.evictions,
        },
        "plugins": plugins,
        "strategies": strategies,
        "shadows": shadows,
        "venue": venue,
        "curve": snapshot.curve,
        "timeline": &snapshot.timeline[skip..],
        "alerts": snapshot.tally.alerts,
    })
}

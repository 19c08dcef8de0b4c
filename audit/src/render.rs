//! An audit as text.

use std::fmt::Write as _;

use crate::{Audit, Finding, MAX_LISTED};

fn list(out: &mut String, title: &str, count: u64, findings: &[Finding]) {
    if count == 0 {
        return;
    }
    let _ = writeln!(out, "\n{title}: {count}");
    for f in findings {
        let _ = writeln!(
            out,
            "  {} order {} at {} ns: {}",
            f.strategy, f.order, f.ts, f.what
        );
    }
    if count > findings.len() as u64 {
        let _ = writeln!(
            out,
            "  ... and {} more (the first {MAX_LISTED} listed)",
            count - findings.len() as u64
        );
    }
}

impl Audit {
    /// The audit as text: the counts, what was wrong, each strategy's figures.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "audit of {} against {} ({} records, {} commands at the venue)",
            self.journal, self.data, self.records, self.commands
        );
        for (symbol, ts) in &self.opened {
            let _ = writeln!(
                out,
                "{symbol}: opened at {ts} ns (its first trade: nothing fills before it)"
            );
        }
        let _ = writeln!(
            out,
            "maker fills: {} reported, {} right; taker fills: {} reported, {} at prices and sizes the book showed",
            self.maker.fills, self.maker.right, self.taker.fills, self.taker.right
        );
        let _ = writeln!(
            out,
            "reachable volume never taken: {} lots in {} places",
            self.missed_volume, self.missed_count
        );
        list(
            &mut out,
            "fills before the market had reached the order",
            self.early_count,
            &self.early,
        );
        list(
            &mut out,
            "fills after the market had reached the order",
            self.late_count,
            &self.late,
        );
        list(
            &mut out,
            "fills nothing gives",
            self.unreachable_count,
            &self.unreachable,
        );
        list(
            &mut out,
            "reachable volume never taken",
            self.missed_count,
            &self.missed,
        );
        list(
            &mut out,
            "venue answers that differ from the rules",
            self.answers_count,
            &self.answers,
        );
        list(
            &mut out,
            "arrivals off the order latency",
            self.arrivals_count,
            &self.arrivals,
        );
        let _ = writeln!(
            out,
            "\nstrategy            maker     taker  queue wait ms  passive fill  reachable  not taken"
        );
        for (name, f) in &self.strategies {
            let _ = writeln!(
                out,
                "{name:<18} {:>3}/{:<4} {:>4}/{:<4} {:>13.3} {:>12.1}% {:>10} {:>9.1}%",
                f.maker.right,
                f.maker.fills,
                f.taker.right,
                f.taker.fills,
                f.avg_queue_wait_ms,
                100.0 * f.passive_fill_ratio,
                f.reachable,
                100.0 * f.missed_share
            );
        }
        let _ = writeln!(
            out,
            "\n{}",
            if self.is_clean() {
                "every fill survives the audit"
            } else {
                "the audit found fills the rules do not give"
            }
        );
        out
    }
}

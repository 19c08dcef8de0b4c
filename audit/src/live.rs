//! The audit run beside a session: the session hands it the records the
//! venue is given, each command as it reaches the venue and each fill the
//! venue reported, and asks it at any time how the fills compare with what
//! the rules give. The rules are the same as `tradsys journal audit`'s;
//! only the way in differs.

use std::collections::BTreeMap;

use crate::market::{Ask, Got, Market, Record};
use crate::{Figures, judge, lots};

/// A session's fills, judged as the session goes.
#[derive(Debug, Default)]
pub struct Live {
    markets: BTreeMap<u32, Market>,
    /// The strategy of each order.
    owner: BTreeMap<u64, String>,
    /// What the rules give.
    rules: Vec<Got>,
    /// What the venue reported: (order, ts, price, quantity, maker).
    reported: Vec<(u64, u64, i64, i64, bool)>,
    /// Whether the feed named its orders (the rules need a book by order).
    by_order: bool,
}

impl Live {
    /// A record of the feed, as the venue is given it.
    pub fn record(&mut self, instrument: u32, record: &Record) {
        self.by_order |= !matches!(record.action, crate::market::Action::Trade);
        self.markets
            .entry(instrument)
            .or_default()
            .record(record, &mut self.rules);
    }

    /// Command `ask` of `strategy` about `order` reaching the venue at `ts`.
    pub fn command(&mut self, instrument: u32, order: u64, strategy: &str, ask: &Ask, ts: u64) {
        if !self.by_order {
            return; // nothing to judge it by: no work
        }
        self.owner
            .entry(order)
            .or_insert_with(|| strategy.to_string());
        self.markets
            .entry(instrument)
            .or_default()
            .command(order, ask, ts, &mut self.rules);
    }

    /// A fill the venue reported.
    pub fn filled(&mut self, order: u64, ts: u64, price: i64, quantity: i64, maker: bool) {
        if !self.by_order {
            return;
        }
        self.reported.push((order, ts, price, quantity, maker));
    }

    /// Whether the feed is one the rules can judge (a book by order).
    pub fn judges(&self) -> bool {
        self.by_order
    }

    /// Each strategy's fills so far against the rules': maker and taker
    /// tallies, the maker volume that reached its orders and the share of
    /// it not taken (the queue wait and the passive fill ratio are the
    /// session's own).
    pub fn figures(&self) -> BTreeMap<String, Figures> {
        type Fills = Vec<(u64, i64, i64)>;
        let mut both: BTreeMap<(u64, bool), (Fills, Fills)> = BTreeMap::new();
        for &(order, ts, price, q, maker) in &self.reported {
            both.entry((order, maker))
                .or_default()
                .0
                .push((ts, price, q));
        }
        for g in &self.rules {
            both.entry((g.order, g.maker))
                .or_default()
                .1
                .push((g.ts, g.price, g.quantity));
        }
        let mut out: BTreeMap<String, Figures> = BTreeMap::new();
        let mut missed: BTreeMap<String, f64> = BTreeMap::new();
        for ((order, maker), (reported, rules)) in &both {
            let name = self.owner.get(order).cloned().unwrap_or_default();
            let judged = judge(reported, rules);
            let f = out.entry(name.clone()).or_default();
            let tally = if *maker { &mut f.maker } else { &mut f.taker };
            tally.fills += reported.len() as u64;
            tally.right += judged.right;
            if *maker {
                f.reachable += rules.iter().map(|r| lots(r.2)).sum::<f64>();
                *missed.entry(name).or_default() +=
                    judged.missed.iter().map(|m| lots(m.2)).sum::<f64>();
            }
        }
        for (name, f) in &mut out {
            let m = missed.get(name).copied().unwrap_or(0.0);
            f.missed_share = if f.reachable > 0.0 {
                m / f.reachable
            } else {
                0.0
            };
        }
        out
    }
}

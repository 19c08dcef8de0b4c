//! Live reconciliation, the session's side: after each call of the network
//! connector, what it found comparing the venue's view with its own (the
//! `reconciliation` import, `engine::reconcile`) is booked, journaled and
//! reported. A venue order the host does not know is canceled, kept or
//! adopted by a strategy (`[venue] unknown_orders`, `adopt_into`); the
//! venue's positions are compared with the host's ledgers; an order whose
//! venue state differed is reported. Every difference is in the journal, in
//! the report's `live.reconciliation` (an alert each) and in the log.

use crate::bindings::current::network_connector::tradsys::plugins::reconciliation::{
    Decision, VenueOrder,
};
use crate::bindings::types::MarketEvent;
use crate::config::UnknownOrders;
use crate::engine::Finding;
use crate::journal::decimal::exact;
use crate::journal::{Entry, ReconcileEntry};

use super::Session;

/// What a session does with the venue's orders it does not know.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    pub(crate) unknown_orders: UnknownOrders,
    /// The strategy that adopts them, by name.
    pub(crate) adopt_into: Option<String>,
}

/// An order at the venue, for the operator: `ESH4 buy 2 at 4750.25 (1 filled)`.
fn describe(order: &VenueOrder) -> String {
    let side = order.side.name();
    let price = order
        .price
        .map_or("market".to_string(), |p| format!("at {}", exact(p.into())));
    format!(
        "venue order `{}`: {} {side} {} {price} ({} filled)",
        order.venue_id,
        order.symbol,
        exact(order.leaves_quantity.into()),
        exact(order.filled_quantity.into())
    )
}

impl Session {
    /// Start hearing the network connector's findings: fails when the
    /// strategy that should adopt unknown orders is not in the session.
    pub(super) fn start_reconciliation(&mut self) -> anyhow::Result<()> {
        let policy = &self.reconcile;
        if let Some(name) = &policy.adopt_into {
            anyhow::ensure!(
                self.strategy_index(name).is_some(),
                "venue.adopt_into: strategy `{name}` is not in the session"
            );
        }
        let connector = self.slots.connector.plugin().name().to_string();
        self.runtime
            .reconciliation()
            .start(&connector, policy.unknown_orders);
        Ok(())
    }

    fn strategy_index(&self, name: &str) -> Option<usize> {
        self.slots
            .strategies
            .iter()
            .position(|s| s.plugin().name() == name)
    }

    /// Forget what a call that failed found: its instance is gone, and the
    /// next one starts from the state saved before the call.
    pub(super) fn discard_findings(&self) {
        let _ = self.runtime.reconciliation().take();
    }

    /// Book what the last call found: unknown orders and differences now,
    /// before its reports (an adopted order's reports name it); the
    /// positions it returns, to compare once its reports are booked.
    /// `market` is the call's market events, booked after its reports: an
    /// instrument one of them defines is the session's already.
    pub(super) fn take_findings(&mut self, market: &[MarketEvent]) -> Vec<(u32, i64, u64)> {
        let (findings, dropped) = self.runtime.reconciliation().take();
        if findings.is_empty() && dropped == 0 {
            return Vec::new(); // nearly every call: nothing allocated
        }
        let connector = self.slots.connector.plugin().name().to_string();
        if dropped > 0 {
            tracing::warn!(
                "{connector}: {dropped} reconciliation findings in one call were not heard"
            );
        }
        let mut positions = Vec::new();
        for finding in findings {
            match finding {
                Finding::UnknownOrder {
                    order,
                    decision,
                    now,
                } => {
                    let defined = order.instrument.is_some_and(|i| {
                        self.market.definition(i).is_some()
                            || market
                                .iter()
                                .any(|e| matches!(e, MarketEvent::Instrument(d) if d.id == i))
                    });
                    self.unknown_order(&connector, order, decision, defined, now);
                }
                Finding::Difference { order, text, now } => {
                    let instrument = self.router.instrument_of(order);
                    let entry = ReconcileEntry {
                        plugin: connector.clone(),
                        finding: "order".into(),
                        order: Some(order),
                        instrument: instrument.and_then(|i| self.symbol(i)),
                        detail: format!("host order {order}: {text}"),
                        action: "reported".into(),
                    };
                    self.difference(entry, now);
                }
                Finding::Position {
                    instrument,
                    quantity,
                    now,
                } => positions.push((instrument, quantity, now)),
            }
        }
        positions
    }

    /// Compare the venue's positions with the host's ledgers (every
    /// strategy's, adopted orders' fills included).
    pub(super) fn compare_positions(&mut self, positions: Vec<(u32, i64, u64)>) {
        let connector = self.slots.connector.plugin().name().to_string();
        for (instrument, venue, now) in positions {
            let host: i64 = self
                .router
                .accounts
                .iter()
                .flat_map(|a| a.ledger.holdings())
                .filter(|(i, _)| *i == instrument)
                .fold(0i64, |sum, (_, h)| sum.saturating_add(h.quantity));
            let symbol = self
                .symbol(instrument)
                .unwrap_or_else(|| format!("instrument {instrument}"));
            if let Some(live) = &mut self.live {
                live.figures.positions_checked += 1;
            }
            let detail = format!(
                "{symbol}: the venue holds {}, the host's books {}",
                exact(venue.into()),
                exact(host.into())
            );
            let mut entry = ReconcileEntry {
                plugin: connector.clone(),
                finding: "position".into(),
                order: None,
                instrument: Some(symbol),
                detail,
                action: "none".into(),
            };
            if venue == host {
                self.journal.write(now, || Entry::Reconcile(entry));
            } else {
                entry.action = "reported".into();
                self.difference(entry, now);
            }
        }
    }

    fn unknown_order(
        &mut self,
        connector: &str,
        order: VenueOrder,
        decision: Decision,
        defined: bool,
        now: u64,
    ) {
        let detail = describe(&order);
        let symbol = Some(order.symbol.clone());
        let (id, action) = match decision {
            Decision::Cancel => (None, "canceled".to_string()),
            Decision::Keep => (None, "kept, not booked".to_string()),
            Decision::Adopt(id) => {
                let strategy = self
                    .reconcile
                    .adopt_into
                    .as_deref()
                    .and_then(|name| Some((name.to_string(), self.strategy_index(name)?)));
                let known = order.instrument.filter(|_| defined);
                match (strategy, known) {
                    (Some((name, index)), Some(instrument)) => {
                        let client = self.router.adopt(
                            index,
                            id,
                            instrument,
                            order.side,
                            order.price,
                            order.leaves_quantity,
                            order.filled_quantity,
                            now,
                        );
                        (
                            Some(id),
                            format!("adopted by {name} as host order {id} (its id {client})"),
                        )
                    }
                    // Its reports will be refused as an unknown order's.
                    _ => (
                        Some(id),
                        "not adopted: its instrument or the strategy is not in the session"
                            .to_string(),
                    ),
                }
            }
        };
        let entry = ReconcileEntry {
            plugin: connector.to_string(),
            finding: "unknown-order".into(),
            order: id,
            instrument: symbol,
            detail,
            action,
        };
        self.difference(entry, now);
    }

    fn symbol(&self, instrument: u32) -> Option<String> {
        self.market.definition(instrument).map(|d| d.symbol.clone())
    }

    /// A difference: logged, journaled and kept for the report.
    fn difference(&mut self, entry: ReconcileEntry, now: u64) {
        tracing::warn!(
            "reconciliation: {}: {} ({})",
            entry.finding,
            entry.detail,
            entry.action
        );
        let journaled = entry.clone();
        self.journal.write(now, || Entry::Reconcile(journaled));
        if let Some(live) = &mut self.live {
            live.figures.difference(entry);
        }
    }
}

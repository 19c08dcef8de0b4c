//! The router's booking of what the matcher (or the host, for a halt or a
//! leaving strategy) says happened to an order: the order's state, the
//! strategy's ledger and counts, the journal's report record, and the report
//! on its way to the strategy.

use crate::bindings::types::{
    OrderCanceled, OrderCommand, OrderEvent, OrderRejected, RejectReason, Rejection, Side,
};
use crate::journal::decimal::exact;
use crate::journal::{Entry, Halt, HaltEntry};
use crate::sandbox::Fault;
use crate::trading::accounts::{CLIENT_BASE, GATEWAY};
use crate::trading::audit;
use crate::trading::ledger::fee;
use crate::trading::market::Market;

use super::{BookedFill, OrderRecord, OrderRouter};

impl OrderRouter {
    /// Adopt a working order at the live venue that the host did not send
    /// (reconciliation): it becomes host order `id` of `strategy`,
    /// accepted, with its side, limit and what is left and filled; its
    /// fills from now on are the strategy's, it counts among its working
    /// orders, and the kill switch cancels it. The strategy knows it by the
    /// client id returned, counted down from the top of the id space (its
    /// own ids count up, and a client id is never used twice).
    #[expect(clippy::too_many_arguments, reason = "one order's fields")]
    pub(crate) fn adopt(
        &mut self,
        strategy: usize,
        id: u64,
        instrument: u32,
        side: Side,
        limit: Option<i64>,
        leaves: i64,
        filled: i64,
        now: u64,
    ) -> u64 {
        let client_id = u64::MAX - (id - crate::engine::reconcile::ADOPTED_BASE);
        self.owners.insert(id, strategy as u32 + 1);
        self.orders.insert(
            id,
            OrderRecord {
                owner: strategy,
                client_id,
                instrument,
                side,
                limit,
                leaves,
                filled,
                // The venue's average price is not told: unknown.
                notional: 0,
                accepted: true,
                accepted_ts: now,
                rests: None,
                over: false,
            },
        );
        let account = &mut self.accounts[strategy];
        account.ids.insert(client_id);
        account.working.insert(client_id, id);
        client_id
    }

    /// The matcher failed: its instance, and every book in it, is gone. Rather
    /// than guess, halt trading for the rest of the session: refuse the
    /// failed call's new orders, cancel every working order (telling its
    /// strategy), and refuse everything after.
    pub(super) fn halt(
        &mut self,
        commands: &[OrderCommand],
        fault: &Fault,
        market: &Market,
        now: u64,
        name: &str,
    ) {
        let message = fault.to_string();
        let reason = Halt::MatcherFailed {
            matcher: name.to_string(),
            fault: message.clone(),
        };
        tracing::error!("trading halted: {reason}");
        self.journal.write(now, || {
            Entry::Halt(HaltEntry {
                reason: reason.clone(),
            })
        });
        self.counts.halted = Some(reason);
        // What was on its way never reaches the venue: refused with the rest.
        let in_flight = self.in_flight.take(|_| true);
        for command in commands.iter().chain(&in_flight) {
            if let OrderCommand::Submit(o) = command {
                let rejection = Rejection {
                    reason: RejectReason::InstrumentHalted,
                    message: Some(message.clone()),
                };
                let report = OrderRejected {
                    id: o.id,
                    instrument: o.instrument,
                    ts: now,
                    rejection,
                };
                self.apply_report(OrderEvent::Rejected(report), market, name, now);
            }
        }
        let mut working: Vec<(u64, u32, i64)> = self
            .orders
            .iter()
            .filter(|(id, r)| r.accepted && !self.finished.contains(id))
            .map(|(id, r)| (*id, r.instrument, r.leaves))
            .collect();
        working.sort_unstable();
        for (id, instrument, leaves) in working {
            let canceled = OrderCanceled {
                id,
                instrument,
                ts: now,
                canceled_quantity: leaves,
            };
            self.apply_report(OrderEvent::Canceled(canceled), market, name, now);
        }
    }

    pub(super) fn apply_report(
        &mut self,
        mut report: OrderEvent,
        market: &Market,
        matcher: &str,
        now: u64,
    ) {
        let id = report.id();
        let Some(record) = self.orders.get_mut(&id) else {
            tracing::warn!(matcher, "report for unknown order {id}: {report:?}");
            return;
        };
        let mut entry = self.journal.is_on().then(|| {
            let (name, account) = sender(&self.names, &self.client_names, record.owner);
            let mut entry = audit::report_entry(name, record.client_id, &report, market, matcher);
            entry.account = account.map(str::to_string);
            entry
        });
        let mut done = false;
        match &report {
            OrderEvent::Accepted(a) => {
                record.accepted = true;
                record.accepted_ts = a.ts;
                if let Some(quantity) = record.rests {
                    self.accounts[record.owner].counts.rested_quantity += i128::from(quantity);
                }
                self.accounts[record.owner]
                    .working
                    .insert(record.client_id, id);
                if let (Some(entry), Some(price), false) = (&mut entry, record.limit, self.balanced)
                {
                    // What the simulated venue queues it behind: the feed's
                    // quantity at its price when it arrived.
                    entry.queue_ahead = market
                        .resting_at(record.instrument, record.side, price)
                        .map(|q| exact(i128::from(q)));
                }
            }
            OrderEvent::Rejected(r) => {
                *self
                    .counts
                    .venue_rejections
                    .entry(r.rejection.reason.name())
                    .or_default() += 1;
                // Refusing a new order ends it; refusing a cancel or modify
                // leaves the order as it was (over already, if it was).
                done = !record.accepted || record.over;
            }
            OrderEvent::Filled(f) => {
                record.leaves = f.leaves_quantity;
                record.filled += f.quantity;
                record.notional += i128::from(f.price) * i128::from(f.quantity);
                done = f.leaves_quantity <= 0;
                let multiplier = market
                    .definition(f.instrument)
                    .map_or(1, |d| d.multiplier.max(1));
                let account = &mut self.accounts[record.owner];
                account
                    .ledger
                    .apply_fill(f.instrument, f.side, f.price, f.quantity, multiplier);
                let fees = market
                    .definition(f.instrument)
                    .and_then(|d| self.fees.get(&d.symbol));
                let charged = fees.map_or(0, |fees| {
                    fee(fees, f.maker, f.price, f.quantity, multiplier)
                });
                if fees.is_some() {
                    account.ledger.charge(charged);
                }
                let waited = f.maker.then(|| f.ts.saturating_sub(record.accepted_ts));
                if let Some(waited) = waited {
                    account.counts.maker_fills += 1;
                    account.counts.queue_wait_ns += u128::from(waited);
                    account.counts.maker_quantity += i128::from(f.quantity);
                } else {
                    account.counts.taker_fills += 1;
                    if record.rests.is_some() {
                        account.counts.rested_quantity -= i128::from(f.quantity);
                    }
                }
                if let Some(log) = &mut self.fill_log {
                    log.push(BookedFill {
                        order: id,
                        owner: record.owner,
                        client_id: record.client_id,
                        instrument: f.instrument,
                        side: f.side,
                        ts: f.ts,
                        price: f.price,
                        quantity: f.quantity,
                        maker: f.maker,
                    });
                }
                self.counts.fills += 1;
                if let Some(entry) = &mut entry {
                    let holding = account.ledger.holding(f.instrument);
                    entry.fee = Some(exact(charged));
                    entry.position = Some(exact(i128::from(holding.quantity)));
                    entry.average_price = Some(exact(i128::from(holding.average_price)));
                    entry.realized_pnl = Some(exact(account.ledger.realized_pnl()));
                    entry.queue_wait_ns = waited;
                }
            }
            OrderEvent::Canceled(_) => done = true,
            OrderEvent::Modified(m) => {
                record.limit = Some(m.price);
                record.leaves = m.leaves_quantity;
            }
        }
        let (owner, client_id) = (record.owner, record.client_id);
        if let Some(entry) = entry {
            self.journal.write(now, || Entry::Report(entry));
        }
        if done {
            record.over = true;
            self.finished.push(id);
        }
        if done {
            self.accounts[owner].working.remove(&client_id);
        }
        report.set_id(client_id);
        let instrument = report.instrument();
        let delay = self
            .latency
            .delays(market.definition(instrument), now)
            .response;
        self.accounts[owner]
            .pending
            .push((now.saturating_add(delay), report));
    }
}

impl OrderRouter {
    /// A client of the gateway named `name`: its owner index.
    pub(crate) fn add_client(&mut self, name: &str) -> usize {
        self.client_names.push(name.to_string());
        self.accounts.add_client()
    }

    /// The working orders of `owner` the matcher accepted, by its ids,
    /// oldest id first.
    pub(crate) fn open_orders(&self, owner: usize) -> Vec<OpenOrderView> {
        self.accounts[owner]
            .working
            .iter()
            .filter_map(|(client_id, host_id)| {
                let r = self.orders.get(host_id)?;
                (r.accepted && r.leaves > 0 && !r.over).then_some(OpenOrderView {
                    id: *client_id,
                    instrument: r.instrument,
                    side: r.side,
                    limit: r.limit,
                    leaves: r.leaves,
                    filled: r.filled,
                    average: (r.filled > 0)
                        .then(|| i64::try_from(r.notional / i128::from(r.filled)).unwrap_or(0)),
                })
            })
            .collect()
    }

    /// Who sent an order of `owner`, as the journal names it: a strategy,
    /// or the gateway and the client's account.
    pub(crate) fn sender(&self, owner: usize) -> (&str, Option<&str>) {
        sender(&self.names, &self.client_names, owner)
    }
}

/// A working order as its owner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenOrderView {
    pub(crate) id: u64,
    pub(crate) instrument: u32,
    pub(crate) side: Side,
    pub(crate) limit: Option<i64>,
    pub(crate) leaves: i64,
    pub(crate) filled: i64,
    /// The average price of its fills, if it has any.
    pub(crate) average: Option<i64>,
}

/// Who sent an order of `owner` (see [`OrderRouter::sender`]), from the
/// strategies' `names` and the `clients`' account names.
pub(super) fn sender<'a>(
    names: &'a [String],
    clients: &'a [String],
    owner: usize,
) -> (&'a str, Option<&'a str>) {
    match owner.checked_sub(CLIENT_BASE) {
        Some(client) => (GATEWAY, clients.get(client).map(String::as_str)),
        None => (names.get(owner).map_or("", String::as_str), None),
    }
}

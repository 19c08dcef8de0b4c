//! The order router: between the strategies and the matcher.
//!
//! Strategy order ids are the strategy's own; the router gives every order
//! a host id on its way to the matcher (so no strategy can touch another's
//! orders) and turns reports back into the strategy's ids. It keeps what
//! the host knows of every order (owner, side, price, leaves), each
//! strategy's account (ledger, counts, working orders, reports waiting to
//! be delivered). The market itself is the matcher's business (the
//! simulated venue is given the feed, see [`OrderRouter::feed`]).
//!
//! It makes no plugin call itself: the matcher is a function handed to
//! [`OrderRouter::execute`] and [`OrderRouter::feed`], so the router is
//! tested with a hand-written matcher (see the tests below).

use std::collections::{BTreeMap, HashMap};

use crate::bindings::types::{
    Account as AccountView, CancelOrder, ModifyOrder, NewOrder, OpenOrder, OrderCanceled,
    OrderCommand, OrderEvent, OrderRejected, OrderType, Position, RejectReason, Rejection,
    RiskContext, Side,
};
use crate::config::FeeSettings;
use crate::engine::SharedOwners;
use crate::journal::decimal::exact;
use crate::journal::{Entry, HaltEntry, Journal};
use crate::sandbox::Fault;
use crate::trading::audit;
use crate::trading::ids::IdSet;
use crate::trading::ledger::{Ledger, fee};
use crate::trading::market::Market;
use crate::trading::verify::{self, Known};

/// The host's record of an order sent to the matcher.
#[derive(Debug, Clone)]
struct OrderRecord {
    /// The strategy that sent it, by index.
    owner: usize,
    client_id: u64,
    instrument: u32,
    side: Side,
    /// Limit price; `None` for a market order.
    limit: Option<i64>,
    leaves: i64,
    filled: i64,
    /// The matcher accepted it (a later rejection refuses a cancel or modify, not the order).
    accepted: bool,
    /// When it was accepted (its wait in the queue starts).
    accepted_ts: u64,
}

/// Counters of one strategy.
#[derive(Debug, Clone, Default)]
pub struct StrategyCounts {
    /// Commands it sent.
    pub submitted: u64,
    /// Commands approved by every validator.
    pub approved: u64,
    /// Commands refused by the host or a validator.
    pub rejected: u64,
    /// Fills of its resting orders (maker).
    pub maker_fills: u64,
    /// Fills of its orders that took liquidity (taker).
    pub taker_fills: u64,
    /// Market time from acceptance to each maker fill, summed, ns.
    pub queue_wait_ns: u128,
}

/// One strategy's account at the host.
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub(crate) ledger: Ledger,
    pub(crate) counts: StrategyCounts,
    /// Every client id it ever submitted (a client id is used once).
    ids: IdSet,
    /// Client id → host id of its working orders.
    working: BTreeMap<u64, u64>,
    /// Reports waiting to be delivered.
    pending: Vec<OrderEvent>,
}

/// Order counts of a session.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderCounts {
    /// Commands sent by strategies.
    pub(crate) submitted: u64,
    /// Commands approved by every validator.
    pub(crate) approved: u64,
    /// Commands refused before reaching the matcher.
    pub(crate) rejected: u64,
    /// Refusals by (who, reason). One command may be refused by several validators.
    pub(crate) rejections: BTreeMap<(String, &'static str), u64>,
    /// Refusals by the matcher, by reason.
    pub(crate) venue_rejections: BTreeMap<&'static str, u64>,
    /// Fills of strategy orders.
    pub(crate) fills: u64,
    /// Why trading halted (the matcher failed), if it did.
    pub(crate) halted: Option<String>,
}

/// Orders between the strategies and the matcher.
#[derive(Debug)]
pub(crate) struct OrderRouter {
    orders: HashMap<u64, OrderRecord>,
    next_order_id: u64,
    /// Orders finished during the current matcher call, forgotten after it.
    finished: Vec<u64>,
    /// Fees by instrument symbol.
    fees: BTreeMap<String, FeeSettings>,
    /// Strategy orders trade only with each other (the exchange venue): the
    /// fills of one matcher call balance per instrument.
    balanced: bool,
    /// The owner of each order at the matcher, for its `orders` import.
    owners: SharedOwners,
    /// Where every report is recorded, and the strategies' names for it.
    journal: Journal,
    names: Vec<String>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) counts: OrderCounts,
}

impl OrderRouter {
    /// A router for `strategies` strategies, by index.
    pub(crate) fn new(strategies: usize) -> Self {
        Self {
            orders: HashMap::new(),
            next_order_id: 1,
            finished: Vec::new(),
            fees: BTreeMap::new(),
            balanced: false,
            owners: SharedOwners::default(),
            journal: Journal::default(),
            names: (0..strategies).map(|i| format!("strategy {i}")).collect(),
            accounts: (0..strategies).map(|_| Account::default()).collect(),
            counts: OrderCounts::default(),
        }
    }

    /// A strategy that joined the session: its index.
    pub(crate) fn add_strategy(&mut self, name: &str) -> usize {
        self.accounts.push(Account::default());
        self.names.push(name.to_string());
        self.accounts.len() - 1
    }

    /// Cancels, in host ids, of every working order of `strategy` (the
    /// host's own, for a strategy that leaves: no validator is asked).
    pub(crate) fn cancel_all(&self, strategy: usize) -> Vec<OrderCommand> {
        self.accounts[strategy]
            .working
            .values()
            .filter_map(|host| {
                let record = self.orders.get(host)?;
                Some(OrderCommand::Cancel(CancelOrder {
                    id: *host,
                    instrument: record.instrument,
                }))
            })
            .collect()
    }

    /// Count `n` commands sent by `strategy`.
    pub(crate) fn received(&mut self, strategy: usize, n: u64) {
        self.counts.submitted += n;
        self.accounts[strategy].counts.submitted += n;
    }

    /// The host's own checks of a command: ids, instruments, quantity and
    /// price against the instrument ([`verify::command`]), halts.
    pub(crate) fn check(
        &self,
        strategy: usize,
        command: &OrderCommand,
        market: &Market,
    ) -> Result<(), Rejection> {
        let account = &self.accounts[strategy];
        let refuse = |reason, message: String| {
            Err(Rejection {
                reason,
                message: Some(message),
            })
        };
        match command {
            OrderCommand::Submit(o) if account.ids.contains(o.id) => {
                return refuse(
                    RejectReason::InvalidOrder,
                    format!("order id {} was already used", o.id),
                );
            }
            OrderCommand::Cancel(CancelOrder { id, .. })
            | OrderCommand::Modify(ModifyOrder { id, .. })
                if !account.working.contains_key(id) =>
            {
                return refuse(
                    RejectReason::UnknownOrder,
                    format!("order {id} is not working"),
                );
            }
            _ => {}
        }
        let instrument = command.instrument();
        let Some(definition) = market.definition(instrument) else {
            return refuse(
                RejectReason::InvalidOrder,
                format!("unknown instrument {instrument}"),
            );
        };
        if let Err(why) = verify::command(command, definition) {
            return refuse(RejectReason::InvalidOrder, why);
        }
        if let Some(reason) = &self.counts.halted {
            return refuse(
                RejectReason::InstrumentHalted,
                format!("trading halted: {reason}"),
            );
        }
        Ok(())
    }

    /// Count `n` refusals by `by` for `reason`.
    pub(crate) fn count_rejections(&mut self, by: &str, reason: RejectReason, n: u64) {
        *self
            .counts
            .rejections
            .entry((by.to_string(), reason.name()))
            .or_default() += n;
    }

    /// Refuse `command` of `strategy` (one refusal, counted against `by`)
    /// and tell the strategy.
    pub(crate) fn reject(
        &mut self,
        strategy: usize,
        by: &str,
        command: &OrderCommand,
        rejection: Rejection,
        now: u64,
    ) {
        self.count_rejections(by, rejection.reason, 1);
        self.refuse(strategy, command, rejection, now);
    }

    /// Tell `strategy` its `command` was refused (already counted by reason).
    pub(crate) fn refuse(
        &mut self,
        strategy: usize,
        command: &OrderCommand,
        rejection: Rejection,
        now: u64,
    ) {
        self.counts.rejected += 1;
        let account = &mut self.accounts[strategy];
        account.counts.rejected += 1;
        account.pending.push(OrderEvent::Rejected(OrderRejected {
            id: command.id(),
            instrument: command.instrument(),
            ts: now,
            rejection,
        }));
    }

    /// What the validators see of `strategy` when they check its orders.
    pub(crate) fn risk_context(&self, strategy: usize, market: &Market, now: u64) -> RiskContext {
        let account = &self.accounts[strategy];
        let positions = account
            .ledger
            .holdings()
            .filter(|(_, h)| h.quantity != 0)
            .map(|(instrument, h)| Position {
                instrument,
                quantity: h.quantity,
                average_price: h.average_price,
            })
            .collect();
        let open_orders = account
            .working
            .iter()
            .filter_map(|(client, host)| {
                let r = self.orders.get(host)?;
                Some(OpenOrder {
                    id: *client,
                    instrument: r.instrument,
                    side: r.side,
                    price: r.limit.unwrap_or(0),
                    leaves_quantity: r.leaves,
                })
            })
            .collect();
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        RiskContext {
            now,
            strategy: strategy as u32,
            positions,
            open_orders,
            last_prices: market.last_prices(),
            account: AccountView {
                cash: clamp(account.ledger.cash()),
                realized_pnl: clamp(account.ledger.realized_pnl()),
            },
            instruments: market.definitions().to_vec(),
        }
    }

    /// Count `approved` commands of `strategy` and renumber them to host
    /// ids, recording new orders: what goes to the matcher.
    pub(crate) fn approve(
        &mut self,
        strategy: usize,
        approved: Vec<OrderCommand>,
    ) -> Vec<OrderCommand> {
        let n = approved.len() as u64;
        self.counts.approved += n;
        self.accounts[strategy].counts.approved += n;
        approved
            .into_iter()
            .map(|command| match command {
                OrderCommand::Submit(o) => {
                    let id = self.new_order(strategy, &o);
                    self.accounts[strategy].ids.insert(o.id);
                    OrderCommand::Submit(NewOrder { id, ..o })
                }
                OrderCommand::Cancel(c) => OrderCommand::Cancel(CancelOrder {
                    id: self.accounts[strategy].working[&c.id],
                    ..c
                }),
                OrderCommand::Modify(mut m) => {
                    m.id = self.accounts[strategy].working[&m.id];
                    OrderCommand::Modify(m)
                }
            })
            .collect()
    }

    fn new_order(&mut self, owner: usize, order: &NewOrder) -> u64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        // The matcher tells strategies apart by this number, never by their ids.
        self.owners.insert(id, owner as u32 + 1);
        self.orders.insert(
            id,
            OrderRecord {
                owner,
                client_id: order.id,
                instrument: order.instrument,
                side: order.side,
                limit: matches!(order.order_type, OrderType::Limit).then_some(order.price),
                leaves: order.quantity,
                filled: 0,
                accepted: false,
                accepted_ts: 0,
            },
        );
        id
    }

    /// Book the reports the matcher gave for the feed's events (fills of
    /// resting orders the simulated market reached); a failed call halts
    /// trading as a failed `execute` does. Returns the broken rule when the
    /// reports broke one (the caller records the matcher's contract fault).
    pub(crate) fn feed(
        &mut self,
        market: &Market,
        now: u64,
        name: &str,
        matcher: impl FnOnce() -> Result<Vec<OrderEvent>, Fault>,
    ) -> Option<String> {
        if self.counts.halted.is_some() {
            return None;
        }
        let answer = matcher();
        self.book(&[], answer, market, now, name)
    }

    /// Send host-numbered `commands` to `matcher` (called `name`) and book
    /// what comes back; a failing matcher halts trading (see [`Self::halt`]).
    /// Returns the broken rule when the reports broke one.
    pub(crate) fn execute(
        &mut self,
        commands: Vec<OrderCommand>,
        market: &Market,
        now: u64,
        name: &str,
        matcher: impl FnOnce(&[OrderCommand]) -> Result<Vec<OrderEvent>, Fault>,
    ) -> Option<String> {
        if commands.is_empty() {
            return None;
        }
        let answer = matcher(&commands);
        self.book(&commands, answer, market, now, name)
    }

    /// Book one matcher call's answer, every report checked first
    /// ([`verify::reports`]): a report that breaks a rule is a contract
    /// fault, and the call is treated as one that trapped.
    fn book(
        &mut self,
        commands: &[OrderCommand],
        answer: Result<Vec<OrderEvent>, Fault>,
        market: &Market,
        now: u64,
        name: &str,
    ) -> Option<String> {
        let mut breach = None;
        let answer = answer.and_then(|reports| {
            let known = |id| self.known(id);
            match verify::reports(commands, &reports, known, self.balanced) {
                Ok(()) => Ok(reports),
                Err(broken) => {
                    let reason = broken.to_string();
                    breach = Some(reason.clone());
                    Err(Fault::Contract {
                        plugin: name.to_string(),
                        reason,
                    })
                }
            }
        });
        match answer {
            Ok(reports) => {
                for report in reports {
                    self.apply_report(report, market, name, now);
                }
            }
            Err(fault) => self.halt(commands, &fault, market, now, name),
        }
        for id in &self.finished {
            self.orders.remove(id);
        }
        self.owners.remove(&self.finished);
        self.finished.clear();
        breach
    }

    /// What the host knows of order `id` (a host id).
    fn known(&self, id: u64) -> Option<Known> {
        let r = self.orders.get(&id)?;
        Some(Known {
            instrument: r.instrument,
            side: r.side,
            limit: r.limit,
            leaves: r.leaves,
            filled: r.filled,
            accepted: r.accepted,
        })
    }

    /// The matcher failed: its instance, and every book in it, is gone. Rather
    /// than guess, halt trading for the rest of the session: refuse the
    /// failed call's new orders, cancel every working order (telling its
    /// strategy), and refuse everything after.
    fn halt(
        &mut self,
        commands: &[OrderCommand],
        fault: &Fault,
        market: &Market,
        now: u64,
        name: &str,
    ) {
        let message = fault.to_string();
        let reason = format!("matcher {name} failed: {message}");
        tracing::error!("trading halted: {reason}");
        self.journal.write(now, || {
            Entry::Halt(HaltEntry {
                reason: reason.clone(),
            })
        });
        self.counts.halted = Some(reason);
        for command in commands {
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

    fn apply_report(&mut self, mut report: OrderEvent, market: &Market, matcher: &str, now: u64) {
        let id = report.id();
        let Some(record) = self.orders.get_mut(&id) else {
            tracing::warn!(matcher, "report for unknown order {id}: {report:?}");
            return;
        };
        let mut entry = self.journal.is_on().then(|| {
            let name = &self.names[record.owner];
            audit::report_entry(name, record.client_id, &report, market, matcher)
        });
        let mut done = false;
        match &report {
            OrderEvent::Accepted(a) => {
                record.accepted = true;
                record.accepted_ts = a.ts;
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
                // leaves the order as it was.
                done = !record.accepted;
            }
            OrderEvent::Filled(f) => {
                record.leaves = f.leaves_quantity;
                record.filled += f.quantity;
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
                } else {
                    account.counts.taker_fills += 1;
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
            self.finished.push(id);
        }
        let account = &mut self.accounts[owner];
        if done {
            account.working.remove(&client_id);
        }
        report.set_id(client_id);
        account.pending.push(report);
    }

    /// Check that the fills of each matcher call balance per instrument
    /// (the exchange venue: strategy orders trade only with each other).
    pub(crate) fn balanced(mut self, balanced: bool) -> Self {
        self.balanced = balanced;
        self
    }

    /// Publish the owner of every order to the matcher through `owners`
    /// (emptied: a session starts with no order).
    pub(crate) fn with_owners(mut self, owners: SharedOwners) -> Self {
        owners.clear();
        self.owners = owners;
        self
    }

    /// Record every report in `journal`, naming the strategies by `names` (by index).
    pub(crate) fn with_journal(mut self, journal: Journal, names: Vec<String>) -> Self {
        self.journal = journal;
        self.names = names;
        self
    }

    /// Charge fills by `fees` (by instrument symbol).
    pub(crate) fn with_fees(mut self, fees: BTreeMap<String, FeeSettings>) -> Self {
        self.fees = fees;
        self
    }

    /// The reports waiting for `strategy`, taken.
    pub(crate) fn take_pending(&mut self, strategy: usize) -> Vec<OrderEvent> {
        std::mem::take(&mut self.accounts[strategy].pending)
    }
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;

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
//! With the simulated venue, an approved command is in flight until it
//! reaches the venue: the order latency after its strategy sent it
//! ([`OrderRouter::send`]; the session hands it to the matcher after every
//! exchange event stamped at or before then, [`OrderRouter::arrived`]); a
//! report reaches its strategy the response latency after the venue sent it.
//! An order in flight is working for its strategy (it may cancel or modify
//! it; the command follows the order) and for the validators.
//!
//! It makes no plugin call itself: the matcher is a function handed to
//! [`OrderRouter::execute`] and [`OrderRouter::feed`], so the router is
//! tested with a hand-written matcher (see the tests below).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::bindings::types::{
    Account as AccountView, CancelOrder, MarketEvent, ModifyOrder, NewOrder, OpenOrder,
    OrderCanceled, OrderCommand, OrderEvent, OrderRejected, OrderType, Position, RejectReason,
    Rejection, RiskContext, Side, TimeInForce, TradingStatus,
};
use crate::config::FeeSettings;
use crate::engine::SharedOwners;
use crate::journal::{Halt, Journal};
use crate::sandbox::Fault;
use crate::trading::accounts::{Accounts, HOST, OrderCounts, Refused};
use crate::trading::in_flight::InFlight;
use crate::trading::latency::Latency;
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
    /// Price × quantity of its fills, summed (for its average price).
    notional: i128,
    /// The matcher accepted it (a later rejection refuses a cancel or modify, not the order).
    accepted: bool,
    /// When it was accepted (its wait in the queue starts).
    accepted_ts: u64,
    /// Its quantity when sent, if it is a GTC limit order (one that rests).
    rests: Option<i64>,
    /// It is over (filled, canceled, refused); kept while a command in
    /// flight names it, so the venue's answer to that command still reaches
    /// its strategy.
    over: bool,
}

/// A fill the router booked (host order id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BookedFill {
    pub(crate) order: u64,
    /// Its owner and the owner's id of the order.
    pub(crate) owner: usize,
    pub(crate) client_id: u64,
    pub(crate) instrument: u32,
    pub(crate) side: Side,
    pub(crate) ts: u64,
    pub(crate) price: i64,
    pub(crate) quantity: i64,
    pub(crate) maker: bool,
}

/// Orders between the strategies and the matcher.
#[derive(Debug)]
pub(crate) struct OrderRouter {
    orders: FxHashMap<u64, OrderRecord>,
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
    /// The delays of the simulated venue.
    latency: Latency,
    /// Approved commands (host ids) on their way to the venue.
    in_flight: InFlight,
    /// The fills booked since last taken, when asked to keep them.
    fill_log: Option<Vec<BookedFill>>,
    pub(crate) accounts: Accounts,
    /// The gateway's clients' account names, by client number.
    client_names: Vec<String>,
    pub(crate) counts: OrderCounts,
}

impl OrderRouter {
    /// A router for `strategies` strategies, by index.
    pub(crate) fn new(strategies: usize) -> Self {
        Self {
            orders: FxHashMap::default(),
            next_order_id: 1,
            finished: Vec::new(),
            fees: BTreeMap::new(),
            balanced: false,
            owners: SharedOwners::default(),
            journal: Journal::default(),
            names: (0..strategies).map(|i| format!("strategy {i}")).collect(),
            latency: Latency::default(),
            in_flight: InFlight::default(),
            fill_log: None,
            accounts: Accounts::strategies(strategies),
            client_names: Vec::new(),
            counts: OrderCounts::default(),
        }
    }

    /// A strategy that joined the session: its index.
    pub(crate) fn add_strategy(&mut self, name: &str) -> usize {
        self.names.push(name.to_string());
        self.accounts.add_strategy()
    }

    /// Cancels, in host ids, of every working order of `strategy` at the
    /// venue (the host's own, for a strategy that leaves: no validator is
    /// asked; see [`Self::recall`] for those in flight).
    pub(crate) fn cancel_all(&self, strategy: usize) -> Vec<OrderCommand> {
        self.accounts[strategy]
            .working
            .values()
            .filter_map(|host| {
                let record = self.orders.get(host)?;
                record.accepted.then_some(OrderCommand::Cancel(CancelOrder {
                    id: *host,
                    instrument: record.instrument,
                }))
            })
            .collect()
    }

    /// `strategy` leaves: its commands in flight never reach the venue, and
    /// its orders among them are canceled by the host (at `now`). Returns
    /// how many orders that canceled.
    pub(crate) fn recall(&mut self, strategy: usize, market: &Market, now: u64) -> u64 {
        let orders = &self.orders;
        let mine = self
            .in_flight
            .take(|c| orders.get(&c.id()).is_some_and(|r| r.owner == strategy));
        let mut canceled = 0;
        for command in mine {
            let OrderCommand::Submit(o) = command else {
                continue;
            };
            canceled += 1;
            let report = OrderCanceled {
                id: o.id,
                instrument: o.instrument,
                ts: now,
                canceled_quantity: o.quantity,
            };
            self.apply_report(OrderEvent::Canceled(report), market, HOST, now);
        }
        self.forget_finished();
        canceled
    }

    /// Commands in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// When the next command in flight reaches the venue.
    pub(crate) fn next_arrival(&self) -> Option<u64> {
        self.in_flight.next_arrival()
    }

    /// The commands that reached the venue before `ts` (all of them with
    /// `None`), by arrival, oldest first.
    pub(crate) fn arrived(&mut self, before: Option<u64>) -> Vec<(u64, Vec<OrderCommand>)> {
        self.in_flight.arrived(before)
    }

    /// Host-numbered `commands` approved at `now` (the strategies' clock)
    /// set off for the venue: each arrives the order latency of its
    /// instrument later. Returns each one's arrival.
    pub(crate) fn send(
        &mut self,
        commands: Vec<OrderCommand>,
        market: &Market,
        now: u64,
    ) -> Vec<u64> {
        commands
            .into_iter()
            .map(|command| {
                let definition = market.definition(command.instrument());
                let arrival = now.saturating_add(self.latency.delays(definition, now).order);
                self.in_flight.send(command, arrival);
                arrival
            })
            .collect()
    }

    /// Keep every fill booked, for [`Self::take_fills`].
    pub(crate) fn with_fill_log(mut self) -> Self {
        self.keep_fills();
        self
    }

    /// Keep every fill booked from now on, for [`Self::take_fills`].
    pub(crate) fn keep_fills(&mut self) {
        self.fill_log.get_or_insert_with(Vec::new);
    }

    /// The fills booked since the last call (none unless kept).
    pub(crate) fn take_fills(&mut self) -> Vec<BookedFill> {
        self.fill_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The name of the strategy that sent host order `id`.
    pub(crate) fn owner_name(&self, id: u64) -> Option<&str> {
        let record = self.orders.get(&id)?;
        Some(self.sender(record.owner).0)
    }

    /// Model the simulated venue's delays with `latency`.
    pub(crate) fn with_latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// The delays' model.
    pub(crate) fn latency(&mut self) -> &mut Latency {
        &mut self.latency
    }

    /// Count `n` commands sent by `strategy`.
    pub(crate) fn received(&mut self, strategy: usize, n: u64) {
        self.counts.submitted += n;
        self.accounts[strategy].counts.submitted += n;
    }

    /// The host's own checks of a command: ids, instruments, quantity and
    /// price against the instrument ([`verify::command`]), halts. A new
    /// order's id is used from here on, whatever becomes of the order: a
    /// strategy's client ids are unique for the whole session, refused ones
    /// included.
    pub(crate) fn check(
        &mut self,
        strategy: usize,
        command: &OrderCommand,
        market: &Market,
    ) -> Result<(), Rejection> {
        let halted = self.counts.halted.clone();
        let account = &mut self.accounts[strategy];
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
            OrderCommand::Submit(o) => account.ids.insert(o.id),
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
        if !matches!(command, OrderCommand::Cancel(_))
            && let Some(status @ (TradingStatus::Halted | TradingStatus::Closed)) =
                market.status(instrument)
        {
            let what = match status {
                TradingStatus::Closed => "closed",
                _ => "halted",
            };
            return refuse(
                RejectReason::InstrumentHalted,
                format!("{} is {what} (the feed's status)", definition.symbol),
            );
        }
        if let Some(reason) = halted
            && !matches!(command, OrderCommand::Cancel(_))
        {
            return refuse(
                RejectReason::InstrumentHalted,
                format!("trading halted: {reason}"),
            );
        }
        Ok(())
    }

    /// Count `n` refusals of `strategy`'s commands by `by` for `reason`
    /// (`message`: what `by` said of the first).
    pub(crate) fn count_rejections(
        &mut self,
        strategy: usize,
        by: &str,
        reason: RejectReason,
        message: Option<&str>,
        n: u64,
    ) {
        *self
            .counts
            .rejections
            .entry((by.to_string(), reason.name()))
            .or_default() += n;
        let refused = &mut self.accounts[strategy].refused_by;
        match refused.get_mut(by) {
            Some(r) => r.count += n,
            None => {
                let first = Refused {
                    count: n,
                    reason: reason.name(),
                    message: message.map(str::to_string),
                };
                refused.insert(by.to_string(), first);
            }
        }
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
        let message = rejection.message.as_deref();
        self.count_rejections(strategy, by, rejection.reason, message, 1);
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
        let report = OrderEvent::Rejected(OrderRejected {
            id: command.id(),
            instrument: command.instrument(),
            ts: now,
            rejection,
        });
        account.pending.push((now, report));
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
                    let account = &mut self.accounts[strategy];
                    account.ids.insert(o.id);
                    // Working from now on (pending-new until the venue answers).
                    account.working.insert(o.id, id);
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
                notional: 0,
                accepted: false,
                accepted_ts: 0,
                rests: (matches!(order.order_type, OrderType::Limit)
                    && order.time_in_force == TimeInForce::Gtc)
                    .then_some(order.quantity),
                over: false,
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
        events: &[MarketEvent],
        market: &Market,
        now: u64,
        name: &str,
        matcher: impl FnOnce() -> Result<Vec<OrderEvent>, Fault>,
    ) -> Option<String> {
        if matches!(self.counts.halted, Some(Halt::MatcherFailed { .. })) {
            return None;
        }
        let answer = matcher();
        let printed = if self.balanced {
            Vec::new()
        } else {
            verify::printed(events)
        };
        self.book(&[], answer, market, &printed, now, name)
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
        self.book(&commands, answer, market, &[], now, name)
    }

    /// Book one matcher call's answer, every report checked first
    /// ([`verify::reports`]): a report that breaks a rule is a contract
    /// fault, and the call is treated as one that trapped.
    fn book(
        &mut self,
        commands: &[OrderCommand],
        answer: Result<Vec<OrderEvent>, Fault>,
        market: &Market,
        printed: &[(u32, i64)],
        now: u64,
        name: &str,
    ) -> Option<String> {
        let mut breach = None;
        let prices = match self.balanced {
            true => verify::Prices::Balanced,
            false => verify::Prices::Feed { market, printed },
        };
        let answer = answer.and_then(|reports| {
            let known = |id| self.known(id);
            match verify::reports(commands, &reports, known, prices) {
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
        self.forget_finished();
        breach
    }

    /// Book one report of a live venue (through its network connector
    /// `name`), checked first against the order the host knows and the
    /// `commands` still unanswered for it ([`verify::reports`], the venue's
    /// prices): a report that breaks a rule is not booked, and the broken
    /// rule is returned. Nothing halts: the venue's word on other orders
    /// stands.
    pub(crate) fn venue_report(
        &mut self,
        report: OrderEvent,
        commands: &[OrderCommand],
        market: &Market,
        now: u64,
        name: &str,
    ) -> Result<(), verify::Breach> {
        let known = |id| self.known(id);
        verify::reports(
            commands,
            std::slice::from_ref(&report),
            known,
            verify::Prices::Venue,
        )?;
        self.apply_report(report, market, name, now);
        self.forget_finished();
        Ok(())
    }

    /// The operator's kill switch: trading halts (no new order or modify
    /// passes [`Self::check`]), recorded in the journal; the cancels of
    /// every working order, in host ids, when `cancel_all` (the caller sends
    /// them to the venue).
    pub(crate) fn operator_halt(&mut self, cancel_all: bool, now: u64) -> Vec<OrderCommand> {
        let reason = Halt::Operator { cancel_all };
        tracing::warn!("{reason}");
        self.journal.write(now, || {
            crate::journal::Entry::Halt(crate::journal::HaltEntry {
                reason: reason.clone(),
            })
        });
        self.counts.halted = Some(reason);
        if !cancel_all {
            return Vec::new();
        }
        let mut working: Vec<(u64, u32)> = self
            .orders
            .iter()
            .filter(|(id, r)| r.accepted && r.leaves > 0 && !self.finished.contains(id))
            .map(|(id, r)| (*id, r.instrument))
            .collect();
        working.sort_unstable();
        working
            .into_iter()
            .map(|(id, instrument)| OrderCommand::Cancel(CancelOrder { id, instrument }))
            .collect()
    }

    /// The instrument of host order `id`, while the host holds it.
    pub(crate) fn instrument_of(&self, id: u64) -> Option<u32> {
        self.orders.get(&id).map(|r| r.instrument)
    }

    /// Whether host order `id` is still working or awaited.
    pub(crate) fn knows(&self, id: u64) -> bool {
        self.orders.contains_key(&id) && !self.finished.contains(&id)
    }

    /// Forget the orders finished since the last time, but those a command
    /// in flight still names (forgotten once the venue answered it).
    fn forget_finished(&mut self) {
        let finished = std::mem::take(&mut self.finished);
        let (kept, gone): (Vec<u64>, Vec<u64>) = finished
            .into_iter()
            .partition(|id| self.in_flight.names(*id));
        for id in &gone {
            self.orders.remove(id);
        }
        self.owners.remove(&gone);
        self.finished = kept;
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

    /// The reports that reached `strategy` by `now` (the strategies'
    /// clock; every one waiting with `None`), taken, oldest first.
    pub(crate) fn take_pending(&mut self, strategy: usize, now: Option<u64>) -> Vec<OrderEvent> {
        let pending = &mut self.accounts[strategy].pending;
        match now {
            None => pending.drain(..).map(|(_, r)| r).collect(),
            Some(now) if pending.iter().all(|(due, _)| *due <= now) => {
                pending.drain(..).map(|(_, r)| r).collect()
            }
            Some(now) => {
                let mut due = Vec::new();
                pending.retain(|(at, report)| {
                    let reached = *at <= now;
                    if reached {
                        due.push(report.clone());
                    }
                    !reached
                });
                due
            }
        }
    }
}

#[path = "router_booking.rs"]
mod booking;

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;

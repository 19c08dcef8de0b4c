//! What plugins return, checked against what the host knows, before any of
//! it is acted on: a plugin's output is untrusted input.
//!
//! - Strategy commands ([`command`]): a positive quantity on the
//!   instrument's lot size; a limit price that is positive and on its tick.
//!   A command that breaks one is refused with the reason before any
//!   validator sees it.
//! - Matcher reports ([`reports`]): every report of one call is checked
//!   against the orders the host sent, in order, before any is booked. A
//!   report that breaks a rule makes the whole call a contract fault of the
//!   matcher (nothing of it is booked, as for a trapped call).
//!
//! - Processor output ([`derived`]): only bars and signals, about known
//!   instruments, stamped no later than the batch; a bar's prices positive
//!   and its high and low around its open and close; a signal's name
//!   interned and its value finite. One event that breaks a rule makes the
//!   whole call a contract fault of the processor.
//!
//! Connector events are checked where they are interned (`market.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::bindings::types::{InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, Side};
use crate::engine::SignalNames;
use crate::journal::decimal::{decimal, exact};
use crate::trading::market::Market;

/// A strategy command's own sanity against its instrument's definition.
pub(crate) fn command(command: &OrderCommand, def: &InstrumentDefinition) -> Result<(), String> {
    let (limit, quantity) = match command {
        OrderCommand::Submit(o) => {
            let limit = matches!(o.order_type, crate::bindings::types::OrderType::Limit);
            (limit.then_some(o.price), o.quantity)
        }
        OrderCommand::Modify(m) => (Some(m.price), m.quantity),
        OrderCommand::Cancel(_) => return Ok(()),
    };
    let symbol = &def.symbol;
    if quantity <= 0 {
        return Err(format!("quantity {} is not positive", show(quantity)));
    }
    if def.lot_size > 0 && quantity % def.lot_size != 0 {
        return Err(format!(
            "quantity {} is not a multiple of the lot size {} of {symbol}",
            show(quantity),
            show(def.lot_size)
        ));
    }
    if let Some(price) = limit {
        if price <= 0 {
            return Err(format!("limit price {} is not positive", show(price)));
        }
        if def.tick_size > 0 && price % def.tick_size != 0 {
            return Err(format!(
                "limit price {} is not on the tick {} of {symbol}",
                show(price),
                show(def.tick_size)
            ));
        }
    }
    Ok(())
}

/// A processor's output for a batch whose last event is at `now`: the
/// first event that breaks a rule (see the module docs), as the reason.
pub(crate) fn derived(
    events: &[MarketEvent],
    market: &Market,
    signals: &SignalNames,
    now: u64,
) -> Result<(), String> {
    // Ids are dense and never removed: one read of the table per call.
    let interned = signals.len();
    for (at, event) in events.iter().enumerate() {
        let refuse = |why: String| Err(format!("derived event {at}: {why}"));
        let (instrument, ts) = match event {
            MarketEvent::Bar(b) => {
                if b.open <= 0 || b.high <= 0 || b.low <= 0 || b.close <= 0 {
                    return refuse(format!("a bar's prices are not all positive: {b:?}"));
                }
                if b.low > b.open.min(b.close) || b.high < b.open.max(b.close) {
                    return refuse(format!(
                        "a bar's high and low do not hold its open and close: {b:?}"
                    ));
                }
                if b.volume < 0 {
                    return refuse(format!("a bar's volume is negative: {b:?}"));
                }
                (b.instrument, b.ts)
            }
            MarketEvent::Signal(s) => {
                if !s.value.is_finite() {
                    return refuse(format!("signal {} is {}", s.name, s.value));
                }
                if s.name >= interned {
                    return refuse(format!("signal id {} was never interned", s.name));
                }
                (s.instrument, s.ts)
            }
            other => {
                let kind = match other {
                    MarketEvent::Instrument(_) => "instrument definition",
                    MarketEvent::Quote(_) => "quote",
                    MarketEvent::Trade(_) => "trade",
                    MarketEvent::BookDelta(_) => "book delta",
                    MarketEvent::Depth(_) => "depth snapshot",
                    _ => "status change",
                };
                return refuse(format!(
                    "a processor derives bars and signals, not a {kind}"
                ));
            }
        };
        if market.definition(instrument).is_none() {
            return refuse(format!("unknown instrument {instrument}"));
        }
        if ts > now {
            return refuse(format!(
                "stamped {ts}, after the batch's last event at {now}"
            ));
        }
    }
    Ok(())
}

/// What the host knows of an order before a matcher call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    pub(crate) instrument: u32,
    pub(crate) side: Side,
    /// Its limit price; `None` for a market order.
    pub(crate) limit: Option<i64>,
    /// Quantity still working.
    pub(crate) leaves: i64,
    /// Quantity filled so far.
    pub(crate) filled: i64,
    /// The matcher accepted it.
    pub(crate) accepted: bool,
}

/// A matcher report that breaks a rule: which report, which rule, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breach {
    /// The rule's name (`overfill`, `wrong-side`, ...).
    pub(crate) rule: &'static str,
    /// The report, as the matcher sent it (its position in the call and the record).
    pub(crate) report: String,
    /// What was wrong with it.
    pub(crate) detail: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule `{}` broken by {}: {}",
            self.rule, self.report, self.detail
        )
    }
}

/// An order as the checks go through one call's reports.
struct Order {
    known: Known,
    /// Finished during this call (filled, canceled, refused).
    done: bool,
}

/// Check one matcher call's `reports` against the orders the host knows
/// (`known`, by host id) and the `commands` of the call. With `balanced`
/// (the exchange venue, where strategy orders trade only with each other),
/// the quantity bought and sold per instrument in the call must match.
pub(crate) fn reports(
    commands: &[OrderCommand],
    reports: &[OrderEvent],
    known: impl Fn(u64) -> Option<Known>,
    balanced: bool,
) -> Result<(), Breach> {
    let mut orders: HashMap<u64, Order> = HashMap::new();
    // Every command of the call per order (a strategy may modify and cancel
    // one order in one batch).
    let mut commanded: HashMap<u64, Vec<&OrderCommand>> = HashMap::new();
    for command in commands {
        commanded.entry(command.id()).or_default().push(command);
    }
    let asked = |id: u64| commanded.get(&id).map_or(&[][..], Vec::as_slice);
    // Per instrument: (bought, sold) in this call.
    let mut traded: BTreeMap<u32, (i128, i128)> = BTreeMap::new();
    for (n, report) in reports.iter().enumerate() {
        let breach = |rule, detail: String| Breach {
            rule,
            report: format!("report {} of the call ({report:?})", n + 1),
            detail,
        };
        let id = report.id();
        let order = match orders.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => match known(id) {
                Some(known) => e.insert(Order { known, done: false }),
                None => {
                    return Err(breach(
                        "unknown-order",
                        format!("the host sent no order {id}"),
                    ));
                }
            },
        };
        let k = &mut order.known;
        if report.instrument() != k.instrument {
            return Err(breach(
                "wrong-instrument",
                format!(
                    "order {id} is for instrument {}, not {}",
                    k.instrument,
                    report.instrument()
                ),
            ));
        }
        if order.done {
            // Refusing a cancel or modify of an order that finished earlier
            // in the same call is what a venue does; anything else is not.
            let refused_command = matches!(report, OrderEvent::Rejected(_))
                && asked(id)
                    .iter()
                    .any(|c| matches!(c, OrderCommand::Cancel(_) | OrderCommand::Modify(_)));
            if refused_command {
                continue;
            }
            return Err(breach(
                "not-working",
                format!("order {id} already finished earlier in this call"),
            ));
        }
        match report {
            OrderEvent::Accepted(_) => {
                if k.accepted {
                    return Err(breach(
                        "accepted-twice",
                        format!("order {id} was already accepted"),
                    ));
                }
                k.accepted = true;
            }
            OrderEvent::Rejected(_) => order.done = !k.accepted,
            OrderEvent::Filled(f) => {
                if f.quantity <= 0 {
                    return Err(breach(
                        "fill-quantity",
                        format!("fill quantity {} is not positive", show(f.quantity)),
                    ));
                }
                if f.side != k.side {
                    return Err(breach(
                        "wrong-side",
                        format!("order {id} is a {:?}, the fill a {:?}", k.side, f.side),
                    ));
                }
                if f.quantity > k.leaves {
                    return Err(breach(
                        "overfill",
                        format!(
                            "fill of {} when {} is working",
                            show(f.quantity),
                            show(k.leaves)
                        ),
                    ));
                }
                let through = match (k.limit, f.side) {
                    (Some(limit), Side::Buy) => f.price > limit,
                    (Some(limit), Side::Sell) => f.price < limit,
                    (None, _) => f.price <= 0,
                };
                if through {
                    let limit = k.limit.map_or("none (a market order)".into(), show);
                    return Err(breach(
                        "through-limit",
                        format!(
                            "a {:?} filled at {}, its limit is {limit}",
                            f.side,
                            show(f.price)
                        ),
                    ));
                }
                let leaves = k.leaves - f.quantity;
                if f.leaves_quantity != leaves {
                    return Err(breach(
                        "leaves",
                        format!(
                            "leaves {} after a fill of {} from {}; expected {}",
                            show(f.leaves_quantity),
                            show(f.quantity),
                            show(k.leaves),
                            show(leaves)
                        ),
                    ));
                }
                k.leaves = leaves;
                k.filled += f.quantity;
                order.done = leaves == 0;
                let side = traded.entry(f.instrument).or_default();
                match f.side {
                    Side::Buy => side.0 += i128::from(f.quantity),
                    Side::Sell => side.1 += i128::from(f.quantity),
                }
            }
            OrderEvent::Canceled(c) => {
                if c.canceled_quantity != k.leaves {
                    return Err(breach(
                        "cancel-quantity",
                        format!(
                            "canceled {} when {} is working",
                            show(c.canceled_quantity),
                            show(k.leaves)
                        ),
                    ));
                }
                k.leaves = 0;
                order.done = true;
            }
            OrderEvent::Modified(m) => {
                let modifies: Vec<_> = asked(id)
                    .iter()
                    .filter_map(|c| match c {
                        OrderCommand::Modify(modify) => Some(modify),
                        _ => None,
                    })
                    .collect();
                if modifies.is_empty() {
                    return Err(breach(
                        "modify-unasked",
                        format!("no modify of order {id} was sent in this call"),
                    ));
                }
                let fits = |asked: &&&crate::bindings::types::ModifyOrder| {
                    let leaves = asked.quantity - k.filled;
                    m.price == asked.price && m.leaves_quantity == leaves && leaves > 0
                };
                let Some(asked) = modifies.iter().find(fits) else {
                    let asked = modifies[modifies.len() - 1];
                    return Err(breach(
                        "modify-mismatch",
                        format!(
                            "modified to {} x {}; asked for {} x {} total, {} filled",
                            show(m.leaves_quantity),
                            show(m.price),
                            show(asked.quantity),
                            show(asked.price),
                            show(k.filled)
                        ),
                    ));
                };
                k.limit = Some(m.price);
                k.leaves = asked.quantity - k.filled;
            }
        }
    }
    if balanced && let Some((instrument, (bought, sold))) = traded.iter().find(|(_, (b, s))| b != s)
    {
        return Err(Breach {
            rule: "unbalanced",
            report: format!("the fills of instrument {instrument} in this call"),
            detail: format!(
                "bought {} and sold {}; strategy orders trade only with each other",
                decimal(*bought, 9),
                decimal(*sold, 9)
            ),
        });
    }
    Ok(())
}

/// A fixed-point value, without trailing zeros.
fn show(value: i64) -> String {
    exact(i128::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{
        CancelOrder, Fill, NewOrder, OrderAccepted, OrderCanceled, OrderType, TimeInForce,
    };

    const U: i64 = 1_000_000_000;

    fn def() -> InstrumentDefinition {
        InstrumentDefinition {
            id: 0,
            symbol: "X".into(),
            tick_size: U / 4,
            lot_size: U,
            price_precision: 2,
            size_precision: 0,
            multiplier: 1,
        }
    }

    fn submit(price: i64, quantity: i64) -> OrderCommand {
        OrderCommand::Submit(NewOrder {
            id: 1,
            instrument: 0,
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price,
            quantity,
        })
    }

    #[test]
    fn a_command_needs_a_positive_quantity_on_the_lot_and_a_price_on_the_tick() {
        assert_eq!(command(&submit(100 * U, 2 * U), &def()), Ok(()));
        let refused = |c| command(&c, &def()).unwrap_err();
        assert_eq!(refused(submit(100 * U, 0)), "quantity 0 is not positive");
        assert_eq!(
            refused(submit(100 * U, U / 2)),
            "quantity 0.5 is not a multiple of the lot size 1 of X"
        );
        assert_eq!(refused(submit(-U, U)), "limit price -1 is not positive");
        assert_eq!(
            refused(submit(100 * U + U / 10, U)),
            "limit price 100.1 is not on the tick 0.25 of X"
        );
        let cancel = OrderCommand::Cancel(CancelOrder {
            id: 1,
            instrument: 0,
        });
        assert_eq!(command(&cancel, &def()), Ok(()));
    }

    fn known(id: u64) -> Option<Known> {
        (id == 7).then_some(Known {
            instrument: 0,
            side: Side::Buy,
            limit: Some(100 * U),
            leaves: 2 * U,
            filled: 0,
            accepted: true,
        })
    }

    fn fill(side: Side, price: i64, quantity: i64, leaves: i64) -> OrderEvent {
        OrderEvent::Filled(Fill {
            id: 7,
            instrument: 0,
            ts: 1,
            side,
            price,
            quantity,
            leaves_quantity: leaves,
            maker: true,
        })
    }

    fn rule(events: &[OrderEvent], balanced: bool) -> Option<&'static str> {
        reports(&[], events, known, balanced).err().map(|b| b.rule)
    }

    #[test]
    fn every_rule_of_a_fill_is_checked() {
        let ok = fill(Side::Buy, 100 * U, U, U);
        assert_eq!(rule(std::slice::from_ref(&ok), false), None);
        assert_eq!(rule(&[fill(Side::Buy, 99 * U, 2 * U, 0)], false), None);
        assert_eq!(
            rule(&[fill(Side::Buy, 100 * U, 3 * U, -U)], false),
            Some("overfill")
        );
        assert_eq!(
            rule(&[fill(Side::Sell, 100 * U, U, U)], false),
            Some("wrong-side")
        );
        assert_eq!(
            rule(&[fill(Side::Buy, 100 * U, -U, 3 * U)], false),
            Some("fill-quantity")
        );
        assert_eq!(
            rule(&[fill(Side::Buy, 101 * U, U, U)], false),
            Some("through-limit")
        );
        assert_eq!(
            rule(&[fill(Side::Buy, 100 * U, U, 2 * U)], false),
            Some("leaves")
        );
        // The same fill twice: the second finds less working than it says.
        assert_eq!(rule(std::slice::from_ref(&ok), true), Some("unbalanced"));
        assert_eq!(rule(&[ok.clone(), ok], false), Some("leaves"));
    }

    #[test]
    fn a_modify_answers_one_of_the_calls_modifies() {
        let modify = |price, quantity| {
            OrderCommand::Modify(crate::bindings::types::ModifyOrder {
                id: 7,
                instrument: 0,
                price,
                quantity,
            })
        };
        let cancel = OrderCommand::Cancel(CancelOrder {
            id: 7,
            instrument: 0,
        });
        let modified = |price, leaves| {
            OrderEvent::Modified(crate::bindings::types::OrderModified {
                id: 7,
                instrument: 0,
                ts: 1,
                price,
                leaves_quantity: leaves,
            })
        };
        let commands = [modify(99 * U, 3 * U), cancel];
        let check = |events: &[OrderEvent]| {
            reports(&commands, events, known, false)
                .err()
                .map(|b| b.rule)
        };
        assert_eq!(check(&[modified(99 * U, 3 * U)]), None);
        assert_eq!(check(&[modified(98 * U, 3 * U)]), Some("modify-mismatch"));
        assert_eq!(
            reports(&[], &[modified(99 * U, 3 * U)], known, false)
                .unwrap_err()
                .rule,
            "modify-unasked"
        );
    }

    #[test]
    fn cancels_accepts_and_unknown_orders_are_checked() {
        let cancel = |q| {
            OrderEvent::Canceled(OrderCanceled {
                id: 7,
                instrument: 0,
                ts: 1,
                canceled_quantity: q,
            })
        };
        assert_eq!(rule(&[cancel(2 * U)], false), None);
        assert_eq!(rule(&[cancel(U)], false), Some("cancel-quantity"));
        assert_eq!(
            rule(&[cancel(2 * U), cancel(2 * U)], false),
            Some("not-working")
        );
        let accept = |id| {
            OrderEvent::Accepted(OrderAccepted {
                id,
                instrument: 0,
                ts: 1,
            })
        };
        assert_eq!(rule(&[accept(7)], false), Some("accepted-twice"));
        assert_eq!(rule(&[accept(8)], false), Some("unknown-order"));
        let breach = reports(&[], &[cancel(U)], known, false).unwrap_err();
        assert!(
            breach.to_string().starts_with(
                "rule `cancel-quantity` broken by report 1 of the call (OrderEvent::Canceled"
            ),
            "{breach}"
        );
    }
}

//! A matcher's reports, checked against the orders the host sent and the
//! prices its venue allows, before any is booked (see `verify.rs`).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::fmt;

use crate::bindings::types::{BookAction, MarketEvent, OrderCommand, OrderEvent, Side};
use crate::journal::decimal::{decimal, exact};
use crate::trading::market::Market;

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

/// What prices a matcher's fills may have: what the venue is.
#[derive(Clone, Copy)]
pub(crate) enum Prices<'a> {
    /// The exchange venue: strategy orders trade only with each other, so
    /// in one call as much is bought as sold per instrument, and per price
    /// (both sides of a trade share one price and one quantity).
    Balanced,
    /// The simulated venue: a taker fill at a level the feed's book shows on
    /// the other side, within its size (what the venue's own resting orders
    /// at that price bring besides), or at the last price without a book; a
    /// maker fill at its order's limit, or at a price the feed printed in the
    /// events the call was given (an auction, a bar's open).
    Feed {
        /// The host's books as they stood when the call was made.
        market: &'a Market,
        /// (instrument, price) of each trade, fill record and bar price of
        /// the events the call was given.
        printed: &'a [(u32, i64)],
    },
    /// A live venue (through a network connector): its fills are at or
    /// better than the order's limit, on an order it acknowledged; the
    /// venue's book is its own, so no price is checked against the host's.
    Venue,
}

/// The prices the feed printed in `events`: (instrument, price) of each
/// trade, fill record and bar price.
pub(crate) fn printed(events: &[MarketEvent]) -> Vec<(u32, i64)> {
    let mut out = Vec::new();
    for event in events {
        match event {
            MarketEvent::Trade(t) => out.push((t.instrument, t.price)),
            MarketEvent::BookDelta(d) if d.action == BookAction::Fill => {
                out.push((d.instrument, d.price));
            }
            MarketEvent::Bar(b) => {
                out.extend([b.open, b.high, b.low, b.close].map(|p| (b.instrument, p)));
            }
            _ => {}
        }
    }
    out
}

/// Check one matcher call's `reports` against the orders the host knows
/// (`known`, by host id), the `commands` of the call and the `prices` its
/// venue allows.
pub(crate) fn reports(
    commands: &[OrderCommand],
    reports: &[OrderEvent],
    known: impl Fn(u64) -> Option<Known>,
    prices: Prices<'_>,
) -> Result<(), Breach> {
    let mut orders: FxHashMap<u64, Order> = FxHashMap::default();
    // Every command of the call per order (a strategy may modify and cancel
    // one order in one batch).
    let mut commanded: FxHashMap<u64, Vec<&OrderCommand>> = FxHashMap::default();
    for command in commands {
        commanded.entry(command.id()).or_default().push(command);
    }
    let asked = |id: u64| commanded.get(&id).map_or(&[][..], Vec::as_slice);
    // Per instrument: (bought, sold) in this call; the same per price.
    let mut traded: BTreeMap<u32, (i128, i128)> = BTreeMap::new();
    let mut at_price: BTreeMap<(u32, i64), (i128, i128)> = BTreeMap::new();
    // Per (instrument, a buy, price): taker quantity, maker quantity.
    let mut fills_at: BTreeMap<(u32, bool, i64), (i128, i128)> = BTreeMap::new();
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
                if matches!(prices, Prices::Venue) && !k.accepted {
                    return Err(breach(
                        "unacknowledged",
                        format!("a fill of order {id}, which the venue never acknowledged"),
                    ));
                }
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
                if let Prices::Feed { printed, .. } = prices
                    && f.maker
                    && k.limit != Some(f.price)
                    && !printed.contains(&(f.instrument, f.price))
                {
                    return Err(breach(
                        "maker-price",
                        format!(
                            "a resting order's fill at {}: not its limit, and the feed printed \
                             no such price",
                            show(f.price)
                        ),
                    ));
                }
                k.leaves = leaves;
                k.filled += f.quantity;
                order.done = leaves == 0;
                let q = i128::from(f.quantity);
                let side = traded.entry(f.instrument).or_default();
                let price = at_price.entry((f.instrument, f.price)).or_default();
                match f.side {
                    Side::Buy => (side.0 += q, price.0 += q),
                    Side::Sell => (side.1 += q, price.1 += q),
                };
                let buy = f.side == Side::Buy;
                let kind = fills_at.entry((f.instrument, buy, f.price)).or_default();
                if f.maker {
                    kind.1 += q;
                } else {
                    kind.0 += q;
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
    match prices {
        Prices::Balanced => balanced(&traded, &at_price),
        Prices::Feed { market, .. } => shown(market, &fills_at),
        Prices::Venue => Ok(()),
    }
}

/// The exchange venue: per instrument and per price, as much bought as sold.
fn balanced(
    traded: &BTreeMap<u32, (i128, i128)>,
    at_price: &BTreeMap<(u32, i64), (i128, i128)>,
) -> Result<(), Breach> {
    if let Some((instrument, (bought, sold))) = traded.iter().find(|(_, (b, s))| b != s) {
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
    if let Some(((instrument, price), (bought, sold))) = at_price.iter().find(|(_, (b, s))| b != s)
    {
        return Err(Breach {
            rule: "two-prices",
            report: format!("the fills of instrument {instrument} in this call"),
            detail: format!(
                "at {} bought {} and sold {}: the two sides of a trade share one price",
                show(*price),
                decimal(*bought, 9),
                decimal(*sold, 9)
            ),
        });
    }
    Ok(())
}

/// The simulated venue: each taker fill at a level the book shows on the
/// other side, within its size and what the venue's own resting orders at
/// that price gave; without a book, at the last price.
fn shown(
    market: &Market,
    fills_at: &BTreeMap<(u32, bool, i64), (i128, i128)>,
) -> Result<(), Breach> {
    for (&(instrument, buy, price), &(taker, _)) in fills_at {
        if taker == 0 {
            continue;
        }
        let (side, other) = match buy {
            true => (Side::Buy, Side::Sell),
            false => (Side::Sell, Side::Buy),
        };
        let ours = fills_at
            .get(&(instrument, !buy, price))
            .map_or(0, |(_, maker)| *maker);
        let allowed = match market.resting_at(instrument, other, price) {
            Some(size) => i128::from(size) + ours,
            None if market.last_price(instrument) == Some(price) => taker,
            None => ours,
        };
        if taker > allowed {
            return Err(Breach {
                rule: "taker-price",
                report: format!("the taker fills of instrument {instrument} in this call"),
                detail: format!(
                    "a {side:?} took {} at {}, where the book showed {}",
                    decimal(taker, 9),
                    show(price),
                    decimal(allowed, 9)
                ),
            });
        }
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
        CancelOrder, Fill, InstrumentDefinition, OrderAccepted, OrderCanceled,
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

    /// Prices the feed printed, so maker fills away from the limit pass.
    const PRINTED: [(u32, i64); 3] = [(0, 99 * U), (0, 100 * U), (0, 101 * U)];

    fn feed(market: &Market) -> Prices<'_> {
        Prices::Feed {
            market,
            printed: &PRINTED,
        }
    }

    fn rule(events: &[OrderEvent], balanced: bool) -> Option<&'static str> {
        let market = Market::default();
        let prices = if balanced {
            Prices::Balanced
        } else {
            feed(&market)
        };
        reports(&[], events, known, prices).err().map(|b| b.rule)
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
            reports(&commands, events, known, feed(&Market::default()))
                .err()
                .map(|b| b.rule)
        };
        assert_eq!(check(&[modified(99 * U, 3 * U)]), None);
        assert_eq!(check(&[modified(98 * U, 3 * U)]), Some("modify-mismatch"));
        assert_eq!(
            reports(
                &[],
                &[modified(99 * U, 3 * U)],
                known,
                feed(&Market::default())
            )
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
        let breach = reports(&[], &[cancel(U)], known, feed(&Market::default())).unwrap_err();
        assert!(
            breach.to_string().starts_with(
                "rule `cancel-quantity` broken by report 1 of the call (OrderEvent::Canceled"
            ),
            "{breach}"
        );
    }

    fn filled(id: u64, side: Side, price: i64, maker: bool) -> OrderEvent {
        OrderEvent::Filled(Fill {
            id,
            instrument: 0,
            ts: 1,
            side,
            price,
            quantity: U,
            leaves_quantity: 0,
            maker,
        })
    }

    /// Order 1 a buy limited at 101, any other a sell limited at 99.
    fn either(id: u64) -> Option<Known> {
        let (side, limit) = if id == 1 {
            (Side::Buy, 101 * U)
        } else {
            (Side::Sell, 99 * U)
        };
        Some(Known {
            instrument: 0,
            side,
            limit: Some(limit),
            leaves: U,
            filled: 0,
            accepted: true,
        })
    }

    #[test]
    fn an_exchange_trade_whose_two_sides_disagree_on_price_is_a_breach() {
        // The maker's buy at 100.01, the taker's sell at 99.98: quantities
        // balance, prices do not.
        let lie = [
            filled(1, Side::Buy, 100 * U + U / 100, true),
            filled(2, Side::Sell, 100 * U - U / 50, false),
        ];
        let breach = reports(&[], &lie, either, Prices::Balanced).unwrap_err();
        assert_eq!(breach.rule, "two-prices", "{breach}");
        let truth = [
            filled(1, Side::Buy, 100 * U, true),
            filled(2, Side::Sell, 100 * U, false),
        ];
        assert!(reports(&[], &truth, either, Prices::Balanced).is_ok());
    }

    #[test]
    fn a_simulated_fill_must_be_at_a_price_the_feed_or_the_book_gave() {
        let mut market = Market::default();
        let mut events = vec![
            MarketEvent::Instrument(def()),
            MarketEvent::Quote(crate::bindings::types::Quote {
                instrument: 0,
                ts: 1,
                bid_price: 99 * U,
                bid_size: 5 * U,
                ask_price: 100 * U,
                ask_size: U,
            }),
        ];
        market.ingest(&mut events);
        let prices = Prices::Feed {
            market: &market,
            printed: &[],
        };
        // A taker buy at the ask the book shows: fine; at 99.5, not shown.
        assert!(reports(&[], &[filled(1, Side::Buy, 100 * U, false)], either, prices).is_ok());
        let breach = reports(
            &[],
            &[filled(1, Side::Buy, 99 * U + U / 2, false)],
            either,
            prices,
        )
        .unwrap_err();
        assert_eq!(breach.rule, "taker-price", "{breach}");
        // A resting buy filled below its limit at a price nobody printed.
        let breach =
            reports(&[], &[filled(1, Side::Buy, 100 * U, true)], either, prices).unwrap_err();
        assert_eq!(breach.rule, "maker-price", "{breach}");
    }
}

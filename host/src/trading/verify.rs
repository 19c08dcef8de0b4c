//! What plugins return, checked against what the host knows, before any of
//! it is acted on: a plugin's output is untrusted input.
//!
//! - Strategy commands ([`command`]): a positive quantity on the
//!   instrument's lot size; a limit price that is positive and on its tick.
//!   A command that breaks one is refused with the reason before any
//!   validator sees it.
//! - Matcher reports ([`reports`], `verify_matcher.rs`): every report of
//!   one call is checked against the orders the host sent, in order, and
//!   against the prices its venue allows, before any is booked. A report
//!   that breaks a rule makes the whole call a contract fault of the matcher
//!   (nothing of it is booked, as for a trapped call).
//!
//! - Processor output ([`derived`]): only bars and signals, about known
//!   instruments, stamped no later than the batch; a bar's prices positive
//!   and its high and low around its open and close; a signal's name
//!   interned and its value finite. One event that breaks a rule makes the
//!   whole call a contract fault of the processor.
//!
//! Connector events are checked where they are interned (`market.rs`).

use crate::bindings::types::{InstrumentDefinition, MarketEvent, OrderCommand};
use crate::engine::SignalNames;
use crate::journal::decimal::exact;
use crate::trading::market::Market;

pub(crate) use crate::trading::verify_matcher::{Breach, Known, Prices, printed, reports};

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

/// A fixed-point value, without trailing zeros.
fn show(value: i64) -> String {
    exact(i128::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{CancelOrder, NewOrder, OrderType, Side, TimeInForce};

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
}

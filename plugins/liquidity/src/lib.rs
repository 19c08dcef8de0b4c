//! Liquidity: a pre-trade risk validator that refuses an order larger than a fraction
//! of the quantity the book displays near the touch.
//!
//! An order that *takes* liquidity is compared with the displayed quantity of the side
//! it would take (a buy takes the asks, a sell the bids): the sum of the levels within
//! `ticks` ticks of that side's touch (its best price). An order above `max_fraction`
//! of that sum is rejected with `QuantityLimit`. The tick is the instrument's
//! `tick_size` from the context's definitions; a definition without a positive tick
//! counts the touch level only.
//!
//! - **Who takes.** A market order, and a limit order that crosses the touch (a buy
//!   at or above the best ask, a sell at or below the best bid). The window does not
//!   depend on the limit price: the rule measures the order against the liquidity the
//!   market shows, not against what it would fill.
//! - **Passive orders.** A limit order that does not cross would rest on the book and
//!   takes nothing: with `passive = "pass"` (the default) it is approved. With
//!   `passive = "check"` it is compared with the displayed quantity of the side it
//!   would join (a resting buy with the bids within `ticks` of the best bid), the same
//!   fraction: an order that would dwarf the queue it joins moves the market too.
//! - **Empty side.** A market order when the side it would take is empty has nothing
//!   to take: with `empty = "refuse"` (the default) it is rejected with `NoLiquidity`,
//!   with `empty = "pass"` it is approved (the matcher decides). A limit order cannot
//!   cross an empty side, so it is passive. With `passive = "check"`, a resting order
//!   whose own side is empty follows `empty` too.
//! - **Batches.** Orders of one batch count together, in order: an approved order
//!   adds its quantity to what the later orders of the batch on the same instrument,
//!   side of the book and role (taking or resting) are measured with, so a large
//!   order split into slices within one batch is caught. Across batches each order is
//!   measured on its own against the book of the moment.
//! - **Modify.** Checked like a new limit order at its new price and new total
//!   quantity (the filled part included, which can only overstate it), on the side of
//!   the order it modifies: a working order of the context, or a submit earlier in the
//!   batch. A modify of an order that is not working is approved (the matcher refuses
//!   it).
//! - Cancels are always approved: they only ever reduce risk. An order whose quantity
//!   is not positive, or of an instrument the host never defined, is rejected with
//!   `InvalidOrder`.
//!
//! # How the validator sees market data
//!
//! Only at validation time: through the risk context (last prices, positions,
//! working orders) and [`tradsys_sdk::host::depth`], the aggregated levels of the book
//! the host keeps from the feed, best first. A validator has no on-market call. This
//! one reads, once per instrument per batch, the best `ticks + 1` levels of each side
//! (at most 100: a window wider than 100 levels counts the best 100). The book is the
//! feed's: the strategy's own resting orders are not in it. The validator keeps no
//! state between calls.
//!
//! # Config keys
//!
//! | key            | meaning                                                                 | default  |
//! |----------------|-------------------------------------------------------------------------|----------|
//! | `max_fraction` | largest order as a fraction of the displayed quantity (decimal, > 0; may exceed 1) | `0.5` |
//! | `ticks`        | levels within this many ticks of the touch count (0: the touch only)    | `2`      |
//! | `passive`      | `pass`: a limit order that would rest is approved; `check`: measured against its own side | `pass` |
//! | `empty`        | `refuse` or `pass` an order whose side to take (or join) is empty       | `refuse` |
//!
//! The defaults suit the synthetic market. Quoted, the host's book holds the touch
//! only, 100–2000 units a side, so a taker of 100 units is refused when the touch
//! shows less than 200. By order (the demo), every level within five ticks holds one
//! to three orders of up to 400 units: the three levels of the window show about 1200
//! units, so the strategies' ordinary 100–200 unit clips pass and their scaled-up or
//! flipping orders of 400 units and more are refused when the book is thin.

use std::collections::BTreeMap;

use tradsys_sdk::{
    BookDepth, Config, DepthLevel, InstrumentDefinition, OrderCommand, OrderType, RejectReason,
    Rejection, RiskContext, RiskValidator, Side, Verdict, fixed, host,
};

/// Default for `max_fraction`: one half.
const DEFAULT_MAX_FRACTION: i64 = fixed::SCALE / 2;
/// Default for `ticks`.
const DEFAULT_TICKS: u32 = 2;
/// Most levels the host returns per side.
const MAX_LEVELS: u32 = 100;

/// What to do with a limit order that would rest (`passive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passive {
    /// Approve it.
    Pass,
    /// Measure it against the side it joins.
    Check,
}

/// What to do when the side to take (or join) is empty (`empty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Empty {
    /// Reject with `NoLiquidity`.
    Refuse,
    /// Approve.
    Pass,
}

/// The validator. Config keys (see the crate docs): `max_fraction` (default `0.5`),
/// `ticks` (`2`), `passive` (`pass`) and `empty` (`refuse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liquidity {
    /// Largest order as a fraction of the displayed quantity, fixed-point.
    max_fraction: i64,
    /// Width of the window from the touch, in ticks.
    ticks: u32,
    passive: Passive,
    empty: Empty,
}

/// One submit or modify, as checked.
struct Order<'a> {
    id: u64,
    instrument: u32,
    side: Side,
    /// Limit price, `None` for a market order.
    price: Option<i64>,
    quantity: i64,
    /// How the order is named in messages: `buy`, `market sell`, `modify of order 7 to buy`.
    what: &'a str,
}

/// The quantity an approved order of the batch counts against a side.
struct Counted {
    id: u64,
    instrument: u32,
    /// Side of the book the quantity is measured against.
    book_side: Side,
    taker: bool,
    quantity: i64,
}

/// What one `validate` call has seen and approved so far.
#[derive(Default)]
struct Batch {
    books: BTreeMap<u32, BookDepth>,
    counted: Vec<Counted>,
    /// Sides of the orders submitted (and approved) earlier in the batch.
    submitted: Vec<(u64, u32, Side)>,
}

impl Batch {
    fn book(&mut self, instrument: u32, levels: u32) -> &BookDepth {
        self.books
            .entry(instrument)
            .or_insert_with(|| host::depth(instrument, levels))
    }

    /// Quantity already counted on (instrument, side, role) by other orders than `id`.
    fn used(&self, id: u64, instrument: u32, book_side: Side, taker: bool) -> i128 {
        self.counted
            .iter()
            .filter(|c| {
                c.id != id
                    && c.instrument == instrument
                    && c.book_side == book_side
                    && c.taker == taker
            })
            .map(|c| i128::from(c.quantity))
            .sum()
    }

    /// Count `order`'s quantity from now on (replacing what it counted before).
    fn count(&mut self, order: &Order<'_>, book_side: Side, taker: bool) {
        self.forget(order.id, order.instrument);
        self.counted.push(Counted {
            id: order.id,
            instrument: order.instrument,
            book_side,
            taker,
            quantity: order.quantity,
        });
    }

    fn forget(&mut self, id: u64, instrument: u32) {
        self.counted
            .retain(|c| !(c.id == id && c.instrument == instrument));
    }
}

impl Liquidity {
    /// Levels asked of the host per side: enough for every tick of the window.
    fn levels(&self) -> u32 {
        self.ticks.saturating_add(1).min(MAX_LEVELS)
    }

    /// The verdict for one command; records what an approved one counts.
    fn check(&self, context: &RiskContext, batch: &mut Batch, command: &OrderCommand) -> Verdict {
        let what;
        let order = match command {
            OrderCommand::Cancel(c) => {
                // Never block a risk-reducing action; what it canceled stops counting.
                batch.forget(c.id, c.instrument);
                return Verdict::Approve;
            }
            OrderCommand::Submit(o) => {
                let market = matches!(o.order_type, OrderType::Market);
                what = match (market, o.side) {
                    (true, Side::Buy) => "market buy".to_string(),
                    (true, Side::Sell) => "market sell".to_string(),
                    (false, side) => side_name(side).to_string(),
                };
                Order {
                    id: o.id,
                    instrument: o.instrument,
                    side: o.side,
                    price: (!market).then_some(o.price),
                    quantity: o.quantity,
                    what: &what,
                }
            }
            OrderCommand::Modify(m) => {
                let working = context
                    .open_orders
                    .iter()
                    .find(|w| w.id == m.id && w.instrument == m.instrument)
                    .map(|w| w.side);
                let submitted = batch
                    .submitted
                    .iter()
                    .rev()
                    .find(|&&(id, instrument, _)| id == m.id && instrument == m.instrument)
                    .map(|&(_, _, side)| side);
                let Some(side) = submitted.or(working) else {
                    // Not working: the matcher refuses it, it takes nothing.
                    return Verdict::Approve;
                };
                what = format!("modify of order {} to {}", m.id, side_name(side));
                Order {
                    id: m.id,
                    instrument: m.instrument,
                    side,
                    price: Some(m.price),
                    quantity: m.quantity,
                    what: &what,
                }
            }
        };
        match self.check_order(context, batch, &order) {
            Ok(()) => {
                if matches!(command, OrderCommand::Submit(_)) {
                    batch
                        .submitted
                        .push((order.id, order.instrument, order.side));
                }
                Verdict::Approve
            }
            Err(rejection) => Verdict::Reject(rejection),
        }
    }

    fn check_order(
        &self,
        context: &RiskContext,
        batch: &mut Batch,
        order: &Order<'_>,
    ) -> Result<(), Rejection> {
        let Some(def) = context
            .instruments
            .iter()
            .find(|d| d.id == order.instrument)
        else {
            return Err(reject(
                RejectReason::InvalidOrder,
                format!("unknown instrument {}", order.instrument),
            ));
        };
        if order.quantity <= 0 {
            return Err(reject(
                RejectReason::InvalidOrder,
                format!(
                    "quantity {} of {} is not positive",
                    show_quantity(order.quantity.into(), def),
                    def.symbol
                ),
            ));
        }
        let levels = self.levels();
        let book = batch.book(order.instrument, levels);
        let (own, other) = match order.side {
            Side::Buy => (&book.bids, &book.asks),
            Side::Sell => (&book.asks, &book.bids),
        };
        let touch = |levels: &[DepthLevel]| levels.iter().find(|l| l.quantity > 0).map(|l| l.price);
        let best_other = touch(other);
        let taker = match (order.price, best_other) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(price), Some(best)) => match order.side {
                Side::Buy => price >= best,
                Side::Sell => price <= best,
            },
        };
        let (book_side, levels, best) = if taker {
            (opposite(order.side), other, best_other)
        } else {
            if self.passive == Passive::Pass {
                return Ok(());
            }
            (order.side, own, touch(own))
        };
        let Some(best) = best else {
            if self.empty == Empty::Pass {
                return Ok(());
            }
            let message = format!(
                "{} {} of {}: no {} displayed to {}",
                order.what,
                show_quantity(order.quantity.into(), def),
                def.symbol,
                side_levels(book_side),
                if taker { "take" } else { "join" },
            );
            return Err(reject(RejectReason::NoLiquidity, message));
        };
        // The window: `ticks` ticks away from the touch, into the book.
        let span = i128::from(def.tick_size.max(0)) * i128::from(self.ticks);
        let within = |price: i64| match book_side {
            Side::Sell => i128::from(price) <= i128::from(best) + span,
            Side::Buy => i128::from(price) >= i128::from(best) - span,
        };
        let displayed: i128 = levels
            .iter()
            .filter(|l| within(l.price))
            .map(|l| i128::from(l.quantity.max(0)))
            .sum();
        let used = batch.used(order.id, order.instrument, book_side, taker);
        let total = used + i128::from(order.quantity);
        let limit = i128::from(self.max_fraction).saturating_mul(displayed);
        if total.saturating_mul(i128::from(fixed::SCALE)) > limit {
            let allowed = (limit / i128::from(fixed::SCALE) - used).max(0);
            let batch_note = if used > 0 {
                format!(
                    " (with {} of earlier orders of the batch)",
                    show_quantity(used, def)
                )
            } else {
                String::new()
            };
            return Err(reject(
                RejectReason::QuantityLimit,
                format!(
                    "{} {} of {}{batch_note} would {} above {} of the {} displayed on the {} \
                     {}: at most {}",
                    order.what,
                    show_quantity(order.quantity.into(), def),
                    def.symbol,
                    if taker { "take" } else { "rest" },
                    fixed::format_exact(self.max_fraction.into(), 0),
                    show_quantity(displayed, def),
                    side_levels(book_side),
                    window_text(self.ticks, &show_price(best, def)),
                    show_quantity(allowed, def),
                ),
            ));
        }
        batch.count(order, book_side, taker);
        Ok(())
    }
}

impl RiskValidator for Liquidity {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["max_fraction", "ticks", "passive", "empty"])?;
        let max_fraction = config.fixed_or("max_fraction", DEFAULT_MAX_FRACTION)?;
        if max_fraction <= 0 {
            return Err("config `max_fraction`: must be positive".to_string());
        }
        let ticks: u32 = config.parse_or("ticks", DEFAULT_TICKS)?;
        let passive = match config.get("passive").map(str::trim) {
            None | Some("pass") => Passive::Pass,
            Some("check") => Passive::Check,
            Some(other) => {
                return Err(format!(
                    "config `passive`: `{other}` is neither `pass` nor `check`"
                ));
            }
        };
        let empty = match config.get("empty").map(str::trim) {
            None | Some("refuse") => Empty::Refuse,
            Some("pass") => Empty::Pass,
            Some(other) => {
                return Err(format!(
                    "config `empty`: `{other}` is neither `refuse` nor `pass`"
                ));
            }
        };
        Ok(Self {
            max_fraction,
            ticks,
            passive,
            empty,
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let mut batch = Batch::default();
        verdicts.extend(
            orders
                .iter()
                .map(|order| self.check(context, &mut batch, order)),
        );
    }
}

tradsys_sdk::export_risk_validator!(Liquidity);

fn reject(reason: RejectReason, message: String) -> Rejection {
    Rejection {
        reason,
        message: Some(message),
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The levels of one side of the book: `bids` or `asks`.
fn side_levels(side: Side) -> &'static str {
    match side {
        Side::Buy => "bids",
        Side::Sell => "asks",
    }
}

/// Where the window is, for messages.
fn window_text(ticks: u32, touch: &str) -> String {
    match ticks {
        0 => format!("at the touch {touch}"),
        1 => format!("within 1 tick of {touch}"),
        n => format!("within {n} ticks of {touch}"),
    }
}

/// A quantity shown with at least the instrument's size precision.
fn show_quantity(quantity: i128, def: &InstrumentDefinition) -> String {
    fixed::format_exact(quantity, def.size_precision)
}

/// A price shown with at least the instrument's price precision.
fn show_price(price: i64, def: &InstrumentDefinition) -> String {
    fixed::format_exact(i128::from(price), def.price_precision)
}

#[cfg(test)]
mod tests;

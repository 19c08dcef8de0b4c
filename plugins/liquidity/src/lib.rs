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
mod tests {
    use super::*;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approved, px, rejected, units, validate, validate_one,
    };
    use tradsys_sdk::{NewOrder, TimeInForce};

    /// The synthetic market; working orders as (id, instrument, side).
    fn context(open: &[(u64, u32, Side)]) -> RiskContext {
        let mut ctx = RiskContextBuilder::new(1_000_000_000);
        ctx.instruments([
            testing::instrument(0, "SYN-A"),
            InstrumentDefinition {
                tick_size: px("0.05"),
                ..testing::instrument(1, "SYN-B")
            },
            testing::instrument(2, "SYN-C"),
        ])
        .last_price(0, units(100));
        for &(id, instrument, side) in open {
            ctx.open_order(id, instrument, side, units(100), units(10));
        }
        ctx.build()
    }

    fn levels(levels: &[(&str, i64)]) -> Vec<DepthLevel> {
        levels
            .iter()
            .map(|&(price, quantity)| testing::depth_level(px(price), units(quantity)))
            .collect()
    }

    /// Set the host's book of `instrument`.
    fn book(instrument: u32, bids: &[(&str, i64)], asks: &[(&str, i64)]) {
        host::set_depth(BookDepth {
            instrument,
            bids: levels(bids),
            asks: levels(asks),
        });
    }

    /// SYN-A: 280 units within two ticks of each touch, more beyond.
    fn book_a() {
        book(
            0,
            &[
                ("99.99", 100),
                ("99.98", 100),
                ("99.97", 80),
                ("99.96", 1000),
            ],
            &[
                ("100.01", 100),
                ("100.02", 100),
                ("100.03", 80),
                ("100.04", 1000),
            ],
        );
    }

    fn limit(id: u64, instrument: u32, side: Side, price: &str, quantity: i64) -> OrderCommand {
        OrderCommand::Submit(NewOrder {
            time_in_force: TimeInForce::Ioc,
            ..testing::limit_order(id, instrument, side, px(price), units(quantity))
        })
    }

    fn market(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
        testing::market(id, instrument, side, units(quantity))
    }

    fn modify(id: u64, instrument: u32, price: &str, quantity: i64) -> OrderCommand {
        testing::modify(id, instrument, px(price), units(quantity))
    }

    fn validator(config: &[(&str, &str)]) -> Liquidity {
        testing::validator(config)
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = validator(&[]);
        assert_eq!(
            v,
            Liquidity {
                max_fraction: px("0.5"),
                ticks: 2,
                passive: Passive::Pass,
                empty: Empty::Refuse,
            }
        );
        let v = validator(&[
            ("max_fraction", "1.5"),
            ("ticks", "0"),
            ("passive", "check"),
            ("empty", " pass "),
        ]);
        assert_eq!(
            v,
            Liquidity {
                max_fraction: px("1.5"),
                ticks: 0,
                passive: Passive::Check,
                empty: Empty::Pass,
            }
        );
        for (key, value) in [
            ("max_fraction", "0"),
            ("max_fraction", "-0.1"),
            ("max_fraction", "half"),
            ("ticks", "-1"),
            ("ticks", "2.5"),
            ("passive", "rest"),
            ("passive", ""),
            ("empty", "reject"),
        ] {
            let err = Liquidity::new(&Config::new([(key, value)])).unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn a_buy_is_measured_against_the_asks_within_the_window() {
        book_a();
        let mut v = validator(&[]);
        let ctx = context(&[]);
        // 280 displayed within two ticks of 100.01: half is 140.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(1, 0, Side::Buy, 140)
        )));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(2, 0, Side::Buy, 141)));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(
            message,
            "market buy 141 of SYN-A would take above 0.5 of the 280 displayed on the asks \
             within 2 ticks of 100.01: at most 140"
        );
        // A crossing limit is a taker too, whatever its limit price.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(3, 0, Side::Buy, "100.01", 140)
        )));
        let (reason, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(4, 0, Side::Buy, "101", 141),
        ));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert!(
            message.starts_with("buy 141 of SYN-A would take"),
            "{message}"
        );
    }

    #[test]
    fn a_sell_is_measured_against_the_bids() {
        book(0, &[("99.99", 100), ("99.97", 60)], &[("100.01", 5)]);
        let mut v = validator(&[]);
        let ctx = context(&[]);
        // 160 within two ticks of 99.99 (a missing level is fine): half is 80.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(1, 0, Side::Sell, 80)
        )));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(2, 0, Side::Sell, "99.99", 80)
        )));
        let (reason, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(3, 0, Side::Sell, "99.98", 81),
        ));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(
            message,
            "sell 81 of SYN-A would take above 0.5 of the 160 displayed on the bids \
             within 2 ticks of 99.99: at most 80"
        );
    }

    #[test]
    fn the_window_follows_ticks_and_the_instrument_tick() {
        book_a();
        let ctx = context(&[]);
        let mut touch = validator(&[("ticks", "0"), ("max_fraction", "1")]);
        assert!(approved(&validate_one(
            &mut touch,
            &ctx,
            market(1, 0, Side::Buy, 100)
        )));
        let (_, message) = rejected(validate_one(&mut touch, &ctx, market(2, 0, Side::Buy, 101)));
        assert_eq!(
            message,
            "market buy 101 of SYN-A would take above 1 of the 100 displayed on the asks \
             at the touch 100.01: at most 100"
        );
        let mut wide = validator(&[("ticks", "3"), ("max_fraction", "1")]);
        assert!(approved(&validate_one(
            &mut wide,
            &ctx,
            market(3, 0, Side::Buy, 1280)
        )));
        assert!(!approved(&validate_one(
            &mut wide,
            &ctx,
            market(4, 0, Side::Buy, 1281)
        )));
        // SYN-B ticks are 0.05: two ticks from 250.00 reach 250.10.
        book(
            1,
            &[("249.95", 50)],
            &[("250", 40), ("250.05", 40), ("250.10", 20), ("250.15", 500)],
        );
        let mut v = validator(&[("max_fraction", "1")]);
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(5, 1, Side::Buy, 100)
        )));
        let (_, message) = rejected(validate_one(&mut v, &ctx, market(6, 1, Side::Buy, 101)));
        assert!(message.contains("within 2 ticks of 250.00"), "{message}");
        // A definition without a positive tick counts the touch only.
        let mut ctx = ctx;
        ctx.instruments[1].tick_size = 0;
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(7, 1, Side::Buy, 40)
        )));
        assert!(!approved(&validate_one(
            &mut v,
            &ctx,
            market(8, 1, Side::Buy, 41)
        )));
    }

    #[test]
    fn at_most_a_hundred_levels_are_read() {
        let asks: Vec<(String, i64)> = (0..150)
            .map(|k| (fixed::format(px("100.01") + k * px("0.01"), 2), 1))
            .collect();
        let asks: Vec<(&str, i64)> = asks.iter().map(|(p, q)| (p.as_str(), *q)).collect();
        book(0, &[("99.99", 1)], &asks);
        let mut v = validator(&[("ticks", "149"), ("max_fraction", "1")]);
        assert_eq!(v.levels(), 100);
        let ctx = context(&[]);
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(1, 0, Side::Buy, 100)
        )));
        let (_, message) = rejected(validate_one(&mut v, &ctx, market(2, 0, Side::Buy, 101)));
        assert!(message.contains("of the 100 displayed"), "{message}");
        assert_eq!(validator(&[("ticks", "4294967295")]).levels(), 100);
        assert_eq!(validator(&[]).levels(), 3);
    }

    #[test]
    fn passive_orders_pass_unless_checked() {
        book_a();
        let ctx = context(&[]);
        let mut v = validator(&[]);
        // A buy below the ask rests: it takes nothing, whatever its size.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, 0, Side::Buy, "100", 100_000)
        )));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(2, 0, Side::Sell, "100.02", 100_000)
        )));
        let mut v = validator(&[("passive", "check")]);
        // Checked: measured against the bids it joins (280 within two ticks of 99.99).
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(3, 0, Side::Buy, "100", 140)
        )));
        let (reason, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(4, 0, Side::Buy, "99.90", 141),
        ));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(
            message,
            "buy 141 of SYN-A would rest above 0.5 of the 280 displayed on the bids \
             within 2 ticks of 99.99: at most 140"
        );
        let (_, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(5, 0, Side::Sell, "99.99", 141),
        ));
        assert_eq!(
            message,
            "sell 141 of SYN-A would take above 0.5 of the 280 displayed on the bids \
             within 2 ticks of 99.99: at most 140"
        );
        let (_, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(6, 0, Side::Sell, "100.02", 141),
        ));
        assert!(message.contains("would rest above 0.5 of the 280 displayed on the asks"));
    }

    #[test]
    fn an_empty_side_refuses_takers_unless_configured() {
        book(0, &[("99.99", 100)], &[]);
        let ctx = context(&[]);
        let mut v = validator(&[]);
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(1, 0, Side::Buy, 1)));
        assert_eq!(reason, RejectReason::NoLiquidity);
        assert_eq!(message, "market buy 1 of SYN-A: no asks displayed to take");
        // A limit buy cannot cross an empty side: it rests and passes.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(2, 0, Side::Buy, "200", 1)
        )));
        // The sell side is not empty.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(3, 0, Side::Sell, 50)
        )));
        // Levels without quantity do not count as a touch.
        book(2, &[], &[("40.01", 0)]);
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(4, 2, Side::Buy, 1)));
        assert_eq!(reason, RejectReason::NoLiquidity);
        assert_eq!(message, "market buy 1 of SYN-C: no asks displayed to take");
        // An instrument without a book at all.
        let (reason, _) = rejected(validate_one(&mut v, &ctx, market(5, 1, Side::Sell, 1)));
        assert_eq!(reason, RejectReason::NoLiquidity);
        let mut v = validator(&[("empty", "pass")]);
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(6, 0, Side::Buy, 1000)
        )));
        // With passive checks, an order joining an empty side follows `empty` too.
        let mut v = validator(&[("passive", "check")]);
        let (reason, message) = rejected(validate_one(
            &mut v,
            &ctx,
            limit(7, 0, Side::Sell, "100.01", 1),
        ));
        assert_eq!(reason, RejectReason::NoLiquidity);
        assert_eq!(message, "sell 1 of SYN-A: no asks displayed to join");
        let mut v = validator(&[("passive", "check"), ("empty", "pass")]);
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(8, 0, Side::Sell, "100.01", 1)
        )));
    }

    #[test]
    fn orders_of_a_batch_count_together() {
        book_a();
        book(2, &[("39.99", 100)], &[("40.01", 100)]);
        let ctx = context(&[]);
        let mut v = validator(&[]);
        let verdicts = validate(
            &mut v,
            &ctx,
            &[
                market(1, 0, Side::Buy, 100),
                // Another instrument and the other side are apart.
                market(2, 2, Side::Buy, 50),
                market(3, 0, Side::Sell, 140),
                market(4, 0, Side::Buy, 41),
                market(5, 0, Side::Buy, 40),
                market(6, 0, Side::Buy, 1),
                testing::cancel(1, 0),
                market(7, 0, Side::Buy, 100),
            ],
        );
        let ok: Vec<bool> = verdicts.iter().map(approved).collect();
        assert_eq!(ok, [true, true, true, false, true, false, true, true]);
        let (_, message) = rejected(verdicts[3].clone());
        assert_eq!(
            message,
            "market buy 41 of SYN-A (with 100 of earlier orders of the batch) would take \
             above 0.5 of the 280 displayed on the asks within 2 ticks of 100.01: at most 40"
        );
        // A new batch starts afresh (the book is the host's of the moment).
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(8, 0, Side::Buy, 140)
        )));
        // Resting and taking quantities are counted apart.
        let mut v = validator(&[("passive", "check")]);
        let verdicts = validate(
            &mut v,
            &ctx,
            &[
                limit(9, 0, Side::Sell, "100.05", 140),
                market(10, 0, Side::Buy, 140),
                limit(11, 0, Side::Sell, "100.05", 1),
            ],
        );
        let ok: Vec<bool> = verdicts.iter().map(approved).collect();
        assert_eq!(ok, [true, true, false]);
    }

    #[test]
    fn modifies_are_checked_like_new_orders_on_their_side() {
        book_a();
        let ctx = context(&[(7, 0, Side::Buy), (8, 0, Side::Sell)]);
        let mut v = validator(&[]);
        // Order 7 is a working buy: re-priced through the ask it takes.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            modify(7, 0, "100.01", 140)
        )));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, "100.02", 141)));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(
            message,
            "modify of order 7 to buy 141 of SYN-A would take above 0.5 of the 280 \
             displayed on the asks within 2 ticks of 100.01: at most 140"
        );
        // Still below the ask it rests and passes.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            modify(7, 0, "100", 1000)
        )));
        // Order 8 is a working sell: through the bid it takes the bids.
        let (_, message) = rejected(validate_one(&mut v, &ctx, modify(8, 0, "99.99", 141)));
        assert!(
            message.contains("to sell 141 of SYN-A would take"),
            "{message}"
        );
        // Not working (or another instrument's id): approved, the matcher refuses it.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            modify(9, 0, "101", 100_000)
        )));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            modify(7, 2, "101", 100_000)
        )));
        // A submit of the same batch can be modified; its quantity is replaced, not added.
        let verdicts = validate(
            &mut v,
            &ctx,
            &[
                limit(20, 0, Side::Buy, "100.01", 100),
                modify(20, 0, "100.01", 140),
                modify(20, 0, "100.01", 141),
                modify(21, 0, "100.01", 141),
            ],
        );
        let ok: Vec<bool> = verdicts.iter().map(approved).collect();
        assert_eq!(ok, [true, true, false, true]);
        // A refused submit is not working: its modify passes.
        let verdicts = validate(
            &mut v,
            &ctx,
            &[
                limit(30, 0, Side::Buy, "100.01", 500),
                modify(30, 0, "100.01", 500),
            ],
        );
        let ok: Vec<bool> = verdicts.iter().map(approved).collect();
        assert_eq!(ok, [false, true]);
    }

    #[test]
    fn cancels_pass_and_malformed_orders_are_invalid() {
        book_a();
        let ctx = context(&[]);
        let mut v = validator(&[("max_fraction", "0.000000001")]);
        let verdicts = validate(
            &mut v,
            &ctx,
            &[testing::cancel(1, 0), testing::cancel(2, 99)],
        );
        assert!(verdicts.iter().all(approved));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(3, 9, Side::Buy, 1)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "unknown instrument 9");
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(4, 0, Side::Buy, 0)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "quantity 0 of SYN-A is not positive");
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(5, 0, Side::Sell, "1", -3)));
        assert_eq!(reason, RejectReason::InvalidOrder);
    }

    #[test]
    fn extreme_values_neither_overflow_nor_panic() {
        host::set_depth(BookDepth {
            instrument: 0,
            bids: vec![DepthLevel {
                price: i64::MIN,
                quantity: i64::MAX,
                orders: 1,
            }],
            asks: (0..100)
                .map(|_| DepthLevel {
                    price: i64::MAX,
                    quantity: i64::MAX,
                    orders: 1,
                })
                .collect(),
        });
        let ctx = context(&[]);
        let mut v = validator(&[("max_fraction", "9223372036"), ("ticks", "4294967295")]);
        for order in [
            market(1, 0, Side::Buy, 1),
            market(2, 0, Side::Sell, 1),
            limit(3, 0, Side::Buy, "1", 1),
            limit(4, 0, Side::Sell, "1", 1),
        ] {
            assert!(approved(&validate_one(&mut v, &ctx, order)));
        }
        let mut huge = market(5, 0, Side::Buy, 1);
        if let OrderCommand::Submit(o) = &mut huge {
            o.quantity = i64::MAX;
        }
        let mut v = validator(&[("max_fraction", "0.000000001")]);
        assert!(!approved(&validate_one(&mut v, &ctx, huge)));
    }

    #[test]
    fn no_state_is_kept() {
        book_a();
        let mut v = validator(&[]);
        let ctx = context(&[]);
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(1, 0, Side::Buy, 140)
        )));
        let state = v.save_state();
        assert!(state.is_empty());
        let mut fresh = validator(&[]);
        fresh.load_state(&state).unwrap();
        assert_eq!(fresh, v);
        assert!(fresh.load_state(&[1]).is_err());
        assert!(validate(&mut fresh, &ctx, &[]).is_empty());
    }
}

//! Duplicate-order: a pre-trade risk validator that refuses a new order repeating one
//! the same strategy sent moments ago — a likely fat-fingered or looping repeat.
//!
//! A submit is a **duplicate** when a submit of the same strategy
//! (`RiskContext::strategy`) with the same instrument, side, order type, limit price
//! and quantity was approved here less than `window_ms` ago; it is rejected with
//! `Other` and a message naming the earlier order, its age and the figures. The limit
//! price of a market order is ignored (two market orders of the same side and quantity
//! match whatever their price fields hold); the time in force is not compared (a GTC
//! and an IOC of the same figures are still a repeat). Only approved submits are
//! remembered: a refused repeat never reached the market, so it does not restart the
//! window, and a strategy that deliberately repeats an order gets one through per
//! window. The earlier order is remembered as submitted, whatever happened to it later
//! (filled, canceled, modified to another price, refused by another validator or the
//! matcher: this validator cannot know).
//!
//! Orders of one batch count against each other, in order: the second of two identical
//! submits in a batch is refused (it is 0 ms after the first).
//!
//! **Cancels** always pass and are not remembered: refusing one could only increase
//! risk. **Modifies** pass unless `check_modifies = true`; then a modify that restates
//! the price and quantity its order was given, less than `window_ms` ago, by its submit
//! or by its latest approved modify is refused as a repeated amend (it changes nothing
//! but costs a message). A modify that changes the order is always approved, even to
//! the figures of another order: moving a ladder of orders makes such collisions
//! routine. A modify of an order not remembered (older than the window) passes.
//!
//! Time is the host time of the validation (`RiskContext::now`). An order is remembered
//! while it is less than `window_ms` old; one exactly `window_ms` old has left the
//! window. Should the clock step back, orders "in the future" count while they are less
//! than a window away and are dropped beyond that. The validator keeps, per strategy,
//! the approved submits (and, with `check_modifies`, modifies) of the last window,
//! oldest first: every call drops what has left the window, for every strategy, and at
//! most `max_remembered` per strategy are kept (past that the oldest is forgotten, so
//! the check fails open rather than refusing everything).
//!
//! # Config keys
//!
//! | key              | meaning                                                    | default |
//! |------------------|------------------------------------------------------------|---------|
//! | `window_ms`      | how long an order is remembered, in ms (1 to 3600000)      | `500`   |
//! | `check_modifies` | also refuse a modify that restates its order's figures     | `false` |
//! | `max_remembered` | most orders remembered per strategy (1 to 100000)          | `1000`  |
//!
//! In the synthetic market the demo strategies trade lots of 100 units at or near the
//! touch, so they do come back to the same price and size: the momentum ladder re-posts
//! a price a rung has just left, the crossover adds a step or retries a shortfall at an
//! unchanged touch, mean reversion re-posts its passive entry. Half a second refuses
//! the quickest of those repeats (about one order in twenty-five in the demo) and lets
//! the rest through.

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, ModifyOrder, NewOrder, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Side, Verdict, fixed,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Nanoseconds per millisecond.
const NANOS_PER_MS: u64 = 1_000_000;

/// Default for `window_ms`.
const DEFAULT_WINDOW_MS: u64 = 500;
/// Default for `max_remembered`.
const DEFAULT_MAX_REMEMBERED: usize = 1000;
/// Largest `window_ms`: one hour.
const MAX_WINDOW_MS: u64 = 3_600_000;
/// Largest `max_remembered`.
const MAX_REMEMBERED: usize = 100_000;

/// The validator. Config keys (see the crate docs): `window_ms` (default `500`),
/// `check_modifies` (default `false`) and `max_remembered` (default `1000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateOrder {
    /// Window length in milliseconds (for messages).
    window_ms: u64,
    /// Window length in nanoseconds, the unit of timestamps.
    window_ns: u64,
    /// Whether repeated modifies are refused (and modifies remembered).
    check_modifies: bool,
    /// Most entries remembered per strategy.
    max_remembered: usize,
    /// Per strategy: the approved commands still in the window, oldest first.
    recent: BTreeMap<u32, VecDeque<Seen>>,
}

/// An approved submit or modify, as remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    /// Host time it was approved.
    ts: u64,
    /// The strategy's order id.
    id: u64,
    instrument: u32,
    /// Side and order type of a submit; `None` for a modify.
    submit: Option<(Side, OrderType)>,
    /// Limit price (0 for a market order, whose price field is ignored).
    price: i64,
    /// Total quantity.
    quantity: i64,
}

impl Seen {
    fn of_submit(ts: u64, o: &NewOrder) -> Self {
        Self {
            ts,
            id: o.id,
            instrument: o.instrument,
            submit: Some((o.side, o.order_type)),
            price: match o.order_type {
                OrderType::Limit => o.price,
                OrderType::Market => 0,
            },
            quantity: o.quantity,
        }
    }

    fn of_modify(ts: u64, m: &ModifyOrder) -> Self {
        Self {
            ts,
            id: m.id,
            instrument: m.instrument,
            submit: None,
            price: m.price,
            quantity: m.quantity,
        }
    }
}

impl DuplicateOrder {
    /// The verdict for one command of the batch `context` is about; remembers the
    /// command when it is approved and checked.
    fn check(&mut self, context: &RiskContext, command: &OrderCommand) -> Verdict {
        let now = context.now;
        let seen = match command {
            // Never block a risk-reducing action.
            OrderCommand::Cancel(_) => return Verdict::Approve,
            OrderCommand::Modify(_) if !self.check_modifies => return Verdict::Approve,
            OrderCommand::Submit(o) => Seen::of_submit(now, o),
            OrderCommand::Modify(m) => Seen::of_modify(now, m),
        };
        let recent = self.recent.entry(context.strategy).or_default();
        let earlier = match seen.submit {
            // The newest remembered submit with the same figures.
            Some(_) => recent.iter().rev().find(|e| {
                e.submit == seen.submit
                    && e.instrument == seen.instrument
                    && e.price == seen.price
                    && e.quantity == seen.quantity
            }),
            // The order's latest remembered figures, if they are the same.
            None => recent
                .iter()
                .rev()
                .find(|e| e.id == seen.id && e.instrument == seen.instrument)
                .filter(|e| e.price == seen.price && e.quantity == seen.quantity),
        }
        .copied();
        if let Some(earlier) = earlier {
            let message = refusal(self.window_ms, context, command, &earlier);
            return Verdict::Reject(Rejection {
                reason: RejectReason::Other,
                message: Some(message),
            });
        }
        if recent.len() >= self.max_remembered {
            recent.pop_front();
        }
        recent.push_back(seen);
        Verdict::Approve
    }
}

impl RiskValidator for DuplicateOrder {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["window_ms", "check_modifies", "max_remembered"])?;
        let window_ms: u64 = config.parse_or("window_ms", DEFAULT_WINDOW_MS)?;
        if !(1..=MAX_WINDOW_MS).contains(&window_ms) {
            return Err(format!("config `window_ms`: must be 1 to {MAX_WINDOW_MS}"));
        }
        let check_modifies: bool = config.parse_or("check_modifies", false)?;
        let max_remembered: usize = config.parse_or("max_remembered", DEFAULT_MAX_REMEMBERED)?;
        if !(1..=MAX_REMEMBERED).contains(&max_remembered) {
            return Err(format!(
                "config `max_remembered`: must be 1 to {MAX_REMEMBERED}"
            ));
        }
        Ok(Self {
            window_ms,
            window_ns: window_ms * NANOS_PER_MS,
            check_modifies,
            max_remembered,
            recent: BTreeMap::new(),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let (now, window_ns) = (context.now, self.window_ns);
        // Forget what has left the window (in either direction, see the crate docs),
        // for every strategy, so an idle one holds nothing.
        self.recent.retain(|_, recent| {
            recent.retain(|e| now.abs_diff(e.ts) < window_ns);
            !recent.is_empty()
        });
        for order in orders {
            let verdict = self.check(context, order);
            verdicts.push(verdict);
        }
    }

    /// The remembered orders, so eviction or a swap does not forget a recent order.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.recent.len() as u32);
        for (&strategy, recent) in &self.recent {
            w.u32(strategy).u32(recent.len() as u32);
            for e in recent {
                w.u64(e.ts).u64(e.id).u32(e.instrument);
                match e.submit {
                    None => w.u8(0),
                    Some((side, order_type)) => w.u8(1).side(side).u8(type_code(order_type)),
                };
                w.i64(e.price).i64(e.quantity);
            }
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut recent = BTreeMap::new();
        for _ in 0..r.u32()? {
            let strategy = r.u32()?;
            let mut entries = VecDeque::new();
            for _ in 0..r.u32()? {
                let (ts, id, instrument) = (r.u64()?, r.u64()?, r.u32()?);
                let submit = match r.u8()? {
                    0 => None,
                    1 => Some((r.side()?, type_from_code(r.u8()?)?)),
                    other => return Err(format!("state: bad entry kind {other}")),
                };
                let (price, quantity) = (r.i64()?, r.i64()?);
                // A config without `check_modifies` has no use for modifies.
                if submit.is_some() || self.check_modifies {
                    entries.push_back(Seen {
                        ts,
                        id,
                        instrument,
                        submit,
                        price,
                        quantity,
                    });
                }
            }
            // Keep the newest `max_remembered`: a config that lowered the cap must not
            // start above it.
            while entries.len() > self.max_remembered {
                entries.pop_front();
            }
            if !entries.is_empty() {
                recent.insert(strategy, entries);
            }
        }
        r.finish()?;
        self.recent = recent;
        Ok(())
    }
}

tradsys_sdk::export_risk_validator!(DuplicateOrder);

fn type_code(order_type: OrderType) -> u8 {
    match order_type {
        OrderType::Limit => 0,
        OrderType::Market => 1,
    }
}

fn type_from_code(code: u8) -> Result<OrderType, String> {
    match code {
        0 => Ok(OrderType::Limit),
        1 => Ok(OrderType::Market),
        other => Err(format!("state: bad order type {other}")),
    }
}

/// The message refusing `command` (of a `window`-ms window), a repeat of `earlier`.
fn refusal(window: u64, context: &RiskContext, command: &OrderCommand, earlier: &Seen) -> String {
    let def = context
        .instruments
        .iter()
        .find(|d| d.id == earlier.instrument);
    let symbol = def.map_or_else(
        || format!("instrument {}", earlier.instrument),
        |d| d.symbol.clone(),
    );
    let price = fixed::format_exact(earlier.price.into(), def.map_or(0, |d| d.price_precision));
    let quantity =
        fixed::format_exact(earlier.quantity.into(), def.map_or(0, |d| d.size_precision));
    let age = show_ms(context.now.abs_diff(earlier.ts));
    match command {
        OrderCommand::Submit(o) => {
            let side = match o.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            };
            let what = match o.order_type {
                OrderType::Limit => format!("{side} {quantity} {symbol} limit {price}"),
                OrderType::Market => format!("{side} {quantity} {symbol} market"),
            };
            format!(
                "duplicate order: {what} repeats order {} of {age} ms ago \
                 (window {window} ms)",
                earlier.id
            )
        }
        _ => format!(
            "repeated modify: order {} was already set to {quantity} {symbol} at {price} \
             {age} ms ago (window {window} ms)",
            earlier.id
        ),
    }
}

/// Nanoseconds as exact milliseconds: `250`, `12.5`.
fn show_ms(ns: u64) -> String {
    // A fixed-point value of ns × 1000 is ns / 1e6 units: milliseconds.
    fixed::format_exact(i128::from(ns) * 1000, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::TimeInForce;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approvals_rejecting_with, px, rejection_message,
    };

    /// Session start: an arbitrary epoch time in nanoseconds.
    const T0: u64 = 1_700_000_000_000_000_000;

    fn at_ms(ms: u64) -> u64 {
        T0 + ms * NANOS_PER_MS
    }

    fn context(strategy: u32, now: u64) -> RiskContext {
        RiskContextBuilder::new(now)
            .strategy(strategy)
            .instruments([
                testing::instrument(0, "SYN-A"),
                testing::instrument(1, "SYN-B"),
            ])
            .build()
    }

    /// A GTC limit order: `side`, `quantity` units of `instrument` at `price`.
    fn order(id: u64, instrument: u32, side: Side, price: &str, quantity: i64) -> NewOrder {
        testing::limit_order(id, instrument, side, px(price), fixed::from_units(quantity))
    }

    /// Buy 100 SYN-A at 100.25.
    fn buy(id: u64) -> OrderCommand {
        OrderCommand::Submit(order(id, 0, Side::Buy, "100.25", 100))
    }

    fn modify(id: u64, price: &str, quantity: i64) -> OrderCommand {
        testing::modify(id, 0, px(price), fixed::from_units(quantity))
    }

    fn cancel(id: u64) -> OrderCommand {
        testing::cancel(id, 0)
    }

    fn validator(config: &[(&str, &str)]) -> DuplicateOrder {
        testing::validator(config)
    }

    fn verdicts(
        v: &mut DuplicateOrder,
        strategy: u32,
        now: u64,
        orders: &[OrderCommand],
    ) -> Vec<Verdict> {
        testing::validate(v, &context(strategy, now), orders)
    }

    /// Validate `orders` for `strategy` at `now`; true for each approval.
    fn run(v: &mut DuplicateOrder, strategy: u32, now: u64, orders: &[OrderCommand]) -> Vec<bool> {
        approvals_rejecting_with(&verdicts(v, strategy, now, orders), RejectReason::Other)
    }

    /// The message of the one rejection of `order` at `now`.
    fn refusal(v: &mut DuplicateOrder, now: u64, order: OrderCommand) -> String {
        rejection_message(&verdicts(v, 0, now, &[order])[0]).to_string()
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = validator(&[]);
        assert_eq!(
            (v.window_ms, v.window_ns, v.check_modifies, v.max_remembered),
            (500, 500_000_000, false, 1000)
        );
        let v = validator(&[
            ("window_ms", "3600000"),
            ("check_modifies", "true"),
            ("max_remembered", "7"),
        ]);
        assert_eq!(
            (v.window_ms, v.check_modifies, v.max_remembered),
            (3_600_000, true, 7)
        );
        for (key, value) in [
            ("window_ms", "0"),
            ("window_ms", "3600001"),
            ("window_ms", "-1"),
            ("window_ms", "1.5"),
            ("check_modifies", "yes"),
            ("max_remembered", "0"),
            ("max_remembered", "100001"),
            ("max_remembered", "many"),
        ] {
            let err = DuplicateOrder::new(&Config::new([(key, value)])).unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn a_repeat_within_the_window_is_refused_with_the_figures() {
        let mut v = validator(&[]);
        assert_eq!(run(&mut v, 0, at_ms(0), &[buy(1)]), [true]);
        assert_eq!(
            refusal(&mut v, at_ms(250), buy(2)),
            "duplicate order: buy 100 SYN-A limit 100.25 repeats order 1 of 250 ms ago \
             (window 500 ms)"
        );
        // Fractions of a millisecond are shown exactly.
        let message = refusal(&mut v, at_ms(499) + 500_000, buy(3));
        assert!(message.contains("of 499.5 ms ago"), "{message}");
    }

    #[test]
    fn the_window_edge_both_sides() {
        let mut v = validator(&[]);
        assert_eq!(run(&mut v, 0, at_ms(0), &[buy(1)]), [true]);
        assert_eq!(run(&mut v, 0, at_ms(500) - 1, &[buy(2)]), [false]);
        // Exactly one window later the first order has left it.
        assert_eq!(run(&mut v, 0, at_ms(500), &[buy(3)]), [true]);
        // The refused repeat did not restart the window; the approved one did.
        assert_eq!(run(&mut v, 0, at_ms(999), &[buy(4)]), [false]);
        assert_eq!(run(&mut v, 0, at_ms(1000), &[buy(5)]), [true]);
    }

    #[test]
    fn any_difference_makes_a_new_order() {
        let mut v = validator(&[]);
        let base = order(1, 0, Side::Buy, "100.25", 100);
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[OrderCommand::Submit(base)]),
            [true]
        );
        let variants = [
            NewOrder {
                instrument: 1,
                ..base
            },
            NewOrder {
                side: Side::Sell,
                ..base
            },
            NewOrder {
                order_type: OrderType::Market,
                ..base
            },
            NewOrder {
                price: base.price + px("0.01"),
                ..base
            },
            NewOrder {
                quantity: base.quantity + 1,
                ..base
            },
        ];
        for (i, variant) in variants.into_iter().enumerate() {
            let id = 10 + i as u64;
            let command = OrderCommand::Submit(NewOrder { id, ..variant });
            assert_eq!(run(&mut v, 0, at_ms(1), &[command]), [true], "variant {i}");
        }
        // The time in force is not compared.
        let ioc = NewOrder {
            id: 20,
            time_in_force: TimeInForce::Ioc,
            ..base
        };
        assert_eq!(
            run(&mut v, 0, at_ms(2), &[OrderCommand::Submit(ioc)]),
            [false]
        );
    }

    #[test]
    fn market_orders_match_whatever_their_price() {
        let mut v = validator(&[]);
        let market = |id, price: &str| {
            OrderCommand::Submit(NewOrder {
                order_type: OrderType::Market,
                time_in_force: TimeInForce::Ioc,
                ..order(id, 1, Side::Sell, price, 300)
            })
        };
        assert_eq!(run(&mut v, 0, at_ms(0), &[market(1, "0")]), [true]);
        assert_eq!(
            refusal(&mut v, at_ms(40), market(2, "249.95")),
            "duplicate order: sell 300 SYN-B market repeats order 1 of 40 ms ago (window 500 ms)"
        );
    }

    #[test]
    fn orders_of_one_batch_count_against_each_other() {
        let mut v = validator(&[]);
        let other = OrderCommand::Submit(order(3, 0, Side::Sell, "100.30", 100));
        let batch = [buy(1), buy(2), other, cancel(1), other, buy(5)];
        assert_eq!(
            run(&mut v, 0, at_ms(0), &batch),
            [true, false, true, true, false, false]
        );
        let message = refusal(&mut v, at_ms(0), buy(6));
        assert!(message.contains("repeats order 1 of 0 ms ago"), "{message}");
    }

    #[test]
    fn strategies_are_apart() {
        let mut v = validator(&[]);
        assert_eq!(run(&mut v, 0, at_ms(0), &[buy(1)]), [true]);
        assert_eq!(run(&mut v, 1, at_ms(1), &[buy(1)]), [true]);
        assert_eq!(run(&mut v, 1, at_ms(2), &[buy(2)]), [false]);
        assert_eq!(run(&mut v, 0, at_ms(3), &[buy(2)]), [false]);
    }

    #[test]
    fn cancels_always_pass_and_modifies_pass_by_default() {
        let mut v = validator(&[]);
        let batch = [buy(1), cancel(1), cancel(1), modify(1, "100.25", 100)];
        assert!(run(&mut v, 0, at_ms(0), &batch).iter().all(|&ok| ok));
        let modifies = [modify(1, "100.30", 100), modify(1, "100.30", 100)];
        assert!(run(&mut v, 0, at_ms(1), &modifies).iter().all(|&ok| ok));
        // Nothing but the submit is remembered.
        assert_eq!(v.recent[&0].len(), 1);
    }

    #[test]
    fn repeated_modifies_are_refused_when_checked() {
        let mut v = validator(&[("check_modifies", "true")]);
        assert_eq!(run(&mut v, 0, at_ms(0), &[buy(1)]), [true]);
        // Restating the submit's own figures changes nothing.
        assert_eq!(
            refusal(&mut v, at_ms(10), modify(1, "100.25", 100)),
            "repeated modify: order 1 was already set to 100 SYN-A at 100.25 10 ms ago \
             (window 500 ms)"
        );
        // A real change passes; repeating it does not; changing back does.
        let batch = [
            modify(1, "100.30", 100),
            modify(1, "100.30", 100),
            modify(1, "100.25", 100),
            modify(1, "100.25", 200),
        ];
        assert_eq!(run(&mut v, 0, at_ms(20), &batch), [true, false, true, true]);
        // A modify to figures another order was given is not a repeat, and a new order
        // with the figures a modify gave is not a duplicate either.
        let other = OrderCommand::Submit(order(2, 0, Side::Buy, "100.40", 100));
        assert_eq!(run(&mut v, 0, at_ms(30), &[other]), [true]);
        assert_eq!(
            run(&mut v, 0, at_ms(31), &[modify(2, "100.25", 200)]),
            [true]
        );
        let same = OrderCommand::Submit(order(3, 0, Side::Buy, "100.25", 200));
        assert_eq!(run(&mut v, 0, at_ms(32), &[same]), [true]);
        // Cancels still pass; an order not remembered passes.
        assert_eq!(
            run(&mut v, 0, at_ms(33), &[cancel(2), modify(9, "1", 1)]),
            [true, true]
        );
        // Once the window has passed, the same figures may be sent again.
        assert_eq!(
            run(&mut v, 0, at_ms(600), &[modify(2, "100.25", 200)]),
            [true]
        );
    }

    #[test]
    fn a_clock_stepping_back_is_handled() {
        let mut v = validator(&[]);
        assert_eq!(run(&mut v, 0, at_ms(5000), &[buy(1)]), [true]);
        // Slightly back: the order "in the future" still counts.
        assert_eq!(run(&mut v, 0, at_ms(4800), &[buy(2)]), [false]);
        // A whole window back: it is dropped.
        assert_eq!(run(&mut v, 0, at_ms(4500), &[buy(3)]), [true]);
        // Time zero and a far-future time neither overflow nor panic.
        assert_eq!(run(&mut v, 0, 0, &[buy(4)]), [true]);
        assert_eq!(run(&mut v, 0, u64::MAX, &[buy(5), buy(6)]), [true, false]);
    }

    #[test]
    fn memory_is_pruned_by_time_and_capped() {
        let mut v = validator(&[("max_remembered", "3")]);
        let distinct = |id: u64| OrderCommand::Submit(order(id, 0, Side::Buy, "100", id as i64));
        let batch: Vec<_> = (1..=5).map(distinct).collect();
        assert!(run(&mut v, 0, at_ms(0), &batch).iter().all(|&ok| ok));
        assert_eq!(v.recent[&0].len(), 3);
        // The oldest were forgotten (the check fails open), the newest not.
        assert_eq!(
            run(&mut v, 0, at_ms(1), &[distinct(1), distinct(5)]),
            [true, false]
        );
        assert_eq!(run(&mut v, 1, at_ms(2), &[buy(1)]), [true]);
        // A call of any strategy forgets every strategy's old orders.
        assert_eq!(run(&mut v, 2, at_ms(10_000), &[]), Vec::<bool>::new());
        assert!(v.recent.is_empty());
    }

    #[test]
    fn memory_survives_save_and_load() {
        let mut v = validator(&[("check_modifies", "true")]);
        let market = OrderCommand::Submit(NewOrder {
            order_type: OrderType::Market,
            ..order(2, 1, Side::Sell, "0", 5)
        });
        let batch = [buy(1), market, modify(1, "100.5", 100)];
        assert!(run(&mut v, 0, at_ms(0), &batch).iter().all(|&ok| ok));
        assert_eq!(run(&mut v, 3, at_ms(1), &[buy(1)]), [true]);
        let state = v.save_state();
        let mut fresh = validator(&[("check_modifies", "true")]);
        fresh.load_state(&state).unwrap();
        assert_eq!(fresh, v);
        assert_eq!(
            run(
                &mut fresh,
                0,
                at_ms(100),
                &[buy(3), market, modify(1, "100.5", 100)]
            ),
            [false, false, false]
        );
        // A config without `check_modifies` or with a smaller cap keeps less.
        let mut plain = validator(&[("max_remembered", "1")]);
        plain.load_state(&state).unwrap();
        assert_eq!(plain.recent[&0].len(), 1);
        assert_eq!(plain.recent[&0][0].id, 2);
        // Bad or short state is refused and changes nothing.
        assert!(fresh.load_state(&[9]).is_err());
        assert!(fresh.load_state(&state[..state.len() - 1]).is_err());
        let mut trailing = state.clone();
        trailing.push(0);
        assert!(fresh.load_state(&trailing).is_err());
        assert_eq!(fresh.recent[&3].len(), 1);
        // An empty memory round-trips too.
        let empty = validator(&[]);
        let mut other = validator(&[]);
        other.load_state(&empty.save_state()).unwrap();
        assert_eq!(other, empty);
    }
}

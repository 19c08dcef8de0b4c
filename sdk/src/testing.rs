//! Stand-ins for writing a plugin's unit tests (compiled natively only, not
//! for `wasm`): instrument definitions, risk contexts, order commands, the
//! books [`host::depth`](crate::host::depth) answers, and assertions on the
//! verdicts of a [`RiskValidator`].
//!
//! Every price and quantity is fixed-point (see [`fixed`]);
//! [`px`] and [`units`] write them.
//!
//! ```
//! use tradsys_sdk::testing::{self, RiskContextBuilder, px, units};
//! use tradsys_sdk::{Config, OrderCommand, RejectReason, RiskContext, RiskValidator, Side, Verdict};
//!
//! /// Refuses every order above ten units.
//! struct Small;
//!
//! impl RiskValidator for Small {
//!     fn new(_: &Config) -> Result<Self, String> {
//!         Ok(Small)
//!     }
//!
//!     fn validate(&mut self, _: &RiskContext, orders: &[OrderCommand], verdicts: &mut Vec<Verdict>) {
//!         for order in orders {
//!             let big = matches!(order, OrderCommand::Submit(o) if o.quantity > units(10));
//!             verdicts.push(if big {
//!                 Verdict::Reject(tradsys_sdk::Rejection {
//!                     reason: RejectReason::QuantityLimit,
//!                     message: Some("too big".into()),
//!                 })
//!             } else {
//!                 Verdict::Approve
//!             });
//!         }
//!     }
//! }
//!
//! let mut v: Small = testing::validator(&[]);
//! let ctx = RiskContextBuilder::new(1_000_000_000)
//!     .instruments(testing::synthetic_instruments())
//!     .last_price(0, px("100"))
//!     .build();
//! let verdicts = testing::validate(
//!     &mut v,
//!     &ctx,
//!     &[
//!         testing::limit(1, 0, Side::Buy, px("100"), units(5)),
//!         testing::market(2, 0, Side::Sell, units(50)),
//!     ],
//! );
//! assert_eq!(testing::reasons(&verdicts), [None, Some(RejectReason::QuantityLimit)]);
//! assert_eq!(testing::rejection_message(&verdicts[1]), "too big");
//! ```

use crate::{
    Account, BookDepth, CancelOrder, Config, DepthLevel, InstrumentDefinition, LastPrice,
    ModifyOrder, NewOrder, OpenOrder, OrderCommand, OrderType, Position, RejectReason, RiskContext,
    RiskValidator, Side, TimeInForce, Verdict, fixed,
};

/// The fixed-point value of decimal `text` (`"100.25"`); panics on bad text.
pub fn px(text: &str) -> i64 {
    fixed::parse(text).unwrap_or_else(|| panic!("bad fixed-point literal {text:?}"))
}

/// `n` whole units in fixed point.
pub const fn units(n: i64) -> i64 {
    fixed::from_units(n)
}

/// An instrument with a tick of 0.01, a lot of one unit, two price decimals,
/// whole sizes and multiplier 1. Change a field with struct update syntax:
/// `InstrumentDefinition { tick_size: px("0.05"), ..instrument(1, "SYN-B") }`.
pub fn instrument(id: u32, symbol: &str) -> InstrumentDefinition {
    InstrumentDefinition {
        id,
        symbol: symbol.to_string(),
        tick_size: units(1) / 100,
        lot_size: units(1),
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    }
}

/// The synthetic market's instruments: SYN-A, SYN-B and SYN-C (ids 0, 1, 2),
/// each an [`instrument`].
pub fn synthetic_instruments() -> Vec<InstrumentDefinition> {
    vec![
        instrument(0, "SYN-A"),
        instrument(1, "SYN-B"),
        instrument(2, "SYN-C"),
    ]
}

/// Builds a [`RiskContext`]: strategy 0, no positions, working orders, last
/// prices or instruments, and an empty account until told otherwise.
#[derive(Clone, Debug)]
pub struct RiskContextBuilder {
    context: RiskContext,
}

impl RiskContextBuilder {
    /// A context at host time `now` (nanoseconds).
    pub fn new(now: u64) -> Self {
        Self {
            context: RiskContext {
                now,
                strategy: 0,
                positions: Vec::new(),
                open_orders: Vec::new(),
                last_prices: Vec::new(),
                account: Account {
                    cash: 0,
                    realized_pnl: 0,
                },
                instruments: Vec::new(),
            },
        }
    }

    /// The strategy the orders come from.
    pub fn strategy(&mut self, strategy: u32) -> &mut Self {
        self.context.strategy = strategy;
        self
    }

    /// Add instrument definitions.
    pub fn instruments(
        &mut self,
        definitions: impl IntoIterator<Item = InstrumentDefinition>,
    ) -> &mut Self {
        self.context.instruments.extend(definitions);
        self
    }

    /// Add the last price of `instrument`.
    pub fn last_price(&mut self, instrument: u32, price: i64) -> &mut Self {
        self.context
            .last_prices
            .push(LastPrice { instrument, price });
        self
    }

    /// Add a position of `quantity` (negative: short) in `instrument`.
    pub fn position(&mut self, instrument: u32, quantity: i64, average_price: i64) -> &mut Self {
        self.context.positions.push(Position {
            instrument,
            quantity,
            average_price,
        });
        self
    }

    /// Add a working order `id` with `leaves_quantity` left at `price`.
    pub fn open_order(
        &mut self,
        id: u64,
        instrument: u32,
        side: Side,
        price: i64,
        leaves_quantity: i64,
    ) -> &mut Self {
        self.context.open_orders.push(OpenOrder {
            id,
            instrument,
            side,
            price,
            leaves_quantity,
        });
        self
    }

    /// The context built so far.
    pub fn build(&self) -> RiskContext {
        self.context.clone()
    }
}

/// A GTC limit order.
pub fn limit_order(id: u64, instrument: u32, side: Side, price: i64, quantity: i64) -> NewOrder {
    NewOrder {
        id,
        instrument,
        side,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price,
        quantity,
    }
}

/// An IOC market order (price 0).
pub fn market_order(id: u64, instrument: u32, side: Side, quantity: i64) -> NewOrder {
    NewOrder {
        id,
        instrument,
        side,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Ioc,
        price: 0,
        quantity,
    }
}

/// Submit a GTC limit order ([`limit_order`]).
pub fn limit(id: u64, instrument: u32, side: Side, price: i64, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(limit_order(id, instrument, side, price, quantity))
}

/// Submit an IOC market order ([`market_order`]).
pub fn market(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(market_order(id, instrument, side, quantity))
}

/// Modify working order `id` to `quantity` at `price`.
pub fn modify(id: u64, instrument: u32, price: i64, quantity: i64) -> OrderCommand {
    OrderCommand::Modify(ModifyOrder {
        id,
        instrument,
        price,
        quantity,
    })
}

/// Cancel working order `id`.
pub fn cancel(id: u64, instrument: u32) -> OrderCommand {
    OrderCommand::Cancel(CancelOrder { id, instrument })
}

/// A book level of `quantity` at `price` from one order.
pub fn depth_level(price: i64, quantity: i64) -> DepthLevel {
    DepthLevel {
        price,
        quantity,
        orders: 1,
    }
}

/// A book of `instrument` with `bids` and `asks` as (price, quantity), best
/// first, one order per level; give it to
/// [`host::set_depth`](crate::host::set_depth).
pub fn book_depth(instrument: u32, bids: &[(i64, i64)], asks: &[(i64, i64)]) -> BookDepth {
    let levels = |side: &[(i64, i64)]| {
        side.iter()
            .map(|&(price, quantity)| depth_level(price, quantity))
            .collect()
    };
    BookDepth {
        instrument,
        bids: levels(bids),
        asks: levels(asks),
    }
}

/// Build validator `V` from `config` (key, value) pairs; panics if it refuses.
pub fn validator<V: RiskValidator>(config: &[(&str, &str)]) -> V {
    V::new(&Config::new(config.iter().copied()))
        .unwrap_or_else(|e| panic!("the validator refused its config: {e}"))
}

/// The verdicts of `validator` on `orders` in `context`; asserts one verdict
/// per order.
pub fn validate<V: RiskValidator>(
    validator: &mut V,
    context: &RiskContext,
    orders: &[OrderCommand],
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    validator.validate(context, orders, &mut verdicts);
    assert_eq!(verdicts.len(), orders.len(), "one verdict per order");
    verdicts
}

/// The verdict of `validator` on `order` alone in `context`.
pub fn validate_one<V: RiskValidator>(
    validator: &mut V,
    context: &RiskContext,
    order: OrderCommand,
) -> Verdict {
    validate(validator, context, &[order]).remove(0)
}

/// Whether `verdict` is an approval.
pub fn approved(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Approve)
}

/// [`approved`] for each verdict.
pub fn approvals(verdicts: &[Verdict]) -> Vec<bool> {
    verdicts.iter().map(approved).collect()
}

/// [`approved`] for each verdict, asserting that every rejection gives `reason`.
pub fn approvals_rejecting_with(verdicts: &[Verdict], reason: RejectReason) -> Vec<bool> {
    verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Approve => true,
            Verdict::Reject(r) => {
                assert_eq!(r.reason, reason);
                false
            }
        })
        .collect()
}

/// `None` for each approval, the reason of each rejection.
pub fn reasons(verdicts: &[Verdict]) -> Vec<Option<RejectReason>> {
    verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Approve => None,
            Verdict::Reject(r) => Some(r.reason),
        })
        .collect()
}

/// The reason and message (empty if none) of a rejection; panics on an approval.
pub fn rejected(verdict: Verdict) -> (RejectReason, String) {
    match verdict {
        Verdict::Reject(r) => (r.reason, r.message.unwrap_or_default()),
        Verdict::Approve => panic!("expected a rejection, got an approval"),
    }
}

/// The message (empty if none) of a rejection; panics on an approval.
pub fn rejection_message(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Reject(r) => r.message.as_deref().unwrap_or_default(),
        Verdict::Approve => panic!("expected a rejection, got an approval"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Approves a cancel, refuses anything else with the order's id.
    struct CancelsOnly;

    impl RiskValidator for CancelsOnly {
        fn new(config: &Config) -> Result<Self, String> {
            match config.get("fail") {
                Some(_) => Err("asked to fail".into()),
                None => Ok(Self),
            }
        }

        fn validate(
            &mut self,
            _: &RiskContext,
            orders: &[OrderCommand],
            verdicts: &mut Vec<Verdict>,
        ) {
            verdicts.extend(orders.iter().map(|o| match o {
                OrderCommand::Cancel(_) => Verdict::Approve,
                other => Verdict::Reject(crate::Rejection {
                    reason: RejectReason::Other,
                    message: Some(format!("order {}", other.id())),
                }),
            }));
        }
    }

    #[test]
    fn builders_fill_what_they_are_given() {
        let ctx = RiskContextBuilder::new(7)
            .strategy(3)
            .instruments(synthetic_instruments())
            .last_price(1, px("250"))
            .position(0, units(-5), px("99.5"))
            .open_order(9, 2, Side::Sell, px("40"), units(2))
            .build();
        assert_eq!((ctx.now, ctx.strategy), (7, 3));
        assert_eq!(ctx.instruments[1].symbol, "SYN-B");
        assert_eq!(ctx.instruments[2].tick_size, px("0.01"));
        assert_eq!(ctx.last_prices[0].price, units(250));
        assert_eq!(ctx.positions[0].quantity, -units(5));
        assert_eq!(ctx.open_orders[0].leaves_quantity, units(2));

        let OrderCommand::Submit(o) = market(4, 1, Side::Buy, units(3)) else {
            panic!("a market order is a submit")
        };
        assert_eq!(
            (o.order_type, o.time_in_force, o.price),
            (OrderType::Market, TimeInForce::Ioc, 0)
        );
        assert_eq!(
            limit_order(1, 0, Side::Sell, px("1.5"), 1).time_in_force,
            TimeInForce::Gtc
        );
        let depth = book_depth(0, &[(px("99"), units(1))], &[]);
        assert_eq!(
            (depth.bids.len(), depth.bids[0].price, depth.bids[0].orders),
            (1, px("99"), 1)
        );
        assert!(depth.asks.is_empty());
    }

    #[test]
    fn verdict_helpers() {
        let mut v: CancelsOnly = validator(&[]);
        let ctx = RiskContextBuilder::new(0).build();
        let orders = [
            cancel(1, 0),
            limit(2, 0, Side::Buy, units(1), units(1)),
            modify(3, 0, units(1), units(2)),
        ];
        let verdicts = validate(&mut v, &ctx, &orders);
        assert_eq!(approvals(&verdicts), [true, false, false]);
        assert_eq!(
            approvals_rejecting_with(&verdicts, RejectReason::Other),
            [true, false, false]
        );
        assert_eq!(
            reasons(&verdicts),
            [None, Some(RejectReason::Other), Some(RejectReason::Other)]
        );
        assert_eq!(rejection_message(&verdicts[2]), "order 3");
        assert_eq!(
            rejected(validate_one(&mut v, &ctx, orders[1])),
            (RejectReason::Other, "order 2".to_string())
        );
        assert!(approved(&validate_one(&mut v, &ctx, cancel(5, 1))));
        assert!(std::panic::catch_unwind(|| validator::<CancelsOnly>(&[("fail", "1")])).is_err());
    }
}

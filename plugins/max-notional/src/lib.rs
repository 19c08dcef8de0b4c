//! Max-notional: a pre-trade risk validator that caps the size of every single order.
//!
//! Each order command is checked on its own (limits are per order, so orders of one
//! batch do not add up):
//!
//! - **fat finger**: a quantity above `max_quantity` units is rejected with
//!   `QuantityLimit`;
//! - **notional**: `price × quantity × multiplier` above `max_notional` is rejected
//!   with `NotionalLimit`. Limit orders and modifies are valued at their limit price,
//!   market orders at the instrument's last price. A market order on an instrument
//!   with no last price yet cannot be valued and is rejected with `InvalidOrder`.
//!
//! A modify is checked like a new order at its new price and new total quantity.
//! Cancels are always approved: they only ever reduce risk. Malformed orders (a
//! quantity that is not positive, an instrument the host never defined, a
//! non-positive contract multiplier) are rejected with `InvalidOrder`.
//!
//! The multiplier of an instrument definition is a plain integer (`1` for the
//! synthetic market), not a fixed-point number.
//!
//! # Config keys
//!
//! | key            | meaning                                   | default  |
//! |----------------|-------------------------------------------|----------|
//! | `max_notional` | largest notional of one order (decimal)   | `100000` |
//! | `max_quantity` | largest quantity of one order, in units   | `1000`   |
//!
//! The defaults suit the synthetic market (prices 40–250, lots of 1 unit): 1000 units
//! of SYN-A at 100 is exactly the notional limit, and 400 units of SYN-B at 250.

use tradsys_sdk::{
    Config, InstrumentDefinition, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Verdict, fixed,
};

/// Default for `max_notional`: 100000 in price units.
const DEFAULT_MAX_NOTIONAL: i64 = fixed::from_units(100_000);
/// Default for `max_quantity`: 1000 units.
const DEFAULT_MAX_QUANTITY: i64 = fixed::from_units(1_000);

/// The validator. Config keys (see the crate docs):
/// `max_notional` (default `100000`) and `max_quantity` (default `1000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxNotional {
    /// Largest allowed notional of one order, fixed-point.
    max_notional: i64,
    /// Largest allowed quantity of one order, fixed-point.
    max_quantity: i64,
}

/// What is checked of one submit or modify.
struct OrderSize {
    instrument: u32,
    /// Limit price, or `None` for a market order (valued at the last price).
    price: Option<i64>,
    quantity: i64,
}

impl MaxNotional {
    /// The verdict for one command.
    fn check(&self, context: &RiskContext, command: &OrderCommand) -> Verdict {
        let order = match command {
            // Never block a risk-reducing action.
            OrderCommand::Cancel(_) => return Verdict::Approve,
            OrderCommand::Submit(o) => OrderSize {
                instrument: o.instrument,
                price: match o.order_type {
                    OrderType::Limit => Some(o.price),
                    OrderType::Market => None,
                },
                quantity: o.quantity,
            },
            OrderCommand::Modify(m) => OrderSize {
                instrument: m.instrument,
                price: Some(m.price),
                quantity: m.quantity,
            },
        };
        match self.check_sized(context, &order) {
            Ok(()) => Verdict::Approve,
            Err(rejection) => Verdict::Reject(rejection),
        }
    }

    fn check_sized(&self, context: &RiskContext, order: &OrderSize) -> Result<(), Rejection> {
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
                    show_quantity(order.quantity, def),
                    def.symbol
                ),
            ));
        }
        if order.quantity > self.max_quantity {
            return Err(reject(
                RejectReason::QuantityLimit,
                format!(
                    "quantity {} of {} above `max_quantity` {}",
                    show_quantity(order.quantity, def),
                    def.symbol,
                    show_quantity(self.max_quantity, def)
                ),
            ));
        }
        if def.multiplier <= 0 {
            return Err(reject(
                RejectReason::InvalidOrder,
                format!("{} has multiplier {}", def.symbol, def.multiplier),
            ));
        }
        let price = match order.price {
            Some(price) => price,
            None => context
                .last_prices
                .iter()
                .find(|p| p.instrument == order.instrument)
                .map(|p| p.price)
                .ok_or_else(|| {
                    reject(
                        RejectReason::InvalidOrder,
                        format!("no last price for {} to value a market order", def.symbol),
                    )
                })?,
        };
        // i128 throughout: price × quantity × multiplier cannot overflow it.
        let notional = (fixed::notional(price, order.quantity) * i128::from(def.multiplier)).abs();
        if notional > i128::from(self.max_notional) {
            return Err(reject(
                RejectReason::NotionalLimit,
                format!(
                    "notional {} of {} above `max_notional` {}",
                    fixed::format_exact(notional, 2),
                    def.symbol,
                    fixed::format_exact(i128::from(self.max_notional), 2)
                ),
            ));
        }
        Ok(())
    }
}

impl RiskValidator for MaxNotional {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["max_notional", "max_quantity"])?;
        let max_notional = config.fixed_or("max_notional", DEFAULT_MAX_NOTIONAL)?;
        if max_notional <= 0 {
            return Err("config `max_notional`: must be positive".to_string());
        }
        let max_quantity = config.fixed_or("max_quantity", DEFAULT_MAX_QUANTITY)?;
        if max_quantity <= 0 {
            return Err("config `max_quantity`: must be positive".to_string());
        }
        Ok(Self {
            max_notional,
            max_quantity,
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        verdicts.extend(orders.iter().map(|order| self.check(context, order)));
    }
}

tradsys_sdk::export_risk_validator!(MaxNotional);

fn reject(reason: RejectReason, message: String) -> Rejection {
    Rejection {
        reason,
        message: Some(message),
    }
}

/// A quantity shown with at least the instrument's size precision.
fn show_quantity(quantity: i64, def: &InstrumentDefinition) -> String {
    fixed::format_exact(i128::from(quantity), def.size_precision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::Side;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approved, px, rejected, validate, validate_one,
    };

    /// The synthetic market: SYN-A at 100, SYN-B at 250, SYN-C without a last price.
    fn context() -> RiskContext {
        RiskContextBuilder::new(1_000_000_000)
            .instruments([
                testing::instrument(0, "SYN-A"),
                InstrumentDefinition {
                    tick_size: px("0.05"),
                    ..testing::instrument(1, "SYN-B")
                },
                testing::instrument(2, "SYN-C"),
            ])
            .last_price(0, px("100"))
            .last_price(1, px("250"))
            .build()
    }

    fn limit(id: u64, instrument: u32, price: &str, quantity: i64) -> OrderCommand {
        testing::limit(
            id,
            instrument,
            Side::Buy,
            px(price),
            fixed::from_units(quantity),
        )
    }

    fn market(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
        testing::market(id, instrument, side, fixed::from_units(quantity))
    }

    fn validator(config: &[(&str, &str)]) -> MaxNotional {
        testing::validator(config)
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = validator(&[]);
        assert_eq!(v.max_notional, fixed::from_units(100_000));
        assert_eq!(v.max_quantity, fixed::from_units(1_000));
        let v = validator(&[("max_notional", "2500.5"), ("max_quantity", "7")]);
        assert_eq!(v.max_notional, px("2500.5"));
        assert_eq!(v.max_quantity, fixed::from_units(7));
        for (key, value) in [
            ("max_notional", "x"),
            ("max_notional", "0"),
            ("max_quantity", "-1"),
            ("max_quantity", "lots"),
        ] {
            let err = MaxNotional::new(&Config::new([(key, value)])).unwrap_err();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn notional_limit_both_sides() {
        let mut v = validator(&[]);
        let ctx = context();
        // 400 × 250.00 = 100000.00: exactly at the limit is allowed.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, 1, "250", 400)
        )));
        // One tick higher is 100020.00: over.
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(2, 1, "250.05", 400)));
        assert_eq!(reason, RejectReason::NotionalLimit);
        assert_eq!(
            message,
            "notional 100020.00 of SYN-B above `max_notional` 100000.00"
        );
        // One more unit at the limit price: 100250.00.
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(3, 1, "250", 401)));
        assert_eq!(reason, RejectReason::NotionalLimit);
    }

    #[test]
    fn quantity_limit_both_sides() {
        let mut v = validator(&[("max_notional", "1000000")]);
        let ctx = context();
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, 2, "40", 1000)
        )));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(2, 2, "40", 1001)));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(message, "quantity 1001 of SYN-C above `max_quantity` 1000");
        // A fractional excess is caught too and shown exactly.
        let mut order = limit(3, 2, "40", 1000);
        if let OrderCommand::Submit(o) = &mut order {
            o.quantity += 1;
        }
        let (reason, message) = rejected(validate_one(&mut v, &ctx, order));
        assert_eq!(reason, RejectReason::QuantityLimit);
        assert_eq!(
            message,
            "quantity 1000.000000001 of SYN-C above `max_quantity` 1000"
        );
    }

    #[test]
    fn multiplier_scales_the_notional() {
        let mut v = validator(&[]);
        let mut ctx = context();
        ctx.instruments[0].multiplier = 50;
        // 20 × 100 × 50 = 100000: at the limit; 21 is over.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, 0, "100", 20)
        )));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(2, 0, "100", 21)));
        assert_eq!(reason, RejectReason::NotionalLimit);
        assert_eq!(
            message,
            "notional 105000.00 of SYN-A above `max_notional` 100000.00"
        );
        ctx.instruments[0].multiplier = 0;
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(3, 0, "100", 1)));
        assert_eq!(reason, RejectReason::InvalidOrder);
    }

    #[test]
    fn market_orders_are_valued_at_the_last_price() {
        let mut v = validator(&[]);
        let mut ctx = context();
        // The limit price field of a market order is ignored: SYN-A last is 100.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            market(1, 0, Side::Sell, 1000)
        )));
        ctx.last_prices[0].price = px("100.01");
        let (reason, message) =
            rejected(validate_one(&mut v, &ctx, market(2, 0, Side::Sell, 1000)));
        assert_eq!(reason, RejectReason::NotionalLimit);
        assert_eq!(
            message,
            "notional 100010.00 of SYN-A above `max_notional` 100000.00"
        );
    }

    #[test]
    fn market_order_without_last_price_is_rejected() {
        let mut v = validator(&[]);
        let ctx = context();
        let (reason, message) = rejected(validate_one(&mut v, &ctx, market(1, 2, Side::Buy, 1)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "no last price for SYN-C to value a market order");
        // A limit order on the same instrument is valued at its own price.
        assert!(approved(&validate_one(&mut v, &ctx, limit(2, 2, "40", 10))));
    }

    #[test]
    fn modifies_are_checked_at_their_new_price_and_quantity() {
        let mut v = validator(&[]);
        let ctx = context();
        let modify = |price: &str, quantity: i64| {
            testing::modify(9, 0, px(price), fixed::from_units(quantity))
        };
        assert!(approved(&validate_one(&mut v, &ctx, modify("100", 1000))));
        let (reason, _) = rejected(validate_one(&mut v, &ctx, modify("100.01", 1000)));
        assert_eq!(reason, RejectReason::NotionalLimit);
        let (reason, _) = rejected(validate_one(&mut v, &ctx, modify("1", 1001)));
        assert_eq!(reason, RejectReason::QuantityLimit);
    }

    #[test]
    fn cancels_are_always_approved() {
        let mut v = validator(&[("max_notional", "0.01"), ("max_quantity", "0.000000001")]);
        let ctx = context();
        let cancel = |instrument| testing::cancel(1, instrument);
        // Even of an unknown instrument, and with limits nothing else passes.
        let verdicts = validate(&mut v, &ctx, &[cancel(0), cancel(99)]);
        assert!(verdicts.iter().all(approved));
    }

    #[test]
    fn malformed_orders_are_invalid() {
        let mut v = validator(&[]);
        let ctx = context();
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(1, 7, "100", 1)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "unknown instrument 7");
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(2, 0, "100", 0)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "quantity 0 of SYN-A is not positive");
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(3, 0, "100", -5)));
        assert_eq!(reason, RejectReason::InvalidOrder);
        // Extreme values do not overflow: the notional is computed in i128.
        let mut huge = limit(4, 0, "1", 1);
        if let OrderCommand::Submit(o) = &mut huge {
            o.price = i64::MAX;
            o.quantity = fixed::from_units(1000);
        }
        let (reason, _) = rejected(validate_one(&mut v, &ctx, huge));
        assert_eq!(reason, RejectReason::NotionalLimit);
    }

    #[test]
    fn one_verdict_per_order_in_order() {
        let mut v = validator(&[]);
        let ctx = context();
        let orders = [
            limit(1, 0, "100", 10),
            limit(2, 1, "250", 1000),
            testing::cancel(1, 0),
            limit(3, 0, "100", 2000),
            market(4, 2, Side::Buy, 1),
            limit(5, 2, "40", 10),
        ];
        let reasons: Vec<Option<RejectReason>> = validate(&mut v, &ctx, &orders)
            .into_iter()
            .map(|verdict| match verdict {
                Verdict::Approve => None,
                Verdict::Reject(r) => Some(r.reason),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                None,
                Some(RejectReason::NotionalLimit),
                None,
                Some(RejectReason::QuantityLimit),
                Some(RejectReason::InvalidOrder),
                None,
            ]
        );
        // Each order is limited on its own: many orders just under the limit all pass.
        let batch: Vec<_> = (0..10).map(|i| limit(i, 0, "100", 1000)).collect();
        assert!(validate(&mut v, &ctx, &batch).iter().all(approved));
    }
}

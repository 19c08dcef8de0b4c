//! Price-collar: a pre-trade risk validator that keeps limit prices near the market.
//!
//! For every limit order and every modify (a modify is a limit order at its new price):
//!
//! - the price must be a multiple of the instrument's tick size, else the order is
//!   rejected with `InvalidOrder`;
//! - the price may be at most `band_bps` basis points away from the instrument's last
//!   price (above or below), else it is rejected with `PriceCollar`. Before the first
//!   last price of an instrument there is no band to check against, so its limit
//!   orders are rejected with `PriceCollar` too (fail closed).
//!
//! Market orders pass (they have no limit price to collar), and cancels are always
//! approved: they only ever reduce risk. Limit orders on an instrument the host never
//! defined are rejected with `InvalidOrder`. Every order is judged on its own, so a
//! batch gets the same verdicts as its orders sent one by one.
//!
//! # Config keys
//!
//! | key        | meaning                                                        | default |
//! |------------|----------------------------------------------------------------|---------|
//! | `band_bps` | widest distance from the last price, in basis points (decimal) | `50`    |
//!
//! 50 bps is 0.50 (50 ticks) around SYN-A at 100 and 1.25 (25 ticks) around SYN-B at
//! 250 in the synthetic market: passive and marketable orders pass, a price off by
//! more than a moment's drift is refused.

use tradsys_sdk::{
    Config, InstrumentDefinition, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Verdict, fixed,
};

/// Basis points in one whole (100 %).
const BPS_PER_UNIT: i128 = 10_000;

/// The validator. Config key (see the crate docs): `band_bps` (default `50`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceCollar {
    /// Band half-width in basis points, fixed-point (so `12.5` bps is allowed).
    band_bps: i64,
}

impl PriceCollar {
    /// The verdict for one command.
    fn check(&self, context: &RiskContext, command: &OrderCommand) -> Verdict {
        let (instrument, price) = match command {
            // Never block a risk-reducing action.
            OrderCommand::Cancel(_) => return Verdict::Approve,
            OrderCommand::Submit(o) => match o.order_type {
                OrderType::Market => return Verdict::Approve,
                OrderType::Limit => (o.instrument, o.price),
            },
            OrderCommand::Modify(m) => (m.instrument, m.price),
        };
        match self.check_price(context, instrument, price) {
            Ok(()) => Verdict::Approve,
            Err(rejection) => Verdict::Reject(rejection),
        }
    }

    fn check_price(
        &self,
        context: &RiskContext,
        instrument: u32,
        price: i64,
    ) -> Result<(), Rejection> {
        let Some(def) = context.instruments.iter().find(|d| d.id == instrument) else {
            return Err(reject(
                RejectReason::InvalidOrder,
                format!("unknown instrument {instrument}"),
            ));
        };
        // A definition without a positive tick constrains nothing (and must not divide).
        if def.tick_size > 0 && price.rem_euclid(def.tick_size) != 0 {
            return Err(reject(
                RejectReason::InvalidOrder,
                format!(
                    "price {} of {} not on tick {}",
                    show_price(price, def),
                    def.symbol,
                    show_price(def.tick_size, def)
                ),
            ));
        }
        let Some(last) = context
            .last_prices
            .iter()
            .find(|p| p.instrument == instrument)
            .map(|p| p.price)
        else {
            return Err(reject(
                RejectReason::PriceCollar,
                format!("no last price for {} to collar against", def.symbol),
            ));
        };
        let reference = i128::from(last).abs();
        if reference == 0 {
            return Err(reject(
                RejectReason::PriceCollar,
                format!(
                    "last price of {} is zero, no band to collar against",
                    def.symbol
                ),
            ));
        }
        // |price - last| / |last| > band_bps / 10000, cross-multiplied in i128 (no
        // rounding, no overflow: every factor is at most about 2^64 · 10^13).
        let distance = (i128::from(price) - i128::from(last)).abs();
        let band = i128::from(self.band_bps);
        if distance * BPS_PER_UNIT * i128::from(fixed::SCALE) > band * reference {
            // Distance in tenths of a basis point, rounded, for the message only.
            let tenths = (distance * BPS_PER_UNIT * 10 + reference / 2) / reference;
            return Err(reject(
                RejectReason::PriceCollar,
                format!(
                    "price {} of {} is {}.{} bps from last {}, band {} bps",
                    show_price(price, def),
                    def.symbol,
                    tenths / 10,
                    tenths % 10,
                    show_price(last, def),
                    fixed::format_exact(i128::from(self.band_bps), 0)
                ),
            ));
        }
        Ok(())
    }
}

impl RiskValidator for PriceCollar {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["band_bps"])?;
        let band_bps = config.fixed_or("band_bps", fixed::from_units(50))?;
        if band_bps < 0 {
            return Err("config `band_bps`: must not be negative".to_string());
        }
        Ok(Self { band_bps })
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

tradsys_sdk::export_risk_validator!(PriceCollar);

fn reject(reason: RejectReason, message: String) -> Rejection {
    Rejection {
        reason,
        message: Some(message),
    }
}

/// A price shown with at least the instrument's price precision.
fn show_price(price: i64, def: &InstrumentDefinition) -> String {
    fixed::format_exact(i128::from(price), def.price_precision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approved, px, rejected, validate, validate_one,
    };
    use tradsys_sdk::{LastPrice, Side};

    /// The synthetic market: SYN-A last 100, SYN-B last 250, SYN-C no last price yet.
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

    fn limit(instrument: u32, side: Side, price: &str) -> OrderCommand {
        testing::limit(1, instrument, side, px(price), fixed::from_units(10))
    }

    fn market(instrument: u32) -> OrderCommand {
        testing::market(2, instrument, Side::Buy, fixed::from_units(10))
    }

    fn modify(instrument: u32, price: &str) -> OrderCommand {
        testing::modify(1, instrument, px(price), fixed::from_units(10))
    }

    fn validator(config: &[(&str, &str)]) -> PriceCollar {
        testing::validator(config)
    }

    #[test]
    fn defaults_and_bad_config() {
        assert_eq!(validator(&[]).band_bps, fixed::from_units(50));
        assert_eq!(validator(&[("band_bps", "12.5")]).band_bps, px("12.5"));
        assert_eq!(validator(&[("band_bps", "0")]).band_bps, 0);
        for value in ["-1", "wide", ""] {
            let err = PriceCollar::new(&Config::new([("band_bps", value)])).unwrap_err();
            assert!(err.contains("`band_bps`"), "{err}");
        }
    }

    #[test]
    fn band_both_sides_and_both_directions() {
        let mut v = validator(&[]);
        let ctx = context();
        // 50 bps of 100.00 is 0.50: the band edges pass, one tick beyond does not.
        for price in ["100.50", "99.50", "100", "100.49"] {
            assert!(
                approved(&validate_one(&mut v, &ctx, limit(0, Side::Buy, price))),
                "{price}"
            );
        }
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(0, Side::Buy, "100.51")));
        assert_eq!(reason, RejectReason::PriceCollar);
        assert_eq!(
            message,
            "price 100.51 of SYN-A is 51.0 bps from last 100.00, band 50 bps"
        );
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(0, Side::Sell, "99.49")));
        assert_eq!(reason, RejectReason::PriceCollar);
        assert_eq!(
            message,
            "price 99.49 of SYN-A is 51.0 bps from last 100.00, band 50 bps"
        );
        // SYN-B at 250: 50 bps is 1.25, a whole number of its 0.05 ticks.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, Side::Sell, "251.25")
        )));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, Side::Buy, "248.75")
        )));
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(1, Side::Sell, "251.30")));
        assert_eq!(reason, RejectReason::PriceCollar);
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(1, Side::Buy, "248.70")));
        assert_eq!(reason, RejectReason::PriceCollar);
    }

    #[test]
    fn fractional_band_is_exact() {
        let mut v = validator(&[("band_bps", "12.5")]);
        let mut ctx = context();
        ctx.last_prices[0].price = px("40.00");
        // 12.5 bps of 40.00 is exactly 0.05.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "40.05")
        )));
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(0, Side::Buy, "40.06")));
        assert_eq!(reason, RejectReason::PriceCollar);
        assert_eq!(
            message,
            "price 40.06 of SYN-A is 15.0 bps from last 40.00, band 12.5 bps"
        );
        // A last price between ticks: the band is measured from it exactly.
        ctx.last_prices[0].price = px("40.005");
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "40.05")
        )));
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "39.96")
        )));
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(0, Side::Buy, "39.95")));
        assert_eq!(reason, RejectReason::PriceCollar);
    }

    #[test]
    fn off_tick_prices_are_invalid() {
        let mut v = validator(&[]);
        let ctx = context();
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(1, Side::Buy, "250.02")));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "price 250.02 of SYN-B not on tick 0.05");
        let (reason, message) =
            rejected(validate_one(&mut v, &ctx, limit(0, Side::Buy, "100.005")));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "price 100.005 of SYN-A not on tick 0.01");
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(1, Side::Buy, "250.05")
        )));
        // The tick is checked even without a last price, and before the band.
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(2, Side::Buy, "40.001")));
        assert_eq!(reason, RejectReason::InvalidOrder);
    }

    #[test]
    fn missing_last_price_rejects_limits_but_not_market_orders() {
        let mut v = validator(&[]);
        let mut ctx = context();
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(2, Side::Buy, "40")));
        assert_eq!(reason, RejectReason::PriceCollar);
        assert_eq!(message, "no last price for SYN-C to collar against");
        assert!(approved(&validate_one(&mut v, &ctx, market(2))));
        // Once there is a last price the same order passes.
        ctx.last_prices.push(LastPrice {
            instrument: 2,
            price: px("40"),
        });
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(2, Side::Buy, "40")
        )));
        ctx.last_prices[2].price = 0;
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(2, Side::Buy, "0.01")));
        assert_eq!(reason, RejectReason::PriceCollar);
    }

    #[test]
    fn market_orders_and_cancels_pass() {
        let mut v = validator(&[("band_bps", "0")]);
        let ctx = context();
        let cancel = |instrument| testing::cancel(1, instrument);
        let verdicts = validate(&mut v, &ctx, &[market(0), market(2), cancel(0), cancel(42)]);
        assert!(verdicts.iter().all(approved));
        // With a zero band only the last price itself passes.
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "100")
        )));
        let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(0, Side::Buy, "100.01")));
        assert_eq!(reason, RejectReason::PriceCollar);
    }

    #[test]
    fn modifies_are_collared_at_their_new_price() {
        let mut v = validator(&[]);
        let ctx = context();
        assert!(approved(&validate_one(&mut v, &ctx, modify(0, "99.50"))));
        let (reason, _) = rejected(validate_one(&mut v, &ctx, modify(0, "99.49")));
        assert_eq!(reason, RejectReason::PriceCollar);
        let (reason, _) = rejected(validate_one(&mut v, &ctx, modify(1, "250.01")));
        assert_eq!(reason, RejectReason::InvalidOrder);
        let (reason, _) = rejected(validate_one(&mut v, &ctx, modify(2, "40")));
        assert_eq!(reason, RejectReason::PriceCollar);
    }

    #[test]
    fn odd_input_is_handled() {
        let mut v = validator(&[]);
        let mut ctx = context();
        let (reason, message) = rejected(validate_one(&mut v, &ctx, limit(9, Side::Buy, "100")));
        assert_eq!(reason, RejectReason::InvalidOrder);
        assert_eq!(message, "unknown instrument 9");
        // Extreme prices neither overflow nor panic.
        let mut order = limit(0, Side::Buy, "0");
        for price in [i64::MAX, i64::MIN, -1] {
            if let OrderCommand::Submit(o) = &mut order {
                o.price = price;
            }
            assert!(!approved(&validate_one(&mut v, &ctx, order)));
        }
        // A definition with a zero tick only disables the tick check.
        ctx.instruments[0].tick_size = 0;
        assert!(approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "100.005")
        )));
        ctx.last_prices[0].price = i64::MIN;
        assert!(!approved(&validate_one(
            &mut v,
            &ctx,
            limit(0, Side::Buy, "100")
        )));
    }

    #[test]
    fn one_verdict_per_order_in_order() {
        let mut v = validator(&[]);
        let ctx = context();
        let orders = [
            limit(0, Side::Buy, "100.10"),
            limit(0, Side::Buy, "101"),
            market(1),
            limit(1, Side::Sell, "250.03"),
            testing::cancel(1, 0),
            limit(2, Side::Sell, "40"),
            modify(1, "250.50"),
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
                Some(RejectReason::PriceCollar),
                None,
                Some(RejectReason::InvalidOrder),
                None,
                Some(RejectReason::PriceCollar),
                None,
            ]
        );
    }
}

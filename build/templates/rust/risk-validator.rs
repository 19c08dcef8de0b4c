//! `__NAME__`: a pre-trade risk validator that caps each order's quantity
//! and the position it could reach.
//!
//! A submit (or a modify, at its new total quantity) is refused when its
//! quantity is above `max_quantity`, or when the strategy's position plus
//! its working orders on the same side plus this order would pass
//! `max_position`. Cancels always pass: they only reduce risk.
//!
//! Config keys (a key not listed here is refused, so a typo never leaves a
//! default in place):
//!
//! | key            | meaning                                       | default |
//! |----------------|-----------------------------------------------|---------|
//! | `max_quantity` | largest quantity of one order, in units       | `10`    |
//! | `max_position` | largest position an order may reach, in units | `20`    |

use tradsys_sdk::{
    Config, OrderCommand, Params, RejectReason, Rejection, RiskContext, RiskValidator, Side,
    Verdict, fixed,
};

/// See the crate documentation. Its config keys are its fields, read and
/// checked by `#[derive(Params)]`: a key not listed is refused, a bad value
/// named.
#[derive(Debug, Params)]
pub struct __TYPE__ {
    #[param(decimal = "10", positive)]
    max_quantity: i64,
    #[param(decimal = "20", positive)]
    max_position: i64,
}

impl __TYPE__ {
    fn check(&self, context: &RiskContext, command: &OrderCommand) -> Result<(), Rejection> {
        let (instrument, side, quantity) = match command {
            OrderCommand::Cancel(_) => return Ok(()),
            OrderCommand::Submit(o) => (o.instrument, Some(o.side), o.quantity),
            OrderCommand::Modify(m) => {
                let side = context
                    .open_orders
                    .iter()
                    .find(|o| o.id == m.id)
                    .map(|o| o.side);
                (m.instrument, side, m.quantity)
            }
        };
        if quantity > self.max_quantity {
            return Err(Rejection {
                reason: RejectReason::QuantityLimit,
                message: Some(format!(
                    "quantity {} above `max_quantity` {}",
                    fixed::format(quantity, 0),
                    fixed::format(self.max_quantity, 0)
                )),
            });
        }
        let Some(side) = side else { return Ok(()) };
        let sign = |s: Side| if s == Side::Buy { 1 } else { -1 };
        let position = context
            .positions
            .iter()
            .find(|p| p.instrument == instrument)
            .map_or(0, |p| p.quantity);
        let working: i64 = context
            .open_orders
            .iter()
            .filter(|o| o.instrument == instrument && o.side == side)
            .filter(|o| !matches!(command, OrderCommand::Modify(m) if m.id == o.id))
            .map(|o| o.leaves_quantity)
            .sum();
        let reached = (position + sign(side) * (working + quantity)).abs();
        if reached > self.max_position {
            return Err(Rejection {
                reason: RejectReason::PositionLimit,
                message: Some(format!(
                    "position could reach {} (`max_position` {})",
                    fixed::format(reached, 0),
                    fixed::format(self.max_position, 0)
                )),
            });
        }
        Ok(())
    }
}

impl RiskValidator for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        Self::from_config(config)
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        for command in orders {
            verdicts.push(match self.check(context, command) {
                Ok(()) => Verdict::Approve,
                Err(rejection) => Verdict::Reject(rejection),
            });
        }
    }
}

tradsys_sdk::export_risk_validator!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{self, RiskContextBuilder, px, units};

    #[test]
    fn refuses_a_large_order_and_one_that_passes_the_position_limit() {
        let mut v: __TYPE__ = testing::validator(&[("max_quantity", "5"), ("max_position", "8")]);
        let context = RiskContextBuilder::new(1)
            .instruments(testing::synthetic_instruments())
            .position(0, units(6), px("100"))
            .build();
        let verdicts = testing::validate(
            &mut v,
            &context,
            &[
                testing::limit(1, 0, Side::Buy, px("100"), units(6)),
                testing::limit(2, 0, Side::Buy, px("100"), units(3)),
                testing::limit(3, 0, Side::Sell, px("100"), units(5)),
                testing::cancel(4, 0),
            ],
        );
        assert_eq!(
            testing::reasons(&verdicts),
            [
                Some(RejectReason::QuantityLimit),
                Some(RejectReason::PositionLimit),
                None,
                None
            ]
        );
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let err = __TYPE__::new(&Config::new([("max_quantiy", "3")])).unwrap_err();
        assert!(err.contains("max_quantiy"), "{err}");
    }
}

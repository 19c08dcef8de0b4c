//! The host's books per strategy: positions, cash and profit and loss.
//!
//! Average-cost accounting. Amounts are fixed-point with nine decimals, kept
//! in `i128` so no realistic session overflows.

use std::collections::BTreeMap;

use crate::bindings::types::Side;
use crate::config::FeeSettings;
use crate::journal::decimal::SCALE;

/// One instrument's net position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holding {
    /// Signed quantity: positive long, negative short.
    pub quantity: i64,
    /// Average entry price of the open quantity (0 when flat).
    pub average_price: i64,
    /// Contract multiplier of the instrument.
    pub multiplier: i64,
}

/// A strategy's account.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    holdings: BTreeMap<u32, Holding>,
    cash: i128,
    realized: i128,
    fees: i128,
    fills: u64,
}

impl Ledger {
    /// Book a fill of `quantity` at `price`.
    pub fn apply_fill(
        &mut self,
        instrument: u32,
        side: Side,
        price: i64,
        quantity: i64,
        multiplier: i64,
    ) {
        let signed = match side {
            Side::Buy => i128::from(quantity),
            Side::Sell => -i128::from(quantity),
        };
        let (price_w, mult) = (i128::from(price), i128::from(multiplier));
        self.cash -= signed * price_w * mult / SCALE;
        self.fills += 1;

        let h = self.holdings.entry(instrument).or_insert(Holding {
            multiplier,
            ..Holding::default()
        });
        let held = i128::from(h.quantity);
        if held == 0 || held.signum() == signed.signum() {
            let total = held.abs() + signed.abs();
            h.average_price = ((i128::from(h.average_price) * held.abs() + price_w * signed.abs())
                / total) as i64;
        } else {
            let closed = held.abs().min(signed.abs());
            self.realized +=
                (price_w - i128::from(h.average_price)) * closed * held.signum() * mult / SCALE;
            if signed.abs() > held.abs() {
                h.average_price = price; // flipped: the remainder opened at this price
            }
        }
        h.quantity = (held + signed) as i64;
        if h.quantity == 0 {
            h.average_price = 0;
        }
    }

    /// Pay a fee (a negative one is a rebate): out of cash and realized PnL.
    pub fn charge(&mut self, fee: i128) {
        self.cash -= fee;
        self.realized -= fee;
        self.fees += fee;
    }

    /// Fees paid so far (net of rebates).
    pub fn fees(&self) -> i128 {
        self.fees
    }

    /// Net holding in `instrument`.
    pub fn holding(&self, instrument: u32) -> Holding {
        self.holdings.get(&instrument).copied().unwrap_or_default()
    }

    /// Every instrument ever traded, by id.
    pub fn holdings(&self) -> impl Iterator<Item = (u32, &Holding)> {
        self.holdings.iter().map(|(id, h)| (*id, h))
    }

    /// Cash balance (starts at zero).
    pub fn cash(&self) -> i128 {
        self.cash
    }

    /// Profit and loss realized by closing trades.
    pub fn realized_pnl(&self) -> i128 {
        self.realized
    }

    /// Profit and loss of open positions marked at `mark(instrument)`
    /// (instruments without a mark count as zero).
    pub fn unrealized_pnl(&self, mark: impl Fn(u32) -> Option<i64>) -> i128 {
        self.holdings
            .iter()
            .filter_map(|(id, h)| {
                let m = mark(*id)?;
                Some(
                    (i128::from(m) - i128::from(h.average_price))
                        * i128::from(h.quantity)
                        * i128::from(h.multiplier)
                        / SCALE,
                )
            })
            .sum()
    }

    /// Fills booked.
    pub fn fills(&self) -> u64 {
        self.fills
    }
}

/// The fee of a fill: basis points of its notional plus an amount per unit.
pub(crate) fn fee(
    fees: &FeeSettings,
    maker: bool,
    price: i64,
    quantity: i64,
    multiplier: i64,
) -> i128 {
    let (bps, per_unit) = if maker {
        (fees.maker_bps, fees.maker_per_unit)
    } else {
        (fees.taker_bps, fees.taker_per_unit)
    };
    let notional = i128::from(price) * i128::from(quantity) * i128::from(multiplier) / SCALE;
    notional * i128::from(bps) / SCALE / 10_000
        + i128::from(per_unit) * i128::from(quantity) / SCALE
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = 1_000_000_000;

    #[test]
    fn average_cost_realizes_on_reduction_and_flip() {
        let mut l = Ledger::default();
        l.apply_fill(0, Side::Buy, 100 * U, 10 * U, 1);
        l.apply_fill(0, Side::Sell, 110 * U, 4 * U, 1);
        assert_eq!(l.realized_pnl(), 40 * SCALE);
        assert_eq!(l.holding(0).quantity, 6 * U);
        assert_eq!(l.holding(0).average_price, 100 * U);
        l.apply_fill(0, Side::Sell, 90 * U, 10 * U, 1);
        assert_eq!(l.realized_pnl(), (40 - 60) * SCALE);
        assert_eq!(
            l.holding(0),
            Holding {
                quantity: -4 * U,
                average_price: 90 * U,
                multiplier: 1
            }
        );
        // Cash plus the position marked to market equals realized plus unrealized.
        let mark = 95 * U;
        let equity = l.cash() + i128::from(l.holding(0).quantity) * i128::from(mark) / SCALE;
        assert_eq!(equity, l.realized_pnl() + l.unrealized_pnl(|_| Some(mark)));
        assert_eq!(l.unrealized_pnl(|_| Some(mark)), -20 * SCALE);
    }

    #[test]
    fn averages_entries_and_applies_the_multiplier() {
        let mut l = Ledger::default();
        l.apply_fill(3, Side::Buy, 4800 * U, U, 50);
        l.apply_fill(3, Side::Buy, 4802 * U, U, 50);
        assert_eq!(l.holding(3).average_price, 4801 * U);
        l.apply_fill(3, Side::Sell, 4803 * U, 2 * U, 50);
        assert_eq!(l.realized_pnl(), 2 * 2 * 50 * SCALE);
        assert_eq!(l.holding(3).quantity, 0);
        assert_eq!(l.cash(), l.realized_pnl());
    }
}

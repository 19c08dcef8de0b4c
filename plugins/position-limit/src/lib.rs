//! Position-limit: a pre-trade risk validator that caps each instrument's potential
//! position, long or short.
//!
//! The *potential exposure* of a strategy on one side of an instrument is what its
//! position would become if every working order on that side filled:
//!
//! - long exposure  = position + leaves of working buys,
//! - short exposure = −position + leaves of working sells.
//!
//! Working orders on the other side are not netted (they may never fill). A buy (or
//! sell) is rejected with `PositionLimit` when it would take the long (short) exposure
//! above `max_position` units. An order on the side that reduces the position is
//! checked only against the other side's limit, so closing out is always possible.
//!
//! Orders of one batch count cumulatively, in order: an approved submit becomes working
//! for the orders after it, an approved modify changes its order's working quantity,
//! and a cancel of a working order frees its leaves (the matcher applies a batch in
//! order, so the cancel has taken effect when the later orders arrive; fills do not
//! change the exposure, they move quantity from leaves to position).
//!
//! A modify is checked like a submit of its extra working quantity: new leaves =
//! new total quantity − quantity already filled. The context shows only an order's
//! leaves, so for orders it approved this validator remembers the total quantities the
//! order may have now (its submit quantity and every approved modify's: a later
//! validator or the matcher may still have refused one). The smallest
//! `total − leaves` that is not negative is a safe lower bound of the filled quantity;
//! for other orders it is taken as zero. Both can only overstate the exposure. A modify
//! that does not increase the leaves is always approved, as is a modify of an order
//! that is not working (the matcher refuses it). Cancels are always approved. An order
//! whose quantity is not positive is rejected with `InvalidOrder`.
//!
//! # Config keys
//!
//! | key            | meaning                                                   | default |
//! |----------------|-----------------------------------------------------------|---------|
//! | `max_position` | largest potential long or short position, units (decimal) | `300`   |
//!
//! The limit is in units and applies to every instrument alike (300 units is 30000 of
//! SYN-A at 100 or 75000 of SYN-B at 250 in the synthetic market).

use std::collections::{BTreeMap, BTreeSet};

use tradsys_sdk::{
    Config, OrderCommand, RejectReason, Rejection, RiskContext, RiskValidator, Side, Verdict, fixed,
};

/// Most candidate totals remembered per order; past this the order's total is
/// treated as unknown (filled taken as zero), which is safe.
const MAX_CANDIDATES: usize = 8;

/// The validator. Config key (see the crate docs): `max_position` (default `300`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PositionLimit {
    /// Largest potential position per instrument and side, fixed-point units.
    max_position: i64,
    /// For every order this validator approved that may still be working, keyed by
    /// (strategy, order id): the total quantities it may have now. One of them is its
    /// true total, so a modify's filled quantity can be bounded from its leaves.
    totals: BTreeMap<(u32, u64), BTreeSet<i64>>,
}

/// An order working on the book (or approved earlier in the batch being validated).
#[derive(Debug, Clone)]
struct Working {
    id: u64,
    instrument: u32,
    side: Side,
    leaves: i64,
}

/// The strategy's book as seen while validating one batch.
struct Book<'a> {
    context: &'a RiskContext,
    working: Vec<Working>,
}

impl Book<'_> {
    /// Net position in `instrument` (signed, fixed-point).
    fn position(&self, instrument: u32) -> i128 {
        self.context
            .positions
            .iter()
            .filter(|p| p.instrument == instrument)
            .map(|p| i128::from(p.quantity))
            .sum()
    }

    /// Leaves of working orders on one side of `instrument`.
    fn working_leaves(&self, instrument: u32, side: Side) -> i128 {
        self.working
            .iter()
            .filter(|w| w.instrument == instrument && w.side == side)
            .map(|w| i128::from(w.leaves.max(0)))
            .sum()
    }

    fn find(&mut self, id: u64, instrument: u32) -> Option<&mut Working> {
        self.working
            .iter_mut()
            .find(|w| w.id == id && w.instrument == instrument)
    }

    /// Symbol of `instrument`, for messages.
    fn symbol(&self, instrument: u32) -> String {
        self.context
            .instruments
            .iter()
            .find(|d| d.id == instrument)
            .map_or_else(|| format!("instrument {instrument}"), |d| d.symbol.clone())
    }
}

impl PositionLimit {
    /// Add `total` to the possible totals of an order (creating its entry only when
    /// `create`). Adding is always safe: more candidates only lower the bound of the
    /// filled quantity; past [`MAX_CANDIDATES`] the order's total becomes unknown.
    fn remember_total(&mut self, strategy: u32, id: u64, total: i64, create: bool) {
        let key = (strategy, id);
        let totals = match self.totals.get_mut(&key) {
            Some(totals) => totals,
            None if create => self.totals.entry(key).or_default(),
            None => return,
        };
        totals.insert(total);
        if totals.len() > MAX_CANDIDATES {
            self.totals.remove(&key);
        }
    }

    /// Check that adding `extra` working quantity on `side` keeps the exposure within
    /// the limit; `what` names the order in the message.
    fn check_exposure(
        &self,
        book: &Book<'_>,
        instrument: u32,
        side: Side,
        extra: i64,
        what: impl FnOnce() -> String,
    ) -> Result<(), Rejection> {
        let position = book.position(instrument);
        let working = book.working_leaves(instrument, side);
        let (exposure, direction, orders) = match side {
            Side::Buy => (position + working, "long", "buys"),
            Side::Sell => (-position + working, "short", "sells"),
        };
        let after = exposure + i128::from(extra);
        if after <= i128::from(self.max_position) {
            return Ok(());
        }
        Err(Rejection {
            reason: RejectReason::PositionLimit,
            message: Some(format!(
                "{} would raise {direction} exposure of {} to {} above `max_position` {} \
                 (position {}, working {orders} {})",
                what(),
                book.symbol(instrument),
                fixed::format_exact(after, 0),
                fixed::format_exact(i128::from(self.max_position), 0),
                fixed::format_exact(position, 0),
                fixed::format_exact(working, 0),
            )),
        })
    }

    /// The verdict for one command; updates `book` (and the remembered totals) when it
    /// is approved.
    fn check(&mut self, strategy: u32, book: &mut Book<'_>, command: &OrderCommand) -> Verdict {
        match command {
            OrderCommand::Cancel(c) => {
                // Never block a risk-reducing action; its leaves stop counting.
                book.working
                    .retain(|w| !(w.id == c.id && w.instrument == c.instrument));
                Verdict::Approve
            }
            OrderCommand::Submit(o) => {
                if o.quantity <= 0 {
                    return invalid(format!(
                        "quantity {} is not positive",
                        fixed::format_exact(o.quantity.into(), 0)
                    ));
                }
                let side_name = match o.side {
                    Side::Buy => "buy",
                    Side::Sell => "sell",
                };
                let what = || format!("{side_name} {}", fixed::format_exact(o.quantity.into(), 0));
                if let Err(rejection) =
                    self.check_exposure(book, o.instrument, o.side, o.quantity, what)
                {
                    return Verdict::Reject(rejection);
                }
                book.working.push(Working {
                    id: o.id,
                    instrument: o.instrument,
                    side: o.side,
                    leaves: o.quantity,
                });
                self.remember_total(strategy, o.id, o.quantity, true);
                Verdict::Approve
            }
            OrderCommand::Modify(m) => {
                if m.quantity <= 0 {
                    return invalid(format!(
                        "quantity {} is not positive",
                        fixed::format_exact(m.quantity.into(), 0)
                    ));
                }
                let Some(order) = book.find(m.id, m.instrument).cloned() else {
                    // Not working: the matcher refuses it, so it cannot add exposure.
                    return Verdict::Approve;
                };
                // Lower bound of the filled quantity: the smallest that some possible
                // total gives (totals below the leaves are impossible), else zero.
                let filled = self
                    .totals
                    .get(&(strategy, m.id))
                    .and_then(|totals| {
                        totals
                            .iter()
                            .filter(|&&total| total >= order.leaves)
                            .map(|&total| total - order.leaves)
                            .min()
                    })
                    .unwrap_or(0);
                let new_leaves = m.quantity.saturating_sub(filled).max(0);
                let extra = new_leaves.saturating_sub(order.leaves.max(0));
                if extra > 0 {
                    let what = || {
                        format!(
                            "modify of order {} to {}",
                            m.id,
                            fixed::format_exact(m.quantity.into(), 0)
                        )
                    };
                    if let Err(rejection) =
                        self.check_exposure(book, m.instrument, order.side, extra, what)
                    {
                        return Verdict::Reject(rejection);
                    }
                }
                if let Some(working) = book.find(m.id, m.instrument) {
                    working.leaves = new_leaves;
                }
                // The modify may or may not take effect: both totals stay possible.
                // An order whose total was never known stays unknown.
                self.remember_total(strategy, m.id, m.quantity, false);
                Verdict::Approve
            }
        }
    }
}

impl RiskValidator for PositionLimit {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["max_position"])?;
        let max_position = config.fixed_or("max_position", fixed::from_units(300))?;
        if max_position < 0 {
            return Err("config `max_position`: must not be negative".to_string());
        }
        Ok(Self {
            max_position,
            totals: BTreeMap::new(),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let strategy = context.strategy;
        // Forget the totals of this strategy's orders that are no longer working, and
        // those below an order's leaves: it cannot have such a total any more (only a
        // modify, which would add it again, could give it back).
        self.totals.retain(|&(s, id), totals| {
            if s != strategy {
                return true;
            }
            let Some(open) = context.open_orders.iter().find(|o| o.id == id) else {
                return false;
            };
            totals.retain(|&total| total >= open.leaves_quantity);
            !totals.is_empty()
        });
        let mut book = Book {
            context,
            working: context
                .open_orders
                .iter()
                .map(|o| Working {
                    id: o.id,
                    instrument: o.instrument,
                    side: o.side,
                    leaves: o.leaves_quantity,
                })
                .collect(),
        };
        for order in orders {
            let verdict = self.check(strategy, &mut book, order);
            verdicts.push(verdict);
        }
    }
}

tradsys_sdk::export_risk_validator!(PositionLimit);

fn invalid(message: String) -> Verdict {
    Verdict::Reject(Rejection {
        reason: RejectReason::InvalidOrder,
        message: Some(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::Position;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, reasons, rejection_message, units, validate,
    };

    /// Strategy 0 in the synthetic market with the given positions and working orders.
    fn context(positions: &[(u32, i64)], open: &[(u64, u32, Side, i64)]) -> RiskContext {
        let mut ctx = RiskContextBuilder::new(1_000_000_000);
        ctx.instruments(testing::synthetic_instruments())
            .last_price(0, units(100));
        for &(instrument, qty) in positions {
            ctx.position(instrument, units(qty), units(100));
        }
        for &(id, instrument, side, leaves) in open {
            ctx.open_order(id, instrument, side, units(100), units(leaves));
        }
        ctx.build()
    }

    fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
        testing::limit(id, instrument, side, units(100), units(quantity))
    }

    fn buy(id: u64, quantity: i64) -> OrderCommand {
        submit(id, 0, Side::Buy, quantity)
    }

    fn sell(id: u64, quantity: i64) -> OrderCommand {
        submit(id, 0, Side::Sell, quantity)
    }

    fn modify(id: u64, quantity: i64) -> OrderCommand {
        testing::modify(id, 0, units(101), units(quantity))
    }

    fn cancel(id: u64) -> OrderCommand {
        testing::cancel(id, 0)
    }

    fn validator(max: &str) -> PositionLimit {
        testing::validator(&[("max_position", max)])
    }

    const OK: Option<RejectReason> = None;
    const LIMIT: Option<RejectReason> = Some(RejectReason::PositionLimit);

    #[test]
    fn defaults_and_bad_config() {
        let v = PositionLimit::new(&Config::default()).unwrap();
        assert_eq!(v.max_position, units(300));
        assert_eq!(validator("12.5").max_position, units(25) / 2);
        for value in ["-1", "many"] {
            let err = PositionLimit::new(&Config::new([("max_position", value)])).unwrap_err();
            assert!(err.contains("`max_position`"), "{err}");
        }
    }

    #[test]
    fn limit_on_a_flat_book_both_sides() {
        let mut v = validator("300");
        let ctx = context(&[], &[]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 300)])), [OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(2, 300)])), [OK]);
        let verdicts = validate(&mut v, &ctx, &[buy(3, 301), sell(4, 301)]);
        assert_eq!(
            rejection_message(&verdicts[0]),
            "buy 301 would raise long exposure of SYN-A to 301 above `max_position` 300 \
             (position 0, working buys 0)"
        );
        assert_eq!(
            rejection_message(&verdicts[1]),
            "sell 301 would raise short exposure of SYN-A to 301 above `max_position` 300 \
             (position 0, working sells 0)"
        );
        assert_eq!(reasons(&verdicts), [LIMIT, LIMIT]);
    }

    #[test]
    fn position_and_working_orders_count_on_their_side() {
        let mut v = validator("300");
        // Long 200 with a working buy of 70 and a working sell of 500.
        let ctx = context(
            &[(0, 200)],
            &[(1, 0, Side::Buy, 70), (2, 0, Side::Sell, 500)],
        );
        // 200 + 70 + 30 = 300 passes; 31 does not.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(3, 30)])), [OK]);
        let verdicts = validate(&mut v, &ctx, &[buy(4, 31)]);
        assert_eq!(
            rejection_message(&verdicts[0]),
            "buy 31 would raise long exposure of SYN-A to 301 above `max_position` 300 \
             (position 200, working buys 70)"
        );
        // Short side: -200 + 500 + 0 = 300; any further sell is too much ...
        assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(5, 1)])), [LIMIT]);
        // ... but reducing the long with a sell is allowed when the sells are not working.
        let ctx = context(&[(0, 200)], &[]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(6, 500)])), [OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(7, 501)])), [LIMIT]);
        // Other instruments do not count.
        let ctx = context(&[(1, 300)], &[(1, 1, Side::Buy, 300)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(8, 300)])), [OK]);
    }

    #[test]
    fn a_position_beyond_the_limit_can_still_be_reduced() {
        let mut v = validator("300");
        let ctx = context(&[(0, -450)], &[]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(1, 1)])), [LIMIT]);
        // Buying back 750 takes it to +300: allowed; 751 is over on the long side.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(2, 750)])), [OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(3, 751)])), [LIMIT]);
    }

    #[test]
    fn batch_orders_are_cumulative() {
        let mut v = validator("300");
        let ctx = context(&[(0, 100)], &[]);
        let verdicts = validate(
            &mut v,
            &ctx,
            &[buy(1, 100), buy(2, 100), buy(3, 1), sell(4, 400)],
        );
        // The third buy sees 100 + 100 + 100 = 300 already; sells are unaffected.
        assert_eq!(reasons(&verdicts), [OK, OK, LIMIT, OK]);
        // A rejected order does not count against the ones after it.
        let verdicts = validate(&mut v, &ctx, &[buy(5, 250), buy(6, 200)]);
        assert_eq!(reasons(&verdicts), [LIMIT, OK]);
        // Nothing carries over between batches: the context is the truth.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(7, 200)])), [OK]);
    }

    #[test]
    fn cancels_are_approved_and_free_their_leaves() {
        let mut v = validator("300");
        let ctx = context(&[(0, 200)], &[(1, 0, Side::Buy, 100)]);
        // Requote: cancel the working buy, then buy again at another price.
        let verdicts = validate(
            &mut v,
            &ctx,
            &[buy(2, 100), cancel(1), buy(3, 100), buy(4, 1)],
        );
        assert_eq!(reasons(&verdicts), [LIMIT, OK, OK, LIMIT]);
        // A cancel naming another instrument frees nothing; unknown cancels pass.
        let wrong = testing::cancel(1, 2);
        let verdicts = validate(&mut v, &ctx, &[wrong, cancel(99), buy(5, 1)]);
        assert_eq!(reasons(&verdicts), [OK, OK, LIMIT]);
        // Cancels pass even far beyond the limit.
        let ctx = context(&[(0, 5000)], &[(1, 0, Side::Buy, 100)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[cancel(1)])), [OK]);
    }

    #[test]
    fn modifies_count_their_extra_leaves() {
        let mut v = validator("300");
        let ctx = context(&[(0, 100)], &[(1, 0, Side::Buy, 100)]);
        // An unknown total: the new quantity is the new leaves; 100 + 200 = 300 passes.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 200)])), [OK]);
        let verdicts = validate(&mut v, &ctx, &[modify(1, 201)]);
        assert_eq!(
            rejection_message(&verdicts[0]),
            "modify of order 1 to 201 would raise long exposure of SYN-A to 301 above `max_position` 300 \
             (position 100, working buys 100)"
        );
        // Reducing always passes, even beyond the limit.
        let ctx = context(&[(0, 400)], &[(1, 0, Side::Buy, 100)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 50)])), [OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 100)])), [OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 101)])), [LIMIT]);
        // Within a batch the first modify's smaller leaves count for the next one.
        let verdicts = validate(&mut v, &ctx, &[modify(1, 50), modify(1, 100)]);
        assert_eq!(reasons(&verdicts), [OK, LIMIT]);
        // A modify of an order that is not working cannot add exposure.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(77, 1000)])), [OK]);
    }

    #[test]
    fn modifies_of_partly_filled_orders_use_the_filled_quantity() {
        let mut v = validator("300");
        // Buy 100 approved from a flat book ...
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 100)])),
            [OK]
        );
        // ... 60 filled: position 60, leaves 40. Long exposure is still 100.
        let ctx = context(&[(0, 60)], &[(1, 0, Side::Buy, 40)]);
        // A new total of 300 means leaves of 240: exposure 300, the limit exactly.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 300)])), [OK]);
        // After the modify: total 300, 60 filled, leaves 240; exposure is 300. The leaves
        // rule out the old total of 100, so repricing at 300 is no extra exposure.
        let ctx = context(&[(0, 60)], &[(1, 0, Side::Buy, 240)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 301)])), [LIMIT]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 300)])), [OK]);
        assert_eq!(v.totals[&(0, 1)], BTreeSet::from([units(300)]));
        // Once the order is no longer working its totals are forgotten.
        validate(&mut v, &context(&[(0, 300)], &[]), &[]);
        assert!(v.totals.is_empty());
    }

    #[test]
    fn a_modify_refused_downstream_does_not_hide_exposure() {
        let mut v = validator("300");
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 100)])),
            [OK]
        );
        // Raise to 200: approved here, but refused by a later validator.
        let ctx = context(&[], &[(1, 0, Side::Buy, 100)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 200)])), [OK]);
        // Still total 100, leaves 100, nothing filled: a total of 301 is 301 working.
        // (Believing the total were 200 would see 100 filled and leaves of 201.)
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 301)])), [LIMIT]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 300)])), [OK]);
        // Lowered to 50 and that took effect: leaves 50, nothing filled. Believing the
        // total were still the submit's 100 would see 50 filled.
        let mut v = validator("300");
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 100)])),
            [OK]
        );
        let ctx = context(&[], &[(1, 0, Side::Buy, 100)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 50)])), [OK]);
        let ctx = context(&[], &[(1, 0, Side::Buy, 50)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 301)])), [LIMIT]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 300)])), [OK]);
    }

    #[test]
    fn a_reused_order_id_does_not_hide_exposure() {
        let mut v = validator("500");
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 100)])),
            [OK]
        );
        // The same id again: approved here, refused by the matcher as a duplicate.
        let ctx = context(&[], &[(1, 0, Side::Buy, 100)]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 300)])), [OK]);
        // Order 1 is still 100 with nothing filled: a total of 501 is 501 working.
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 501)])), [LIMIT]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(1, 500)])), [OK]);
    }

    #[test]
    fn many_modifies_forget_the_total_safely() {
        let mut v = validator("300");
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 10)])),
            [OK]
        );
        let ctx = context(&[], &[(1, 0, Side::Buy, 10)]);
        let modifies: Vec<_> = (11..=30).map(|q| modify(1, q)).collect();
        assert!(
            reasons(&validate(&mut v, &ctx, &modifies))
                .iter()
                .all(Option::is_none)
        );
        assert!(v.totals.len() <= 1);
        assert!(v.totals.values().all(|t| t.len() <= MAX_CANDIDATES));
    }

    #[test]
    fn modify_then_submit_in_one_batch() {
        let mut v = validator("300");
        let ctx = context(&[], &[(1, 0, Side::Buy, 100)]);
        // Raising order 1 to 250 leaves room for 50 more, not 51.
        let verdicts = validate(&mut v, &ctx, &[modify(1, 250), buy(2, 51), buy(3, 50)]);
        assert_eq!(reasons(&verdicts), [OK, LIMIT, OK]);
        // A submit then its modify in the same batch: the modify sees the submit.
        let ctx = context(&[], &[]);
        let verdicts = validate(&mut v, &ctx, &[buy(4, 100), modify(4, 300), modify(4, 301)]);
        assert_eq!(reasons(&verdicts), [OK, OK, LIMIT]);
    }

    #[test]
    fn non_positive_quantities_are_invalid() {
        let mut v = validator("300");
        let ctx = context(&[], &[(1, 0, Side::Buy, 100)]);
        let verdicts = validate(
            &mut v,
            &ctx,
            &[buy(2, 0), sell(3, -5), modify(1, 0), buy(4, 200)],
        );
        let invalid = Some(RejectReason::InvalidOrder);
        // Rejected orders add nothing: the buy after them sees only the working 100.
        assert_eq!(reasons(&verdicts), [invalid, invalid, invalid, OK]);
        assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(5, 201)])), [LIMIT]);
    }

    #[test]
    fn strategies_are_kept_apart() {
        let mut v = validator("300");
        assert_eq!(
            reasons(&validate(&mut v, &context(&[], &[]), &[buy(1, 100)])),
            [OK]
        );
        let mut other = context(&[(0, 10)], &[(1, 0, Side::Buy, 40)]);
        other.strategy = 1;
        // Strategy 1's order 1 is not the one strategy 0 sent: its total is unknown, so
        // the new leaves are 300 (10 + 300 > 300). Taking strategy 0's total of 100
        // would wrongly see 60 filled and leaves of 240.
        assert_eq!(
            reasons(&validate(&mut v, &other, &[modify(1, 300)])),
            [LIMIT]
        );
        assert_eq!(reasons(&validate(&mut v, &other, &[modify(1, 290)])), [OK]);
        assert!(v.totals.contains_key(&(0, 1)));
        assert!(!v.totals.contains_key(&(1, 1)));
    }

    #[test]
    fn fractional_quantities_and_unknown_instruments() {
        let mut v = validator("0.5");
        let mut ctx = context(&[], &[]);
        ctx.positions.push(Position {
            instrument: 9,
            quantity: units(1) / 4,
            average_price: 0,
        });
        let mut order = submit(1, 9, Side::Buy, 0);
        if let OrderCommand::Submit(o) = &mut order {
            o.quantity = units(1) / 4 + 1;
        }
        let verdicts = validate(&mut v, &ctx, &[order]);
        assert_eq!(
            rejection_message(&verdicts[0]),
            "buy 0.250000001 would raise long exposure of instrument 9 to 0.500000001 \
             above `max_position` 0.5 (position 0.25, working buys 0)"
        );
    }
}

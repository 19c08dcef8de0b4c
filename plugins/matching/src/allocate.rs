//! How an aggressor's quantity is shared among the orders of one price level.

use crate::Allocation;
use crate::level::Level;

/// One trade of a plan: the resting order's queue position and its quantity.
pub(crate) type Trade = (usize, i64);

/// Share `quantity` (positive) among the orders of `level`, in the order
/// the trades are to be made: each order at most once, every quantity
/// positive and at most the order's leaves; the quantities add up to
/// `quantity`, or to the level's total when that is smaller.
///
/// When `quantity` covers the whole level every order fills completely, in
/// time priority, whatever the allocation (CME's FIFO exception). Otherwise:
/// - `Fifo`: oldest order first;
/// - `ProRata`: each order gets its leaves times `quantity` over the level's
///   total, rounded down to whole lots of `lot`, or nothing when that is below
///   the minimum; what is left goes oldest first against what the orders have
///   left after their shares. Trades in time priority.
/// - `TopProRata`: the `top` order (when it rests at this level) first, up
///   to its leaves, then as `ProRata` with what remains of `quantity` over
///   what remains of the level. The TOP's trade comes first, then the others
///   in time priority.
pub(crate) fn allocate(
    level: &Level,
    quantity: i64,
    allocation: Allocation,
    lot: i64,
    top: Option<u64>,
) -> Vec<Trade> {
    if i128::from(quantity) >= level.quantity {
        return level
            .orders
            .iter()
            .enumerate()
            .map(|(at, order)| (at, order.leaves))
            .collect();
    }
    match allocation {
        Allocation::Fifo => fifo(level, quantity),
        Allocation::ProRata {
            min_allocation_lots,
        } => pro_rata(level, quantity, min_allocation_lots, lot, None),
        Allocation::TopProRata {
            min_allocation_lots,
        } => pro_rata(level, quantity, min_allocation_lots, lot, top),
    }
}

/// Oldest first until `quantity` is used up.
fn fifo(level: &Level, mut quantity: i64) -> Vec<Trade> {
    let mut plan = Vec::new();
    for (at, order) in level.orders.iter().enumerate() {
        if quantity == 0 {
            break;
        }
        let traded = order.leaves.min(quantity);
        plan.push((at, traded));
        quantity -= traded;
    }
    plan
}

/// TOP (if given and at this level), pro-rata shares, then FIFO for the
/// rest. The caller guarantees `quantity` is below the level's total.
fn pro_rata(
    level: &Level,
    quantity: i64,
    min_allocation_lots: u32,
    lot: i64,
    top: Option<u64>,
) -> Vec<Trade> {
    let mut given = vec![0i64; level.orders.len()];
    let mut left = quantity;
    let mut total = level.quantity;
    let top_at = top.and_then(|id| level.position(id));
    if let Some(at) = top_at {
        let traded = level.orders[at].leaves.min(left);
        given[at] = traded;
        left -= traded;
        total -= i128::from(traded);
    }
    if left > 0 {
        // `left < total` here, so every share is below the order's leaves.
        let lot = i128::from(lot.max(1));
        let minimum = i128::from(min_allocation_lots) * lot;
        let aggressor = i128::from(left);
        let mut shared = 0i64;
        for (order, given) in level.orders.iter().zip(&mut given) {
            let remaining = i128::from(order.leaves - *given);
            // At most 2^63 * 2^63 < 2^127: no overflow.
            let share = remaining * aggressor / total / lot * lot;
            if share > 0 && share >= minimum {
                let share = i64::try_from(share).expect("a share is below the order's leaves");
                *given += share;
                shared += share;
            }
        }
        left -= shared;
        for (order, given) in level.orders.iter().zip(&mut given) {
            if left == 0 {
                break;
            }
            let traded = (order.leaves - *given).min(left);
            *given += traded;
            left -= traded;
        }
    }
    let mut plan = Vec::new();
    if let Some(at) = top_at
        && given[at] > 0
    {
        plan.push((at, given[at]));
    }
    plan.extend(
        given
            .iter()
            .enumerate()
            .filter(|&(at, &quantity)| quantity > 0 && Some(at) != top_at)
            .map(|(at, &quantity)| (at, quantity)),
    );
    plan
}

#[cfg(test)]
mod tests {
    use tradsys_sdk::fixed::{SCALE, from_units};

    use super::*;
    use crate::level::Resting;

    fn level(sizes: &[i64]) -> Level {
        let mut level = Level::default();
        for (i, &size) in sizes.iter().enumerate() {
            level.push(Resting {
                id: i as u64 + 1,
                leaves: from_units(size),
                filled: 0,
                owner: None,
            });
        }
        level
    }

    /// The plan as (order id, whole units).
    fn plan(
        level: &Level,
        quantity: i64,
        allocation: Allocation,
        top: Option<u64>,
    ) -> Vec<(u64, i64)> {
        let plan = allocate(level, from_units(quantity), allocation, SCALE, top);
        let total: i64 = plan.iter().map(|&(_, q)| q).sum();
        assert_eq!(
            i128::from(total),
            i128::from(from_units(quantity)).min(level.quantity)
        );
        plan.into_iter()
            .map(|(at, q)| (level.orders[at].id, q / SCALE))
            .collect()
    }

    const PRO_RATA: Allocation = Allocation::ProRata {
        min_allocation_lots: 2,
    };

    #[test]
    fn cme_published_pro_rata_example() {
        let level = level(&[5, 9, 57, 4, 28, 300]);
        // Shares 0 (0.62), 0 (1.12, below the minimum), 7, 0, 3, 37; the 3
        // left go to the oldest order.
        assert_eq!(
            plan(&level, 50, PRO_RATA, None),
            [(1, 3), (3, 7), (5, 3), (6, 37)]
        );
        // Without a minimum the 1.12 of order 2 is a lot, and 2 are left.
        let no_minimum = Allocation::ProRata {
            min_allocation_lots: 0,
        };
        assert_eq!(
            plan(&level, 50, no_minimum, None),
            [(1, 2), (2, 1), (3, 7), (5, 3), (6, 37)]
        );
    }

    #[test]
    fn the_whole_level_fills_in_time_order() {
        let level = level(&[5, 9, 57]);
        for allocation in [Allocation::Fifo, PRO_RATA] {
            assert_eq!(
                plan(&level, 71, allocation, Some(3)),
                [(1, 5), (2, 9), (3, 57)]
            );
            assert_eq!(
                plan(&level, 500, allocation, None),
                [(1, 5), (2, 9), (3, 57)]
            );
        }
    }

    #[test]
    fn fifo_and_top_first() {
        let level = level(&[5, 9, 57, 4, 28, 300]);
        assert_eq!(plan(&level, 10, Allocation::Fifo, None), [(1, 5), (2, 5)]);
        let top = Allocation::TopProRata {
            min_allocation_lots: 2,
        };
        // Order 4 is TOP: 4 first, then 46 pro rata over 399: 0, 1 (below
        // 2: 0), 6, -, 3, 34 = 43, and 3 to the oldest order.
        assert_eq!(
            plan(&level, 50, top, Some(4)),
            [(4, 4), (1, 3), (3, 6), (5, 3), (6, 34)]
        );
        // TOP bigger than the aggressor: it takes everything.
        assert_eq!(plan(&level, 200, top, Some(6)), [(6, 200)]);
        // A TOP id not at this level is no TOP here.
        assert_eq!(
            plan(&level, 50, top, Some(99)),
            plan(&level, 50, PRO_RATA, None)
        );
    }

    #[test]
    fn shares_round_down_to_whole_lots() {
        // A lot of 10 units: two orders of 100 share 30 as 15 each, which
        // rounds down to 10; the 10 left go to the oldest.
        let level = level(&[100, 100]);
        let allocation = Allocation::ProRata {
            min_allocation_lots: 1,
        };
        let plan = allocate(&level, from_units(30), allocation, from_units(10), None);
        assert_eq!(plan, [(0, from_units(20)), (1, from_units(10))]);
    }
}

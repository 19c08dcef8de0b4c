//! The example FIFO matcher, called through the host.

use tradsys_host::testing::Matcher;
use tradsys_host::testing::types::{
    NewOrder, OrderCommand, OrderEvent, OrderType, Side, TimeInForce,
};

use crate::common::{U, instance};

fn order(id: u64, side: Side, tif: TimeInForce, price: i64, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side,
        order_type: OrderType::Limit,
        time_in_force: tif,
        price,
        quantity,
    })
}

fn fills(reports: &[OrderEvent]) -> Vec<(u64, i64, i64)> {
    reports
        .iter()
        .filter_map(|r| match r {
            OrderEvent::Filled(f) => Some((f.id, f.quantity / U, f.leaves_quantity / U)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ioc_order_is_never_left_resting() {
    let (_rt, mut matcher) = instance::<Matcher>("fifo-matcher", "");
    let commands = vec![
        order(1, Side::Sell, TimeInForce::Gtc, 100 * U, 10 * U),
        order(2, Side::Buy, TimeInForce::Ioc, 100 * U, 25 * U),
        order(3, Side::Buy, TimeInForce::Ioc, 99 * U, 5 * U),
    ];
    let reports = matcher.call(|b, s| b.execute(s, &commands)).unwrap();
    assert_eq!(fills(&reports), vec![(1, 10, 0), (2, 10, 15)]);
    let canceled: Vec<(u64, i64)> = reports
        .iter()
        .filter_map(|r| match r {
            OrderEvent::Canceled(c) => Some((c.id, c.canceled_quantity / U)),
            _ => None,
        })
        .collect();
    assert_eq!(canceled, vec![(2, 15), (3, 5)]);
    let depth = matcher.call(|b, s| b.depth(s, 0, 5)).unwrap();
    assert!(depth.bids.is_empty() && depth.asks.is_empty(), "{depth:?}");
}

#[test]
fn two_resting_orders_at_one_price_fill_oldest_first() {
    let (_rt, mut matcher) = instance::<Matcher>("fifo-matcher", "");
    let commands = vec![
        order(1, Side::Sell, TimeInForce::Gtc, 100 * U, 10 * U),
        order(2, Side::Sell, TimeInForce::Gtc, 100 * U, 10 * U),
        order(3, Side::Buy, TimeInForce::Gtc, 100 * U, 15 * U),
    ];
    let reports = matcher.call(|b, s| b.execute(s, &commands)).unwrap();
    assert_eq!(
        fills(&reports),
        vec![(1, 10, 0), (3, 10, 5), (2, 5, 5), (3, 5, 0)]
    );
    let depth = matcher.call(|b, s| b.depth(s, 0, 5)).unwrap();
    assert_eq!(depth.asks.len(), 1);
    assert_eq!(
        (
            depth.asks[0].price,
            depth.asks[0].quantity,
            depth.asks[0].orders
        ),
        (100 * U, 5 * U, 1)
    );
}

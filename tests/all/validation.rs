//! The example risk validators, called through the host.

use tradsys_host::testing::RiskValidator;
use tradsys_host::testing::types::{
    LastPrice, NewOrder, OrderCommand, OrderType, RejectReason, Side, TimeInForce, Verdict,
};

use crate::common::{U, empty_context, instance, instrument};

fn buy(id: u64, price: i64, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price,
        quantity,
    })
}

#[test]
fn an_order_above_the_notional_limit_is_rejected_with_that_reason() {
    let (_rt, mut validator) = instance::<RiskValidator>(
        "max-notional",
        "[plugins.max-notional]\nconfig = { max_notional = 100000 }",
    );
    let mut context = empty_context(vec![instrument(0, "SYN-A", U / 100)]);
    context.last_prices = vec![LastPrice {
        instrument: 0,
        price: 200 * U,
    }];
    // 499 × 200 = 99,800 is under the limit; 501 × 200 = 100,200 is over it.
    let orders = vec![buy(1, 200 * U, 499 * U), buy(2, 200 * U, 501 * U)];
    let verdicts = validator
        .call(|b, s| b.validate(s, &context, &orders))
        .unwrap();
    assert_eq!(verdicts.len(), 2);
    assert!(matches!(verdicts[0], Verdict::Approve), "{:?}", verdicts[0]);
    match &verdicts[1] {
        Verdict::Reject(r) => {
            assert_eq!(r.reason, RejectReason::NotionalLimit);
            assert!(
                r.message.as_deref().unwrap_or("").contains("100000"),
                "{:?}",
                r.message
            );
        }
        other => panic!("expected a notional-limit rejection, got {other:?}"),
    }
}

#[test]
fn a_price_outside_the_collar_is_rejected() {
    let (_rt, mut validator) = instance::<RiskValidator>("price-collar", "");
    let mut context = empty_context(vec![instrument(0, "SYN-A", U / 100)]);
    context.last_prices = vec![LastPrice {
        instrument: 0,
        price: 100 * U,
    }];
    // Default band 50 bps around 100.00: 100.50 is inside, 100.51 outside.
    let orders = vec![
        buy(1, 100 * U + U / 2, U),
        buy(2, 100 * U + 51 * U / 100, U),
    ];
    let verdicts = validator
        .call(|b, s| b.validate(s, &context, &orders))
        .unwrap();
    assert!(matches!(verdicts[0], Verdict::Approve), "{:?}", verdicts[0]);
    assert!(
        matches!(&verdicts[1], Verdict::Reject(r) if r.reason == RejectReason::PriceCollar),
        "{:?}",
        verdicts[1]
    );
}

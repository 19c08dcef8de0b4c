//! Property tests of the host's checks on connector and matcher output
//! (`cargo xtask fuzz` runs more cases): arbitrary event streams never leave
//! the books holding what a feed could not have sent, nor time running back;
//! arbitrary matcher reports never book a trade that does not net to zero in
//! the exchange venue, nor a taker price the book did not show in the
//! simulated one; a strategy's order ids are approved once; texts stay
//! within their bounds.

use proptest::prelude::*;

use crate::bindings::types::{
    BookAction, BookDelta, BookFlags, Fill, InstrumentDefinition, MarketEvent, NewOrder,
    OrderAccepted, OrderCommand, OrderEvent, OrderType, Quote, Side, TimeInForce, Trade,
};
use crate::config::MarketSettings;
use crate::engine::SharedBooks;
use crate::sandbox::texts;
use crate::trading::events::event_ts;
use crate::trading::market::Market;
use crate::trading::router::OrderRouter;

const U: i64 = 1_000_000_000;

fn definition(id: u32) -> MarketEvent {
    MarketEvent::Instrument(InstrumentDefinition {
        id,
        symbol: format!("P{id}"),
        tick_size: U / 100,
        lot_size: U,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    })
}

fn side(buy: bool) -> Side {
    if buy { Side::Buy } else { Side::Sell }
}

/// An event a feed might send, sane or not: prices and sizes around zero,
/// times that may go back, deltas naming a few order ids.
fn event() -> impl Strategy<Value = MarketEvent> {
    let ts = 0u64..20;
    let price = -2i64..6;
    let size = -2i64..6;
    prop_oneof![
        (
            0u32..2,
            ts.clone(),
            price.clone(),
            size.clone(),
            price.clone(),
            size.clone()
        )
            .prop_map(|(i, ts, b, bs, a, as_)| MarketEvent::Quote(Quote {
                instrument: i,
                ts,
                bid_price: b * U,
                bid_size: bs * U,
                ask_price: a * U,
                ask_size: as_ * U,
            })),
        (0u32..2, ts.clone(), price.clone(), size.clone()).prop_map(|(i, ts, p, s)| {
            MarketEvent::Trade(Trade {
                instrument: i,
                ts,
                price: p * U,
                size: s * U,
                aggressor: None,
                flags: BookFlags::LAST,
            })
        }),
        (0u32..2, ts, 0u8..5, any::<bool>(), price, size, 0u64..6).prop_map(
            |(i, ts, action, buy, p, s, id)| {
                let action = [
                    BookAction::Add,
                    BookAction::Modify,
                    BookAction::Cancel,
                    BookAction::Fill,
                    BookAction::Clear,
                ][action as usize];
                MarketEvent::BookDelta(BookDelta {
                    instrument: i,
                    ts,
                    action,
                    side: side(buy),
                    price: p * U,
                    size: s * U,
                    order_id: id,
                    flags: BookFlags::LAST,
                })
            }
        ),
    ]
}

proptest! {
    #[test]
    fn the_books_never_hold_what_a_feed_could_not_send_and_time_never_goes_back(
        quotes in prop::collection::vec(event(), 0..60),
        deltas in prop::collection::vec(event(), 0..60),
        cut in 1usize..8,
    ) {
        // One instrument quoted, the other by order (a book takes its
        // detail from its first data), in batches of `cut`.
        let books = SharedBooks::default();
        let mut market = Market::new(books.clone(), MarketSettings::default());
        market.ingest(&mut vec![definition(0), definition(1)]);
        let stream: Vec<MarketEvent> = quotes
            .into_iter()
            .filter(|e| matches!(e, MarketEvent::Quote(_) | MarketEvent::Trade(_)))
            .map(|mut e| { set(&mut e, 0); e })
            .chain(deltas.into_iter().map(|mut e| { set(&mut e, 1); e }))
            .collect();
        let mut latest = [0u64; 2];
        for batch in stream.chunks(cut) {
            let mut events = batch.to_vec();
            market.ingest(&mut events);
            for e in &events {
                let i = crate::trading::events::event_instrument(e).unwrap() as usize;
                let ts = event_ts(e).unwrap();
                prop_assert!(ts >= latest[i], "time went back: {e:?}");
                latest[i] = ts;
                if let MarketEvent::Quote(q) = e
                    && q.bid_size > 0 && q.ask_size > 0
                {
                    prop_assert!(q.bid_price < q.ask_price, "a crossed quote passed: {q:?}");
                }
            }
        }
        let books = books.read();
        for (_, book) in books.iter() {
            for level in book.bids().chain(book.asks()) {
                prop_assert!(level.price > 0 && level.size > 0, "{level:?}");
            }
            for (id, order) in book.orders() {
                prop_assert!(order.price > 0 && order.size > 0, "order {id}: {order:?}");
            }
        }
    }

    #[test]
    fn in_the_exchange_venue_what_is_booked_nets_to_zero_across_accounts(
        fills in prop::collection::vec((0usize..4, 0usize..4, 95i64..105, 95i64..105, 1i64..3), 1..12),
    ) {
        // Four resting orders: strategy 0 buys twice, strategy 1 sells twice
        // (3 lots each, limits wide); the matcher reports arbitrary pairs of
        // fills, true or not (prices and quantities that may differ).
        let mut market = Market::default();
        market.ingest(&mut vec![definition(0)]);
        let mut router = OrderRouter::new(2).balanced(true);
        let order = |id, buy: bool, price| OrderCommand::Submit(NewOrder {
            id,
            instrument: 0,
            side: side(buy),
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: price * U,
            quantity: 3 * U,
        });
        let mut sent = router.approve(0, vec![order(1, true, 110), order(2, true, 110)]);
        sent.extend(router.approve(1, vec![order(1, false, 90), order(2, false, 90)]));
        let ids: Vec<u64> = sent.iter().map(OrderCommand::id).collect();
        router.execute(sent, &market, 1, "m", |c| {
            Ok(c.iter().map(|c| OrderEvent::Accepted(OrderAccepted {
                id: c.id(),
                instrument: 0,
                ts: 1,
            })).collect())
        });
        let mut left = [3 * U; 4];
        for (a, b, pa, pb, q) in fills {
            let (buy, sell) = (a % 2, 2 + b % 2);
            let report = |k: usize, price: i64, q: i64, left: &mut [i64; 4]| {
                let leaves = left[k] - q * U;
                OrderEvent::Filled(Fill {
                    id: ids[k],
                    instrument: 0,
                    ts: 2,
                    side: side(k < 2),
                    price: price * U,
                    quantity: q * U,
                    leaves_quantity: leaves,
                    maker: k < 2,
                })
            };
            let (qa, qb) = (q.min(left[buy] / U), (q + pa % 2).min(left[sell] / U));
            if qa == 0 || qb == 0 {
                continue;
            }
            let reports = vec![report(buy, pa, qa, &mut left), report(sell, pb, qb, &mut left)];
            let breach = router.feed(&[], &market, 2, "m", || Ok(reports));
            if breach.is_none() {
                left[buy] -= qa * U;
                left[sell] -= qb * U;
            }
            if router.counts.halted.is_some() {
                break;
            }
        }
        let (a, b) = (&router.accounts[0].ledger, &router.accounts[1].ledger);
        prop_assert_eq!(a.holding(0).quantity + b.holding(0).quantity, 0);
        prop_assert_eq!(a.cash() + b.cash(), 0);
    }

    #[test]
    fn in_the_simulated_venue_no_taker_price_is_booked_that_the_book_did_not_show(
        (bid, ask) in (95i64..100, 100i64..105),
        size in 1i64..5,
        (price, q) in (90i64..110, 1i64..8),
    ) {
        let mut market = Market::default();
        market.ingest(&mut vec![
            definition(0),
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts: 1,
                bid_price: bid * U,
                bid_size: size * U,
                ask_price: ask * U,
                ask_size: size * U,
            }),
        ]);
        let mut router = OrderRouter::new(1);
        let sent = router.approve(0, vec![OrderCommand::Submit(NewOrder {
            id: 1,
            instrument: 0,
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price: 120 * U,
            quantity: 10 * U,
        })]);
        let id = sent[0].id();
        router.execute(sent, &market, 1, "m", |_| Ok(vec![
            OrderEvent::Accepted(OrderAccepted { id, instrument: 0, ts: 1 }),
            OrderEvent::Filled(Fill {
                id,
                instrument: 0,
                ts: 1,
                side: Side::Buy,
                price: price * U,
                quantity: q * U,
                leaves_quantity: (10 - q) * U,
                maker: false,
            }),
        ]));
        let booked = router.accounts[0].ledger.holding(0).quantity;
        if booked != 0 {
            prop_assert_eq!(price, ask, "booked a taker buy at {} with the ask at {}", price, ask);
            prop_assert!(q <= size, "took {} of the {} shown", q, size);
        }
    }

    #[test]
    fn a_strategys_order_id_is_approved_once_whatever_became_of_it(
        ids in prop::collection::vec((0u64..6, any::<bool>()), 1..40),
    ) {
        let mut market = Market::default();
        market.ingest(&mut vec![definition(0)]);
        let mut router = OrderRouter::new(1);
        let mut approved = std::collections::BTreeSet::new();
        for (id, good) in ids {
            let command = OrderCommand::Submit(NewOrder {
                id,
                instrument: 0,
                side: Side::Buy,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Gtc,
                price: 100 * U,
                // A bad quantity is refused by the host, after the id is used.
                quantity: if good { U } else { U / 2 },
            });
            if router.check(0, &command, &market).is_ok() {
                prop_assert!(approved.insert(id), "id {} passed twice", id);
            }
        }
    }

    #[test]
    fn a_text_is_cut_within_its_bound_at_a_character_boundary(text in ".{0,600}") {
        let mut cut = text.clone();
        texts::cut(&mut cut, texts::MAX_MESSAGE_BYTES);
        prop_assert!(cut.len() <= texts::MAX_MESSAGE_BYTES);
        if text.len() <= texts::MAX_MESSAGE_BYTES {
            prop_assert_eq!(cut, text);
        }
    }
}

/// Renumber an event to instrument `id`.
fn set(event: &mut MarketEvent, id: u32) {
    match event {
        MarketEvent::Quote(q) => q.instrument = id,
        MarketEvent::Trade(t) => t.instrument = id,
        MarketEvent::BookDelta(d) => d.instrument = id,
        _ => {}
    }
}

use super::*;
use tradsys_sdk::{CancelOrder, Config, NewOrder, OrderType, RejectReason, TimeInForce};

fn market(entries: &[(&str, &str)]) -> SyntheticMarket {
    SyntheticMarket::new(&Config::new(entries.iter().copied())).expect("valid config")
}

/// The first `n` events, fetched in batches of odd sizes.
fn take(m: &mut SyntheticMarket, n: usize) -> Vec<MarketEvent> {
    let mut events = Vec::new();
    while events.len() < n {
        let batch = m
            .next_events(137.min(n - events.len()))
            .expect("unlimited stream");
        events.extend(batch);
    }
    events
}

fn debug(events: &[MarketEvent]) -> Vec<String> {
    events.iter().map(|e| format!("{e:?}")).collect()
}

fn ts_of(event: &MarketEvent) -> Option<u64> {
    event.ts()
}

#[test]
fn a_restored_state_carries_on_exactly_where_the_saved_one_stopped() {
    let whole = debug(&take(&mut market(&[]), 3000));
    // Cut the stream at awkward places (mid-step, before the first batch,
    // across minute bars) into fresh instances, each from saved state.
    let mut m = market(&[]);
    let mut pieces = Vec::new();
    for size in [0usize, 1, 2, 5, 137, 1000, 1, 3] {
        if size > 0 {
            pieces.extend(m.next_events(size).unwrap());
        }
        let state = m.save_state();
        m = market(&[]);
        m.load_state(&state).expect("own state loads");
        assert_eq!(m.save_state(), state, "state round-trips");
    }
    pieces.extend(take(&mut m, 3000 - pieces.len()));
    assert_eq!(debug(&pieces), whole);
}

#[test]
fn the_venue_and_the_event_limit_survive_a_restore() {
    let (mut m, q) = quoted();
    let tick = fixed::parse("0.01").unwrap();
    let reports = m.submit_orders(&[submit(
        7,
        Side::Buy,
        TimeInForce::Gtc,
        q.bid_price - 50 * tick,
        2,
    )]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let mut limited = market(&[("events", "10")]);
    limited.next_events(4).unwrap();
    for (m, config) in [
        (&mut m, ("instruments", "1")),
        (&mut limited, ("events", "10")),
    ] {
        let state = m.save_state();
        let mut restored = market(&[config]);
        restored.load_state(&state).unwrap();
        *m = restored;
    }
    assert_eq!(m.venue.resting.len(), 1, "the resting order is still there");
    let canceled = m.submit_orders(&[OrderCommand::Cancel(tradsys_sdk::CancelOrder {
        id: 7,
        instrument: 0,
    })]);
    assert!(
        matches!(canceled[..], [OrderEvent::Canceled(_)]),
        "{canceled:?}"
    );
    assert_eq!(limited.next_events(100).unwrap().len(), 6);
    assert!(limited.next_events(100).is_none());
}

#[test]
fn a_foreign_or_damaged_state_is_refused_and_changes_nothing() {
    let mut m = market(&[]);
    m.next_events(50).unwrap();
    let state = m.save_state();
    let mut two = market(&[("instruments", "2")]);
    let before = two.save_state();
    let refused = two.load_state(&state).unwrap_err();
    assert!(refused.contains("3 instruments"), "{refused}");
    for len in [0, 1, state.len() / 2, state.len() - 1] {
        assert!(two.load_state(&state[..len]).is_err(), "{len} bytes loaded");
    }
    let mut other_format = state.clone();
    other_format[0] = 99;
    assert!(
        m.load_state(&other_format)
            .unwrap_err()
            .contains("format 99")
    );
    assert_eq!(two.save_state(), before);
}

#[test]
fn same_seed_same_stream_different_seed_different_stream() {
    let a = debug(&take(&mut market(&[]), 5000));
    // Batch sizes must not matter either.
    let mut m = market(&[("seed", "42")]);
    let mut b = Vec::new();
    while b.len() < 5000 {
        b.extend(m.next_events(1000).unwrap());
    }
    assert_eq!(a, debug(&b));
    let c = debug(&take(&mut market(&[("seed", "43")]), 5000));
    assert_ne!(a, c);
    assert_eq!(a[..3], c[..3], "definitions do not depend on the seed");
}

#[test]
fn definitions_come_first() {
    let events = take(&mut market(&[]), 100);
    for (id, &(symbol, _, tick)) in INSTRUMENTS.iter().enumerate() {
        let MarketEvent::Instrument(def) = &events[id] else {
            panic!("event {id} is not a definition: {:?}", events[id]);
        };
        assert_eq!(def.id, id as u32);
        assert_eq!(def.symbol, symbol);
        assert_eq!(def.tick_size, tick);
        assert_eq!(def.lot_size, fixed::from_units(1));
        assert_eq!(def.multiplier, 1);
    }
    let ticks: Vec<i64> = ["0.01", "0.05", "0.01"]
        .map(|t| fixed::parse(t).unwrap())
        .into();
    assert_eq!(INSTRUMENTS.map(|i| i.2).to_vec(), ticks);
    // The first quote of each instrument is at its starting mid.
    let mut seen = [false; 3];
    for event in &events {
        if let MarketEvent::Quote(q) = event {
            let i = q.instrument as usize;
            if !std::mem::replace(&mut seen[i], true) {
                let start = ["100", "250", "40"].map(|p| fixed::parse(p).unwrap())[i];
                assert!(q.bid_price < start + 3 * ticks[i] && q.ask_price > start - 3 * ticks[i]);
            }
        }
    }
    assert_eq!(seen, [true; 3]);
    assert!(
        events[3..]
            .iter()
            .all(|e| !matches!(e, MarketEvent::Instrument(_)))
    );

    let one = take(&mut market(&[("instruments", "1")]), 2000);
    assert!(matches!(&one[0], MarketEvent::Instrument(d) if d.symbol == "SYN-A"));
    assert!(one[1..].iter().all(|e| match e {
        MarketEvent::Quote(q) => q.instrument == 0,
        MarketEvent::Trade(t) => t.instrument == 0,
        MarketEvent::Bar(b) => b.instrument == 0,
        _ => false,
    }));
}

#[test]
fn quotes_trades_and_clock_are_sane() {
    let events = take(&mut market(&[("seed", "7")]), 20_000);
    let ticks: Vec<i64> = INSTRUMENTS.iter().map(|i| i.2).collect();
    let (mut quotes, mut trades, mut last_ts) = (0, 0, 0);
    let mut last_quote: Vec<Option<Quote>> = vec![None; 3];
    for event in &events {
        if let Some(ts) = ts_of(event) {
            assert!(ts >= last_ts, "time went back at {event:?}");
            last_ts = ts;
        }
        match event {
            MarketEvent::Quote(q) => {
                quotes += 1;
                let tick = ticks[q.instrument as usize];
                assert!(q.bid_price > 0 && q.bid_price < q.ask_price, "{q:?}");
                assert_eq!(q.bid_price % tick, 0, "{q:?}");
                assert_eq!(q.ask_price % tick, 0, "{q:?}");
                assert!(
                    (1..=3).contains(&((q.ask_price - q.bid_price) / tick)),
                    "{q:?}"
                );
                for size in [q.bid_size, q.ask_size] {
                    assert!(
                        (fixed::from_units(100)..=fixed::from_units(2000)).contains(&size)
                            && size % fixed::SCALE == 0
                    );
                }
                last_quote[q.instrument as usize] = Some(*q);
            }
            MarketEvent::Trade(t) => {
                trades += 1;
                let q = last_quote[t.instrument as usize]
                    .as_ref()
                    .expect("quote first");
                assert_eq!(t.ts, q.ts);
                match t.aggressor {
                    Some(Side::Buy) => assert_eq!(t.price, q.ask_price),
                    Some(Side::Sell) => assert_eq!(t.price, q.bid_price),
                    None => panic!("trade without aggressor"),
                }
                assert!(t.size > 0);
            }
            _ => {}
        }
    }
    // About 0.15 trades per quote; 20,000 events span a couple of minutes.
    assert!(quotes > 16_000, "{quotes} quotes");
    assert!((1_800..3_400).contains(&trades), "{trades} trades");
    let span = last_ts - 1_704_205_800_000_000_000;
    assert!(
        (90 * 1_000_000_000..200 * 1_000_000_000).contains(&span),
        "{span} ns"
    );
}

#[test]
fn prices_trend_and_revert() {
    // Over a long run the mid wanders away from its anchor but stays near it.
    let events = take(&mut market(&[("instruments", "1")]), 200_000);
    let mids: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Quote(q) => Some((q.bid_price + q.ask_price) / 2),
            _ => None,
        })
        .collect();
    let hi = *mids.iter().max().unwrap();
    let lo = *mids.iter().min().unwrap();
    let anchor = fixed::from_units(100);
    assert!(hi - lo > fixed::parse("0.50").unwrap(), "range {lo}..{hi}");
    assert!(lo > anchor / 2 && hi < anchor * 2, "range {lo}..{hi}");
    // The mid crosses its anchor more than a few times (it reverts).
    let crossings = mids
        .windows(2)
        .filter(|w| (w[0] < anchor) != (w[1] < anchor))
        .count();
    assert!(crossings > 5, "{crossings} crossings");
}

#[test]
fn events_limit_ends_the_stream() {
    let mut m = market(&[("events", "10")]);
    assert_eq!(m.next_events(4).unwrap().len(), 4);
    assert_eq!(m.next_events(100).unwrap().len(), 6);
    assert!(m.next_events(100).is_none());
    assert!(m.next_events(1).is_none());
    // Unlimited: still going after many events; an empty request is fine.
    let mut m = market(&[]);
    take(&mut m, 10_000);
    assert_eq!(m.next_events(0).map(|b| b.len()), Some(0));
}

#[test]
fn bars_close_each_minute_and_are_consistent() {
    let events = take(&mut market(&[]), 30_000);
    let mut bars: Vec<&Bar> = Vec::new();
    let mut volume = [0i64; 3];
    for event in &events {
        match event {
            MarketEvent::Trade(t) => volume[t.instrument as usize] += t.size,
            MarketEvent::Bar(b) => {
                bars.push(b);
                assert_eq!(b.ts % MINUTE_NS, 0);
                assert!(
                    b.low <= b.open.min(b.close) && b.open.max(b.close) <= b.high,
                    "{b:?}"
                );
                let tick = INSTRUMENTS[b.instrument as usize].2;
                for p in [b.open, b.high, b.low, b.close] {
                    assert!(p > 0 && p % tick == 0, "{b:?}");
                }
                // Each bar's volume is the trades of its instrument since the last bar.
                assert_eq!(b.volume, volume[b.instrument as usize], "{b:?}");
                volume[b.instrument as usize] = 0;
                assert!(b.high > b.low, "an active minute has a range: {b:?}");
            }
            _ => {}
        }
    }
    assert!(bars.len() >= 6, "{} bars", bars.len());
    // Bars come in groups of three (one per instrument) per minute.
    for group in bars.chunks(3) {
        assert_eq!(group.len(), 3);
        assert!(group.iter().all(|b| b.ts == group[0].ts));
        assert_eq!(
            group.iter().map(|b| b.instrument).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }
    assert_eq!(bars[0].ts, 1_704_205_860_000_000_000);
}

/// A market with one instrument advanced until it has a quote; returns its touch.
fn quoted() -> (SyntheticMarket, Quote) {
    let mut m = market(&[("instruments", "1")]);
    loop {
        for event in m.next_events(1).unwrap() {
            if let MarketEvent::Quote(q) = event {
                return (m, q);
            }
        }
    }
}

fn submit(id: u64, side: Side, tif: TimeInForce, price: i64, units: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side,
        order_type: OrderType::Limit,
        time_in_force: tif,
        price,
        quantity: fixed::from_units(units),
    })
}

#[test]
fn crossing_limit_fills_at_the_touch() {
    let (mut m, q) = quoted();
    let tick = fixed::parse("0.01").unwrap();
    let reports = m.submit_orders(&[
        submit(1, Side::Buy, TimeInForce::Gtc, q.ask_price + 5 * tick, 3),
        submit(2, Side::Sell, TimeInForce::Ioc, q.bid_price, 2),
    ]);
    let text = format!("{reports:?}");
    assert_eq!(reports.len(), 4, "{text}");
    assert!(matches!(&reports[0], OrderEvent::Accepted(a) if a.id == 1 && a.ts == q.ts));
    let OrderEvent::Filled(f) = &reports[1] else {
        panic!("{text}")
    };
    assert_eq!((f.id, f.side, f.price), (1, Side::Buy, q.ask_price));
    assert_eq!(
        (f.quantity, f.leaves_quantity, f.maker),
        (fixed::from_units(3), 0, false)
    );
    let OrderEvent::Filled(f) = &reports[3] else {
        panic!("{text}")
    };
    assert_eq!(
        (f.id, f.price, f.quantity),
        (2, q.bid_price, fixed::from_units(2))
    );
    assert!(m.venue.resting.is_empty());
    assert!(m.poll_reports().is_empty());
}

#[test]
fn non_crossing_orders_rest_cancel_or_are_killed() {
    let (mut m, q) = quoted();
    let reports = m.submit_orders(&[
        submit(1, Side::Buy, TimeInForce::Ioc, q.bid_price, 1),
        submit(2, Side::Buy, TimeInForce::Fok, q.bid_price, 1),
        submit(3, Side::Buy, TimeInForce::Gtc, q.bid_price, 1),
        submit(4, Side::Buy, TimeInForce::Gtc, q.bid_price + 1, 1),
        submit(5, Side::Buy, TimeInForce::Gtc, q.bid_price, 0),
    ]);
    let text = format!("{reports:?}");
    assert_eq!(reports.len(), 6, "{text}");
    assert!(matches!(&reports[1], OrderEvent::Canceled(c)
        if c.id == 1 && c.canceled_quantity == fixed::from_units(1)));
    assert!(matches!(&reports[2], OrderEvent::Rejected(r)
        if r.id == 2 && r.rejection.reason == RejectReason::FillOrKillUnfilled));
    assert!(matches!(&reports[3], OrderEvent::Accepted(a) if a.id == 3));
    assert!(matches!(&reports[4], OrderEvent::Rejected(r)
        if r.id == 4 && r.rejection.reason == RejectReason::InvalidOrder));
    assert!(matches!(&reports[5], OrderEvent::Rejected(r)
        if r.id == 5 && r.rejection.reason == RejectReason::InvalidOrder));
    assert_eq!(m.venue.resting.len(), 1);
}

#[test]
fn resting_order_fills_when_the_market_crosses_it() {
    let (mut m, q) = quoted();
    let tick = fixed::parse("0.01").unwrap();
    let price = q.bid_price - 3 * tick;
    m.submit_orders(&[submit(9, Side::Buy, TimeInForce::Gtc, price, 5)]);
    let mut fills = Vec::new();
    for _ in 0..200_000 {
        let batch = m.next_events(10).unwrap();
        let reports = m.poll_reports();
        if reports.is_empty() {
            // Not filled yet: no quote in the batch has an ask at or below the limit.
            assert!(
                batch
                    .iter()
                    .all(|e| !matches!(e, MarketEvent::Quote(q) if q.ask_price <= price))
            );
            continue;
        }
        // Filled by the first quote whose ask reached the limit, at the limit.
        let crossing = batch
            .iter()
            .find_map(|e| match e {
                MarketEvent::Quote(q) if q.ask_price <= price => Some(q.ts),
                _ => None,
            })
            .expect("a crossing quote");
        fills = reports;
        let OrderEvent::Filled(f) = &fills[0] else {
            panic!("{fills:?}")
        };
        assert_eq!((f.id, f.price, f.ts, f.maker), (9, price, crossing, true));
        assert_eq!((f.quantity, f.leaves_quantity), (fixed::from_units(5), 0));
        break;
    }
    assert_eq!(fills.len(), 1, "the resting order never filled");
    assert!(m.venue.resting.is_empty());
}

#[test]
fn cancel_and_modify() {
    let (mut m, q) = quoted();
    let tick = fixed::parse("0.01").unwrap();
    m.submit_orders(&[
        submit(1, Side::Sell, TimeInForce::Gtc, q.ask_price + 10 * tick, 2),
        submit(2, Side::Sell, TimeInForce::Gtc, q.ask_price + 10 * tick, 2),
    ]);
    let cancel = |id| OrderCommand::Cancel(CancelOrder { id, instrument: 0 });
    let modify = |id, price, units| {
        OrderCommand::Modify(tradsys_sdk::ModifyOrder {
            id,
            instrument: 0,
            price,
            quantity: fixed::from_units(units),
        })
    };
    let reports = m.submit_orders(&[
        cancel(77),
        cancel(1),
        cancel(1),
        modify(2, q.ask_price + 20 * tick, 4),
        modify(2, q.bid_price, 4),
        modify(78, q.bid_price, 1),
    ]);
    let text = format!("{reports:?}");
    assert_eq!(reports.len(), 7, "{text}");
    let unknown = |e: &OrderEvent, id| {
        matches!(e, OrderEvent::Rejected(r)
            if r.id == id && r.rejection.reason == RejectReason::UnknownOrder)
    };
    assert!(unknown(&reports[0], 77), "{text}");
    assert!(matches!(&reports[1], OrderEvent::Canceled(c)
        if c.id == 1 && c.canceled_quantity == fixed::from_units(2)));
    assert!(unknown(&reports[2], 1), "{text}");
    assert!(matches!(&reports[3], OrderEvent::Modified(e)
        if e.id == 2 && e.price == q.ask_price + 20 * tick
            && e.leaves_quantity == fixed::from_units(4)));
    // Moving the sell down to the bid crosses: it fills at the bid, as taker.
    assert!(matches!(&reports[4], OrderEvent::Modified(e) if e.price == q.bid_price));
    let OrderEvent::Filled(f) = &reports[5] else {
        panic!("{text}")
    };
    assert_eq!(
        (f.id, f.side, f.price, f.maker),
        (2, Side::Sell, q.bid_price, false)
    );
    assert_eq!(f.quantity, fixed::from_units(4));
    assert!(unknown(&reports[6], 78), "{text}");
    assert!(m.venue.resting.is_empty());
}

#[test]
fn market_order_needs_a_quote_and_unknown_instrument_is_rejected() {
    let mut m = market(&[]);
    let order = |instrument| {
        OrderCommand::Submit(NewOrder {
            id: 1,
            instrument,
            side: Side::Sell,
            order_type: OrderType::Market,
            time_in_force: TimeInForce::Ioc,
            price: 0,
            quantity: fixed::from_units(1),
        })
    };
    let reports = m.submit_orders(&[order(0), order(5)]);
    let reason = |e: &OrderEvent| match e {
        OrderEvent::Rejected(r) => Some(r.rejection.reason),
        _ => None,
    };
    assert_eq!(reason(&reports[0]), Some(RejectReason::NoLiquidity));
    assert_eq!(reason(&reports[1]), Some(RejectReason::InvalidOrder));
}

#[test]
fn bad_config_names_the_key() {
    let err = |k, v| SyntheticMarket::new(&Config::new([(k, v)])).unwrap_err();
    assert!(err("instruments", "4").contains("`instruments`"));
    assert!(err("instruments", "0").contains("`instruments`"));
    assert!(err("mean_interval_ms", "0").contains("`mean_interval_ms`"));
    assert!(err("seed", "x").contains("`seed`"));
}

#[test]
fn by_order_the_book_is_consistent_at_every_last_flag_and_fills_name_resting_orders() {
    use tradsys_sdk::book::{OrderBook, Side as BookSide};
    use tradsys_sdk::{BookAction, BookFlags};
    let mut m = market(&[("book", "orders"), ("instruments", "2")]);
    let events = take(&mut m, 30_000);
    let side = |s: Side| match s {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    };
    let mut books = [OrderBook::new(), OrderBook::new()];
    let (mut checks, mut fills, mut trades) = (0, 0, 0);
    let mut last_fill: Option<(u64, i64)> = None;
    for event in &events {
        match event {
            MarketEvent::Quote(_) => panic!("a market by order sends no quotes"),
            MarketEvent::Trade(_) => trades += 1,
            MarketEvent::BookDelta(d) => {
                let book = &mut books[d.instrument as usize];
                if let Some((id, size)) = last_fill.take() {
                    assert!(
                        d.action == BookAction::Cancel && d.order_id == id && d.size == size,
                        "a fill is followed by the cancel of what it took: {d:?}"
                    );
                }
                match d.action {
                    BookAction::Add => book.add(d.order_id, side(d.side), d.price, d.size),
                    BookAction::Cancel => {
                        assert_eq!(book.cancel(d.order_id, d.size), d.size, "{d:?}");
                    }
                    BookAction::Fill => {
                        let resting = book.order(d.order_id).expect("a fill of a resting order");
                        assert_eq!(resting.price, d.price);
                        fills += 1;
                        last_fill = Some((d.order_id, d.size));
                    }
                    other => panic!("unexpected {other:?}"),
                }
                if d.flags.contains(BookFlags::LAST) {
                    let (bid, ask) = (book.best_bid().unwrap(), book.best_ask().unwrap());
                    assert!(bid.price < ask.price, "crossed at a consistent point");
                    checks += 1;
                }
            }
            _ => {}
        }
    }
    assert!(
        checks > 1000 && fills > 100 && trades > 100,
        "{checks} {fills} {trades}"
    );
    // A restore in the middle carries on exactly.
    let mut first = market(&[("book", "orders")]);
    let mut second = market(&[("book", "orders")]);
    let head = take(&mut first, 5_000);
    second.load_state(&first.save_state()).unwrap();
    assert_eq!(
        debug(&take(&mut first, 3_000)),
        debug(&take(&mut second, 3_000))
    );
    assert_eq!(head.len(), 5_000);
    assert!(
        market(&[]).load_state(&first.save_state()).is_err(),
        "book kinds differ"
    );
}

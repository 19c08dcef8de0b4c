//! Self-trade prevention: each mode against own resting orders.

use super::*;

/// Owners set on the host stand-in for the life of the guard (then cleared,
/// so that no other test on this thread sees them).
struct Owners(Vec<u64>);

impl Owners {
    fn set(owners: &[(u64, u32)]) -> Self {
        for &(id, owner) in owners {
            host::set_owner(id, Some(owner));
        }
        Self(owners.iter().map(|&(id, _)| id).collect())
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        for &id in &self.0 {
            host::set_owner(id, None);
        }
    }
}

fn self_trade_matcher(mode: &str) -> FifoMatcher {
    FifoMatcher::new(&Config::new([("self_trade", mode)])).expect("valid config")
}

/// Sells at 100 of owners 2, 1 and 2 (5 each, in time order); #4 will be
/// owner 1's buy of 12.
fn self_trade_book(mode: &str) -> (FifoMatcher, Owners) {
    let owners = Owners::set(&[(1, 2), (2, 1), (3, 2), (4, 1), (5, 1), (6, 1)]);
    let mut m = self_trade_matcher(mode);
    run(&mut m, &[sell(1, 100, 5), sell(2, 100, 5), sell(3, 100, 5)]);
    (m, owners)
}

#[test]
fn self_trade_none_is_the_default_and_trades_with_own_orders() {
    for mut m in [matcher(), self_trade_book("none").0] {
        let _owners = Owners::set(&[(1, 2), (2, 1), (3, 2), (4, 1)]);
        run(&mut m, &[sell(1, 100, 5), sell(2, 100, 5), sell(3, 100, 5)]);
        let reports = run(&mut m, &[buy(4, 100, 12)]);
        assert!(
            reports.contains(&"fill #2 sell 5@100 leaves 0 maker".to_string()),
            "{reports:?}"
        );
    }
}

#[test]
fn self_trade_cancel_resting_cancels_the_own_order_and_goes_on() {
    let (mut m, _owners) = self_trade_book("cancel-resting");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #2 5",
            "fill #3 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 2 taker",
        ]
    );
    // The rest of the aggressor (GTC) rests.
    assert_eq!(depth(&m, 5), (vec![(100, 2, 1)], vec![]));
    assert_eq!(run(&mut m, &[cancel(2)]), ["rejected #2 UnknownOrder"]);
}

#[test]
fn self_trade_cancel_aggressor_stops_at_the_own_order() {
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #4 7",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 10, 2)]));
    // A repriced order is an aggressor too: canceled at its own order.
    run(&mut m, &[buy(5, 99, 3)]);
    assert_eq!(
        run(&mut m, &[modify(5, 100, 3)]),
        ["modified #5 100 leaves 3", "canceled #5 3"]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 10, 2)]));
}

#[test]
fn self_trade_cancel_both() {
    let (mut m, _owners) = self_trade_book("cancel-both");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #2 5",
            "canceled #4 7",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 5, 1)]));
}

#[test]
fn self_trade_and_fill_or_kill() {
    // cancel-aggressor: a FOK that would reach its own order is killed,
    // without touching the book; one that stops before it fills.
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    let before = m.save_state();
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 100, 6, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    assert_eq!(m.save_state(), before);
    assert_eq!(
        run(&mut m, &[limit(5, Side::Buy, 100, 5, TimeInForce::Fok)])[0],
        "accepted #5"
    );
    // cancel-resting: only the other owner's 10 count.
    let (mut m, _owners) = self_trade_book("cancel-resting");
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 100, 11, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    let reports = run(&mut m, &[limit(5, Side::Buy, 100, 10, TimeInForce::Fok)]);
    assert!(
        reports.contains(&"canceled #2 5".to_string()),
        "{reports:?}"
    );
    assert_eq!(reports.last().unwrap(), "fill #5 buy 5@100 leaves 0 taker");
    assert_eq!(depth(&m, 5), (vec![], vec![]));
}

#[test]
fn the_market_has_no_owner_and_never_self_trades() {
    use tradsys_sdk::{MarketEvent, Quote};
    let quote = |bid: i64, ask: i64| {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: from_units(bid),
            bid_size: from_units(5),
            ask_price: from_units(ask),
            ask_size: from_units(5),
        })
    };
    let _owners = Owners::set(&[(7, 1), (8, 1)]);
    let mut m = self_trade_matcher("cancel-both");
    let mut reports = Vec::new();
    m.on_market(&[quote(99, 101)], &mut reports);
    assert!(reports.is_empty());
    // A strategy order takes the market's ask.
    assert_eq!(
        run(&mut m, &[buy(7, 101, 2)]),
        ["accepted #7", "fill #7 buy 2@101 leaves 0 taker"]
    );
    // The market's new touch fills a resting strategy order.
    run(&mut m, &[buy(8, 100, 1)]);
    m.on_market(&[quote(98, 100)], &mut reports);
    assert!(
        matches!(reports.as_slice(), [OrderEvent::Filled(f)] if f.id == 8 && f.maker),
        "{reports:?}"
    );
}

#[test]
fn owners_survive_save_and_load_and_older_formats_still_load() {
    let (mut original, owners) = self_trade_book("cancel-resting");
    let state = original.save_state();
    assert_eq!(state[0], crate::FORMAT_VERSION);
    let mut restored = self_trade_matcher("cancel-resting");
    restored.load_state(&state).expect("own state loads");
    assert_eq!(restored.books, original.books);
    assert_eq!(restored.save_state(), state);
    // The resting orders' owners now come from the state alone.
    drop(owners);
    {
        let _aggressor = Owners::set(&[(4, 1)]);
        let expected = run(&mut original, &[buy(4, 100, 12)]);
        assert!(
            expected.contains(&"canceled #2 5".to_string()),
            "{expected:?}"
        );
        assert_eq!(run(&mut restored, &[buy(4, 100, 12)]), expected);
    }

    // Without owners, format 3 is format 2 but for its version byte, and
    // format 2 (an earlier version's state) loads.
    let mut unowned = super::persistence::busy_matcher();
    let mut old = unowned.save_state();
    old[0] = 2;
    let mut loaded = matcher();
    loaded.load_state(&old).expect("format 2 loads");
    assert_eq!(loaded.books, unowned.books);
    assert_eq!(loaded.save_state()[1..], old[1..]);

    // An owners' section in format 2, an empty one, or one naming an order
    // that does not work, is refused.
    // Three owners of 16 bytes (instrument, id, owner) after their count.
    let section = 4 + 3 * 16;
    let owned_tail = &state[state.len() - section..];
    let mut in_format_2 = old.clone();
    in_format_2.extend_from_slice(owned_tail);
    let mut empty_section = unowned.save_state();
    empty_section.extend_from_slice(&0u32.to_le_bytes());
    let mut unknown_order = unowned.save_state();
    unknown_order.extend_from_slice(&1u32.to_le_bytes());
    unknown_order.extend_from_slice(&0u32.to_le_bytes());
    unknown_order.extend_from_slice(&999u64.to_le_bytes());
    unknown_order.extend_from_slice(&1u32.to_le_bytes());
    for (what, bytes) in [
        ("owners in format 2", &in_format_2),
        ("empty owners", &empty_section),
        ("owner of an unknown order", &unknown_order),
    ] {
        assert!(unowned.load_state(bytes).is_err(), "{what} accepted");
    }
    // Every strict prefix of a state with owners is refused but the one
    // without the whole owners' section.
    for len in 0..state.len() {
        let mut m = self_trade_matcher("cancel-resting");
        let loaded = m.load_state(&state[..len]).is_ok();
        assert_eq!(loaded, len == state.len() - section, "prefix of {len}");
    }
}

#[test]
fn a_bad_self_trade_value_is_refused_naming_the_key() {
    let error = FifoMatcher::new(&Config::new([("self_trade", "cancel-newest")])).unwrap_err();
    assert!(error.contains("`self_trade`"), "{error}");
    for mode in ["none", "cancel-resting", "cancel-aggressor", "cancel-both"] {
        assert!(FifoMatcher::new(&Config::new([("self_trade", mode)])).is_ok());
    }
}

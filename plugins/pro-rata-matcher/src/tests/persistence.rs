//! Saved books (owners, TOP orders, lots) load back exactly; garbage is refused
//! and keeps the books; a random flow survives a round trip.

use super::*;

/// Partly filled orders on both sides, owners, a TOP order per side, a lot
/// size, and a second instrument.
fn busy_matcher(config: &[(&str, &str)]) -> ProRataMatcher {
    let mut m = matcher(config);
    let mut reports = Vec::new();
    m.on_market(
        &[definition(0, from_units(2)), definition(5, from_units(3))],
        &mut reports,
    );
    let _owners = Owners::set(&[(1, 1), (2, 2), (3, 1), (4, 2), (5, 3), (8, 3)]);
    run(
        &mut m,
        &[
            buy(1, 99, 10),
            buy(2, 99, 30),
            buy(3, 98, 5),
            sell(4, 101, 20),
            sell(5, 101, 40),
            sell(6, 102, 5),
            // Partly fills #1 (TOP) or, pro rata, #1 and #2.
            sell(7, 99, 8),
            // #2 goes behind #8.
            buy(8, 99, 4),
            modify(2, 99, 40),
            // #4 keeps its place with less.
            modify(4, 101, 15),
        ],
    );
    let OrderCommand::Submit(mut other) = sell(1, 500, 7) else {
        unreachable!()
    };
    other.instrument = 1;
    m.execute(&[OrderCommand::Submit(other)], &mut reports);
    m
}

#[test]
fn save_and_load_keep_owners_tops_and_lots() {
    for algorithm in ["pro-rata", "allocation"] {
        let config = [("algorithm", algorithm), ("self_trade", "cancel-both")];
        let mut original = busy_matcher(&config);
        let state = original.save_state();
        assert_eq!(state[0], crate::FORMAT_VERSION);
        let mut restored = matcher(&config);
        restored.load_state(&state).expect("own state loads");
        assert_eq!(restored.books, original.books);
        assert_eq!(restored.save_state(), state);
        if algorithm == "allocation" {
            assert_eq!(top(&restored, Side::Buy), Some(1));
            assert_eq!(top(&restored, Side::Sell), Some(4));
        }
        assert_eq!(restored.books.lot(5), from_units(3));

        // The resting orders' owners come from the state alone now: only the
        // aggressors are known to the host.
        let _owners = Owners::set(&[(20, 2), (21, 1)]);
        let probe = [
            // Owner 2 sells into bids of owners 1, 3 and 2 (#2).
            market(20, Side::Sell, 30, TimeInForce::Ioc),
            limit(21, Side::Buy, 102, 30, TimeInForce::Ioc),
        ];
        let expected = run(&mut original, &probe);
        assert!(
            expected.iter().any(|r| r.starts_with("canceled #2 ")),
            "{algorithm}: {expected:?}"
        );
        assert_eq!(run(&mut restored, &probe), expected, "{algorithm}");
        assert_eq!(restored.save_state(), original.save_state());
    }
}

#[test]
fn tops_are_dropped_under_pro_rata_and_lots_apply_to_books() {
    let state = busy_matcher(&[("algorithm", "allocation")]).save_state();
    let mut c = matcher(&[("algorithm", "pro-rata")]);
    c.load_state(&state).unwrap();
    assert_eq!((top(&c, Side::Buy), top(&c, Side::Sell)), (None, None));
    assert_eq!(c.books.get(0).unwrap().lot(), from_units(2));
    assert_eq!(c.books.get(1).unwrap().lot(), SCALE);
    assert_ne!(c.save_state(), state);
}

#[test]
fn load_of_garbage_fails_and_keeps_the_books() {
    let mut m = busy_matcher(&[("algorithm", "allocation")]);
    let state = m.save_state();
    let books = m.books.clone();
    let mut trailing = state.clone();
    trailing.push(0);
    let mut wrong_version = state.clone();
    wrong_version[0] = 2;
    let bad: [(&str, &[u8]); 5] = [
        ("empty", &[]),
        ("garbage", b"\x01not a book at all, just some text"),
        ("trailing", &trailing),
        ("version", &wrong_version),
        ("huge count", &[1, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (what, bytes) in bad {
        assert!(m.load_state(bytes).is_err(), "{what} state was accepted");
        assert_eq!(m.books, books, "{what} state changed the books");
    }
    assert!(
        m.load_state(&wrong_version)
            .unwrap_err()
            .contains("state format 2")
    );
    for len in 0..state.len() {
        assert!(
            m.load_state(&state[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    assert_eq!(m.books, books);
}

/// xorshift64*: a tiny deterministic generator for the randomized test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_command(rng: &mut Rng, next_id: &mut u64) -> OrderCommand {
    let instrument = rng.below(2) as u32;
    let price = from_units(97 + rng.below(7) as i64);
    let quantity = from_units(1 + rng.below(40) as i64);
    let existing = 1 + rng.below((*next_id).max(1));
    match rng.below(10) {
        0..=5 => {
            *next_id += 1;
            host::set_owner(*next_id, Some(rng.below(3) as u32));
            OrderCommand::Submit(NewOrder {
                id: *next_id,
                instrument,
                side: if rng.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                },
                order_type: if rng.below(8) == 0 {
                    OrderType::Market
                } else {
                    OrderType::Limit
                },
                time_in_force: match rng.below(6) {
                    0 => TimeInForce::Ioc,
                    1 => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
                price,
                quantity,
            })
        }
        6 => OrderCommand::Cancel(CancelOrder {
            id: existing,
            instrument,
        }),
        _ => OrderCommand::Modify(ModifyOrder {
            id: existing,
            instrument,
            price,
            quantity,
        }),
    }
}

#[test]
fn random_flow_keeps_the_books_consistent_and_survives_a_round_trip() {
    for config in [
        [("algorithm", "pro-rata"), ("self_trade", "none")],
        [
            ("algorithm", "allocation"),
            ("self_trade", "cancel-resting"),
        ],
        [("algorithm", "allocation"), ("self_trade", "cancel-both")],
        [
            ("algorithm", "pro-rata"),
            ("self_trade", "cancel-aggressor"),
        ],
    ] {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut next_id = 0;
        let mut m = matcher(&config);
        let mut reports = Vec::new();
        m.on_market(&[definition(1, from_units(2))], &mut reports);
        let (mut fills, mut maker, mut taker) = (0, 0i128, 0i128);
        for _ in 0..300 {
            let batch: Vec<_> = (0..10)
                .map(|_| random_command(&mut rng, &mut next_id))
                .collect();
            let mut reports = Vec::new();
            m.execute(&batch, &mut reports);
            for book in m.books.values() {
                book.check_invariants();
            }
            for report in &reports {
                if let OrderEvent::Filled(f) = report {
                    fills += 1;
                    *if f.maker { &mut maker } else { &mut taker } += i128::from(f.quantity);
                    assert!(f.quantity > 0 && f.leaves_quantity >= 0);
                }
            }
        }
        assert_eq!(maker, taker, "{config:?}");
        assert!(fills > 500, "{config:?}: only {fills} fills");

        let mut restored = matcher(&config);
        restored
            .load_state(&m.save_state())
            .expect("own state loads");
        for _ in 0..300 {
            let batch: Vec<_> = (0..10)
                .map(|_| random_command(&mut rng, &mut next_id))
                .collect();
            assert_eq!(run(&mut restored, &batch), run(&mut m, &batch));
        }
        assert_eq!(restored.save_state(), m.save_state());
        for id in 1..=next_id {
            host::set_owner(id, None);
        }
    }
}

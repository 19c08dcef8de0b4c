//! Saved books load back exactly; garbage is refused and keeps the books.

use super::*;

/// A book with partial fills, several levels on both sides and a queue
/// reordered by modifies, on two instruments.
pub(super) fn busy_matcher() -> FifoMatcher {
    let mut m = matcher();
    run(
        &mut m,
        &[
            buy(1, 99, 5),
            buy(2, 99, 5),
            buy(3, 98, 5),
            sell(4, 101, 5),
            sell(5, 101, 5),
            sell(6, 102, 5),
            // Partly fills #1.
            sell(7, 99, 2),
            // #2 goes behind #8.
            buy(8, 99, 1),
            modify(2, 99, 6),
            // #4 keeps its place with less.
            modify(4, 101, 3),
        ],
    );
    let mut reports = Vec::new();
    let OrderCommand::Submit(mut other) = sell(1, 500, 7) else {
        unreachable!()
    };
    other.instrument = 1;
    m.execute(&[OrderCommand::Submit(other)], &mut reports);
    m
}

#[test]
fn save_and_load_preserve_matching_exactly() {
    let original = busy_matcher();
    let state = original.save_state();
    assert_eq!(state[0], crate::FORMAT_VERSION);

    let mut restored = matcher();
    restored.load_state(&state).expect("own state loads");
    assert_eq!(restored.save_state(), state);
    assert_eq!(restored.books, original.books);

    let mut original = original;
    let probe = [
        // Sweeps the bid side: queue order #1 (3 left, 2 filled), #8, #2.
        market(20, Side::Sell, 9, TimeInForce::Ioc),
        // Modify of a partly filled order counts its fills.
        modify(2, 99, 5),
        limit(21, Side::Buy, 102, 20, TimeInForce::Ioc),
    ];
    let expected = run(&mut original, &probe);
    assert_eq!(
        expected[..8],
        [
            "accepted #20",
            "fill #1 buy 3@99 leaves 0 maker",
            "fill #20 sell 3@99 leaves 6 taker",
            "fill #8 buy 1@99 leaves 0 maker",
            "fill #20 sell 1@99 leaves 5 taker",
            "fill #2 buy 5@99 leaves 1 maker",
            "fill #20 sell 5@99 leaves 0 taker",
            "canceled #2 1",
        ]
    );
    assert_eq!(run(&mut restored, &probe), expected);
    assert_eq!(m_depth(&restored, 1), m_depth(&original, 1));
}

fn m_depth(m: &FifoMatcher, instrument: u32) -> String {
    format!("{:?}", m.depth(instrument, 100))
}

#[test]
fn load_of_garbage_fails_and_keeps_the_books() {
    let mut m = busy_matcher();
    let state = m.save_state();
    let books = m.books.clone();

    let mut trailing = state.clone();
    trailing.push(0);
    let mut wrong_version = state.clone();
    wrong_version[0] = 99;
    let mut crossed = matcher();
    run(&mut crossed, &[buy(1, 100, 1)]);
    let mut crossed_state = crossed.save_state();
    // As format 1 (the books alone): drop the market's part (its order count
    // and an empty table), so the books end the state.
    crossed_state.truncate(crossed_state.len() - 12);
    crossed_state[0] = 1;
    // Rewrite the single bid's price (after version, book count, instrument
    // and bid level count) to 200 and append an ask level at 150.
    let price_at = 1 + 4 + 4 + 4;
    crossed_state[price_at..price_at + 8].copy_from_slice(&from_units(200).to_le_bytes());
    crossed_state.truncate(crossed_state.len() - 4);
    crossed_state.extend_from_slice(&1u32.to_le_bytes());
    crossed_state.extend_from_slice(&from_units(150).to_le_bytes());
    crossed_state.extend_from_slice(&1u32.to_le_bytes());
    crossed_state.extend_from_slice(&9u64.to_le_bytes());
    crossed_state.extend_from_slice(&from_units(1).to_le_bytes());
    crossed_state.extend_from_slice(&0i64.to_le_bytes());
    let mut repeated_id = crossed_state.clone();
    // Make the ask a valid price but reuse the bid's id.
    let ask_price_at = crossed_state.len() - 8 - 8 - 8 - 4 - 8;
    repeated_id[ask_price_at..ask_price_at + 8].copy_from_slice(&from_units(250).to_le_bytes());
    repeated_id[ask_price_at + 12..ask_price_at + 20].copy_from_slice(&1u64.to_le_bytes());
    let mut fixed_ask = repeated_id.clone();
    fixed_ask[ask_price_at + 12..ask_price_at + 20].copy_from_slice(&9u64.to_le_bytes());
    // The hand-built state is valid once neither crossed nor repeating ids,
    // so the rejections below are for the reasons named.
    assert!(matcher().load_state(&fixed_ask).is_ok());

    let bad: [(&str, &[u8]); 8] = [
        ("empty", &[]),
        ("garbage", b"\x01not a book at all, just some text"),
        ("truncated", &state[..state.len() - 1]),
        ("trailing", &trailing),
        ("version", &wrong_version),
        ("huge count", &[1, 0xff, 0xff, 0xff, 0xff]),
        ("crossed", &crossed_state),
        ("repeated id", &repeated_id),
    ];
    for (what, bytes) in bad {
        assert!(m.load_state(bytes).is_err(), "{what} state was accepted");
        assert_eq!(m.books, books, "{what} state changed the books");
    }
    // Every strict prefix of a good state is refused.
    for len in 0..state.len() {
        assert!(
            m.load_state(&state[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    assert_eq!(m.save_state(), state);
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
    let price = from_units(95 + rng.below(11) as i64);
    let quantity = from_units(1 + rng.below(9) as i64);
    let existing = 1 + rng.below((*next_id).max(1));
    match rng.below(10) {
        0..=4 => {
            *next_id += 1;
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
        5..=6 => OrderCommand::Cancel(CancelOrder {
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
fn random_flow_keeps_the_book_consistent_and_survives_a_round_trip() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next_id = 0;
    let mut m = matcher();
    let mut fills = 0;
    for _ in 0..300 {
        let batch: Vec<_> = (0..10)
            .map(|_| random_command(&mut rng, &mut next_id))
            .collect();
        let reports = run(&mut m, &batch);
        fills += reports.iter().filter(|r| r.starts_with("fill")).count();
    }
    assert!(
        fills > 500,
        "the random flow should trade, got {fills} fills"
    );

    let mut restored = matcher();
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
}

//! Message-rate: a pre-trade risk validator that caps the messages per second each
//! strategy sends — new orders, modifies and cancels alike — in the style of the
//! maximum-messages limit of MiFID II RTS 6 article 15.
//!
//! At most `max_messages` messages of one strategy (`RiskContext::strategy`) may fall
//! in any sliding window of `window_ms` milliseconds; a message that would be one too
//! many is rejected with `RateLimit`, and the refusal counts the window's messages by
//! kind. Every command is a message: a submit, a modify and a cancel each count one.
//! Messages of one batch count one after the other, so a burst is cut off at the limit.
//! A refused message never reaches the venue and does not count.
//!
//! **Cancels.** With `exempt_cancels = true` (the default) a cancel is never refused —
//! refusing it would keep an order working that the strategy wants out of the market,
//! which only increases risk — but it still counts: it is a message the venue must
//! handle, so a storm of cancels uses up the room for new orders and modifies. With
//! `exempt_cancels = false` cancels are limited like everything else.
//!
//! **How this differs from `order-throttle`.** `order-throttle` limits how much a
//! strategy *asks of the market*: it counts submits and modifies only, and cancels
//! neither count nor are ever refused. This validator limits the *message traffic* a
//! strategy puts on the venue, the figure a venue's message limit and an order-to-trade
//! ratio are about: cancels count too, so a strategy that keeps canceling and
//! re-placing quotes is slowed here even when its submits and modifies alone stay under
//! the throttle. Both may run together.
//!
//! Time is the host time of the validation (`RiskContext::now`). The validator keeps,
//! per strategy, the times (and kinds) of the messages it let through within the last
//! window, oldest first: at most `max_messages` of them — the newest — which is all it
//! takes to know whether the window is full, even when exempt cancels took it past the
//! limit (the refusal's count by kind is then that of the newest `max_messages`). A
//! message is counted while it is less than `window_ms` old; one exactly `window_ms`
//! old has left the window. Should the clock step back, messages "in the future" count
//! while they are less than a window away and are dropped beyond that, so a clock reset
//! cannot block a strategy for long. Every call drops what has left the window, for
//! every strategy, so an idle strategy holds nothing. Messages let through here but
//! refused by another validator (`order-throttle`, say) or the matcher still count:
//! this validator cannot know.
//!
//! # Config keys
//!
//! | key              | meaning                                                  | default |
//! |------------------|----------------------------------------------------------|---------|
//! | `max_messages`   | most messages in one window (1 to 100000)                | `25`    |
//! | `window_ms`      | length of the sliding window, in ms (1 to 3600000)       | `1000`  |
//! | `exempt_cancels` | never refuse a cancel (it still counts)                  | `true`  |
//!
//! In the synthetic market's demo the crossover and mean-reversion strategies send at
//! most about fifteen messages in any second; the momentum strategy, which moves its
//! whole ladder of passive orders with a modify per rung whenever the touch runs away,
//! reaches over thirty when the market moves. Twenty-five lets ordinary trading
//! through and cuts those bursts (a little looser than `order-throttle`'s 20 submits
//! and modifies, since cancels count here).

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, OrderCommand, RejectReason, Rejection, RiskContext, RiskValidator, Verdict,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Nanoseconds per millisecond.
const NANOS_PER_MS: u64 = 1_000_000;

/// Default for `max_messages`.
const DEFAULT_MAX_MESSAGES: usize = 25;
/// Default for `window_ms`.
const DEFAULT_WINDOW_MS: u64 = 1000;
/// Largest `max_messages`: bounds the state kept per strategy.
const MAX_MAX_MESSAGES: usize = 100_000;
/// Largest `window_ms`: one hour.
const MAX_WINDOW_MS: u64 = 3_600_000;

/// What a message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Submit,
    Modify,
    Cancel,
}

impl Kind {
    fn of(command: &OrderCommand) -> Self {
        match command {
            OrderCommand::Submit(_) => Self::Submit,
            OrderCommand::Modify(_) => Self::Modify,
            OrderCommand::Cancel(_) => Self::Cancel,
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::Submit => 0,
            Self::Modify => 1,
            Self::Cancel => 2,
        }
    }

    fn from_code(code: u8) -> Result<Self, String> {
        match code {
            0 => Ok(Self::Submit),
            1 => Ok(Self::Modify),
            2 => Ok(Self::Cancel),
            other => Err(format!("state: bad message kind {other}")),
        }
    }
}

/// The validator. Config keys (see the crate docs): `max_messages` (default `25`),
/// `window_ms` (default `1000`) and `exempt_cancels` (default `true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRate {
    /// Most messages in one window.
    max_messages: usize,
    /// Window length in milliseconds (for messages).
    window_ms: u64,
    /// Window length in nanoseconds, the unit of timestamps.
    window_ns: u64,
    /// Whether cancels are never refused.
    exempt_cancels: bool,
    /// Per strategy: time and kind of the newest messages let through that are still
    /// in the window, oldest first; never longer than `max_messages`.
    recent: BTreeMap<u32, VecDeque<(u64, Kind)>>,
}

impl MessageRate {
    /// The refusal of a message when `ring` (full) is the window.
    fn refusal(&self, ring: &VecDeque<(u64, Kind)>, kind: Kind) -> Rejection {
        let count = |k: Kind| ring.iter().filter(|&&(_, seen)| seen == k).count();
        let what = match kind {
            Kind::Submit => "new order",
            Kind::Modify => "modify",
            Kind::Cancel => "cancel",
        };
        Rejection {
            reason: RejectReason::RateLimit,
            message: Some(format!(
                "{what} refused: {} messages in the last {} ms \
                 (new orders {}, modifies {}, cancels {}), limit {}",
                ring.len(),
                self.window_ms,
                count(Kind::Submit),
                count(Kind::Modify),
                count(Kind::Cancel),
                self.max_messages
            )),
        }
    }
}

impl RiskValidator for MessageRate {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["max_messages", "window_ms", "exempt_cancels"])?;
        let max_messages: usize = config.parse_or("max_messages", DEFAULT_MAX_MESSAGES)?;
        if !(1..=MAX_MAX_MESSAGES).contains(&max_messages) {
            return Err(format!(
                "config `max_messages`: must be 1 to {MAX_MAX_MESSAGES}"
            ));
        }
        let window_ms: u64 = config.parse_or("window_ms", DEFAULT_WINDOW_MS)?;
        if !(1..=MAX_WINDOW_MS).contains(&window_ms) {
            return Err(format!("config `window_ms`: must be 1 to {MAX_WINDOW_MS}"));
        }
        let exempt_cancels: bool = config.parse_or("exempt_cancels", true)?;
        Ok(Self {
            max_messages,
            window_ms,
            window_ns: window_ms * NANOS_PER_MS,
            exempt_cancels,
            recent: BTreeMap::new(),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let (now, window_ns) = (context.now, self.window_ns);
        // Drop what has left the window (in either direction, see the crate docs), for
        // every strategy.
        self.recent.retain(|_, ring| {
            ring.retain(|&(ts, _)| now.abs_diff(ts) < window_ns);
            !ring.is_empty()
        });
        let mut ring = self.recent.remove(&context.strategy).unwrap_or_default();
        for order in orders {
            let kind = Kind::of(order);
            let exempt = kind == Kind::Cancel && self.exempt_cancels;
            let verdict = if ring.len() >= self.max_messages && !exempt {
                Verdict::Reject(self.refusal(&ring, kind))
            } else {
                // Only the newest `max_messages` matter (see the crate docs).
                if ring.len() >= self.max_messages {
                    ring.pop_front();
                }
                ring.push_back((now, kind));
                Verdict::Approve
            };
            verdicts.push(verdict);
        }
        if !ring.is_empty() {
            self.recent.insert(context.strategy, ring);
        }
    }

    /// The message windows, so eviction or a swap does not reset the count.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.recent.len() as u32);
        for (&strategy, ring) in &self.recent {
            w.u32(strategy).u32(ring.len() as u32);
            for &(ts, kind) in ring {
                w.u64(ts).u8(kind.code());
            }
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut recent = BTreeMap::new();
        for _ in 0..r.u32()? {
            let strategy = r.u32()?;
            let mut ring = VecDeque::new();
            for _ in 0..r.u32()? {
                let ts = r.u64()?;
                ring.push_back((ts, Kind::from_code(r.u8()?)?));
                // Keep the newest `max_messages`: a config that lowered the limit must
                // not start above it.
                if ring.len() > self.max_messages {
                    ring.pop_front();
                }
            }
            if !ring.is_empty() {
                recent.insert(strategy, ring);
            }
        }
        r.finish()?;
        self.recent = recent;
        Ok(())
    }
}

tradsys_sdk::export_risk_validator!(MessageRate);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{
        self, RiskContextBuilder, approvals_rejecting_with, rejection_message,
    };
    use tradsys_sdk::{Side, fixed};

    /// Session start: an arbitrary epoch time in nanoseconds.
    const T0: u64 = 1_700_000_000_000_000_000;

    fn at_ms(ms: u64) -> u64 {
        T0 + ms * NANOS_PER_MS
    }

    fn context(strategy: u32, now: u64) -> RiskContext {
        RiskContextBuilder::new(now).strategy(strategy).build()
    }

    fn submit(id: u64) -> OrderCommand {
        testing::limit(
            id,
            0,
            Side::Buy,
            fixed::from_units(100),
            fixed::from_units(1),
        )
    }

    fn modify(id: u64) -> OrderCommand {
        testing::modify(id, 0, fixed::from_units(101), fixed::from_units(1))
    }

    fn cancel(id: u64) -> OrderCommand {
        testing::cancel(id, 0)
    }

    fn limiter(config: &[(&str, &str)]) -> MessageRate {
        testing::validator(config)
    }

    /// `max_messages` and `window_ms` as given, cancels exempt.
    fn rate(max_messages: &str, window_ms: &str) -> MessageRate {
        limiter(&[("max_messages", max_messages), ("window_ms", window_ms)])
    }

    fn verdicts(
        v: &mut MessageRate,
        strategy: u32,
        now: u64,
        orders: &[OrderCommand],
    ) -> Vec<Verdict> {
        testing::validate(v, &context(strategy, now), orders)
    }

    /// Validate `orders` for `strategy` at `now`; true for each approval.
    fn run(v: &mut MessageRate, strategy: u32, now: u64, orders: &[OrderCommand]) -> Vec<bool> {
        approvals_rejecting_with(&verdicts(v, strategy, now, orders), RejectReason::RateLimit)
    }

    /// `n` submits, one batch each, at `now`; how many were approved.
    fn singles(v: &mut MessageRate, now: u64, n: u64) -> usize {
        (0..n)
            .filter(|&id| run(v, 0, now, &[submit(id)])[0])
            .count()
    }

    /// The message of the one rejection of `order` for strategy 0 at `now`.
    fn refusal(v: &mut MessageRate, now: u64, order: OrderCommand) -> String {
        rejection_message(&verdicts(v, 0, now, &[order])[0]).to_string()
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = limiter(&[]);
        assert_eq!(
            (v.max_messages, v.window_ms, v.window_ns, v.exempt_cancels),
            (25, 1000, 1_000_000_000, true)
        );
        let v = limiter(&[
            ("max_messages", "100000"),
            ("window_ms", "3600000"),
            ("exempt_cancels", "false"),
        ]);
        assert_eq!(
            (v.max_messages, v.window_ms, v.exempt_cancels),
            (100_000, 3_600_000, false)
        );
        for (key, value) in [
            ("max_messages", "0"),
            ("max_messages", "-3"),
            ("max_messages", "100001"),
            ("max_messages", "lots"),
            ("window_ms", "0"),
            ("window_ms", "1.5"),
            ("window_ms", "3600001"),
            ("window_ms", "18446744073709551615"),
            ("exempt_cancels", "1"),
            ("exempt_cancels", "maybe"),
        ] {
            let err = MessageRate::new(&Config::new([(key, value)])).unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn limit_both_sides_with_the_figures() {
        let mut v = limiter(&[]);
        // 25 in the window pass, the 26th does not.
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[cancel(1), modify(2), modify(3)]),
            [true; 3]
        );
        assert_eq!(singles(&mut v, at_ms(0), 22), 22);
        assert_eq!(
            refusal(&mut v, at_ms(999), modify(4)),
            "modify refused: 25 messages in the last 1000 ms \
             (new orders 22, modifies 2, cancels 1), limit 25"
        );
        assert_eq!(
            refusal(&mut v, at_ms(999), submit(5)),
            "new order refused: 25 messages in the last 1000 ms \
             (new orders 22, modifies 2, cancels 1), limit 25"
        );
        // Exactly one window later the first 25 have left it.
        assert_eq!(singles(&mut v, at_ms(1000), 26), 25);
    }

    #[test]
    fn the_window_slides() {
        let mut v = rate("20", "1000");
        assert_eq!(singles(&mut v, at_ms(0), 10), 10);
        assert_eq!(singles(&mut v, at_ms(500), 10), 10);
        assert_eq!(singles(&mut v, at_ms(999), 1), 0);
        // At 1000 ms only the first ten have expired.
        assert_eq!(singles(&mut v, at_ms(1000), 11), 10);
        assert_eq!(singles(&mut v, at_ms(1499), 1), 0);
        assert_eq!(singles(&mut v, at_ms(1500), 11), 10);
        // Refused messages do not count: at 2000 ms the ten from 1000 ms expire.
        assert_eq!(singles(&mut v, at_ms(2000), 11), 10);
    }

    #[test]
    fn every_kind_counts_and_batches_are_cumulative() {
        let mut v = rate("4", "1000");
        let batch = [
            submit(1),
            modify(1),
            cancel(1),
            submit(2),
            submit(3),
            modify(2),
            cancel(2),
        ];
        // The cancel past the limit is exempt; the submit and modify are not.
        assert_eq!(
            run(&mut v, 0, at_ms(0), &batch),
            [true, true, true, true, false, false, true]
        );
        // The batch's messages count for later calls in the window.
        assert_eq!(run(&mut v, 0, at_ms(10), &[submit(4)]), [false]);
        assert_eq!(run(&mut v, 0, at_ms(1000), &[submit(4)]), [true]);
    }

    #[test]
    fn exempt_cancels_pass_but_use_up_the_room() {
        let mut v = rate("3", "1000");
        let cancels: Vec<_> = (0..50).map(cancel).collect();
        assert!(run(&mut v, 0, at_ms(0), &cancels).iter().all(|&ok| ok));
        // The window stays bounded however many cancels pass.
        assert_eq!(v.recent[&0].len(), 3);
        // The cancels filled the window: no room for a new order or a modify.
        assert_eq!(
            refusal(&mut v, at_ms(1), submit(1)),
            "new order refused: 3 messages in the last 1000 ms \
             (new orders 0, modifies 0, cancels 3), limit 3"
        );
        assert_eq!(run(&mut v, 0, at_ms(2), &[modify(1)]), [false]);
        // Once they have left the window there is room again.
        assert_eq!(
            run(&mut v, 0, at_ms(1000), &[submit(1), submit(2)]),
            [true, true]
        );
    }

    #[test]
    fn cancels_are_limited_unless_exempt() {
        let mut v = limiter(&[
            ("max_messages", "2"),
            ("window_ms", "1000"),
            ("exempt_cancels", "false"),
        ]);
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), cancel(1), cancel(2)]),
            [true, true, false]
        );
        assert_eq!(
            refusal(&mut v, at_ms(5), cancel(3)),
            "cancel refused: 2 messages in the last 1000 ms \
             (new orders 1, modifies 0, cancels 1), limit 2"
        );
        assert_eq!(run(&mut v, 0, at_ms(1000), &[cancel(3)]), [true]);
    }

    #[test]
    fn strategies_are_limited_apart() {
        let mut v = rate("2", "1000");
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), cancel(1), submit(2)]),
            [true, true, false]
        );
        assert_eq!(
            run(&mut v, 1, at_ms(0), &[modify(1), modify(2), modify(3)]),
            [true, true, false]
        );
        assert_eq!(run(&mut v, 2, at_ms(100), &[submit(1)]), [true]);
        assert_eq!(run(&mut v, 0, at_ms(100), &[submit(3)]), [false]);
    }

    #[test]
    fn a_clock_stepping_back_is_handled() {
        let mut v = rate("2", "1000");
        let burst = [submit(1), modify(1), submit(2)];
        assert_eq!(run(&mut v, 0, at_ms(5000), &burst), [true, true, false]);
        // Slightly back: the messages "in the future" still count.
        assert_eq!(run(&mut v, 0, at_ms(4500), &[submit(4)]), [false]);
        // A whole window back: they are dropped.
        assert_eq!(run(&mut v, 0, at_ms(4000), &burst), [true, true, false]);
        // Time zero and a far-future time neither overflow nor panic.
        assert_eq!(run(&mut v, 0, 0, &[submit(6)]), [true]);
        assert_eq!(run(&mut v, 0, u64::MAX, &[submit(7)]), [true]);
    }

    #[test]
    fn state_stays_small() {
        let mut v = rate("5", "1000");
        for ms in 0..100 {
            let mut batch: Vec<_> = (0..10).map(submit).collect();
            batch.extend((0..10).map(cancel));
            let approved = run(&mut v, 0, at_ms(ms * 100), &batch);
            assert!(approved[..10].iter().filter(|&&ok| ok).count() <= 5);
            assert!(approved[10..].iter().all(|&ok| ok));
            assert!(v.recent[&0].len() <= 5);
        }
        // A call of any strategy forgets every strategy's old messages.
        assert!(run(&mut v, 1, at_ms(100_000), &[]).is_empty());
        assert!(v.recent.is_empty());
    }

    #[test]
    fn the_rate_window_survives_save_and_load() {
        let mut v = rate("3", "1000");
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), modify(1), cancel(1)]),
            [true, true, true]
        );
        assert_eq!(run(&mut v, 4, at_ms(1), &[submit(1)]), [true]);
        let state = v.save_state();
        let mut fresh = rate("3", "1000");
        fresh.load_state(&state).unwrap();
        assert_eq!(fresh, v);
        assert_eq!(
            refusal(&mut fresh, at_ms(10), submit(2)),
            "new order refused: 3 messages in the last 1000 ms \
             (new orders 1, modifies 1, cancels 1), limit 3"
        );
        // A lower limit keeps the newest messages only.
        let mut lower = rate("1", "1000");
        lower.load_state(&state).unwrap();
        assert_eq!(lower.recent[&0], [(at_ms(0), Kind::Cancel)]);
        // Bad or short state is refused and changes nothing.
        assert!(fresh.load_state(&[9]).is_err());
        assert!(fresh.load_state(&state[..state.len() - 1]).is_err());
        let mut bad_kind = state.clone();
        let last = bad_kind.len() - 1;
        bad_kind[last] = 7;
        assert!(fresh.load_state(&bad_kind).is_err());
        assert_eq!(fresh.recent[&4].len(), 1);
        // An empty window round-trips too.
        let empty = rate("3", "1000");
        let mut other = rate("3", "1000");
        other.load_state(&empty.save_state()).unwrap();
        assert_eq!(other, empty);
    }
}

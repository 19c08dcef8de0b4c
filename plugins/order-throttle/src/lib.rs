//! Order-throttle: a pre-trade risk validator that limits each strategy's order rate.
//!
//! At most `max_orders` order commands of one strategy may fall in any sliding window
//! of `window_ms` milliseconds; a command that would be one too many is rejected with
//! `RateLimit`. Submits and modifies count, cancels never do and are always approved
//! (they only ever reduce risk). Orders of one batch count one after the other, so a
//! burst is cut off at the limit.
//!
//! Time is the host time of the validation (`RiskContext::now`). The validator keeps,
//! per strategy (`RiskContext::strategy`), the times of the commands it approved within
//! the last window: a ring of at most `max_orders` timestamps. A command is counted
//! while it is less than `window_ms` old; one exactly `window_ms` old has left the
//! window. Should the clock step back, timestamps "in the future" count while they are
//! less than a window away and are dropped beyond that, so a clock reset cannot block a
//! strategy for long. Commands approved here but refused by a later validator still
//! count (this validator cannot know); so do rejections by the matcher.
//!
//! # Config keys
//!
//! | key          | meaning                                   | default |
//! |--------------|-------------------------------------------|---------|
//! | `max_orders` | most submits and modifies in one window   | `20`    |
//! | `window_ms`  | length of the sliding window, in ms       | `1000`  |
//!
//! The synthetic market's default session is about two minutes of event time with a
//! few hundred orders per strategy, a few per second on average: the default lets
//! ordinary trading through and cuts off bursts (a strategy reacting to every quote).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, OrderCommand, RejectReason, Rejection, RiskContext, RiskValidator, Verdict,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Nanoseconds per millisecond.
const NANOS_PER_MS: u64 = 1_000_000;

/// The validator. Config keys (see the crate docs): `max_orders` (default `20`) and
/// `window_ms` (default `1000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderThrottle {
    /// Most counted commands in one window.
    max_orders: usize,
    /// Window length in milliseconds (for messages).
    window_ms: u64,
    /// Window length in nanoseconds, the unit of timestamps.
    window_ns: u64,
    /// Per strategy: times of the approved submits and modifies still in the window,
    /// oldest first; never longer than `max_orders`.
    recent: BTreeMap<u32, VecDeque<u64>>,
    /// Strategies whose times may be out of order (the clock stepped back
    /// while they were held): their window is found by looking at every
    /// time. Every other ring is in time order with none after now, so what
    /// left the window is at its front.
    disordered: BTreeSet<u32>,
}

impl RiskValidator for OrderThrottle {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["max_orders", "window_ms"])?;
        let max_orders: usize = config.parse_or("max_orders", 20)?;
        if max_orders == 0 {
            return Err("config `max_orders`: must be at least 1".to_string());
        }
        let window_ms: u64 = config.parse_or("window_ms", 1000)?;
        if window_ms == 0 {
            return Err("config `window_ms`: must be at least 1".to_string());
        }
        let window_ns = window_ms
            .checked_mul(NANOS_PER_MS)
            .ok_or_else(|| "config `window_ms`: too large".to_string())?;
        Ok(Self {
            max_orders,
            window_ms,
            window_ns,
            recent: BTreeMap::new(),
            disordered: BTreeSet::new(),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let now = context.now;
        let window_ns = self.window_ns;
        let strategy = context.strategy;
        let ring = self.recent.entry(strategy).or_default();
        // Drop what has left the window (in either direction, see the crate
        // docs): from the front while the times are in order and none is
        // after now (a burst at one time costs nothing per order), else
        // looking at each.
        if self.disordered.contains(&strategy) || ring.back().is_some_and(|&last| last > now) {
            ring.retain(|&ts| now.abs_diff(ts) < window_ns);
            if ring.iter().is_sorted() && ring.back().is_none_or(|&last| last <= now) {
                self.disordered.remove(&strategy);
            } else {
                self.disordered.insert(strategy);
            }
        } else {
            while ring.front().is_some_and(|&ts| now - ts >= window_ns) {
                ring.pop_front();
            }
        }
        for order in orders {
            let verdict = match order {
                // Never block a risk-reducing action, and do not count it.
                OrderCommand::Cancel(_) => Verdict::Approve,
                OrderCommand::Submit(_) | OrderCommand::Modify(_) => {
                    if ring.len() >= self.max_orders {
                        Verdict::Reject(Rejection {
                            reason: RejectReason::RateLimit,
                            message: Some(format!(
                                "{} orders in the last {} ms, limit {}",
                                ring.len(),
                                self.window_ms,
                                self.max_orders
                            )),
                        })
                    } else {
                        ring.push_back(now);
                        Verdict::Approve
                    }
                }
            };
            verdicts.push(verdict);
        }
    }

    /// The rate windows, so eviction or a swap does not reset the count.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.recent.len() as u32);
        for (&strategy, ring) in &self.recent {
            w.u32(strategy).u32(ring.len() as u32);
            for &ts in ring {
                w.u64(ts);
            }
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut recent = BTreeMap::new();
        let mut disordered = BTreeSet::new();
        for _ in 0..r.u32()? {
            let strategy = r.u32()?;
            let len = r.u32()? as usize;
            // Keep the newest `max_orders`: a config that lowered the limit
            // must not start above it.
            let mut ring: VecDeque<u64> = (0..len).map(|_| r.u64()).collect::<Result<_, _>>()?;
            while ring.len() > self.max_orders {
                ring.pop_front();
            }
            if !ring.iter().is_sorted() {
                disordered.insert(strategy);
            }
            recent.insert(strategy, ring);
        }
        r.finish()?;
        self.recent = recent;
        self.disordered = disordered;
        Ok(())
    }
}

tradsys_sdk::export_risk_validator!(OrderThrottle);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{self, RiskContextBuilder, approvals_rejecting_with};
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

    fn throttle(max_orders: &str, window_ms: &str) -> OrderThrottle {
        testing::validator(&[("max_orders", max_orders), ("window_ms", window_ms)])
    }

    /// Validate `orders` for `strategy` at `now`; true for each approval.
    fn run(v: &mut OrderThrottle, strategy: u32, now: u64, orders: &[OrderCommand]) -> Vec<bool> {
        let verdicts = testing::validate(v, &context(strategy, now), orders);
        approvals_rejecting_with(&verdicts, RejectReason::RateLimit)
    }

    /// `n` submits, one batch each, at `now`; how many were approved.
    fn singles(v: &mut OrderThrottle, now: u64, n: u64) -> usize {
        (0..n)
            .filter(|&id| run(v, 0, now, &[submit(id)])[0])
            .count()
    }

    #[test]
    fn defaults_and_bad_config() {
        let v = OrderThrottle::new(&Config::default()).unwrap();
        assert_eq!(
            (v.max_orders, v.window_ms, v.window_ns),
            (20, 1000, 1_000_000_000)
        );
        for (key, value) in [
            ("max_orders", "0"),
            ("max_orders", "-3"),
            ("max_orders", "lots"),
            ("window_ms", "0"),
            ("window_ms", "1.5"),
            ("window_ms", "18446744073709551615"),
        ] {
            let err = OrderThrottle::new(&Config::new([(key, value)])).unwrap_err();
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn limit_both_sides() {
        let mut v = OrderThrottle::new(&Config::default()).unwrap();
        // 20 in the window pass, the 21st does not.
        assert_eq!(singles(&mut v, at_ms(0), 20), 20);
        let mut verdicts = Vec::new();
        v.validate(&context(0, at_ms(999)), &[submit(21)], &mut verdicts);
        match &verdicts[0] {
            Verdict::Reject(r) => {
                assert_eq!(r.reason, RejectReason::RateLimit);
                assert_eq!(
                    r.message.as_deref(),
                    Some("20 orders in the last 1000 ms, limit 20")
                );
            }
            Verdict::Approve => panic!("the 21st order in the window was approved"),
        }
        // Exactly one window later the first 20 have left it.
        assert_eq!(singles(&mut v, at_ms(1000), 21), 20);
    }

    #[test]
    fn the_window_slides() {
        let mut v = throttle("20", "1000");
        assert_eq!(singles(&mut v, at_ms(0), 10), 10);
        assert_eq!(singles(&mut v, at_ms(500), 10), 10);
        assert_eq!(singles(&mut v, at_ms(999), 1), 0);
        // At 1000 ms only the first ten have expired.
        assert_eq!(singles(&mut v, at_ms(1000), 11), 10);
        assert_eq!(singles(&mut v, at_ms(1499), 1), 0);
        assert_eq!(singles(&mut v, at_ms(1500), 11), 10);
        // Rejected orders do not count: at 2000 ms the ten from 1000 ms expire.
        assert_eq!(singles(&mut v, at_ms(2000), 11), 10);
    }

    #[test]
    fn batches_are_cumulative() {
        let mut v = throttle("3", "1000");
        let batch = [
            submit(1),
            submit(2),
            cancel(1),
            modify(2),
            submit(3),
            cancel(2),
        ];
        assert_eq!(
            run(&mut v, 0, at_ms(0), &batch),
            [true, true, true, true, false, true]
        );
        // The batch's approvals count for later calls in the window.
        assert_eq!(run(&mut v, 0, at_ms(10), &[submit(4)]), [false]);
        assert_eq!(run(&mut v, 0, at_ms(1000), &[submit(4)]), [true]);
    }

    #[test]
    fn cancels_always_pass_and_do_not_count() {
        let mut v = throttle("1", "1000");
        let cancels: Vec<_> = (0..50).map(cancel).collect();
        assert!(run(&mut v, 0, at_ms(0), &cancels).iter().all(|&ok| ok));
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), submit(2)]),
            [true, false]
        );
        assert!(run(&mut v, 0, at_ms(1), &cancels).iter().all(|&ok| ok));
    }

    #[test]
    fn modifies_count() {
        let mut v = throttle("2", "1000");
        assert_eq!(
            run(
                &mut v,
                0,
                at_ms(0),
                &[modify(1), modify(1), modify(1), submit(2)]
            ),
            [true, true, false, false]
        );
    }

    #[test]
    fn strategies_are_throttled_apart() {
        let mut v = throttle("2", "1000");
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), submit(2), submit(3)]),
            [true, true, false]
        );
        assert_eq!(
            run(&mut v, 1, at_ms(0), &[submit(1), submit(2), submit(3)]),
            [true, true, false]
        );
        assert_eq!(run(&mut v, 2, at_ms(100), &[submit(1)]), [true]);
        assert_eq!(run(&mut v, 0, at_ms(100), &[submit(4)]), [false]);
    }

    #[test]
    fn a_clock_stepping_back_is_handled() {
        let mut v = throttle("2", "1000");
        let burst = [submit(1), submit(2), submit(3)];
        assert_eq!(run(&mut v, 0, at_ms(5000), &burst), [true, true, false]);
        // Slightly back: the orders "in the future" still count.
        assert_eq!(run(&mut v, 0, at_ms(4500), &[submit(4)]), [false]);
        // A whole window back: they are dropped.
        assert_eq!(run(&mut v, 0, at_ms(4000), &burst), [true, true, false]);
        // Time zero and a far-future time neither overflow nor panic.
        assert_eq!(run(&mut v, 0, 0, &[submit(6)]), [true]);
        assert_eq!(run(&mut v, 0, u64::MAX, &[submit(7)]), [true]);
    }

    #[test]
    fn the_window_from_the_front_is_the_window_of_every_time() {
        // A naive model: every time looked at on every call. Times that
        // move on, stand still and step back (by less and more than a
        // window), from a fixed pseudo-random walk.
        let (max, window_ms) = (7_usize, 50_u64);
        let mut v = throttle("7", "50");
        let mut model: Vec<u64> = Vec::new();
        let mut now = at_ms(10_000);
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for step in 0..5_000_u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            now = match seed % 10 {
                0 => now - (seed % 80) * NANOS_PER_MS,
                1..=3 => now,
                _ => now + (seed % 20) * NANOS_PER_MS,
            };
            let batch: Vec<_> = (0..(seed % 4)).map(|i| submit(step * 4 + i)).collect();
            let got = run(&mut v, 0, now, &batch);
            model.retain(|&ts| now.abs_diff(ts) < window_ms * NANOS_PER_MS);
            let wanted: Vec<bool> = batch
                .iter()
                .map(|_| {
                    let ok = model.len() < max;
                    if ok {
                        model.push(now);
                    }
                    ok
                })
                .collect();
            assert_eq!(got, wanted, "step {step} at {now}");
        }
    }

    #[test]
    fn the_ring_stays_small() {
        let mut v = throttle("5", "1000");
        for ms in 0..100 {
            let batch: Vec<_> = (0..10).map(submit).collect();
            let approved = run(&mut v, 0, at_ms(ms * 100), &batch);
            assert!(approved.iter().filter(|&&ok| ok).count() <= 5);
            assert!(v.recent[&0].len() <= 5);
        }
    }

    #[test]
    fn empty_batches_are_fine() {
        let mut v = throttle("1", "1");
        assert!(run(&mut v, 3, at_ms(0), &[]).is_empty());
    }

    #[test]
    fn the_rate_window_survives_save_and_load() {
        let mut v = throttle("2", "1000");
        assert_eq!(
            run(&mut v, 0, at_ms(0), &[submit(1), submit(2)]),
            [true, true]
        );
        let state = v.save_state();
        let mut fresh = throttle("2", "1000");
        fresh.load_state(&state).unwrap();
        assert_eq!(fresh, v);
        assert_eq!(run(&mut fresh, 0, at_ms(10), &[submit(3)]), [false]);
        assert!(fresh.load_state(&[9]).is_err());
        assert!(fresh.load_state(&state[..state.len() - 1]).is_err());
    }
}

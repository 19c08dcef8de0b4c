//! A plugin's log, bounded: each message is cut at a size, and a token
//! bucket (real time: log volume is a real-time cost) lets a plugin log at
//! most `lines_per_second` with bursts of `burst`. What is dropped is
//! counted, summarised in at most one line per plugin per second, and shown
//! in the report. Nothing here waits: a plugin's log never blocks its call.

use std::borrow::Cow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::policy::LogSettings;

/// How often, at most, a plugin's dropped lines are summarised in the log.
const SUMMARY_EVERY: Duration = Duration::from_secs(1);

/// The log limits of one plugin (shared by its instances, so a fresh
/// instance after a trap does not get a fresh burst).
#[derive(Debug)]
pub struct LogLimiter {
    settings: LogSettings,
    bucket: Mutex<Bucket>,
    dropped: AtomicU64,
    cut: AtomicU64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// Lines dropped since the last summary.
    unreported: u64,
    summarised: Option<Instant>,
}

/// What to do with one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit<'a> {
    /// Log it (cut to the size limit, with a marker, if it was longer).
    Log(Cow<'a, str>),
    /// Drop it; when set, log this summary of what was dropped instead.
    Drop(Option<String>),
}

impl LogLimiter {
    /// A full bucket under `settings`.
    pub fn new(settings: LogSettings) -> Self {
        Self {
            settings,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(settings.burst),
                refilled: Instant::now(),
                unreported: 0,
                summarised: None,
            }),
            dropped: AtomicU64::new(0),
            cut: AtomicU64::new(0),
        }
    }

    /// Decide about `message`, logged now.
    pub fn admit<'a>(&self, message: &'a str) -> Admit<'a> {
        self.admit_at(message, Instant::now())
    }

    fn admit_at<'a>(&self, message: &'a str, now: Instant) -> Admit<'a> {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let rate = f64::from(self.settings.lines_per_second);
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(f64::from(self.settings.burst));
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            bucket.unreported += 1;
            self.dropped.fetch_add(1, Ordering::Relaxed);
            let due = bucket
                .summarised
                .is_none_or(|at| now.saturating_duration_since(at) >= SUMMARY_EVERY);
            if !due {
                return Admit::Drop(None);
            }
            let summary = format!(
                "{} log lines dropped (more than {} a second, bursts of {}: [logs] in the host config)",
                bucket.unreported, self.settings.lines_per_second, self.settings.burst
            );
            bucket.unreported = 0;
            bucket.summarised = Some(now);
            return Admit::Drop(Some(summary));
        }
        bucket.tokens -= 1.0;
        drop(bucket);
        let max = self.settings.max_message_bytes;
        if message.len() <= max {
            return Admit::Log(Cow::Borrowed(message));
        }
        self.cut.fetch_add(1, Ordering::Relaxed);
        let mut end = max;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        Admit::Log(Cow::Owned(format!(
            "{}… [cut: {} of {} bytes shown]",
            &message[..end],
            end,
            message.len()
        )))
    }

    /// Lines dropped by the rate limit.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Messages cut at the size limit.
    pub fn cut(&self) -> u64 {
        self.cut.load(Ordering::Relaxed)
    }

    /// Count what `other` (the limiter of the version this one replaces) dropped and cut.
    pub fn absorb(&self, other: &LogLimiter) {
        self.dropped.fetch_add(other.dropped(), Ordering::Relaxed);
        self.cut.fetch_add(other.cut(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LogSettings {
        LogSettings {
            max_message_bytes: 8,
            lines_per_second: 100,
            burst: 10,
        }
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_drops_are_summarised_once_a_second() {
        let logs = LogLimiter::new(settings());
        let start = Instant::now();
        for _ in 0..10 {
            assert!(matches!(logs.admit_at("x", start), Admit::Log(_)));
        }
        // The eleventh at once is dropped and summarised; the next ones only dropped.
        assert!(matches!(logs.admit_at("x", start), Admit::Drop(Some(_))));
        assert_eq!(logs.admit_at("x", start), Admit::Drop(None));
        // 100 a second: 10 ms later, one more line may pass.
        let later = start + Duration::from_millis(10);
        assert!(matches!(logs.admit_at("x", later), Admit::Log(_)));
        assert_eq!(logs.admit_at("x", later), Admit::Drop(None));
        let second = start + Duration::from_millis(1500);
        for _ in 0..10 {
            assert!(matches!(logs.admit_at("x", second), Admit::Log(_)));
        }
        match logs.admit_at("x", second) {
            Admit::Drop(Some(summary)) => assert!(summary.starts_with("3 log lines dropped")),
            other => panic!("{other:?}"),
        }
        assert_eq!(logs.dropped(), 4);
    }

    #[test]
    fn a_long_message_is_cut_on_a_character_boundary_with_a_marker() {
        let logs = LogLimiter::new(settings());
        assert_eq!(logs.admit("short"), Admit::Log(Cow::Borrowed("short")));
        assert_eq!(
            logs.admit("ééééé"),
            Admit::Log(Cow::Owned("éééé… [cut: 8 of 10 bytes shown]".into()))
        );
        assert_eq!(
            logs.admit("abcdefghij"),
            Admit::Log(Cow::Owned("abcdefgh… [cut: 8 of 10 bytes shown]".into()))
        );
        assert_eq!(logs.cut(), 2);
    }
}

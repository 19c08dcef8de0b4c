//! Signals: named values processors derive (an EMA, a VWAP, a book
//! imbalance) and strategies consume, carried as
//! [`MarketEvent::Signal`](crate::MarketEvent::Signal).
//!
//! Names are interned by the host: resolve each once, in `new`, with [`id`];
//! the hot path compares ids only.
//!
//! - A processor names what it emits and pushes [`signal`] events.
//! - A strategy subscribes in its config: `signals = "ema:20, vwap:100"`.
//!   The host delivers exactly those (after the feed's events and the
//!   derived bars); [`Subscriptions::from_config`] reads the same entry, and
//!   [`Subscriptions::get`] tells which of them an event is, by its position
//!   in the entry.
//!
//! Compiled natively (unit tests), names intern per thread.

use crate::{Config, MarketEvent, Signal};

/// The config entry a strategy's subscriptions are read from (the host
/// reads the same one).
pub const CONFIG_KEY: &str = "signals";

#[cfg(target_family = "wasm")]
mod imp {
    use crate::bindings::strategy::tradsys::plugins::signals;

    pub fn id(name: &str) -> Result<u32, String> {
        signals::id(name)
    }

    pub fn name(id: u32) -> Option<String> {
        signals::name(id)
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::cell::RefCell;

    thread_local! {
        static NAMES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    pub fn id(name: &str) -> Result<u32, String> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
        if !valid {
            return Err(format!(
                "signal name `{}` is not 1 to 64 letters, digits, . _ - :",
                name.escape_debug()
            ));
        }
        NAMES.with(|n| {
            let mut names = n.borrow_mut();
            match names.iter().position(|known| known == name) {
                Some(i) => Ok(i as u32),
                None => {
                    names.push(name.to_string());
                    Ok(names.len() as u32 - 1)
                }
            }
        })
    }

    pub fn name(id: u32) -> Option<String> {
        NAMES.with(|n| n.borrow().get(id as usize).cloned())
    }
}

/// The host's id of signal `name`, interned on first use; an error says
/// what is wrong with the name (1 to 64 letters, digits, `.`, `_`, `-`,
/// `:`) or that the host's table is full.
pub fn id(name: &str) -> Result<u32, String> {
    imp::id(name)
}

/// The name of signal `id`, if it is one.
pub fn name(id: u32) -> Option<String> {
    imp::name(id)
}

/// A signal event: `value` of signal `id` for `instrument` at `ts`.
pub fn signal(instrument: u32, ts: u64, id: u32, value: f64) -> MarketEvent {
    MarketEvent::Signal(Signal {
        instrument,
        ts,
        name: id,
        value,
    })
}

/// The signals a strategy subscribed to, in the order its `signals` entry
/// names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    names: Vec<String>,
    ids: Vec<u32>,
}

impl Subscriptions {
    /// The names in `config`'s `signals` entry (separated by commas or
    /// spaces), resolved to ids; none without the entry. An error names the
    /// bad name.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let mut subscriptions = Self::default();
        for name in config.list(CONFIG_KEY).unwrap_or_default() {
            let id = id(name).map_err(|e| format!("config `{CONFIG_KEY}`: {e}"))?;
            if !subscriptions.ids.contains(&id) {
                subscriptions.names.push(name.to_string());
                subscriptions.ids.push(id);
            }
        }
        Ok(subscriptions)
    }

    /// How many signals it names.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it names none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Which subscribed signal `event` is (its position in the entry), with
    /// the signal; `None` for any other event.
    pub fn get<'a>(&self, event: &'a MarketEvent) -> Option<(usize, &'a Signal)> {
        let MarketEvent::Signal(signal) = event else {
            return None;
        };
        self.ids
            .iter()
            .position(|id| *id == signal.name)
            .map(|i| (i, signal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_tells_its_signals_apart_by_position() {
        let config = Config::new([("signals", "ema:fast, ema:slow ema:fast")]);
        let subs = Subscriptions::from_config(&config).unwrap();
        assert_eq!(subs.names(), ["ema:fast", "ema:slow"]);
        let slow = signal(0, 5, id("ema:slow").unwrap(), 1.5);
        let (at, s) = subs.get(&slow).unwrap();
        assert_eq!((at, s.value), (1, 1.5));
        let other = signal(0, 5, id("vwap").unwrap(), 1.0);
        assert!(subs.get(&other).is_none());
        assert!(
            Subscriptions::from_config(&Config::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_name_is_an_error_naming_the_entry() {
        let config = Config::new([("signals", "ema/20")]);
        let err = Subscriptions::from_config(&config).unwrap_err();
        assert!(
            err.contains("config `signals`") && err.contains("ema/20"),
            "{err}"
        );
    }
}

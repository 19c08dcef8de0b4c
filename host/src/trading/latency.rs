//! Latency in market time between the exchange and the strategies, for the
//! simulated venue (`[venue.latency]`):
//!
//! - **feed**: a strategy sees an event that long after the exchange stamped
//!   it (its clock, the `now` strategies, validators and processors read, is
//!   the batch's latest event time plus it);
//! - **order**: an order reaches the venue that long after its strategy sent
//!   it, and trades after every exchange event stamped at or before then;
//! - **response**: acknowledgements and fills reach the strategy that long
//!   after the venue sent them.
//!
//! A model is a [`LatencyModel`]: [`Constant`] (per instrument symbol, over
//! a default) is the one so far; one that varies with time or load only has
//! to implement the trait.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::bindings::types::InstrumentDefinition;
use crate::config::{LatencyModelKind, LatencySettings};

/// The three delays of one instrument, ns of market time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delays {
    /// Exchange → strategy, for market data.
    pub feed: u64,
    /// Strategy → venue, for an order.
    pub order: u64,
    /// Venue → strategy, for a report.
    pub response: u64,
}

/// A latency model: the delays of an instrument at a moment.
pub trait LatencyModel: std::fmt::Debug + Send {
    /// The delays for `instrument` at market time `now`.
    fn delays(&mut self, instrument: &InstrumentDefinition, now: u64) -> Delays;
}

/// The same delays for every event and order of an instrument: the
/// instrument's own (by symbol) over the default.
#[derive(Debug, Default)]
pub struct Constant {
    default: Delays,
    by_symbol: BTreeMap<String, Delays>,
    /// By host instrument id, once looked up.
    cache: FxHashMap<u32, Delays>,
}

impl Constant {
    /// The model of `settings`.
    pub fn new(settings: &LatencySettings) -> Self {
        let default = Delays {
            feed: settings.feed_ns,
            order: settings.order_ns,
            response: settings.response_ns,
        };
        let by_symbol = settings
            .instruments
            .iter()
            .map(|(symbol, o)| {
                let delays = Delays {
                    feed: o.feed_ns.unwrap_or(default.feed),
                    order: o.order_ns.unwrap_or(default.order),
                    response: o.response_ns.unwrap_or(default.response),
                };
                (symbol.clone(), delays)
            })
            .collect();
        Self {
            default,
            by_symbol,
            cache: FxHashMap::default(),
        }
    }
}

impl LatencyModel for Constant {
    fn delays(&mut self, instrument: &InstrumentDefinition, _now: u64) -> Delays {
        if let Some(delays) = self.cache.get(&instrument.id) {
            return *delays;
        }
        let delays = self
            .by_symbol
            .get(&instrument.symbol)
            .copied()
            .unwrap_or(self.default);
        self.cache.insert(instrument.id, delays);
        delays
    }
}

/// The session's latency: its model, or none at all (every delay zero,
/// the default: nothing is looked up).
#[derive(Debug, Default)]
pub struct Latency {
    model: Option<Box<dyn LatencyModel>>,
}

impl Latency {
    /// The latency `settings` describe.
    pub fn new(settings: &LatencySettings) -> Self {
        if settings.is_zero() {
            return Self::default();
        }
        let model: Box<dyn LatencyModel> = match settings.model {
            LatencyModelKind::Constant => Box::new(Constant::new(settings)),
        };
        Self { model: Some(model) }
    }

    /// Whether every delay is zero.
    pub fn is_zero(&self) -> bool {
        self.model.is_none()
    }

    /// The delays for `instrument` (zero for an unknown one) at `now`.
    pub fn delays(&mut self, instrument: Option<&InstrumentDefinition>, now: u64) -> Delays {
        match (&mut self.model, instrument) {
            (Some(model), Some(definition)) => model.delays(definition, now),
            _ => Delays::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LatencyOverride;

    fn definition(id: u32, symbol: &str) -> InstrumentDefinition {
        InstrumentDefinition {
            id,
            symbol: symbol.into(),
            tick_size: 1,
            lot_size: 1,
            price_precision: 0,
            size_precision: 0,
            multiplier: 1,
        }
    }

    #[test]
    fn an_instruments_own_delays_stand_over_the_default() {
        let mut settings = LatencySettings {
            order_ns: 100_000,
            response_ns: 7,
            ..LatencySettings::default()
        };
        settings.instruments.insert(
            "ESH4".into(),
            LatencyOverride {
                order_ns: Some(50),
                ..LatencyOverride::default()
            },
        );
        let mut latency = Latency::new(&settings);
        let es = latency.delays(Some(&definition(0, "ESH4")), 0);
        assert_eq!((es.feed, es.order, es.response), (0, 50, 7));
        let nq = latency.delays(Some(&definition(1, "NQH4")), 0);
        assert_eq!(nq.order, 100_000);
        assert_eq!(latency.delays(None, 0), Delays::default());
        assert!(Latency::new(&LatencySettings::default()).is_zero());
    }
}

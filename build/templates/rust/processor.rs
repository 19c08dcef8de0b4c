//! `__NAME__`: a market-data processor. For every two-sided quote it emits
//! the signal `__NAME__.microprice`: the mid weighted by the sizes shown,
//! `(bid × ask size + ask × bid size) / (bid size + ask size)`, which leans
//! toward the side more likely to be taken next.
//!
//! A strategy reads it by naming it in its `signals` config entry (see
//! `tradsys_sdk::signals`). It keeps no state. It takes no config keys.

use tradsys_sdk::signals::{self, signal};
use tradsys_sdk::{Config, MarketEvent, Processor, Quote, fixed};

/// See the crate documentation.
#[derive(Debug)]
pub struct __TYPE__ {
    /// The host's id of this processor's signal.
    microprice: u32,
}

/// The microprice of a two-sided quote, in price units.
fn microprice(q: &Quote) -> Option<f64> {
    let (bid_size, ask_size) = (fixed::to_f64(q.bid_size), fixed::to_f64(q.ask_size));
    (bid_size > 0.0 && ask_size > 0.0).then(|| {
        (fixed::to_f64(q.bid_price) * ask_size + fixed::to_f64(q.ask_price) * bid_size)
            / (bid_size + ask_size)
    })
}

impl Processor for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[])?;
        Ok(Self {
            microprice: signals::id("__NAME__.microprice")?,
        })
    }

    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>) {
        for event in events {
            if let MarketEvent::Quote(q) = event
                && let Some(value) = microprice(q)
            {
                derived.push(signal(q.instrument, q.ts, self.microprice, value));
            }
        }
    }
}

tradsys_sdk::export_processor!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{px, units};

    #[test]
    fn leans_toward_the_thinner_side() {
        let mut p = __TYPE__::new(&Config::new::<&str, &str>([])).unwrap();
        let quote = Quote {
            instrument: 0,
            ts: 5,
            bid_price: px("100"),
            bid_size: units(30),
            ask_price: px("101"),
            ask_size: units(10),
        };
        let mut derived = Vec::new();
        p.process(&[MarketEvent::Quote(quote)], &mut derived);
        let [MarketEvent::Signal(s)] = derived.as_slice() else {
            panic!("one signal expected: {derived:?}");
        };
        assert_eq!((s.name, s.ts), (p.microprice, 5));
        assert!((s.value - 100.75).abs() < 1e-9, "{}", s.value);
    }
}

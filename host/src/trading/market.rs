//! Market state the host keeps: interned instruments and last prices.

use std::collections::HashMap;

use crate::bindings::types::{InstrumentDefinition, LastPrice, MarketEvent, Quote};

/// Instruments interned by symbol, and the last price of each.
#[derive(Debug, Default)]
pub struct Market {
    definitions: Vec<InstrumentDefinition>,
    by_symbol: HashMap<String, u32>,
    /// Connector-local id → host id.
    local: HashMap<u32, u32>,
    last: Vec<Option<i64>>,
    /// Whether events for undefined instruments were seen (warned once).
    warned_undefined: bool,
}

/// What one batch changed.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Latest event time in the batch.
    pub latest_ts: Option<u64>,
    /// The last quote of each instrument quoted in the batch, by host id.
    pub last_quotes: Vec<Quote>,
}

impl Market {
    /// Rewrite a batch in place to host instrument ids, dropping events for
    /// instruments never defined, and update definitions and last prices.
    pub fn ingest(&mut self, events: &mut Vec<MarketEvent>) -> Ingested {
        let mut out = Ingested::default();
        let before = events.len();
        events.retain_mut(|event| self.ingest_one(event, &mut out));
        if events.len() < before && !self.warned_undefined {
            tracing::warn!("connector sent events for instruments it never defined; dropping them");
            self.warned_undefined = true;
        }
        out
    }

    fn ingest_one(&mut self, event: &mut MarketEvent, out: &mut Ingested) -> bool {
        let ts = match event {
            MarketEvent::Instrument(def) => {
                let id = self.intern(def);
                def.id = id;
                return true;
            }
            MarketEvent::Quote(q) => {
                let Some(id) = self.map(&mut q.instrument) else {
                    return false;
                };
                self.last[id as usize] = Some(
                    q.bid_price / 2 + q.ask_price / 2 + (q.bid_price % 2 + q.ask_price % 2) / 2,
                );
                match out.last_quotes.iter_mut().find(|x| x.instrument == id) {
                    Some(slot) => *slot = *q,
                    None => out.last_quotes.push(*q),
                }
                q.ts
            }
            MarketEvent::Trade(t) => {
                let Some(id) = self.map(&mut t.instrument) else {
                    return false;
                };
                self.last[id as usize] = Some(t.price);
                t.ts
            }
            MarketEvent::Bar(b) => {
                let Some(id) = self.map(&mut b.instrument) else {
                    return false;
                };
                self.last[id as usize] = Some(b.close);
                b.ts
            }
            MarketEvent::BookDelta(d) => {
                if self.map(&mut d.instrument).is_none() {
                    return false;
                }
                d.ts
            }
        };
        out.latest_ts = Some(out.latest_ts.map_or(ts, |t| t.max(ts)));
        true
    }

    fn intern(&mut self, def: &InstrumentDefinition) -> u32 {
        let id = match self.by_symbol.get(&def.symbol) {
            Some(id) => *id,
            None => {
                let id = self.definitions.len() as u32;
                self.by_symbol.insert(def.symbol.clone(), id);
                self.definitions.push(def.clone());
                self.last.push(None);
                id
            }
        };
        self.local.insert(def.id, id);
        self.definitions[id as usize] = InstrumentDefinition { id, ..def.clone() };
        id
    }

    fn map(&self, instrument: &mut u32) -> Option<u32> {
        let id = *self.local.get(instrument)?;
        *instrument = id;
        Some(id)
    }

    /// Definition of host instrument `id`.
    pub fn definition(&self, id: u32) -> Option<&InstrumentDefinition> {
        self.definitions.get(id as usize)
    }

    /// Every definition, by host id.
    pub fn definitions(&self) -> &[InstrumentDefinition] {
        &self.definitions
    }

    /// Last price of `id` (last trade or bar close, else quote mid).
    pub fn last_price(&self, id: u32) -> Option<i64> {
        self.last.get(id as usize).copied().flatten()
    }

    /// Last prices of every instrument that has one.
    pub fn last_prices(&self) -> Vec<LastPrice> {
        (0..self.last.len() as u32)
            .filter_map(|id| {
                Some(LastPrice {
                    instrument: id,
                    price: self.last_price(id)?,
                })
            })
            .collect()
    }
}

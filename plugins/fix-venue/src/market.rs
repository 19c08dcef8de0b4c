//! Market data over FIX: the request (V) after each logon, snapshots (W)
//! and incremental refreshes (X) as price levels, sent on as depth
//! snapshots and trades.

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookFlags, DepthLevel, DepthSnapshot, InstrumentDefinition, MarketEvent, Trade, fixed,
};

use tradsys_fix::Message;

/// Levels per side sent on in each depth snapshot.
pub const DEPTH: usize = 10;

/// Levels per side kept in the saved state.
pub const KEEP_LEVELS: usize = 50;

/// What the config says of one symbol.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub tick: i64,
    pub lot: i64,
    /// Contract multiplier (1 unless a SecurityDefinition says).
    pub multiplier: i64,
}

#[derive(Debug, Default, Clone)]
struct Book {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

/// The symbols asked for and the books the venue's data built.
#[derive(Debug, Default)]
pub struct Market {
    pub symbols: Vec<Symbol>,
    /// Instrument ids given so far, in order (dense from 0).
    pub defined: Vec<String>,
    books: BTreeMap<String, Book>,
    requests: u64,
}

impl Market {
    /// A market of `symbols`, nothing defined yet.
    pub fn new(symbols: Vec<Symbol>) -> Self {
        Self {
            symbols,
            ..Self::default()
        }
    }

    /// The instrument `symbol` is, once defined.
    pub fn id(&self, symbol: &str) -> Option<u32> {
        self.defined
            .iter()
            .position(|s| s == symbol)
            .map(|i| i as u32)
    }

    /// The symbol of instrument `id`, once defined.
    pub fn symbol(&self, id: u32) -> Option<&str> {
        self.defined.get(id as usize).map(String::as_str)
    }

    /// The MarketDataRequest for every symbol: snapshot and updates, full
    /// depth, bids, offers and trades.
    pub fn request(&mut self) -> Message {
        self.requests += 1;
        let mut m = Message::new("V")
            .with(262, format!("md{}", self.requests))
            .with(263, 1)
            .with(264, 0)
            .with(265, 1)
            .with(267, 3)
            .with(269, 0)
            .with(269, 1)
            .with(269, 2)
            .with(146, self.symbols.len());
        for s in &self.symbols {
            m.push(55, &s.name);
        }
        m
    }

    /// The id of `symbol`, defining it (an event) the first time; `None`
    /// for a symbol the config does not ask for.
    fn instrument(&mut self, symbol: &str, events: &mut Vec<MarketEvent>) -> Option<u32> {
        if let Some(i) = self.defined.iter().position(|s| s == symbol) {
            return Some(i as u32);
        }
        let s = self.symbols.iter().find(|s| s.name == symbol)?;
        let id = self.defined.len() as u32;
        let decimals = |v: i64| {
            let mut d = 0u8;
            let mut unit = 1_000_000_000i64;
            while v % unit != 0 && d < 9 {
                unit /= 10;
                d += 1;
            }
            d
        };
        events.push(MarketEvent::Instrument(InstrumentDefinition {
            id,
            symbol: symbol.to_string(),
            tick_size: s.tick,
            lot_size: s.lot,
            price_precision: decimals(s.tick),
            size_precision: decimals(s.lot),
            multiplier: s.multiplier,
        }));
        self.defined.push(symbol.to_string());
        Some(id)
    }

    /// A SecurityDefinition (d): a symbol of the config becomes an
    /// instrument with the venue's tick (MinPriceIncrement 969), lot
    /// (MinTradeVol 562, else RoundLot 561) and multiplier
    /// (ContractMultiplier 231), each the config's when the venue leaves it
    /// out. Once defined, an instrument stays as it is (the host refuses a
    /// redefinition that changes it): a different definition is an error.
    pub fn definition(&mut self, m: &Message, events: &mut Vec<MarketEvent>) -> Result<(), String> {
        let Some(symbol) = m.get(55) else {
            return Err("SecurityDefinition without Symbol (55)".into());
        };
        let positive = |tag: u32| -> Result<Option<i64>, String> {
            match m.get(tag) {
                None => Ok(None),
                Some(raw) => fixed::parse(raw)
                    .filter(|v| *v > 0)
                    .map(Some)
                    .ok_or_else(|| format!("SecurityDefinition of `{symbol}`: tag {tag} `{raw}` is not a positive number")),
            }
        };
        let tick = positive(969)?;
        let lot = positive(562)?.or(positive(561)?);
        let multiplier = match positive(231)? {
            None => None,
            Some(m) if m % 1_000_000_000 == 0 => Some(m / 1_000_000_000),
            Some(_) => {
                return Err(format!(
                    "SecurityDefinition of `{symbol}`: a ContractMultiplier (231) that is not whole is not supported"
                ));
            }
        };
        let Some(config) = self.symbols.iter_mut().find(|s| s.name == symbol) else {
            return Ok(()); // not a symbol of this session
        };
        if let Some(id) = self.defined.iter().position(|s| s == symbol) {
            let same = tick.is_none_or(|t| t == config.tick)
                && lot.is_none_or(|l| l == config.lot)
                && multiplier.is_none_or(|x| x == config.multiplier);
            return match same {
                true => Ok(()),
                false => Err(format!(
                    "SecurityDefinition of `{symbol}` changes instrument {id} defined before; kept as it was"
                )),
            };
        }
        config.tick = tick.unwrap_or(config.tick);
        config.lot = lot.unwrap_or(config.lot);
        config.multiplier = multiplier.unwrap_or(config.multiplier);
        self.instrument(symbol, events);
        Ok(())
    }

    /// A snapshot (W): the symbol's book replaced.
    pub fn snapshot(&mut self, m: &Message, ts: u64, events: &mut Vec<MarketEvent>) {
        let Some(symbol) = m.get(55) else { return };
        let Some(id) = self.instrument(symbol, events) else {
            return;
        };
        let mut book = Book::default();
        for entry in m.group(268, 269) {
            let field = |tag| entry.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
            let (Some(px), Some(size)) = (
                field(270).and_then(fixed::parse),
                field(271).and_then(fixed::parse),
            ) else {
                continue;
            };
            match field(269) {
                Some("0") => book.bids.insert(px, size),
                Some("1") => book.asks.insert(px, size),
                _ => None,
            };
        }
        self.books.insert(symbol.to_string(), book);
        events.push(self.depth(id, symbol, ts));
    }

    /// An incremental refresh (X): levels changed and trades, then a depth
    /// snapshot of each book that changed.
    pub fn incremental(&mut self, m: &Message, ts: u64, events: &mut Vec<MarketEvent>) {
        let mut changed: Vec<(u32, String)> = Vec::new();
        for entry in m.group(268, 279) {
            let field = |tag| entry.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
            let Some(symbol) = field(55) else { continue };
            let Some(id) = self.instrument(symbol, events) else {
                continue;
            };
            let px = field(270).and_then(fixed::parse);
            let size = field(271).and_then(fixed::parse).unwrap_or(0);
            let (Some(px), kind) = (px, field(269)) else {
                continue;
            };
            if kind == Some("2") {
                events.push(MarketEvent::Trade(Trade {
                    instrument: id,
                    ts,
                    price: px,
                    size,
                    aggressor: None,
                    flags: BookFlags::LAST,
                }));
                continue;
            }
            let book = self.books.entry(symbol.to_string()).or_default();
            let side = match kind {
                Some("0") => &mut book.bids,
                Some("1") => &mut book.asks,
                _ => continue,
            };
            if field(279) == Some("2") || size <= 0 {
                side.remove(&px);
            } else {
                side.insert(px, size);
            }
            if !changed.iter().any(|(i, _)| *i == id) {
                changed.push((id, symbol.to_string()));
            }
        }
        for (id, symbol) in changed {
            events.push(self.depth(id, &symbol, ts));
        }
    }

    fn depth(&self, id: u32, symbol: &str, ts: u64) -> MarketEvent {
        let level = |(price, quantity): (&i64, &i64)| DepthLevel {
            price: *price,
            quantity: *quantity,
            orders: 1,
        };
        let (bids, asks) = match self.books.get(symbol) {
            Some(book) => (
                book.bids.iter().rev().take(DEPTH).map(level).collect(),
                book.asks.iter().take(DEPTH).map(level).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        MarketEvent::Depth(DepthSnapshot {
            instrument: id,
            ts,
            bids,
            asks,
        })
    }

    /// Instruments given and the best [`KEEP_LEVELS`] levels of each book
    /// side, for `save-state` (saved before every call: it stays small; a
    /// restored instance asks for a fresh snapshot).
    pub fn save(&self, w: &mut StateWriter) {
        w.u64(self.requests).u32(self.defined.len() as u32);
        for s in &self.defined {
            w.str(s);
        }
        w.u32(self.books.len() as u32);
        for (symbol, book) in &self.books {
            w.str(symbol);
            let bids: Vec<_> = book.bids.iter().rev().take(KEEP_LEVELS).collect();
            let asks: Vec<_> = book.asks.iter().take(KEEP_LEVELS).collect();
            for side in [bids, asks] {
                w.u32(side.len() as u32);
                for (px, size) in side {
                    w.i64(*px).i64(*size);
                }
            }
        }
    }

    /// Restore what [`Self::save`] wrote.
    pub fn load(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        self.requests = r.u64()?;
        self.defined.clear();
        for _ in 0..r.u32()? {
            self.defined.push(r.string()?);
        }
        self.books.clear();
        for _ in 0..r.u32()? {
            let symbol = r.string()?;
            let mut book = Book::default();
            for side in [&mut book.bids, &mut book.asks] {
                for _ in 0..r.u32()? {
                    side.insert(r.i64()?, r.i64()?);
                }
            }
            self.books.insert(symbol, book);
        }
        Ok(())
    }
}

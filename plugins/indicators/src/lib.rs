//! Indicators: a processor that derives, per instrument, the signals
//! strategies would otherwise each compute for themselves.
//!
//! After every market batch, for each instrument the batch updated, it
//! emits the value of each configured indicator (one signal per indicator
//! and instrument per batch, stamped with the instrument's last update in
//! the batch):
//! - `ema:N`: the exponential moving average of the quote mid over about `N`
//!   quote updates (weight `2 / (N + 1)`), in price units;
//! - `vwap:N`: the volume-weighted average price of the last `N` trades;
//! - `rvol:N`: realised volatility, the sample standard deviation of the
//!   last `N` log returns of the mid (a fraction; from 2 returns on);
//! - `imbalance:N`: `(bid − ask) / (bid + ask)` of the volume on the best
//!   `N` levels of each side of the host's book, in `[-1, 1]`, read once
//!   per batch after its last quote.
//!
//! A strategy subscribes by name (`signals = "ema:20, imbalance:5"`) and
//! gets them for every instrument; the signal's instrument says which.
//!
//! Config keys (defaults): each a list of `N` separated by commas or spaces,
//! none by default; `KEY.SYMBOL` replaces `KEY` for one instrument (for
//! example `ema.ESH4 = "50"`):
//! - `ema`: spans, 1 to 100000 quote updates
//! - `vwap`: windows, 1 to 100000 trades
//! - `volatility`: windows, 2 to 100000 returns
//! - `imbalance`: book levels, 1 to 100
//! - `instruments` (all): symbols to compute for; others are ignored
//!
//! Its state (the averages, the trade and mid windows of every instrument)
//! survives eviction and a swap.

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::series::{Ema, Returns, Series};
use tradsys_sdk::signals::{self, signal};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{Config, MarketEvent, Processor, fixed, host};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Instruments it keeps at most (later ones are ignored).
const MAX_INSTRUMENTS: usize = 10_000;

/// The indicator kinds: config key, signal prefix, smallest and largest `N`.
const KINDS: [(&str, &str, u32, u32); 4] = [
    ("ema", "ema", 1, 100_000),
    ("vwap", "vwap", 1, 100_000),
    ("volatility", "rvol", 2, 100_000),
    ("imbalance", "imbalance", 1, 100),
];
const EMA: usize = 0;
const VWAP: usize = 1;
const VOLATILITY: usize = 2;
const IMBALANCE: usize = 3;

/// One configured indicator: its `N` and its signal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Indicator {
    n: u32,
    id: u32,
}

/// What it computes for one instrument, per kind (in [`KINDS`] order).
type Plan = [Vec<Indicator>; 4];

/// The parsed config.
#[derive(Debug, Clone)]
struct Params {
    config: Config,
    instruments: Option<Vec<String>>,
}

impl Params {
    /// Check every indicator entry (general and per instrument) and intern
    /// its signal names, so a bad one fails `init`.
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "ema",
            "ema.*",
            "vwap",
            "vwap.*",
            "volatility",
            "volatility.*",
            "imbalance",
            "imbalance.*",
            "instruments",
        ])?;
        for (key, value) in config.entries() {
            let kind = key.split('.').next().unwrap_or(key);
            if let Some(k) = KINDS.iter().position(|(name, ..)| *name == kind) {
                parse_list(k, key, value)?;
            }
        }
        let instruments = config
            .list("instruments")
            .map(|list| list.into_iter().map(str::to_string).collect());
        Ok(Self {
            config: config.clone(),
            instruments,
        })
    }

    /// The plan of instrument `symbol`, or `None` when it is not computed.
    fn plan(&self, symbol: &str) -> Option<Plan> {
        if self
            .instruments
            .as_ref()
            .is_some_and(|list| !list.iter().any(|s| s == symbol))
        {
            return None;
        }
        let mut plan: Plan = Default::default();
        for (k, (key, ..)) in KINDS.iter().enumerate() {
            if let Some(value) = self.config.for_instrument(key, symbol) {
                // Checked in `from_config`.
                plan[k] = parse_list(k, key, value).unwrap_or_default();
            }
        }
        Some(plan)
    }
}

/// The indicators of kind `k` an entry lists, with their signal ids.
fn parse_list(k: usize, key: &str, value: &str) -> Result<Vec<Indicator>, String> {
    let (_, prefix, min, max) = KINDS[k];
    let mut out: Vec<Indicator> = Vec::new();
    for item in value.split([',', ' ']).filter(|s| !s.is_empty()) {
        let n: u32 = item
            .parse()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                format!("config `{key}`: `{item}` is not a number from {min} to {max}")
            })?;
        let id =
            signals::id(&format!("{prefix}:{n}")).map_err(|e| format!("config `{key}`: {e}"))?;
        if !out.iter().any(|i| i.n == n) {
            out.push(Indicator { n, id });
        }
    }
    Ok(out)
}

/// One instrument's running indicators.
#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    plan: Plan,
    emas: Vec<Ema>,
    /// The last trades, `(price, size)`, as many as the longest VWAP window.
    trades: VecDeque<(i64, i64)>,
    /// The last mids, one more than the longest volatility window.
    mids: Series,
    /// Its last update in the current batch, if any.
    updated: Option<u64>,
    /// Whether that batch had a quote (the book is read only then).
    quoted: bool,
}

impl Instrument {
    fn new(symbol: String, plan: Plan) -> Self {
        let emas = plan[EMA].iter().map(|i| Ema::new(i.n)).collect();
        Self {
            symbol,
            plan,
            emas,
            trades: VecDeque::new(),
            mids: Series::default(),
            updated: None,
            quoted: false,
        }
    }

    fn longest(&self, k: usize) -> usize {
        self.plan[k].iter().map(|i| i.n as usize).max().unwrap_or(0)
    }

    fn on_mid(&mut self, ts: u64, mid: i64) {
        let price = fixed::to_f64(mid);
        for ema in &mut self.emas {
            ema.update(price);
        }
        let window = self.longest(VOLATILITY);
        if window > 0 {
            self.mids.push(ts, mid, window + 1);
        }
        self.updated = Some(ts);
        self.quoted = true;
    }

    fn on_trade(&mut self, ts: u64, price: i64, size: i64) {
        let window = self.longest(VWAP);
        if window > 0 && size > 0 {
            self.trades.push_back((price, size));
            while self.trades.len() > window {
                self.trades.pop_front();
            }
        }
        self.updated = Some(ts);
    }

    /// The batch's signals of this instrument (its id `id`), then ready for
    /// the next batch.
    fn emit(&mut self, id: u32, derived: &mut Vec<MarketEvent>) {
        let Some(ts) = self.updated.take() else {
            return;
        };
        for (indicator, ema) in self.plan[EMA].iter().zip(&self.emas) {
            if let Some(value) = ema.value() {
                derived.push(signal(id, ts, indicator.id, value));
            }
        }
        for indicator in &self.plan[VWAP] {
            let (mut notional, mut volume) = (0f64, 0f64);
            for &(price, size) in self.trades.iter().rev().take(indicator.n as usize) {
                notional += price as f64 * size as f64;
                volume += size as f64;
            }
            if volume > 0.0 {
                let vwap = notional / volume / fixed::SCALE as f64;
                derived.push(signal(id, ts, indicator.id, vwap));
            }
        }
        let returns = self.mids.returns(Returns::Log);
        for indicator in &self.plan[VOLATILITY] {
            let last = &returns[returns.len().saturating_sub(indicator.n as usize)..];
            if last.len() >= 2 {
                let sigma = tradsys_sdk::series::std_dev(last);
                derived.push(signal(id, ts, indicator.id, sigma));
            }
        }
        if std::mem::take(&mut self.quoted) {
            for indicator in &self.plan[IMBALANCE] {
                let book = host::depth(id, indicator.n);
                let side = |levels: &[tradsys_sdk::DepthLevel]| -> f64 {
                    levels.iter().map(|l| l.quantity as f64).sum()
                };
                let (bid, ask) = (side(&book.bids), side(&book.asks));
                if bid + ask > 0.0 {
                    derived.push(signal(id, ts, indicator.id, (bid - ask) / (bid + ask)));
                }
            }
        }
    }
}

/// The processor.
pub struct Indicators {
    params: Params,
    instruments: BTreeMap<u32, Instrument>,
}

impl Indicators {
    /// The instrument `id`, made from its definition's `symbol` (or, when
    /// the definition was never seen, the general config).
    fn instrument(&mut self, id: u32, symbol: Option<&str>) -> Option<&mut Instrument> {
        if !self.instruments.contains_key(&id) {
            if self.instruments.len() >= MAX_INSTRUMENTS {
                return None;
            }
            let symbol = symbol.unwrap_or_default();
            let plan = self.params.plan(symbol)?;
            self.instruments
                .insert(id, Instrument::new(symbol.to_string(), plan));
        }
        self.instruments.get_mut(&id)
    }
}

impl Processor for Indicators {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            instruments: BTreeMap::new(),
        })
    }

    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>) {
        for event in events {
            match event {
                MarketEvent::Instrument(def) => {
                    let known = self.instruments.get(&def.id).map(|i| i.symbol.clone());
                    if known.as_deref() != Some(def.symbol.as_str()) {
                        self.instruments.remove(&def.id);
                        let _ = self.instrument(def.id, Some(&def.symbol));
                    }
                }
                MarketEvent::Quote(q) => {
                    if let (Some(mid), Some(inst)) = (q.mid(), self.instrument(q.instrument, None))
                    {
                        inst.on_mid(q.ts, mid);
                    }
                }
                MarketEvent::Trade(t) => {
                    if let Some(inst) = self.instrument(t.instrument, None) {
                        inst.on_trade(t.ts, t.price, t.size);
                    }
                }
                _ => {}
            }
        }
        for (&id, inst) in &mut self.instruments {
            inst.emit(id, derived);
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.instruments.len() as u32);
        for (&id, inst) in &self.instruments {
            w.u32(id).str(&inst.symbol).u32(inst.emas.len() as u32);
            for ema in &inst.emas {
                w.option(ema.value(), |w, v| {
                    w.f64(v);
                });
            }
            w.u32(inst.trades.len() as u32);
            for &(price, size) in &inst.trades {
                w.i64(price).i64(size);
            }
            w.u32(inst.mids.len() as u32);
            for &(ts, mid) in inst.mids.samples() {
                w.u64(ts).i64(mid);
            }
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut instruments = BTreeMap::new();
        for _ in 0..count(&mut r, MAX_INSTRUMENTS as u32)? {
            let id = r.u32()?;
            let symbol = r.string()?;
            let plan = self.params.plan(&symbol);
            let mut inst = Instrument::new(symbol, plan.clone().unwrap_or_default());
            let saved = count(&mut r, 100_000)?;
            for i in 0..saved {
                let value = r.option(|r| r.f64())?;
                // A span the config no longer has is dropped.
                if let Some(ema) = inst.emas.get_mut(i as usize) {
                    ema.set(value);
                }
            }
            let window = inst.longest(VWAP);
            for _ in 0..count(&mut r, 100_000)? {
                let trade = (r.i64()?, r.i64()?);
                if window > 0 {
                    inst.trades.push_back(trade);
                }
            }
            while inst.trades.len() > window {
                inst.trades.pop_front();
            }
            let window = inst.longest(VOLATILITY);
            for _ in 0..count(&mut r, 100_001)? {
                let (ts, mid) = (r.u64()?, r.i64()?);
                if window > 0 {
                    inst.mids.push(ts, mid, window + 1);
                }
            }
            if plan.is_some() {
                instruments.insert(id, inst);
            }
        }
        r.finish()?;
        self.instruments = instruments;
        Ok(())
    }
}

/// A count of saved items, refused above `max`.
fn count(r: &mut StateReader<'_>, max: u32) -> Result<u32, String> {
    let n = r.u32()?;
    if n > max {
        return Err(format!("state: {n} items where at most {max} are kept"));
    }
    Ok(n)
}

tradsys_sdk::export_processor!(Indicators);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{self, px, units};
    use tradsys_sdk::{BookDepth, BookFlags, DepthLevel, Quote, Trade};

    fn processor(entries: &[(&str, &str)]) -> Indicators {
        Indicators::new(&Config::new(entries.iter().copied())).unwrap()
    }

    fn quote(instrument: u32, ts: u64, bid: &str, ask: &str) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument,
            ts,
            bid_price: px(bid),
            bid_size: units(10),
            ask_price: px(ask),
            ask_size: units(10),
        })
    }

    fn trade(ts: u64, price: &str, size: i64) -> MarketEvent {
        MarketEvent::Trade(Trade {
            instrument: 0,
            ts,
            price: px(price),
            size: units(size),
            aggressor: None,
            flags: BookFlags::LAST,
        })
    }

    fn definitions() -> Vec<MarketEvent> {
        testing::synthetic_instruments()
            .into_iter()
            .map(MarketEvent::Instrument)
            .collect()
    }

    /// The values of signal `name` in `derived`, by instrument.
    fn values(derived: &[MarketEvent], name: &str) -> Vec<(u32, f64)> {
        let id = signals::id(name).unwrap();
        derived
            .iter()
            .filter_map(|e| match e {
                MarketEvent::Signal(s) if s.name == id => Some((s.instrument, s.value)),
                _ => None,
            })
            .collect()
    }

    fn run(p: &mut Indicators, events: &[MarketEvent]) -> Vec<MarketEvent> {
        let mut derived = Vec::new();
        p.process(events, &mut derived);
        derived
    }

    #[test]
    fn one_ema_per_instrument_per_batch_after_its_last_quote() {
        let mut p = processor(&[("ema", "3")]);
        let mut events = definitions();
        events.extend([
            quote(0, 1, "99", "101"),
            quote(0, 2, "109", "111"),
            quote(1, 2, "249", "251"),
        ]);
        let derived = run(&mut p, &events);
        // Mids 100 then 110 with weight 1/2: 105; the other instrument 250.
        assert_eq!(values(&derived, "ema:3"), [(0, 105.0), (1, 250.0)]);
        let MarketEvent::Signal(s) = &derived[0] else {
            panic!()
        };
        assert_eq!(s.ts, 2, "stamped with the instrument's last update");
        // A batch that does not touch an instrument emits nothing for it.
        let derived = run(&mut p, &[quote(1, 3, "251", "253")]);
        assert_eq!(values(&derived, "ema:3"), [(1, 251.0)]);
    }

    #[test]
    fn vwap_weighs_the_last_trades_by_size() {
        let mut p = processor(&[("vwap", "2")]);
        let mut events = definitions();
        events.extend([trade(1, "90", 5), trade(2, "100", 1), trade(3, "110", 3)]);
        let derived = run(&mut p, &events);
        // The last two: (100·1 + 110·3) / 4 = 107.5.
        assert_eq!(values(&derived, "vwap:2"), [(0, 107.5)]);
    }

    #[test]
    fn realised_volatility_is_the_deviation_of_the_last_log_returns() {
        let mut p = processor(&[("volatility", "2")]);
        let mut events = definitions();
        // Mids 100, 200, 100, 200: the last two returns ln 2 and −ln 2 … then ln 2.
        events.extend([
            quote(0, 1, "99", "101"),
            quote(0, 2, "199", "201"),
            quote(0, 3, "99", "101"),
        ]);
        let derived = run(&mut p, &events);
        let sigma = values(&derived, "rvol:2")[0].1;
        assert!((sigma - 2f64.ln() * 2f64.sqrt()).abs() < 1e-9, "{sigma}");
        // One return is not enough.
        let mut p = processor(&[("volatility", "5")]);
        let mut events = definitions();
        events.extend([quote(0, 1, "99", "101"), quote(0, 2, "199", "201")]);
        assert!(values(&run(&mut p, &events), "rvol:5").is_empty());
    }

    #[test]
    fn imbalance_reads_the_hosts_book_after_the_batch() {
        let level = |quantity| DepthLevel {
            price: px("100"),
            quantity: units(quantity),
            orders: 1,
        };
        host::set_depth(BookDepth {
            instrument: 0,
            bids: vec![level(30), level(30)],
            asks: vec![level(20), level(100)],
        });
        let mut p = processor(&[("imbalance", "1, 2")]);
        let mut events = definitions();
        events.push(quote(0, 1, "99", "101"));
        let derived = run(&mut p, &events);
        assert_eq!(values(&derived, "imbalance:1"), [(0, 0.2)]);
        assert_eq!(values(&derived, "imbalance:2"), [(0, -1.0 / 3.0)]);
        // A trade alone does not read the book again.
        assert!(values(&run(&mut p, &[trade(2, "100", 1)]), "imbalance:1").is_empty());
    }

    #[test]
    fn an_instrument_entry_and_the_instrument_list_choose_per_instrument() {
        let symbols: Vec<String> = testing::synthetic_instruments()
            .into_iter()
            .map(|d| d.symbol)
            .collect();
        let own = format!("ema.{}", symbols[1]);
        let mut p = processor(&[("ema", "1"), (&own, "3")]);
        let mut events = definitions();
        events.extend([
            quote(0, 1, "99", "101"),
            quote(1, 1, "99", "101"),
            quote(1, 2, "109", "111"),
        ]);
        let derived = run(&mut p, &events);
        assert_eq!(values(&derived, "ema:1"), [(0, 100.0)]);
        assert_eq!(values(&derived, "ema:3"), [(1, 105.0)]);

        let mut p = processor(&[("ema", "1"), ("instruments", &symbols[1])]);
        let mut events = definitions();
        events.extend([quote(0, 1, "99", "101"), quote(1, 1, "99", "101")]);
        assert_eq!(values(&run(&mut p, &events), "ema:1"), [(1, 100.0)]);
    }

    #[test]
    fn saved_state_resumes_identically() {
        let entries = [("ema", "4"), ("vwap", "3"), ("volatility", "3")];
        let mut a = processor(&entries);
        let mut events = definitions();
        events.extend([
            quote(0, 1, "99", "101"),
            trade(1, "100", 2),
            quote(0, 2, "103", "105"),
        ]);
        run(&mut a, &events);
        let mut b = processor(&entries);
        b.load_state(&a.save_state()).unwrap();
        let next = [quote(0, 3, "97", "99"), trade(3, "98", 4)];
        let (x, y) = (run(&mut a, &next), run(&mut b, &next));
        assert_eq!(format!("{x:?}"), format!("{y:?}"));
        assert_eq!(x.len(), 3);
    }

    #[test]
    fn garbage_state_is_refused_and_changes_nothing() {
        let mut p = processor(&[("ema", "2")]);
        let mut events = definitions();
        events.push(quote(0, 1, "99", "101"));
        run(&mut p, &events);
        let saved = p.save_state();
        assert!(p.load_state(&saved[..saved.len() - 3]).is_err());
        assert!(p.load_state(&[9]).unwrap_err().contains("format"));
        assert_eq!(p.save_state(), saved);
    }

    #[test]
    fn bad_config_names_the_key_and_the_value() {
        let bad = |entries: &[(&str, &str)]| {
            Indicators::new(&Config::new(entries.iter().copied()))
                .err()
                .unwrap()
        };
        assert!(bad(&[("ema", "0")]).contains("config `ema`: `0`"));
        assert!(bad(&[("volatility", "1")]).contains("from 2 to"));
        assert!(bad(&[("imbalance.ESH4", "500")]).contains("config `imbalance.ESH4`"));
        assert!(bad(&[("vwap", "ten")]).contains("`ten`"));
    }
}

//! Bar aggregator: a processor that builds bars from the feed, per
//! instrument, for strategies that trade bars.
//!
//! - Time bars: the trades of each `time_ms` interval of market time (its
//!   buckets start at multiples of `time_ms` since the epoch) as one bar,
//!   stamped with the interval's end. A bar is emitted in the first batch
//!   whose last event is at or past that end (or that brings the
//!   instrument's next trade in a later interval); an interval without a
//!   trade has no bar.
//! - Volume bars: consecutive trades as one bar once their volume reaches
//!   `volume` units (the trade that reaches it is the bar's last, whole, so a
//!   bar may hold more), stamped with that trade's time.
//! - With `source = "quotes"` the time bars are of the quote mid (volume 0)
//!   and there are no volume bars: for feeds without trades.
//!
//! The bars are `bar` market events after the feed's; a strategy cannot
//! tell them from a feed's bars, so install one bar source per instrument.
//!
//! Config keys (defaults); `KEY.SYMBOL` replaces `KEY` for one instrument:
//! - `time_ms` (60000): interval of the time bars, milliseconds; 0: none
//! - `volume` (0): units per volume bar; 0: none
//! - `source` (`trades`): `trades` or `quotes`
//! - `instruments` (all): symbols to build bars for; others are ignored
//!
//! Its open bars survive eviction and a swap.

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{Bar, Config, MarketEvent, Processor, fixed};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Instruments it keeps at most (later ones are ignored).
const MAX_INSTRUMENTS: u32 = 10_000;

const MS_NS: u64 = 1_000_000;

/// What it builds for one instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    /// Time-bar interval, ns; 0 for none.
    interval_ns: u64,
    /// Units per volume bar (fixed point); 0 for none.
    volume: i64,
    /// Bars of quote mids instead of trades.
    quotes: bool,
}

/// The parsed config.
#[derive(Debug, Clone)]
struct Params {
    config: Config,
    instruments: Option<Vec<String>>,
}

impl Params {
    /// Check the general entries and every per-instrument one.
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "time_ms",
            "time_ms.*",
            "volume",
            "volume.*",
            "source",
            "source.*",
            "instruments",
        ])?;
        let params = Self {
            config: config.clone(),
            instruments: config
                .list("instruments")
                .map(|list| list.into_iter().map(str::to_string).collect()),
        };
        params.plan_of("")?;
        for (key, _) in config.entries() {
            if let Some((_, symbol)) = key.split_once('.') {
                params.plan_of(symbol)?;
            }
        }
        Ok(params)
    }

    fn plan_of(&self, symbol: &str) -> Result<Plan, String> {
        let get = |key| self.config.for_instrument(key, symbol);
        let time_ms: u64 = match get("time_ms") {
            None => 60_000,
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| format!("config `time_ms`: cannot parse `{raw}`"))?,
        };
        let volume = match get("volume") {
            None => 0,
            Some(raw) => fixed::parse(raw)
                .filter(|v| *v >= 0)
                .ok_or_else(|| format!("config `volume`: `{raw}` is not a quantity"))?,
        };
        let quotes = match get("source").unwrap_or("trades") {
            "trades" => false,
            "quotes" => true,
            other => {
                return Err(format!(
                    "config `source`: `{other}` is neither `trades` nor `quotes`"
                ));
            }
        };
        Ok(Plan {
            interval_ns: time_ms.saturating_mul(MS_NS),
            volume: if quotes { 0 } else { volume },
            quotes,
        })
    }

    /// The plan of instrument `symbol`, or `None` when it gets no bars.
    fn plan(&self, symbol: &str) -> Option<Plan> {
        let listed = self
            .instruments
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == symbol));
        // Checked in `from_config`.
        listed.then(|| self.plan_of(symbol).ok()).flatten()
    }
}

/// A bar being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Open {
    /// The time bar's interval index, or the volume bar's last trade time.
    key: u64,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
}

impl Open {
    fn new(key: u64, price: i64, size: i64) -> Self {
        Self {
            key,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: size,
        }
    }

    fn add(&mut self, price: i64, size: i64) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
        self.volume = self.volume.saturating_add(size);
    }

    fn bar(&self, instrument: u32, ts: u64) -> MarketEvent {
        MarketEvent::Bar(Bar {
            instrument,
            ts,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        })
    }
}

/// One instrument's open bars.
#[derive(Debug, Clone)]
struct Instrument {
    symbol: String,
    plan: Plan,
    time: Option<Open>,
    volume: Option<Open>,
}

impl Instrument {
    /// Take in a price (a trade's, or a mid) at `ts`.
    fn on_price(&mut self, id: u32, ts: u64, price: i64, size: i64, out: &mut Vec<MarketEvent>) {
        let plan = self.plan;
        if let Some(bucket) = ts.checked_div(plan.interval_ns) {
            match &mut self.time {
                Some(bar) if bar.key == bucket => bar.add(price, size),
                Some(bar) if bucket < bar.key => bar.add(price, size), // late: keep it in
                _ => {
                    // Its interval ended by `ts`: it closes now.
                    self.flush_time_bar(id, out);
                    self.time = Some(Open::new(bucket, price, size));
                }
            }
        }
        if plan.volume > 0 && !plan.quotes {
            let bar = self.volume.get_or_insert(Open::new(ts, price, 0));
            bar.add(price, size);
            bar.key = ts;
            if bar.volume >= plan.volume {
                out.push(bar.bar(id, ts));
                self.volume = None;
            }
        }
    }

    /// The end of the open time bar's interval.
    fn time_bar_end(&self) -> Option<u64> {
        let interval = self.plan.interval_ns;
        self.time.map(|bar| (bar.key + 1).saturating_mul(interval))
    }

    /// Emit the open time bar, stamped with its interval's end.
    fn flush_time_bar(&mut self, id: u32, out: &mut Vec<MarketEvent>) {
        if let (Some(end), Some(bar)) = (self.time_bar_end(), self.time.take()) {
            out.push(bar.bar(id, end));
        }
    }

    /// Emit the open time bar when its interval ended by `now`.
    fn close_time_bar(&mut self, id: u32, now: u64, out: &mut Vec<MarketEvent>) {
        if self.time_bar_end().is_some_and(|end| end <= now) {
            self.flush_time_bar(id, out);
        }
    }
}

/// The processor.
pub struct BarAggregator {
    params: Params,
    instruments: BTreeMap<u32, Instrument>,
}

impl BarAggregator {
    fn instrument(&mut self, id: u32, symbol: Option<&str>) -> Option<&mut Instrument> {
        if !self.instruments.contains_key(&id) {
            if self.instruments.len() >= MAX_INSTRUMENTS as usize {
                return None;
            }
            let symbol = symbol.unwrap_or_default();
            let plan = self.params.plan(symbol)?;
            let inst = Instrument {
                symbol: symbol.to_string(),
                plan,
                time: None,
                volume: None,
            };
            self.instruments.insert(id, inst);
        }
        self.instruments.get_mut(&id)
    }
}

impl Processor for BarAggregator {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            instruments: BTreeMap::new(),
        })
    }

    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>) {
        let mut now = 0;
        for event in events {
            now = now.max(event.ts().unwrap_or(0));
            match event {
                MarketEvent::Instrument(def) => {
                    let known = self.instruments.get(&def.id).map(|i| i.symbol.clone());
                    if known.as_deref() != Some(def.symbol.as_str()) {
                        self.instruments.remove(&def.id);
                        let _ = self.instrument(def.id, Some(&def.symbol));
                    }
                }
                MarketEvent::Trade(t) if t.price > 0 => {
                    if let Some(inst) = self.instrument(t.instrument, None)
                        && !inst.plan.quotes
                    {
                        inst.on_price(t.instrument, t.ts, t.price, t.size.max(0), derived);
                    }
                }
                MarketEvent::Quote(q) => {
                    if let Some(mid) = q.mid().filter(|m| *m > 0)
                        && let Some(inst) = self.instrument(q.instrument, None)
                        && inst.plan.quotes
                    {
                        inst.on_price(q.instrument, q.ts, mid, 0, derived);
                    }
                }
                _ => {}
            }
        }
        for (&id, inst) in &mut self.instruments {
            inst.close_time_bar(id, now, derived);
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.instruments.len() as u32);
        let open = |w: &mut StateWriter, bar: Open| {
            w.u64(bar.key).i64(bar.open).i64(bar.high).i64(bar.low);
            w.i64(bar.close).i64(bar.volume);
        };
        for (&id, inst) in &self.instruments {
            w.u32(id).str(&inst.symbol);
            w.option(inst.time, open).option(inst.volume, open);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let n = r.u32()?;
        if n > MAX_INSTRUMENTS {
            return Err(format!("state: {n} instruments, at most {MAX_INSTRUMENTS}"));
        }
        let open = |r: &mut StateReader<'_>| -> Result<Open, String> {
            let bar = Open {
                key: r.u64()?,
                open: r.i64()?,
                high: r.i64()?,
                low: r.i64()?,
                close: r.i64()?,
                volume: r.i64()?,
            };
            let sane = bar.low > 0 && bar.low <= bar.open.min(bar.close);
            if !sane || bar.high < bar.open.max(bar.close) || bar.volume < 0 {
                return Err(format!("state: an impossible open bar {bar:?}"));
            }
            Ok(bar)
        };
        let mut instruments = BTreeMap::new();
        for _ in 0..n {
            let id = r.u32()?;
            let symbol = r.string()?;
            let (time, volume) = (r.option(open)?, r.option(open)?);
            // An instrument the config no longer covers is dropped.
            if let Some(plan) = self.params.plan(&symbol) {
                let time = time.filter(|_| plan.interval_ns > 0);
                let volume = volume.filter(|_| plan.volume > 0);
                let inst = Instrument {
                    symbol,
                    plan,
                    time,
                    volume,
                };
                instruments.insert(id, inst);
            }
        }
        r.finish()?;
        self.instruments = instruments;
        Ok(())
    }
}

tradsys_sdk::export_processor!(BarAggregator);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{self, px, units};
    use tradsys_sdk::{BookFlags, Quote, Trade};

    const SEC: u64 = 1_000_000_000;

    fn aggregator(entries: &[(&str, &str)]) -> BarAggregator {
        BarAggregator::new(&Config::new(entries.iter().copied())).unwrap()
    }

    fn trade(instrument: u32, ts: u64, price: &str, size: i64) -> MarketEvent {
        MarketEvent::Trade(Trade {
            instrument,
            ts,
            price: px(price),
            size: units(size),
            aggressor: None,
            flags: BookFlags::LAST,
        })
    }

    fn with_definitions(events: &[MarketEvent]) -> Vec<MarketEvent> {
        let mut all: Vec<MarketEvent> = testing::synthetic_instruments()
            .into_iter()
            .map(MarketEvent::Instrument)
            .collect();
        all.extend_from_slice(events);
        all
    }

    fn run(a: &mut BarAggregator, events: &[MarketEvent]) -> Vec<Bar> {
        let mut derived = Vec::new();
        a.process(events, &mut derived);
        derived
            .into_iter()
            .map(|e| match e {
                MarketEvent::Bar(b) => b,
                other => panic!("not a bar: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_time_bar_closes_when_market_time_passes_its_end() {
        let mut a = aggregator(&[("time_ms", "1000")]);
        let events = with_definitions(&[
            trade(0, SEC, "100", 2),
            trade(0, SEC + 10, "103", 1),
            trade(0, SEC + 20, "99", 4),
            trade(0, SEC + 30, "101", 1),
        ]);
        assert!(run(&mut a, &events).is_empty(), "its second is not over");
        // Another instrument's trade moves market time past the end.
        let bars = run(&mut a, &[trade(1, 2 * SEC, "250", 1)]);
        assert_eq!(bars.len(), 1);
        let b = &bars[0];
        assert_eq!((b.instrument, b.ts), (0, 2 * SEC));
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (px("100"), px("103"), px("99"), px("101"), units(8))
        );
    }

    #[test]
    fn an_interval_without_trades_has_no_bar_and_a_new_interval_closes_the_old() {
        let mut a = aggregator(&[("time_ms", "1000")]);
        let events = with_definitions(&[trade(0, SEC, "100", 1), trade(0, 5 * SEC + 1, "90", 1)]);
        let bars = run(&mut a, &events);
        assert_eq!(bars.len(), 1, "{bars:?}");
        assert_eq!((bars[0].ts, bars[0].close), (2 * SEC, px("100")));
    }

    #[test]
    fn volume_bars_close_on_the_trade_that_reaches_the_volume() {
        let mut a = aggregator(&[("time_ms", "0"), ("volume", "10")]);
        let events = with_definitions(&[
            trade(0, 1, "100", 4),
            trade(0, 2, "102", 5),
            trade(0, 3, "101", 3),
            trade(0, 4, "100", 10),
        ]);
        let bars = run(&mut a, &events);
        assert_eq!(bars.len(), 2);
        assert_eq!(
            (bars[0].ts, bars[0].volume, bars[0].close),
            (3, units(12), px("101"))
        );
        assert_eq!(
            (bars[1].ts, bars[1].volume, bars[1].open),
            (4, units(10), px("100"))
        );
    }

    #[test]
    fn quote_bars_are_of_the_mid() {
        let mut a = aggregator(&[("time_ms", "1000"), ("source", "quotes")]);
        let quote = |ts, bid: &str, ask: &str| {
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts,
                bid_price: px(bid),
                bid_size: units(1),
                ask_price: px(ask),
                ask_size: units(1),
            })
        };
        let events = with_definitions(&[
            quote(SEC, "99", "101"),
            trade(0, SEC + 1, "500", 1),
            quote(SEC + 2, "103", "105"),
            quote(2 * SEC, "97", "99"),
        ]);
        let bars = run(&mut a, &events);
        assert_eq!(bars.len(), 1);
        let b = &bars[0];
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (px("100"), px("104"), px("100"), px("104"), 0)
        );
    }

    #[test]
    fn per_instrument_entries_and_the_instrument_list() {
        let symbols: Vec<String> = testing::synthetic_instruments()
            .into_iter()
            .map(|d| d.symbol)
            .collect();
        let own = format!("volume.{}", symbols[1]);
        let mut a = aggregator(&[("time_ms", "0"), ("volume", "1"), (&own, "3")]);
        let events = with_definitions(&[trade(0, 1, "100", 1), trade(1, 1, "250", 1)]);
        let bars = run(&mut a, &events);
        assert_eq!(bars.iter().map(|b| b.instrument).collect::<Vec<_>>(), [0]);

        let mut a = aggregator(&[
            ("time_ms", "0"),
            ("volume", "1"),
            ("instruments", &symbols[1]),
        ]);
        let bars = run(
            &mut a,
            &with_definitions(&[trade(0, 1, "100", 1), trade(1, 1, "250", 1)]),
        );
        assert_eq!(bars.iter().map(|b| b.instrument).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn saved_state_resumes_identically() {
        let entries = [("time_ms", "1000"), ("volume", "5")];
        let mut a = aggregator(&entries);
        run(
            &mut a,
            &with_definitions(&[trade(0, SEC, "100", 2), trade(0, SEC + 5, "104", 1)]),
        );
        let mut b = aggregator(&entries);
        b.load_state(&a.save_state()).unwrap();
        let next = [trade(0, SEC + 9, "98", 3), trade(0, 3 * SEC, "101", 1)];
        let (x, y) = (run(&mut a, &next), run(&mut b, &next));
        assert_eq!(format!("{x:?}"), format!("{y:?}"));
        assert_eq!(x.len(), 2, "a volume bar and a time bar: {x:?}");
    }

    #[test]
    fn garbage_state_is_refused_and_changes_nothing() {
        let mut a = aggregator(&[]);
        // No definitions: one instrument, under the general config.
        run(&mut a, &[trade(0, SEC, "100", 2)]);
        let saved = a.save_state();
        assert!(a.load_state(&saved[..saved.len() - 1]).is_err());
        let mut broken = saved.clone();
        let at = broken.len() - 25; // the open bar's low (before close, volume, no volume bar)
        broken[at..at + 8].copy_from_slice(&px("1000").to_le_bytes());
        assert!(a.load_state(&broken).unwrap_err().contains("impossible"));
        assert_eq!(a.save_state(), saved);
    }

    #[test]
    fn bad_config_names_the_key() {
        let bad = |entries: &[(&str, &str)]| {
            BarAggregator::new(&Config::new(entries.iter().copied()))
                .err()
                .unwrap()
        };
        assert!(bad(&[("time_ms", "soon")]).contains("config `time_ms`"));
        assert!(bad(&[("volume", "-1")]).contains("config `volume`"));
        assert!(bad(&[("source", "bars")]).contains("`bars`"));
        assert!(bad(&[("source.ESH4", "x")]).contains("config `source`"));
    }
}

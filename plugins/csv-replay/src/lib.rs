//! `csv-replay`: a data-only connector that replays recorded market data from a
//! CSV file in the directory the host preopens read-only at `/data`.
//!
//! Two layouts are understood (see [`parse`] for the details):
//! - `quotes`: no header, lines `YYYYMMDD HHMMSSmmm,bid,ask,volume`, as in
//!   `eurusd-quotes-2020-01.csv`. Each line becomes a `Quote` with `quote_size`
//!   on both sides (the volume column, always 0 there, is ignored).
//! - `bars`: header `timestamp,open,high,low,close,volume`, lines such as
//!   `2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295`, as
//!   in `btc-perp-2022-01-1m.csv`. Each line becomes a `Bar` stamped with its
//!   close time (the timestamp labels the bar's open) and a `Quote` one tick wide
//!   at the close (bid = close rounded down to the tick), so a matcher has
//!   liquidity. Bar prices pass through exactly, even off tick.
//!
//! The whole file is read and parsed by `init`: a bad line fails it with the file
//! name and line number ("eurusd.csv line 17: bad bid `x`"). Prices are parsed as
//! exact decimals. Timestamps become nanoseconds since the Unix epoch. The stream
//! is the instrument definition (id 0) followed by the events in file order.
//!
//! Orders are not supported: every submit is rejected with `other` ("csv-replay
//! is a data-only connector"), every cancel or modify with `unknown-order`.
//!
//! Config keys (defaults in brackets):
//! - `file` [required]: path of the CSV file relative to `/data`.
//! - `format` [`bars` if the first line is a header, else `quotes`]: `quotes` or `bars`.
//! - `symbol` [the file name without directory and `.csv`]: instrument symbol.
//! - `tick` [`0.00001` for quotes, `0.5` for bars]: price increment; quote prices
//!   must lie on it.
//! - `lot` [`1`]: lot size of the instrument definition.
//! - `quote_size` [1000000 for quotes, 100 for bars]: size of each quote side, in units.
//! - `bar_seconds` [60]: added to a bar's timestamp to get its close time; 0 for
//!   files that label bars by their close.
//! - `utc_offset_minutes` [0]: the file's clock minus UTC (e.g. -300 for New York
//!   standard time); 0 means the timestamps are UTC.

pub mod parse;
#[cfg(test)]
mod props;

use std::path::{Component, Path};

use parse::{Format, Options};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, Connector, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, fixed,
};

/// Where the host mounts the data directory inside the guest.
pub const DATA_DIR: &str = "/data";

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Message of every rejection.
const DATA_ONLY: &str = "csv-replay is a data-only connector";

/// The replay connector; see the crate documentation.
#[derive(Debug)]
pub struct CsvReplay {
    /// Events still to deliver, the definition first.
    events: std::vec::IntoIter<MarketEvent>,
    /// Events in the file, the definition included.
    total: u64,
    /// Time of the last delivered event: stamps the rejections.
    clock: u64,
}

impl Connector for CsvReplay {
    fn new(config: &Config) -> Result<Self, String> {
        Self::open(Path::new(DATA_DIR), config)
    }

    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        Ok(self.next_events(max))
    }

    fn submit_orders(&mut self, orders: &[OrderCommand]) -> Vec<OrderEvent> {
        orders
            .iter()
            .map(|o| o.refused(self.clock, DATA_ONLY))
            .collect()
    }

    /// The position in the file: events delivered out of how many, and the clock.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u64(self.delivered()).u64(self.total);
        w.u64(self.clock);
        w.finish()
    }

    /// Skip what the saved instance had delivered; the file (parsed again by
    /// `init`) must still hold as many events as it did.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let (delivered, total, clock) = (r.u64()?, r.u64()?, r.u64()?);
        r.finish()?;
        if total != self.total {
            return Err(format!(
                "the saved position is in a file of {total} events, this one has {}",
                self.total
            ));
        }
        let skip = delivered.saturating_sub(self.delivered());
        if delivered < self.delivered() || skip > self.events.len() as u64 {
            return Err(format!("saved position {delivered} is out of range"));
        }
        if skip > 0 {
            self.events.nth(skip as usize - 1);
        }
        self.clock = clock;
        Ok(())
    }
}

impl CsvReplay {
    /// Up to `max` events; `None` once the stream has ended.
    pub fn next_events(&mut self, max: usize) -> Option<Vec<MarketEvent>> {
        if self.events.len() == 0 {
            return None;
        }
        let batch: Vec<MarketEvent> = self.events.by_ref().take(max).collect();
        for event in &batch {
            if let MarketEvent::Quote(q) = event {
                self.clock = q.ts;
            } else if let MarketEvent::Bar(b) = event {
                self.clock = b.ts;
            }
        }
        Some(batch)
    }
}

impl CsvReplay {
    /// Read the file named by `config` under `base` (the host's `/data`; a test's
    /// own directory natively) and parse it.
    pub fn open(base: &Path, config: &Config) -> Result<Self, String> {
        let file = config
            .get("file")
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .ok_or("config `file`: required (a CSV file relative to /data)")?;
        let relative = Path::new(file);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "config `file`: `{file}` must be a plain path relative to /data \
                 (no leading `/`, no `..`)"
            ));
        }
        let path = base.join(relative);
        let content = std::fs::read_to_string(&path)
            .map_err(|e| format!("config `file`: cannot read {}: {e}", path.display()))?;
        Self::from_content(file, &content, config)
    }

    /// Build the connector from a file's `content`; `file` names it in errors and
    /// gives the default symbol.
    pub fn from_content(file: &str, content: &str, config: &Config) -> Result<Self, String> {
        config.only(&[
            "file",
            "format",
            "symbol",
            "tick",
            "lot",
            "quote_size",
            "bar_seconds",
            "utc_offset_minutes",
            "seed",
        ])?;
        let format = match config.get("format").map(str::trim) {
            None => parse::detect_format(content),
            Some("quotes") => Format::Quotes,
            Some("bars") => Format::Bars,
            Some(other) => {
                return Err(format!(
                    "config `format`: `{other}` is neither `quotes` nor `bars`"
                ));
            }
        };
        let stem = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(file);
        let symbol = config
            .get("symbol")
            .map(str::trim)
            .unwrap_or(stem)
            .to_string();
        if symbol.is_empty() {
            return Err("config `symbol`: must not be empty".to_string());
        }
        let (tick, size) = match format {
            Format::Quotes => (10_000, 1_000_000), // 0.00001, 1,000,000 units
            Format::Bars => (fixed::SCALE / 2, 100), // 0.5, 100 units
        };
        let tick = positive(config, "tick", tick)?;
        let lot = positive(config, "lot", fixed::from_units(1))?;
        let quote_size = positive(config, "quote_size", fixed::from_units(size))?;
        let options = Options {
            format,
            instrument: 0,
            tick,
            quote_size,
            bar_seconds: config.parse_or("bar_seconds", 60)?,
            utc_offset_minutes: config.parse_or("utc_offset_minutes", 0)?,
        };
        if options.utc_offset_minutes.unsigned_abs() > 24 * 60 {
            return Err("config `utc_offset_minutes`: must be within ±1440".to_string());
        }
        if options.bar_seconds > 366 * 86_400 {
            return Err("config `bar_seconds`: must be at most a year".to_string());
        }

        let mut events = vec![MarketEvent::Instrument(InstrumentDefinition {
            id: 0,
            symbol,
            tick_size: tick,
            lot_size: lot,
            price_precision: decimals(tick),
            size_precision: decimals(lot),
            multiplier: 1,
        })];
        events.extend(parse::parse_events(file, content, &options)?);
        Ok(Self {
            total: events.len() as u64,
            events: events.into_iter(),
            clock: 0,
        })
    }

    /// Events delivered so far, the definition included.
    fn delivered(&self) -> u64 {
        self.total - self.events.len() as u64
    }
}

/// A positive decimal config value.
fn positive(config: &Config, key: &str, default: i64) -> Result<i64, String> {
    match config.fixed_or(key, default)? {
        v if v > 0 => Ok(v),
        _ => Err(format!("config `{key}`: must be positive")),
    }
}

/// Decimal places needed to show multiples of `value` (0.00001 → 5, 0.5 → 1, 2 → 0).
fn decimals(value: i64) -> u8 {
    (0..9u8)
        .find(|&d| value % 10i64.pow(9 - u32::from(d)) == 0)
        .unwrap_or(9)
}

tradsys_sdk::export_connector!(CsvReplay);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::{CancelOrder, NewOrder, OrderType, RejectReason, Side, TimeInForce};

    const QUOTES: &str = "20200101 170000065,1.121200,1.121720,0\n\
        20200101 170010447,1.121200,1.121920,0\n\
        20200101 170010498,1.121170,1.121610,0\n";

    fn replay(file: &str, content: &str, entries: &[(&str, &str)]) -> Result<CsvReplay, String> {
        CsvReplay::from_content(file, content, &Config::new(entries.iter().copied()))
    }

    #[test]
    fn streams_definition_then_quotes_then_none() {
        let mut r = replay("data/eurusd-quotes-2020-01.csv", QUOTES, &[]).unwrap();
        let first = r.next_events(2).unwrap();
        let MarketEvent::Instrument(def) = &first[0] else {
            panic!("{first:?}")
        };
        assert_eq!(def.symbol, "eurusd-quotes-2020-01");
        assert_eq!((def.id, def.tick_size, def.price_precision), (0, 10_000, 5));
        assert_eq!(
            (def.lot_size, def.size_precision, def.multiplier),
            (fixed::SCALE, 0, 1)
        );
        assert!(matches!(&first[1], MarketEvent::Quote(q) if q.bid_price == 1_121_200_000));
        assert_eq!(r.next_events(0).map(|b| b.len()), Some(0));
        let rest = r.next_events(100).unwrap();
        assert_eq!(rest.len(), 2);
        assert!(matches!(&rest[1], MarketEvent::Quote(q) if q.ask_price == 1_121_610_000));
        assert!(r.next_events(100).is_none());
        assert!(r.next_events(1).is_none());
    }

    #[test]
    fn a_restored_replay_carries_on_after_the_last_delivered_event() {
        let whole = format!(
            "{:?}",
            replay("q.csv", QUOTES, &[]).unwrap().next_events(10)
        );
        let mut first = replay("q.csv", QUOTES, &[]).unwrap();
        let mut events = first.next_events(2).unwrap();
        let mut second = replay("q.csv", QUOTES, &[]).unwrap();
        second.load_state(&first.save_state()).unwrap();
        events.extend(second.next_events(10).unwrap());
        assert_eq!(format!("{:?}", Some(events)), whole);
        assert!(second.next_events(10).is_none());
        // A fresh instance's state (nothing delivered) skips nothing.
        let mut third = replay("q.csv", QUOTES, &[]).unwrap();
        third
            .load_state(&replay("q.csv", QUOTES, &[]).unwrap().save_state())
            .unwrap();
        assert_eq!(third.next_events(10).unwrap().len(), 4);
    }

    #[test]
    fn a_position_in_another_file_is_refused() {
        let mut longer = replay(
            "q.csv",
            &format!("{QUOTES}20200101 170011000,1.1212,1.1217,0\n"),
            &[],
        )
        .unwrap();
        longer.next_events(3).unwrap();
        let mut r = replay("q.csv", QUOTES, &[]).unwrap();
        let refused = r.load_state(&longer.save_state()).unwrap_err();
        assert!(
            refused.contains("file of 5 events, this one has 4"),
            "{refused}"
        );
        assert!(r.load_state(&[1, 2, 3]).is_err());
        assert_eq!(r.next_events(10).unwrap().len(), 4, "nothing was skipped");
    }

    #[test]
    fn config_overrides_and_errors() {
        let cfg = [
            ("symbol", "EUR/USD"),
            ("tick", "0.0001"),
            ("format", "quotes"),
        ];
        let err = replay("e.csv", QUOTES, &cfg).unwrap_err();
        assert_eq!(err, "e.csv line 1: ask `1.121720` is not on tick 0.0001");
        let cfg = [("symbol", "EUR/USD"), ("quote_size", "5"), ("lot", "1000")];
        let mut r = replay("e.csv", QUOTES, &cfg).unwrap();
        let events = r.next_events(2).unwrap();
        assert!(matches!(&events[0], MarketEvent::Instrument(d)
            if d.symbol == "EUR/USD" && d.lot_size == fixed::from_units(1000)));
        assert!(matches!(&events[1], MarketEvent::Quote(q) if q.bid_size == fixed::from_units(5)));

        let err = |entries: &[(&str, &str)]| replay("e.csv", QUOTES, entries).unwrap_err();
        assert!(err(&[("format", "ticks")]).starts_with("config `format`"));
        assert!(err(&[("tick", "0")]).starts_with("config `tick`"));
        assert!(err(&[("quote_size", "x")]).starts_with("config `quote_size`"));
        assert!(err(&[("utc_offset_minutes", "5000")]).starts_with("config `utc_offset_minutes`"));
        let min = i64::MIN.to_string();
        assert!(err(&[("utc_offset_minutes", &min)]).starts_with("config `utc_offset_minutes`"));
        // Quotes read as bars fail on the first line, naming it.
        assert!(err(&[("format", "bars")]).starts_with("e.csv line 1: expected 6 fields"));
    }

    #[test]
    fn file_must_be_a_plain_relative_path() {
        let dir = Path::new("/nonexistent-csv-replay-test");
        for bad in ["/etc/passwd", "../secret.csv", "a/../../b.csv", ""] {
            let err = CsvReplay::open(dir, &Config::new([("file", bad)])).unwrap_err();
            assert!(err.starts_with("config `file`"), "{bad}: {err}");
        }
        assert!(
            CsvReplay::open(dir, &Config::default())
                .unwrap_err()
                .contains("required")
        );
        let err = CsvReplay::open(dir, &Config::new([("file", "missing.csv")])).unwrap_err();
        assert!(
            err.starts_with("config `file`: cannot read /nonexistent-csv-replay-test/missing.csv")
        );
    }

    #[test]
    fn rejects_every_order() {
        let mut r = replay("e.csv", QUOTES, &[]).unwrap();
        r.next_events(3);
        let submit = OrderCommand::Submit(NewOrder {
            id: 4,
            instrument: 0,
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: 1_121_200_000,
            quantity: fixed::from_units(1),
        });
        let cancel = OrderCommand::Cancel(CancelOrder {
            id: 4,
            instrument: 0,
        });
        let reports = r.submit_orders(&[submit, cancel]);
        assert_eq!(reports.len(), 2);
        for (report, reason) in reports
            .iter()
            .zip([RejectReason::Other, RejectReason::UnknownOrder])
        {
            let OrderEvent::Rejected(rej) = report else {
                panic!("{report:?}")
            };
            assert_eq!((rej.id, rej.rejection.reason), (4, reason));
            assert_eq!(rej.rejection.message.as_deref(), Some(DATA_ONLY));
            assert_eq!(
                rej.ts, 1_577_898_010_447_000_000,
                "time of the last delivered quote"
            );
        }
        assert!(r.poll_reports().is_empty());
    }

    #[test]
    fn decimals_of_ticks() {
        assert_eq!(decimals(10_000), 5);
        assert_eq!(decimals(fixed::SCALE / 2), 1);
        assert_eq!(decimals(fixed::from_units(2)), 0);
        assert_eq!(decimals(1), 9);
    }

    /// The recorded files beside the checkout (`../shared/data`), when present.
    fn shared_data() -> Option<std::path::PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        if dir.is_dir() {
            Some(dir)
        } else {
            eprintln!("skipping: {} is absent", dir.display());
            None
        }
    }

    /// Every event of a connector, definition included.
    fn drain(mut r: CsvReplay) -> Vec<MarketEvent> {
        let mut all = Vec::new();
        while let Some(batch) = r.next_events(1000) {
            all.extend(batch);
        }
        all
    }

    #[test]
    fn replays_the_recorded_eurusd_quotes() {
        let Some(dir) = shared_data() else { return };
        let r = CsvReplay::open(&dir, &Config::new([("file", "eurusd-quotes-2020-01.csv")]));
        let events = drain(r.unwrap());
        assert_eq!(events.len(), 1 + 9_500);
        let MarketEvent::Quote(first) = &events[1] else {
            panic!("{:?}", events[1])
        };
        // 20200101 170000065,1.121200,1.121720,0
        assert_eq!(first.ts, 1_577_898_000_065_000_000);
        assert_eq!(
            (first.bid_price, first.ask_price),
            (1_121_200_000, 1_121_720_000)
        );
        let MarketEvent::Quote(last) = &events[9_500] else {
            panic!()
        };
        // The file ends at 23:00 of the same day.
        assert!(last.ts - first.ts < 6 * 3_600_000_000_000 + 60_000_000_000);
        assert!(last.ts >= first.ts + 6 * 3_600_000_000_000);
    }

    #[test]
    fn replays_the_recorded_btc_bars() {
        let Some(dir) = shared_data() else { return };
        let r = CsvReplay::open(&dir, &Config::new([("file", "btc-perp-2022-01-1m.csv")]));
        let events = drain(r.unwrap());
        assert_eq!(events.len(), 1 + 2 * 45_031);
        let MarketEvent::Instrument(def) = &events[0] else {
            panic!()
        };
        assert_eq!(
            (def.symbol.as_str(), def.tick_size),
            ("btc-perp-2022-01-1m", fixed::SCALE / 2)
        );
        // 2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295
        let MarketEvent::Bar(bar) = &events[1] else {
            panic!("{:?}", events[1])
        };
        assert_eq!(bar.ts, 1_640_991_720_000_000_000);
        assert_eq!(
            (bar.open, bar.close),
            (46_319 * fixed::SCALE, 46_377 * fixed::SCALE)
        );
        assert_eq!(bar.volume, 2_300_413_729_500_000);
        // Consecutive bars are a minute apart.
        let MarketEvent::Bar(next) = &events[3] else {
            panic!("{:?}", events[3])
        };
        assert_eq!(next.ts - bar.ts, 60_000_000_000);
        for event in &events[1..] {
            if let MarketEvent::Quote(q) = event {
                assert_eq!(q.ask_price - q.bid_price, fixed::SCALE / 2);
                assert_eq!(q.bid_price % (fixed::SCALE / 2), 0);
            }
        }
    }
}

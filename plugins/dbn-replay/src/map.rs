//! DBN records → tradsys market events.
//!
//! | record | events |
//! |---|---|
//! | MBO | a book delta per add (`A`), modify (`M`), cancel (`C`, may be partial) and clear (`R`), with the feed's order id and its `last` / `snapshot` flags; a fill (`F`) as a `fill` delta (it changes no book); a trade (`T`) as a trade with the aggressor's side |
//! | MBP-1, TBBO, BBO-1s/1m, CMBP-1, CBBO | a quote when the touch changed; a trade for each `T` action (TBBO: every record) |
//! | MBP-10 | a depth snapshot of the ten levels; a trade for each `T` action |
//! | trades | a trade |
//! | OHLCV-1s/1m/1h/1d | a bar stamped with its close (open time + interval) |
//! | status | a status change: trading, halted (halt, pause, suspend), pre-open, closed |
//! | definition | the instrument's definition: tick (`min_price_increment`), lot (`min_lot_size_round_lot`), multiplier (`contract_multiplier`, else `unit_of_measure_qty`) |
//!
//! Every other record type (statistics, imbalance, symbol mappings, system
//! and error messages) is skipped and counted. An instrument's definition is
//! sent before its first event: the file's own definition record when it has
//! one (or a definitions file read first), else one made from the file's
//! symbol mappings, the `tick` and `multiplier` config values and, without
//! `tick`, the largest tick every price of the first records lies on.

use std::collections::BTreeMap;
use std::collections::BTreeMap as HashMap;

use tradsys_data::dbn::{self, RecordRef, RecordRefEnum, UNDEF_PRICE, rtype};
use tradsys_data::read;
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, DepthLevel, DepthSnapshot, InstrumentDefinition,
    MarketEvent, Quote, Side, StatusChange, Trade, TradingStatus, fixed,
};

/// The touch last sent per instrument: (bid, bid size, ask, ask size).
type Touch = (i64, i64, i64, i64);

/// Turns records into events; remembers what the host was already told.
#[derive(Debug, Default)]
pub struct Mapper {
    /// Raw symbol per instrument id, from the files' symbol mappings.
    pub symbols: HashMap<u32, String>,
    /// Definitions from definition records, by instrument id.
    pub definitions: HashMap<u32, InstrumentDefinition>,
    /// Ticks inferred from prices, for instruments without a definition.
    pub inferred_ticks: HashMap<u32, i64>,
    /// `tick` from the config, for instruments without a definition.
    pub tick: Option<i64>,
    /// `multiplier` from the config, for instruments without a definition.
    pub multiplier: i64,
    /// `symbol` from the config: the name of a file's only instrument.
    pub symbol: Option<String>,
    /// Instruments whose definition was sent.
    pub defined: std::collections::BTreeSet<u32>,
    /// The touch last sent, per instrument.
    pub touch: HashMap<u32, Touch>,
    /// Records skipped, by kind.
    pub skipped: BTreeMap<String, u64>,
}

fn units(size: u32) -> i64 {
    fixed::from_units(i64::from(size))
}

fn side(c: std::ffi::c_char) -> Option<Side> {
    match c as u8 {
        b'B' => Some(Side::Buy),
        b'A' => Some(Side::Sell),
        _ => None,
    }
}

fn flags(raw: dbn::FlagSet) -> BookFlags {
    let mut flags = BookFlags::empty();
    if raw.is_last() {
        flags = flags | BookFlags::LAST;
    }
    if raw.is_snapshot() {
        flags = flags | BookFlags::SNAPSHOT;
    }
    flags
}

/// Decimal places a tick needs (0.25 → 2, 0.00001 → 5).
pub fn precision(tick: i64) -> u8 {
    let mut places = 0;
    let mut scale = fixed::SCALE;
    while places < 9 && tick % scale != 0 {
        places += 1;
        scale /= 10;
    }
    places
}

/// On magnitudes: `i64::MIN.abs()` overflows, and `i64::MIN % -1` panics
/// even in a release build. 0 (no tick yet) for a gcd past `i64::MAX`.
fn gcd(a: i64, b: i64) -> i64 {
    fn of(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { of(b, a % b) }
    }
    i64::try_from(of(a.unsigned_abs(), b.unsigned_abs())).unwrap_or(0)
}

/// Fold a price into a running tick estimate.
pub fn fold_tick(tick: &mut i64, price: i64) {
    if price != UNDEF_PRICE && price != 0 {
        *tick = gcd(*tick, price);
    }
}

/// The prices of a record, for tick inference.
pub fn prices(record: &RecordRef<'_>, mut each: impl FnMut(u32, i64)) {
    let id = record.header().instrument_id;
    match read::as_enum(record) {
        Ok(RecordRefEnum::Mbo(m)) if m.action as u8 != b'R' => each(id, m.price),
        Ok(RecordRefEnum::Trade(t)) => each(id, t.price),
        Ok(RecordRefEnum::Mbp1(m)) => {
            each(id, m.levels[0].bid_px);
            each(id, m.levels[0].ask_px);
        }
        Ok(RecordRefEnum::Mbp10(m)) => {
            for l in &m.levels {
                each(id, l.bid_px);
                each(id, l.ask_px);
            }
        }
        Ok(RecordRefEnum::Bbo(m)) => {
            each(id, m.levels[0].bid_px);
            each(id, m.levels[0].ask_px);
        }
        _ => {}
    }
}

impl Mapper {
    /// Note a definition record (sent to the host, updated, if the instrument
    /// is already known).
    pub fn definition(&mut self, def: &dbn::InstrumentDefMsg, out: &mut Vec<MarketEvent>) {
        let id = def.hd.instrument_id;
        let symbol = def
            .raw_symbol()
            .ok()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| self.symbol_of(id));
        let tick = if def.min_price_increment > 0 && def.min_price_increment != UNDEF_PRICE {
            def.min_price_increment
        } else {
            self.tick_of(id)
        };
        let lot = match def.min_lot_size_round_lot {
            n if n > 0 && n != i32::MAX => fixed::from_units(i64::from(n)),
            _ => fixed::SCALE,
        };
        let multiplier = match def.contract_multiplier {
            n if n > 0 && n != i32::MAX => i64::from(n),
            _ if def.unit_of_measure_qty > 0 && def.unit_of_measure_qty != UNDEF_PRICE => {
                (def.unit_of_measure_qty / fixed::SCALE).max(1)
            }
            _ => self.multiplier,
        };
        let definition = InstrumentDefinition {
            id,
            symbol,
            tick_size: tick,
            lot_size: lot,
            price_precision: precision(tick),
            size_precision: 0,
            multiplier,
        };
        self.symbols.insert(id, definition.symbol.clone());
        self.definitions.insert(id, definition.clone());
        if self.defined.contains(&id) {
            out.push(MarketEvent::Instrument(definition));
        }
    }

    fn symbol_of(&self, id: u32) -> String {
        if let Some(symbol) = self.symbols.get(&id) {
            return symbol.clone();
        }
        match &self.symbol {
            Some(symbol) => symbol.clone(),
            None => format!("DBN-{id}"),
        }
    }

    fn tick_of(&self, id: u32) -> i64 {
        self.tick
            .or_else(|| self.inferred_ticks.get(&id).copied())
            .filter(|t| *t > 0)
            .unwrap_or(fixed::SCALE / 100)
    }

    /// Send `id`'s definition unless the host has it.
    fn define(&mut self, id: u32, out: &mut Vec<MarketEvent>) {
        if !self.defined.insert(id) {
            return;
        }
        let definition = self.definitions.get(&id).cloned().unwrap_or_else(|| {
            let tick = self.tick_of(id);
            InstrumentDefinition {
                id,
                symbol: self.symbol_of(id),
                tick_size: tick,
                lot_size: fixed::SCALE,
                price_precision: precision(tick),
                size_precision: 0,
                multiplier: self.multiplier,
            }
        });
        out.push(MarketEvent::Instrument(definition));
    }

    fn skip(&mut self, what: &str) {
        *self.skipped.entry(what.to_owned()).or_default() += 1;
    }

    /// The events of one record, appended to `out`. `tbbo`: the file is
    /// TBBO, whose every record is a trade with the touch before it.
    pub fn map(&mut self, record: &RecordRef<'_>, tbbo: bool, out: &mut Vec<MarketEvent>) {
        let header = record.header();
        let (id, ts) = (header.instrument_id, header.ts_event);
        let Ok(record) = read::as_enum(record) else {
            self.skip(&format!("record type 0x{:02x}", header.rtype));
            return;
        };
        match record {
            RecordRefEnum::InstrumentDef(def) => self.definition(def, out),
            RecordRefEnum::Mbo(m) => {
                let action = match m.action as u8 {
                    b'A' => BookAction::Add,
                    b'M' => BookAction::Modify,
                    b'C' => BookAction::Cancel,
                    b'R' => BookAction::Clear,
                    b'F' => BookAction::Fill,
                    b'T' => {
                        self.define(id, out);
                        // A market-by-order trade opens its exchange event:
                        // the fills and book changes it caused follow, up to
                        // the record flagged last.
                        let flags = flags(m.flags);
                        out.push(trade(id, ts, m.price, m.size, side(m.side), flags));
                        return;
                    }
                    _ => return self.skip("mbo action N"),
                };
                let side = match (side(m.side), action) {
                    (Some(side), _) => side,
                    (None, BookAction::Clear) => Side::Buy,
                    (None, _) => {
                        return self
                            .skip(&format!("mbo {} without a side", m.action as u8 as char));
                    }
                };
                self.define(id, out);
                out.push(MarketEvent::BookDelta(BookDelta {
                    instrument: id,
                    ts,
                    action,
                    side,
                    price: if action == BookAction::Clear {
                        0
                    } else {
                        m.price
                    },
                    size: units(m.size),
                    order_id: m.order_id,
                    flags: flags(m.flags),
                }));
            }
            RecordRefEnum::Mbp1(m) => {
                self.define(id, out);
                let l = &m.levels[0];
                self.quote(id, ts, (l.bid_px, l.bid_sz, l.ask_px, l.ask_sz), out);
                if tbbo || m.action as u8 == b'T' {
                    out.push(trade(
                        id,
                        ts,
                        m.price,
                        m.size,
                        side(m.side),
                        BookFlags::LAST,
                    ));
                }
            }
            RecordRefEnum::Bbo(m) => {
                self.define(id, out);
                let l = &m.levels[0];
                self.quote(id, ts, (l.bid_px, l.bid_sz, l.ask_px, l.ask_sz), out);
            }
            RecordRefEnum::Cmbp1(m) => {
                self.define(id, out);
                let l = &m.levels[0];
                self.quote(id, ts, (l.bid_px, l.bid_sz, l.ask_px, l.ask_sz), out);
                if m.action as u8 == b'T' {
                    out.push(trade(
                        id,
                        ts,
                        m.price,
                        m.size,
                        side(m.side),
                        BookFlags::LAST,
                    ));
                }
            }
            RecordRefEnum::Cbbo(m) => {
                self.define(id, out);
                let l = &m.levels[0];
                self.quote(id, ts, (l.bid_px, l.bid_sz, l.ask_px, l.ask_sz), out);
            }
            RecordRefEnum::Mbp10(m) => {
                self.define(id, out);
                let level = |px: i64, sz: u32, ct: u32| {
                    (px != UNDEF_PRICE && sz > 0).then(|| DepthLevel {
                        price: px,
                        quantity: units(sz),
                        orders: ct,
                    })
                };
                let bids = m.levels.iter();
                let asks = m.levels.iter();
                out.push(MarketEvent::Depth(DepthSnapshot {
                    instrument: id,
                    ts,
                    bids: bids
                        .filter_map(|l| level(l.bid_px, l.bid_sz, l.bid_ct))
                        .collect(),
                    asks: asks
                        .filter_map(|l| level(l.ask_px, l.ask_sz, l.ask_ct))
                        .collect(),
                }));
                if m.action as u8 == b'T' {
                    out.push(trade(
                        id,
                        ts,
                        m.price,
                        m.size,
                        side(m.side),
                        BookFlags::LAST,
                    ));
                }
            }
            RecordRefEnum::Trade(t) => {
                self.define(id, out);
                out.push(trade(
                    id,
                    ts,
                    t.price,
                    t.size,
                    side(t.side),
                    BookFlags::LAST,
                ));
            }
            RecordRefEnum::Ohlcv(b) => {
                let seconds: u64 = match header.rtype {
                    rtype::OHLCV_1S => 1,
                    rtype::OHLCV_1M => 60,
                    rtype::OHLCV_1H => 3_600,
                    rtype::OHLCV_1D | rtype::OHLCV_EOD => 86_400,
                    _ => 0,
                };
                self.define(id, out);
                out.push(MarketEvent::Bar(Bar {
                    instrument: id,
                    // An undefined time (`u64::MAX`) stays undefined.
                    ts: ts.saturating_add(seconds * 1_000_000_000),
                    open: b.open,
                    high: b.high,
                    low: b.low,
                    close: b.close,
                    volume: fixed::from_units(
                        i64::try_from(b.volume)
                            .unwrap_or(i64::MAX)
                            .min(i64::MAX / fixed::SCALE),
                    ),
                }));
            }
            RecordRefEnum::Status(s) => {
                let Some(status) = status(s) else {
                    return self.skip("status without a trading state");
                };
                self.define(id, out);
                out.push(MarketEvent::Status(StatusChange {
                    instrument: id,
                    ts,
                    status,
                }));
            }
            RecordRefEnum::Imbalance(_) => self.skip("imbalance"),
            RecordRefEnum::Stat(_) => self.skip("statistics"),
            RecordRefEnum::Error(_) => self.skip("error message"),
            RecordRefEnum::SymbolMapping(_) => self.skip("symbol mapping"),
            RecordRefEnum::System(_) => self.skip("system message"),
        }
    }

    /// A quote, when the touch differs from the one last sent.
    fn quote(
        &mut self,
        id: u32,
        ts: u64,
        (bid, bid_sz, ask, ask_sz): (i64, u32, i64, u32),
        out: &mut Vec<MarketEvent>,
    ) {
        let side = |px: i64, sz: u32| {
            if px == UNDEF_PRICE || sz == 0 {
                (0, 0)
            } else {
                (px, units(sz))
            }
        };
        let ((bid_price, bid_size), (ask_price, ask_size)) = (side(bid, bid_sz), side(ask, ask_sz));
        let touch = (bid_price, bid_size, ask_price, ask_size);
        if self.touch.get(&id) == Some(&touch) {
            return;
        }
        self.touch.insert(id, touch);
        out.push(MarketEvent::Quote(Quote {
            instrument: id,
            ts,
            bid_price,
            bid_size,
            ask_price,
            ask_size,
        }));
    }
}

/// A trade; `flags` say whether its exchange event ends with it (only a
/// market-by-order trade may go on: every other schema's trade stands alone,
/// as the host groups nothing but book deltas and trades).
fn trade(
    id: u32,
    ts: u64,
    price: i64,
    size: u32,
    aggressor: Option<Side>,
    flags: BookFlags,
) -> MarketEvent {
    MarketEvent::Trade(Trade {
        instrument: id,
        ts,
        price,
        size: units(size),
        aggressor,
        flags,
    })
}

/// The trading state a status record gives, if it gives one.
fn status(s: &dbn::StatusMsg) -> Option<TradingStatus> {
    use dbn::StatusAction as A;
    Some(match A::try_from(s.action).ok() {
        Some(A::Trading) => TradingStatus::Trading,
        Some(A::Halt | A::Pause | A::Suspend) => TradingStatus::Halted,
        Some(
            A::PreOpen | A::PreCross | A::Quoting | A::Cross | A::Rotation | A::NewPriceIndication,
        ) => TradingStatus::PreOpen,
        Some(A::Close | A::PostClose | A::NotAvailableForTrading) => TradingStatus::Closed,
        _ => match s.is_trading as u8 {
            b'Y' => TradingStatus::Trading,
            b'N' => TradingStatus::Halted,
            _ => return None,
        },
    })
}

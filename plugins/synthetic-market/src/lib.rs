//! `synthetic-market`: the embedded default market of tradsys, a seeded, exactly
//! deterministic generator of market data with a small simulated venue.
//!
//! The stream opens with one `Instrument` definition per instrument, then runs in
//! steps. Each step advances the event clock by a random 1..=2×`mean_interval_ms`
//! milliseconds, picks a random instrument and moves its mid by a random walk in
//! ticks that has a slowly changing trend (a regime) and reverts toward the
//! instrument's starting price, so strategies see both trends and reversions. The
//! step emits a `Quote` (spread 1–3 ticks, sizes 100–2000 units) and, with
//! probability 0.15, a `Trade` at the bid or ask. When the clock crosses a minute
//! boundary, a one-minute `Bar` per quoted instrument comes first, built from the
//! mids of its quotes and its trades in that minute.
//!
//! | id | symbol  | starting mid | tick |
//! |----|---------|--------------|------|
//! | 0  | `SYN-A` | 100.00       | 0.01 |
//! | 1  | `SYN-B` | 250.00       | 0.05 |
//! | 2  | `SYN-C` | 40.00        | 0.01 |
//!
//! Every instrument has lot size 1 unit, multiplier 1, two price decimals and no
//! size decimals. All arithmetic is on integers and the PRNG is a seeded
//! splitmix64, so one seed always gives the same stream, byte for byte.
//!
//! When the host routes orders to this connector instead of its matcher,
//! [`Connector::submit_orders`] acts as a simple venue against the quotes already
//! delivered: an order that crosses the touch (or a market order) fills in full at
//! the touch price; a non-crossing GTC limit rests and fills at its own price
//! (reported by `poll_reports`) once a later quote crosses it; a non-crossing IOC
//! is canceled and a non-crossing FOK rejected. Cancel and modify act on resting
//! orders (an unknown id is rejected with `unknown-order`). Reports carry the time
//! of the last delivered event; fills of resting orders not yet polled come first
//! in the next `submit_orders` answer, so reports always arrive in time order.
//!
//! Config keys (defaults in brackets):
//! - `seed` [42]: PRNG seed.
//! - `events` [0]: total market events (definitions and bars included) before the
//!   stream ends; 0 is unlimited.
//! - `instruments` [3]: how many of the instruments above to trade, 1 to 3.
//! - `start_ns` [1704205800000000000, 2024-01-02T14:30:00Z]: event clock at the start.
//! - `mean_interval_ms` [6]: mean event-time gap between steps, at least 1.
//! - `book` [`quotes`]: `quotes` for the quote per step above, or `orders` for
//!   a market by order (L3): the same walk's touch kept by resting orders with
//!   ids, added, cancelled and traded FIFO, with fill records, as an MBO feed
//!   (`orders.rs`). The connector's own venue follows quotes only.

mod orders;
mod venue;

use std::collections::VecDeque;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Bar, BookFlags, Connector, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, Quote,
    Side, Trade, fixed,
};

use crate::venue::{Resting, Venue};

/// Symbol, starting mid and tick (fixed-point) of each instrument, by id.
const INSTRUMENTS: [(&str, i64, i64); 3] = [
    ("SYN-A", fixed::from_units(100), fixed::SCALE / 100),
    ("SYN-B", fixed::from_units(250), fixed::SCALE / 20),
    ("SYN-C", fixed::from_units(40), fixed::SCALE / 100),
];

/// Nanoseconds per minute (bar length) and per millisecond.
const MINUTE_NS: u64 = 60_000_000_000;
const MS_NS: u64 = 1_000_000;

/// The walk works in milliticks (1/1000 tick) so trends smaller than a tick per
/// step accumulate exactly.
const MT: i64 = 1000;
/// Largest trend magnitude, in milliticks per step of the instrument.
const MAX_TREND_MT: i64 = 250;
/// A new trend target is drawn with probability 1/`REGIME_ODDS` per step.
const REGIME_ODDS: u64 = 400;
/// The trend closes 1/`TREND_LAG` of its gap to the target per step.
const TREND_LAG: i64 = 32;
/// Mean reversion pulls the mid back by 1/`REVERSION` of its distance per step.
const REVERSION: i64 = 1000;
/// Each noise term is uniform in ±`NOISE_MT`; two are added (triangular noise).
const NOISE_MT: i64 = 1000;
/// The mid never goes below this many ticks, so prices stay positive.
const MIN_MID_TICKS: i64 = 10;
/// Chance in percent that a step also prints a trade.
const TRADE_PERCENT: u64 = 15;
/// Largest batch generated at once, whatever `max` asks for (bounds memory).
const MAX_BATCH: usize = 1 << 16;
/// Format version written first by `save_state` (1: without the market by order).
const STATE_VERSION: u8 = 2;

/// splitmix64: a tiny, well-mixed, seedable PRNG (Steele, Lea and Flood 2014).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift; `n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` <= `hi`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64 + 1) as i64
    }
}

/// Open/high/low/close/volume of the current minute for one instrument.
#[derive(Debug, Clone, Copy)]
struct BarAcc {
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
}

impl BarAcc {
    fn new(price: i64) -> Self {
        Self {
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 0,
        }
    }

    fn add(&mut self, price: i64, volume: i64) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
        self.volume += volume;
    }
}

/// Generator state of one instrument.
#[derive(Debug, Clone)]
struct Walk {
    tick: i64,
    /// Starting mid, the level the walk reverts to, in milliticks.
    anchor_mt: i64,
    /// Current mid, in milliticks.
    pos_mt: i64,
    /// Current drift and the drift it is moving toward, milliticks per step.
    trend_mt: i64,
    target_mt: i64,
    /// Mid of the last quote, on tick; `None` before the first quote.
    last_mid: Option<i64>,
    /// The current minute's bar so far; `None` when nothing happened yet.
    bar: Option<BarAcc>,
}

/// The synthetic market connector; see the crate documentation.
#[derive(Debug)]
pub struct SyntheticMarket {
    rng: Rng,
    /// Event limit (0: none) and events delivered so far.
    limit: u64,
    delivered: u64,
    interval_ms: u64,
    walks: Vec<Walk>,
    /// Event clock of the generator and the minute (clock / 1 min) it is in.
    clock: u64,
    minute: u64,
    /// Generated but not yet delivered events, oldest first.
    pending: VecDeque<MarketEvent>,
    venue: Venue,
    /// The market by order, when `book = "orders"`.
    orders: Option<orders::OrderFeed>,
}

impl Connector for SyntheticMarket {
    fn new(config: &tradsys_sdk::Config) -> Result<Self, String> {
        config.only(&[
            "seed",
            "events",
            "instruments",
            "start_ns",
            "mean_interval_ms",
            "book",
        ])?;
        let seed: u64 = config.parse_or("seed", 42)?;
        let limit: u64 = config.parse_or("events", 0)?;
        let count: usize = config.parse_or("instruments", 3)?;
        if !(1..=INSTRUMENTS.len()).contains(&count) {
            return Err(format!(
                "config `instruments`: must be 1 to {}",
                INSTRUMENTS.len()
            ));
        }
        let start: u64 = config.parse_or("start_ns", 1_704_205_800_000_000_000)?;
        let interval_ms: u64 = config.parse_or("mean_interval_ms", 6)?;
        if interval_ms == 0 || interval_ms > 3_600_000 {
            return Err("config `mean_interval_ms`: must be 1 to 3600000".to_string());
        }
        let orders = match config.get("book").map(str::trim) {
            None | Some("quotes") => None,
            Some("orders") => Some(orders::OrderFeed::new(count)),
            Some(other) => {
                return Err(format!(
                    "config `book`: `{other}` is neither `quotes` nor `orders`"
                ));
            }
        };

        let mut pending = VecDeque::new();
        let mut walks = Vec::new();
        for (id, &(symbol, mid, tick)) in INSTRUMENTS.iter().take(count).enumerate() {
            let anchor_mt = mid / tick * MT;
            pending.push_back(MarketEvent::Instrument(InstrumentDefinition {
                id: id as u32,
                symbol: symbol.to_string(),
                tick_size: tick,
                lot_size: fixed::from_units(1),
                price_precision: 2,
                size_precision: 0,
                multiplier: 1,
            }));
            walks.push(Walk {
                tick,
                anchor_mt,
                pos_mt: anchor_mt,
                trend_mt: 0,
                target_mt: 0,
                last_mid: None,
                bar: None,
            });
        }
        let venue = Venue {
            touch: vec![None; count],
            ticks: walks.iter().map(|w| w.tick).collect(),
            clock: start,
            ..Venue::default()
        };
        Ok(Self {
            rng: Rng(seed),
            limit,
            delivered: 0,
            interval_ms,
            walks,
            clock: start,
            minute: start / MINUTE_NS,
            pending,
            venue,
            orders,
        })
    }

    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        Ok(self.next_events(max))
    }

    fn submit_orders(&mut self, orders: &[OrderCommand]) -> Vec<OrderEvent> {
        let mut out = std::mem::take(&mut self.venue.reports);
        for command in orders {
            match command {
                OrderCommand::Submit(order) => self.venue.submit(order, &mut out),
                OrderCommand::Cancel(cancel) => {
                    self.venue.cancel(cancel.id, cancel.instrument, &mut out)
                }
                OrderCommand::Modify(modify) => self.venue.modify(
                    modify.id,
                    modify.instrument,
                    modify.price,
                    modify.quantity,
                    &mut out,
                ),
            }
        }
        out
    }

    fn poll_reports(&mut self) -> Vec<OrderEvent> {
        std::mem::take(&mut self.venue.reports)
    }

    /// Everything that moves: the PRNG, the clock, each walk, the events
    /// generated but not delivered, and the venue. What comes from the config
    /// (limit, interval, instruments) is not saved; a state made with another
    /// number of instruments is refused.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u64(self.rng.0).u64(self.delivered);
        w.u64(self.clock).u64(self.minute);
        w.u32(self.walks.len() as u32);
        for walk in &self.walks {
            w.i64(walk.pos_mt).i64(walk.trend_mt).i64(walk.target_mt);
            w.option(walk.last_mid, |w, mid| {
                w.i64(mid);
            });
            w.option(walk.bar, |w, bar| {
                w.i64(bar.open).i64(bar.high).i64(bar.low);
                w.i64(bar.close).i64(bar.volume);
            });
        }
        w.u32(self.pending.len() as u32);
        for event in &self.pending {
            w.market_event(event);
        }
        let venue = &self.venue;
        for touch in &venue.touch {
            w.option(*touch, |w, (bid, ask)| {
                w.i64(bid).i64(ask);
            });
        }
        w.u64(venue.clock).u32(venue.resting.len() as u32);
        for r in &venue.resting {
            w.u64(r.id).u32(r.instrument).side(r.side);
            w.i64(r.price).i64(r.quantity);
        }
        w.u32(venue.reports.len() as u32);
        for report in &venue.reports {
            w.order_event(report);
        }
        w.bool(self.orders.is_some());
        if let Some(orders) = &self.orders {
            orders.save(&mut w);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        let version = r.u8()?;
        if version != 1 && version != STATE_VERSION {
            return Err(format!(
                "state format {version}, this version reads 1 and {STATE_VERSION}"
            ));
        }
        let mut next = Self {
            rng: Rng(r.u64()?),
            delivered: r.u64()?,
            clock: r.u64()?,
            minute: r.u64()?,
            walks: self.walks.clone(),
            pending: VecDeque::new(),
            venue: Venue {
                touch: Vec::new(),
                ticks: self.venue.ticks.clone(),
                clock: 0,
                resting: Vec::new(),
                reports: Vec::new(),
            },
            orders: None,
            ..*self
        };
        let walks = r.u32()? as usize;
        if walks != self.walks.len() {
            return Err(format!(
                "state of {walks} instruments, but config `instruments` is {}",
                self.walks.len()
            ));
        }
        for walk in &mut next.walks {
            walk.pos_mt = r.i64()?;
            walk.trend_mt = r.i64()?;
            walk.target_mt = r.i64()?;
            walk.last_mid = r.option(|r| r.i64())?;
            walk.bar = r.option(|r| {
                Ok(BarAcc {
                    open: r.i64()?,
                    high: r.i64()?,
                    low: r.i64()?,
                    close: r.i64()?,
                    volume: r.i64()?,
                })
            })?;
        }
        for _ in 0..r.u32()? {
            next.pending.push_back(r.market_event()?);
        }
        for _ in 0..walks {
            let touch = r.option(|r| Ok((r.i64()?, r.i64()?)))?;
            next.venue.touch.push(touch);
        }
        next.venue.clock = r.u64()?;
        for _ in 0..r.u32()? {
            next.venue.resting.push(Resting {
                id: r.u64()?,
                instrument: r.u32()?,
                side: r.side()?,
                price: r.i64()?,
                quantity: r.i64()?,
            });
        }
        for _ in 0..r.u32()? {
            next.venue.reports.push(r.order_event()?);
        }
        let saved_orders = version >= 2 && r.bool()?;
        next.orders = match (saved_orders, &self.orders) {
            (true, Some(_)) => Some(orders::OrderFeed::load(&mut r)?),
            (false, None) => None,
            (true, None) => {
                return Err("the saved market is by order; config `book` is `quotes`".into());
            }
            (false, Some(_)) => {
                return Err("the saved market is by quote; config `book` is `orders`".into());
            }
        };
        r.finish()?;
        *self = next;
        Ok(())
    }
}

impl SyntheticMarket {
    /// Up to `max` events; `None` once the stream has ended.
    pub fn next_events(&mut self, max: usize) -> Option<Vec<MarketEvent>> {
        let mut want = max.min(MAX_BATCH);
        if self.limit > 0 {
            let left = self.limit.saturating_sub(self.delivered);
            if left == 0 {
                return None;
            }
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        while self.pending.len() < want {
            self.step();
        }
        let batch: Vec<MarketEvent> = self.pending.drain(..want).collect();
        self.delivered += batch.len() as u64;
        for event in &batch {
            self.venue.on_event(event);
        }
        Some(batch)
    }
}

impl SyntheticMarket {
    /// Generate one step: bars if a minute closed, a quote, maybe a trade.
    fn step(&mut self) {
        let gap = self.rng.range(1, 2 * self.interval_ms as i64) as u64;
        self.clock = self.clock.saturating_add(gap * MS_NS);
        let minute = self.clock / MINUTE_NS;
        if minute > self.minute {
            self.close_bars();
            self.minute = minute;
        }

        let id = self.rng.below(self.walks.len() as u64) as usize;
        let ts = self.clock;
        let rng = &mut self.rng;
        let walk = &mut self.walks[id];

        // Regime: now and then a new trend target; the trend eases toward it.
        if rng.below(REGIME_ODDS) == 0 {
            walk.target_mt = rng.range(-MAX_TREND_MT, MAX_TREND_MT);
        }
        walk.trend_mt += (walk.target_mt - walk.trend_mt) / TREND_LAG;
        let reversion = -(walk.pos_mt - walk.anchor_mt) / REVERSION;
        let noise = rng.range(-NOISE_MT, NOISE_MT) + rng.range(-NOISE_MT, NOISE_MT);
        walk.pos_mt = (walk.pos_mt + walk.trend_mt + reversion + noise).max(MIN_MID_TICKS * MT);

        // Quote: spread of 1 (50 %), 2 (35 %) or 3 (15 %) ticks around the mid.
        let mid = (walk.pos_mt + MT / 2) / MT;
        let spread = match rng.below(100) {
            0..50 => 1,
            50..85 => 2,
            _ => 3,
        };
        let bid = (mid - spread / 2) * walk.tick;
        let ask = bid + spread * walk.tick;
        let bid_size = rng.range(100, 2000);
        let ask_size = rng.range(100, 2000);
        let mid_price = mid * walk.tick;
        walk.last_mid = Some(mid_price);
        match walk.bar.as_mut() {
            Some(bar) => bar.add(mid_price, 0),
            None => walk.bar = Some(BarAcc::new(mid_price)),
        }
        // Trade: aggressors lean with the trend (50 % ± up to 25 % buyers).
        let trade = (rng.below(100) < TRADE_PERCENT).then(|| {
            let buy_percent = 50 + walk.trend_mt * 25 / MAX_TREND_MT;
            let buy = rng.range(0, 99) < buy_percent;
            let touch_size = if buy { ask_size } else { bid_size };
            let size = fixed::from_units(rng.range(1, touch_size.min(500)));
            (if buy { Side::Buy } else { Side::Sell }, size)
        });
        if let Some(feed) = &mut self.orders {
            let step = orders::Step {
                instrument: id as u32,
                ts,
                bid,
                ask,
                tick: walk.tick,
                trade,
            };
            if let Some((price, size)) = feed.step(&step, rng, &mut self.pending)
                && let Some(bar) = walk.bar.as_mut()
            {
                bar.add(price, size);
            }
            return;
        }
        self.pending.push_back(MarketEvent::Quote(Quote {
            instrument: id as u32,
            ts,
            bid_price: bid,
            bid_size: fixed::from_units(bid_size),
            ask_price: ask,
            ask_size: fixed::from_units(ask_size),
        }));
        if let Some((aggressor, size)) = trade {
            let price = if aggressor == Side::Buy { ask } else { bid };
            if let Some(bar) = walk.bar.as_mut() {
                bar.add(price, size);
            }
            self.pending.push_back(MarketEvent::Trade(Trade {
                instrument: id as u32,
                ts,
                price,
                size,
                aggressor: Some(aggressor),
                flags: BookFlags::LAST,
            }));
        }
    }

    /// Emit the bars of the minute that just closed: one per instrument quoted so
    /// far (flat at the last mid with no volume when it was quiet that minute).
    fn close_bars(&mut self) {
        let ts = (self.minute + 1) * MINUTE_NS;
        for (id, walk) in self.walks.iter_mut().enumerate() {
            let Some(bar) = walk.bar.take().or(walk.last_mid.map(BarAcc::new)) else {
                continue;
            };
            self.pending.push_back(MarketEvent::Bar(Bar {
                instrument: id as u32,
                ts,
                open: bar.open,
                high: bar.high,
                low: bar.low,
                close: bar.close,
                volume: bar.volume,
            }));
        }
    }
}

tradsys_sdk::export_connector!(SyntheticMarket);

#[cfg(test)]
mod tests;

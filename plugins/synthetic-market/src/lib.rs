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

use std::collections::VecDeque;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Bar, BookFlags, Connector, Fill, InstrumentDefinition, MarketEvent, NewOrder, OrderAccepted,
    OrderCanceled, OrderCommand, OrderEvent, OrderModified, OrderRejected, OrderType, Quote,
    RejectReason, Rejection, Side, TimeInForce, Trade, fixed,
};

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

/// A limit order resting in the simulated venue.
#[derive(Debug, Clone)]
struct Resting {
    id: u64,
    instrument: u32,
    side: Side,
    price: i64,
    quantity: i64,
}

/// The simulated venue: the touch of each instrument as delivered, resting orders
/// in arrival order and reports waiting for `poll_reports`.
#[derive(Debug, Default)]
struct Venue {
    /// Best bid and ask per instrument id, from the last delivered quote.
    touch: Vec<Option<(i64, i64)>>,
    ticks: Vec<i64>,
    /// Time of the last delivered event; stamps every report.
    clock: u64,
    resting: Vec<Resting>,
    reports: Vec<OrderEvent>,
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

/// Report helpers.
fn rejected(id: u64, instrument: u32, ts: u64, reason: RejectReason, message: &str) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts,
        rejection: Rejection {
            reason,
            message: Some(message.to_string()),
        },
    })
}

impl Venue {
    /// Track a delivered event; a quote may fill resting orders it crosses.
    fn on_event(&mut self, event: &MarketEvent) {
        let (instrument, Some(ts)) = (event.instrument(), event.ts()) else {
            return;
        };
        self.clock = self.clock.max(ts);
        let MarketEvent::Quote(q) = event else { return };
        if let Some(touch) = self.touch.get_mut(instrument as usize) {
            *touch = Some((q.bid_price, q.ask_price));
        }
        let reports = &mut self.reports;
        self.resting.retain(|order| {
            let crossed = order.instrument == instrument
                && match order.side {
                    Side::Buy => q.ask_price <= order.price,
                    Side::Sell => q.bid_price >= order.price,
                };
            if crossed {
                // A resting order is the maker and fills at its own limit.
                reports.push(fill(order, order.price, ts, true));
            }
            !crossed
        });
    }

    /// The touch price an order on `side` with limit `price` executes against now,
    /// if it crosses (`None` price: a market order).
    fn crossing(&self, instrument: u32, side: Side, price: Option<i64>) -> Option<i64> {
        let (bid, ask) = (*self.touch.get(instrument as usize)?)?;
        match (side, price) {
            (Side::Buy, None) => Some(ask),
            (Side::Sell, None) => Some(bid),
            (Side::Buy, Some(p)) => (p >= ask).then_some(ask),
            (Side::Sell, Some(p)) => (p <= bid).then_some(bid),
        }
    }

    /// Why a price/quantity is unacceptable for `instrument`, if it is.
    fn invalid(&self, instrument: u32, price: Option<i64>, quantity: i64) -> Option<&'static str> {
        let Some(&tick) = self.ticks.get(instrument as usize) else {
            return Some("unknown instrument");
        };
        if quantity <= 0 || quantity % fixed::from_units(1) != 0 {
            return Some("quantity must be a positive whole number of lots");
        }
        match price {
            Some(p) if p <= 0 || p % tick != 0 => Some("price must be positive and on tick"),
            _ => None,
        }
    }

    fn submit(&mut self, order: &NewOrder, out: &mut Vec<OrderEvent>) {
        let (id, instrument, ts) = (order.id, order.instrument, self.clock);
        let limit = match order.order_type {
            OrderType::Limit => Some(order.price),
            OrderType::Market => None,
        };
        if let Some(why) = self.invalid(instrument, limit, order.quantity) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                why,
            ));
            return;
        }
        if self.resting.iter().any(|r| r.id == id) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                "duplicate order id",
            ));
            return;
        }
        let resting = Resting {
            id,
            instrument,
            side: order.side,
            price: order.price,
            quantity: order.quantity,
        };
        if let Some(price) = self.crossing(instrument, order.side, limit) {
            out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
            out.push(fill(&resting, price, ts, false));
            return;
        }
        match (limit, order.time_in_force) {
            (None, _) => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::NoLiquidity,
                "no quote yet",
            )),
            (Some(_), TimeInForce::Gtc) => {
                out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                self.resting.push(resting);
            }
            (Some(_), TimeInForce::Ioc) => {
                out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                out.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: order.quantity,
                }));
            }
            (Some(_), TimeInForce::Fok) => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::FillOrKillUnfilled,
                "limit does not cross the touch",
            )),
        }
    }

    /// Index of the resting order `id` of `instrument`.
    fn find(&self, id: u64, instrument: u32) -> Option<usize> {
        self.resting
            .iter()
            .position(|r| r.id == id && r.instrument == instrument)
    }

    fn cancel(&mut self, id: u64, instrument: u32, out: &mut Vec<OrderEvent>) {
        let ts = self.clock;
        match self.find(id, instrument) {
            Some(index) => {
                let order = self.resting.remove(index);
                out.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: order.quantity,
                }));
            }
            None => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::UnknownOrder,
                "no such working order",
            )),
        }
    }

    /// Replace price and quantity (resting orders never fill partly here, so the
    /// new quantity is all still working); a new price that crosses executes.
    fn modify(
        &mut self,
        id: u64,
        instrument: u32,
        price: i64,
        quantity: i64,
        out: &mut Vec<OrderEvent>,
    ) {
        let ts = self.clock;
        let Some(index) = self.find(id, instrument) else {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::UnknownOrder,
                "no such working order",
            ));
            return;
        };
        if let Some(why) = self.invalid(instrument, Some(price), quantity) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                why,
            ));
            return;
        }
        let side = self.resting[index].side;
        self.resting[index].price = price;
        self.resting[index].quantity = quantity;
        out.push(OrderEvent::Modified(OrderModified {
            id,
            instrument,
            ts,
            price,
            leaves_quantity: quantity,
        }));
        if let Some(touch) = self.crossing(instrument, side, Some(price)) {
            let order = self.resting.remove(index);
            out.push(fill(&order, touch, ts, false));
        }
    }
}

/// A full fill of `order` at `price`.
fn fill(order: &Resting, price: i64, ts: u64, maker: bool) -> OrderEvent {
    OrderEvent::Filled(Fill {
        id: order.id,
        instrument: order.instrument,
        ts,
        side: order.side,
        price,
        quantity: order.quantity,
        leaves_quantity: 0,
        maker,
    })
}

tradsys_sdk::export_connector!(SyntheticMarket);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::{CancelOrder, Config};

    fn market(entries: &[(&str, &str)]) -> SyntheticMarket {
        SyntheticMarket::new(&Config::new(entries.iter().copied())).expect("valid config")
    }

    /// The first `n` events, fetched in batches of odd sizes.
    fn take(m: &mut SyntheticMarket, n: usize) -> Vec<MarketEvent> {
        let mut events = Vec::new();
        while events.len() < n {
            let batch = m
                .next_events(137.min(n - events.len()))
                .expect("unlimited stream");
            events.extend(batch);
        }
        events
    }

    fn debug(events: &[MarketEvent]) -> Vec<String> {
        events.iter().map(|e| format!("{e:?}")).collect()
    }

    fn ts_of(event: &MarketEvent) -> Option<u64> {
        event.ts()
    }

    #[test]
    fn a_restored_state_carries_on_exactly_where_the_saved_one_stopped() {
        let whole = debug(&take(&mut market(&[]), 3000));
        // Cut the stream at awkward places (mid-step, before the first batch,
        // across minute bars) into fresh instances, each from saved state.
        let mut m = market(&[]);
        let mut pieces = Vec::new();
        for size in [0usize, 1, 2, 5, 137, 1000, 1, 3] {
            if size > 0 {
                pieces.extend(m.next_events(size).unwrap());
            }
            let state = m.save_state();
            m = market(&[]);
            m.load_state(&state).expect("own state loads");
            assert_eq!(m.save_state(), state, "state round-trips");
        }
        pieces.extend(take(&mut m, 3000 - pieces.len()));
        assert_eq!(debug(&pieces), whole);
    }

    #[test]
    fn the_venue_and_the_event_limit_survive_a_restore() {
        let (mut m, q) = quoted();
        let tick = fixed::parse("0.01").unwrap();
        let reports = m.submit_orders(&[submit(
            7,
            Side::Buy,
            TimeInForce::Gtc,
            q.bid_price - 50 * tick,
            2,
        )]);
        assert_eq!(reports.len(), 1, "{reports:?}");
        let mut limited = market(&[("events", "10")]);
        limited.next_events(4).unwrap();
        for (m, config) in [
            (&mut m, ("instruments", "1")),
            (&mut limited, ("events", "10")),
        ] {
            let state = m.save_state();
            let mut restored = market(&[config]);
            restored.load_state(&state).unwrap();
            *m = restored;
        }
        assert_eq!(m.venue.resting.len(), 1, "the resting order is still there");
        let canceled = m.submit_orders(&[OrderCommand::Cancel(tradsys_sdk::CancelOrder {
            id: 7,
            instrument: 0,
        })]);
        assert!(
            matches!(canceled[..], [OrderEvent::Canceled(_)]),
            "{canceled:?}"
        );
        assert_eq!(limited.next_events(100).unwrap().len(), 6);
        assert!(limited.next_events(100).is_none());
    }

    #[test]
    fn a_foreign_or_damaged_state_is_refused_and_changes_nothing() {
        let mut m = market(&[]);
        m.next_events(50).unwrap();
        let state = m.save_state();
        let mut two = market(&[("instruments", "2")]);
        let before = two.save_state();
        let refused = two.load_state(&state).unwrap_err();
        assert!(refused.contains("3 instruments"), "{refused}");
        for len in [0, 1, state.len() / 2, state.len() - 1] {
            assert!(two.load_state(&state[..len]).is_err(), "{len} bytes loaded");
        }
        let mut other_format = state.clone();
        other_format[0] = 99;
        assert!(
            m.load_state(&other_format)
                .unwrap_err()
                .contains("format 99")
        );
        assert_eq!(two.save_state(), before);
    }

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let a = debug(&take(&mut market(&[]), 5000));
        // Batch sizes must not matter either.
        let mut m = market(&[("seed", "42")]);
        let mut b = Vec::new();
        while b.len() < 5000 {
            b.extend(m.next_events(1000).unwrap());
        }
        assert_eq!(a, debug(&b));
        let c = debug(&take(&mut market(&[("seed", "43")]), 5000));
        assert_ne!(a, c);
        assert_eq!(a[..3], c[..3], "definitions do not depend on the seed");
    }

    #[test]
    fn definitions_come_first() {
        let events = take(&mut market(&[]), 100);
        for (id, &(symbol, _, tick)) in INSTRUMENTS.iter().enumerate() {
            let MarketEvent::Instrument(def) = &events[id] else {
                panic!("event {id} is not a definition: {:?}", events[id]);
            };
            assert_eq!(def.id, id as u32);
            assert_eq!(def.symbol, symbol);
            assert_eq!(def.tick_size, tick);
            assert_eq!(def.lot_size, fixed::from_units(1));
            assert_eq!(def.multiplier, 1);
        }
        let ticks: Vec<i64> = ["0.01", "0.05", "0.01"]
            .map(|t| fixed::parse(t).unwrap())
            .into();
        assert_eq!(INSTRUMENTS.map(|i| i.2).to_vec(), ticks);
        // The first quote of each instrument is at its starting mid.
        let mut seen = [false; 3];
        for event in &events {
            if let MarketEvent::Quote(q) = event {
                let i = q.instrument as usize;
                if !std::mem::replace(&mut seen[i], true) {
                    let start = ["100", "250", "40"].map(|p| fixed::parse(p).unwrap())[i];
                    assert!(
                        q.bid_price < start + 3 * ticks[i] && q.ask_price > start - 3 * ticks[i]
                    );
                }
            }
        }
        assert_eq!(seen, [true; 3]);
        assert!(
            events[3..]
                .iter()
                .all(|e| !matches!(e, MarketEvent::Instrument(_)))
        );

        let one = take(&mut market(&[("instruments", "1")]), 2000);
        assert!(matches!(&one[0], MarketEvent::Instrument(d) if d.symbol == "SYN-A"));
        assert!(one[1..].iter().all(|e| match e {
            MarketEvent::Quote(q) => q.instrument == 0,
            MarketEvent::Trade(t) => t.instrument == 0,
            MarketEvent::Bar(b) => b.instrument == 0,
            _ => false,
        }));
    }

    #[test]
    fn quotes_trades_and_clock_are_sane() {
        let events = take(&mut market(&[("seed", "7")]), 20_000);
        let ticks: Vec<i64> = INSTRUMENTS.iter().map(|i| i.2).collect();
        let (mut quotes, mut trades, mut last_ts) = (0, 0, 0);
        let mut last_quote: Vec<Option<Quote>> = vec![None; 3];
        for event in &events {
            if let Some(ts) = ts_of(event) {
                assert!(ts >= last_ts, "time went back at {event:?}");
                last_ts = ts;
            }
            match event {
                MarketEvent::Quote(q) => {
                    quotes += 1;
                    let tick = ticks[q.instrument as usize];
                    assert!(q.bid_price > 0 && q.bid_price < q.ask_price, "{q:?}");
                    assert_eq!(q.bid_price % tick, 0, "{q:?}");
                    assert_eq!(q.ask_price % tick, 0, "{q:?}");
                    assert!(
                        (1..=3).contains(&((q.ask_price - q.bid_price) / tick)),
                        "{q:?}"
                    );
                    for size in [q.bid_size, q.ask_size] {
                        assert!(
                            (fixed::from_units(100)..=fixed::from_units(2000)).contains(&size)
                                && size % fixed::SCALE == 0
                        );
                    }
                    last_quote[q.instrument as usize] = Some(*q);
                }
                MarketEvent::Trade(t) => {
                    trades += 1;
                    let q = last_quote[t.instrument as usize]
                        .as_ref()
                        .expect("quote first");
                    assert_eq!(t.ts, q.ts);
                    match t.aggressor {
                        Some(Side::Buy) => assert_eq!(t.price, q.ask_price),
                        Some(Side::Sell) => assert_eq!(t.price, q.bid_price),
                        None => panic!("trade without aggressor"),
                    }
                    assert!(t.size > 0);
                }
                _ => {}
            }
        }
        // About 0.15 trades per quote; 20,000 events span a couple of minutes.
        assert!(quotes > 16_000, "{quotes} quotes");
        assert!((1_800..3_400).contains(&trades), "{trades} trades");
        let span = last_ts - 1_704_205_800_000_000_000;
        assert!(
            (90 * 1_000_000_000..200 * 1_000_000_000).contains(&span),
            "{span} ns"
        );
    }

    #[test]
    fn prices_trend_and_revert() {
        // Over a long run the mid wanders away from its anchor but stays near it.
        let events = take(&mut market(&[("instruments", "1")]), 200_000);
        let mids: Vec<i64> = events
            .iter()
            .filter_map(|e| match e {
                MarketEvent::Quote(q) => Some((q.bid_price + q.ask_price) / 2),
                _ => None,
            })
            .collect();
        let hi = *mids.iter().max().unwrap();
        let lo = *mids.iter().min().unwrap();
        let anchor = fixed::from_units(100);
        assert!(hi - lo > fixed::parse("0.50").unwrap(), "range {lo}..{hi}");
        assert!(lo > anchor / 2 && hi < anchor * 2, "range {lo}..{hi}");
        // The mid crosses its anchor more than a few times (it reverts).
        let crossings = mids
            .windows(2)
            .filter(|w| (w[0] < anchor) != (w[1] < anchor))
            .count();
        assert!(crossings > 5, "{crossings} crossings");
    }

    #[test]
    fn events_limit_ends_the_stream() {
        let mut m = market(&[("events", "10")]);
        assert_eq!(m.next_events(4).unwrap().len(), 4);
        assert_eq!(m.next_events(100).unwrap().len(), 6);
        assert!(m.next_events(100).is_none());
        assert!(m.next_events(1).is_none());
        // Unlimited: still going after many events; an empty request is fine.
        let mut m = market(&[]);
        take(&mut m, 10_000);
        assert_eq!(m.next_events(0).map(|b| b.len()), Some(0));
    }

    #[test]
    fn bars_close_each_minute_and_are_consistent() {
        let events = take(&mut market(&[]), 30_000);
        let mut bars: Vec<&Bar> = Vec::new();
        let mut volume = [0i64; 3];
        for event in &events {
            match event {
                MarketEvent::Trade(t) => volume[t.instrument as usize] += t.size,
                MarketEvent::Bar(b) => {
                    bars.push(b);
                    assert_eq!(b.ts % MINUTE_NS, 0);
                    assert!(
                        b.low <= b.open.min(b.close) && b.open.max(b.close) <= b.high,
                        "{b:?}"
                    );
                    let tick = INSTRUMENTS[b.instrument as usize].2;
                    for p in [b.open, b.high, b.low, b.close] {
                        assert!(p > 0 && p % tick == 0, "{b:?}");
                    }
                    // Each bar's volume is the trades of its instrument since the last bar.
                    assert_eq!(b.volume, volume[b.instrument as usize], "{b:?}");
                    volume[b.instrument as usize] = 0;
                    assert!(b.high > b.low, "an active minute has a range: {b:?}");
                }
                _ => {}
            }
        }
        assert!(bars.len() >= 6, "{} bars", bars.len());
        // Bars come in groups of three (one per instrument) per minute.
        for group in bars.chunks(3) {
            assert_eq!(group.len(), 3);
            assert!(group.iter().all(|b| b.ts == group[0].ts));
            assert_eq!(
                group.iter().map(|b| b.instrument).collect::<Vec<_>>(),
                [0, 1, 2]
            );
        }
        assert_eq!(bars[0].ts, 1_704_205_860_000_000_000);
    }

    /// A market with one instrument advanced until it has a quote; returns its touch.
    fn quoted() -> (SyntheticMarket, Quote) {
        let mut m = market(&[("instruments", "1")]);
        loop {
            for event in m.next_events(1).unwrap() {
                if let MarketEvent::Quote(q) = event {
                    return (m, q);
                }
            }
        }
    }

    fn submit(id: u64, side: Side, tif: TimeInForce, price: i64, units: i64) -> OrderCommand {
        OrderCommand::Submit(NewOrder {
            id,
            instrument: 0,
            side,
            order_type: OrderType::Limit,
            time_in_force: tif,
            price,
            quantity: fixed::from_units(units),
        })
    }

    #[test]
    fn crossing_limit_fills_at_the_touch() {
        let (mut m, q) = quoted();
        let tick = fixed::parse("0.01").unwrap();
        let reports = m.submit_orders(&[
            submit(1, Side::Buy, TimeInForce::Gtc, q.ask_price + 5 * tick, 3),
            submit(2, Side::Sell, TimeInForce::Ioc, q.bid_price, 2),
        ]);
        let text = format!("{reports:?}");
        assert_eq!(reports.len(), 4, "{text}");
        assert!(matches!(&reports[0], OrderEvent::Accepted(a) if a.id == 1 && a.ts == q.ts));
        let OrderEvent::Filled(f) = &reports[1] else {
            panic!("{text}")
        };
        assert_eq!((f.id, f.side, f.price), (1, Side::Buy, q.ask_price));
        assert_eq!(
            (f.quantity, f.leaves_quantity, f.maker),
            (fixed::from_units(3), 0, false)
        );
        let OrderEvent::Filled(f) = &reports[3] else {
            panic!("{text}")
        };
        assert_eq!(
            (f.id, f.price, f.quantity),
            (2, q.bid_price, fixed::from_units(2))
        );
        assert!(m.venue.resting.is_empty());
        assert!(m.poll_reports().is_empty());
    }

    #[test]
    fn non_crossing_orders_rest_cancel_or_are_killed() {
        let (mut m, q) = quoted();
        let reports = m.submit_orders(&[
            submit(1, Side::Buy, TimeInForce::Ioc, q.bid_price, 1),
            submit(2, Side::Buy, TimeInForce::Fok, q.bid_price, 1),
            submit(3, Side::Buy, TimeInForce::Gtc, q.bid_price, 1),
            submit(4, Side::Buy, TimeInForce::Gtc, q.bid_price + 1, 1),
            submit(5, Side::Buy, TimeInForce::Gtc, q.bid_price, 0),
        ]);
        let text = format!("{reports:?}");
        assert_eq!(reports.len(), 6, "{text}");
        assert!(matches!(&reports[1], OrderEvent::Canceled(c)
            if c.id == 1 && c.canceled_quantity == fixed::from_units(1)));
        assert!(matches!(&reports[2], OrderEvent::Rejected(r)
            if r.id == 2 && r.rejection.reason == RejectReason::FillOrKillUnfilled));
        assert!(matches!(&reports[3], OrderEvent::Accepted(a) if a.id == 3));
        assert!(matches!(&reports[4], OrderEvent::Rejected(r)
            if r.id == 4 && r.rejection.reason == RejectReason::InvalidOrder));
        assert!(matches!(&reports[5], OrderEvent::Rejected(r)
            if r.id == 5 && r.rejection.reason == RejectReason::InvalidOrder));
        assert_eq!(m.venue.resting.len(), 1);
    }

    #[test]
    fn resting_order_fills_when_the_market_crosses_it() {
        let (mut m, q) = quoted();
        let tick = fixed::parse("0.01").unwrap();
        let price = q.bid_price - 3 * tick;
        m.submit_orders(&[submit(9, Side::Buy, TimeInForce::Gtc, price, 5)]);
        let mut fills = Vec::new();
        for _ in 0..200_000 {
            let batch = m.next_events(10).unwrap();
            let reports = m.poll_reports();
            if reports.is_empty() {
                // Not filled yet: no quote in the batch has an ask at or below the limit.
                assert!(
                    batch
                        .iter()
                        .all(|e| !matches!(e, MarketEvent::Quote(q) if q.ask_price <= price))
                );
                continue;
            }
            // Filled by the first quote whose ask reached the limit, at the limit.
            let crossing = batch
                .iter()
                .find_map(|e| match e {
                    MarketEvent::Quote(q) if q.ask_price <= price => Some(q.ts),
                    _ => None,
                })
                .expect("a crossing quote");
            fills = reports;
            let OrderEvent::Filled(f) = &fills[0] else {
                panic!("{fills:?}")
            };
            assert_eq!((f.id, f.price, f.ts, f.maker), (9, price, crossing, true));
            assert_eq!((f.quantity, f.leaves_quantity), (fixed::from_units(5), 0));
            break;
        }
        assert_eq!(fills.len(), 1, "the resting order never filled");
        assert!(m.venue.resting.is_empty());
    }

    #[test]
    fn cancel_and_modify() {
        let (mut m, q) = quoted();
        let tick = fixed::parse("0.01").unwrap();
        m.submit_orders(&[
            submit(1, Side::Sell, TimeInForce::Gtc, q.ask_price + 10 * tick, 2),
            submit(2, Side::Sell, TimeInForce::Gtc, q.ask_price + 10 * tick, 2),
        ]);
        let cancel = |id| OrderCommand::Cancel(CancelOrder { id, instrument: 0 });
        let modify = |id, price, units| {
            OrderCommand::Modify(tradsys_sdk::ModifyOrder {
                id,
                instrument: 0,
                price,
                quantity: fixed::from_units(units),
            })
        };
        let reports = m.submit_orders(&[
            cancel(77),
            cancel(1),
            cancel(1),
            modify(2, q.ask_price + 20 * tick, 4),
            modify(2, q.bid_price, 4),
            modify(78, q.bid_price, 1),
        ]);
        let text = format!("{reports:?}");
        assert_eq!(reports.len(), 7, "{text}");
        let unknown = |e: &OrderEvent, id| {
            matches!(e, OrderEvent::Rejected(r)
                if r.id == id && r.rejection.reason == RejectReason::UnknownOrder)
        };
        assert!(unknown(&reports[0], 77), "{text}");
        assert!(matches!(&reports[1], OrderEvent::Canceled(c)
            if c.id == 1 && c.canceled_quantity == fixed::from_units(2)));
        assert!(unknown(&reports[2], 1), "{text}");
        assert!(matches!(&reports[3], OrderEvent::Modified(e)
            if e.id == 2 && e.price == q.ask_price + 20 * tick
                && e.leaves_quantity == fixed::from_units(4)));
        // Moving the sell down to the bid crosses: it fills at the bid, as taker.
        assert!(matches!(&reports[4], OrderEvent::Modified(e) if e.price == q.bid_price));
        let OrderEvent::Filled(f) = &reports[5] else {
            panic!("{text}")
        };
        assert_eq!(
            (f.id, f.side, f.price, f.maker),
            (2, Side::Sell, q.bid_price, false)
        );
        assert_eq!(f.quantity, fixed::from_units(4));
        assert!(unknown(&reports[6], 78), "{text}");
        assert!(m.venue.resting.is_empty());
    }

    #[test]
    fn market_order_needs_a_quote_and_unknown_instrument_is_rejected() {
        let mut m = market(&[]);
        let order = |instrument| {
            OrderCommand::Submit(NewOrder {
                id: 1,
                instrument,
                side: Side::Sell,
                order_type: OrderType::Market,
                time_in_force: TimeInForce::Ioc,
                price: 0,
                quantity: fixed::from_units(1),
            })
        };
        let reports = m.submit_orders(&[order(0), order(5)]);
        let reason = |e: &OrderEvent| match e {
            OrderEvent::Rejected(r) => Some(r.rejection.reason),
            _ => None,
        };
        assert_eq!(reason(&reports[0]), Some(RejectReason::NoLiquidity));
        assert_eq!(reason(&reports[1]), Some(RejectReason::InvalidOrder));
    }

    #[test]
    fn bad_config_names_the_key() {
        let err = |k, v| SyntheticMarket::new(&Config::new([(k, v)])).unwrap_err();
        assert!(err("instruments", "4").contains("`instruments`"));
        assert!(err("instruments", "0").contains("`instruments`"));
        assert!(err("mean_interval_ms", "0").contains("`mean_interval_ms`"));
        assert!(err("seed", "x").contains("`seed`"));
    }

    #[test]
    fn by_order_the_book_is_consistent_at_every_last_flag_and_fills_name_resting_orders() {
        use tradsys_sdk::book::{OrderBook, Side as BookSide};
        use tradsys_sdk::{BookAction, BookFlags};
        let mut m = market(&[("book", "orders"), ("instruments", "2")]);
        let events = take(&mut m, 30_000);
        let side = |s: Side| match s {
            Side::Buy => BookSide::Buy,
            Side::Sell => BookSide::Sell,
        };
        let mut books = [OrderBook::new(), OrderBook::new()];
        let (mut checks, mut fills, mut trades) = (0, 0, 0);
        let mut last_fill: Option<(u64, i64)> = None;
        for event in &events {
            match event {
                MarketEvent::Quote(_) => panic!("a market by order sends no quotes"),
                MarketEvent::Trade(_) => trades += 1,
                MarketEvent::BookDelta(d) => {
                    let book = &mut books[d.instrument as usize];
                    if let Some((id, size)) = last_fill.take() {
                        assert!(
                            d.action == BookAction::Cancel && d.order_id == id && d.size == size,
                            "a fill is followed by the cancel of what it took: {d:?}"
                        );
                    }
                    match d.action {
                        BookAction::Add => book.add(d.order_id, side(d.side), d.price, d.size),
                        BookAction::Cancel => {
                            assert_eq!(book.cancel(d.order_id, d.size), d.size, "{d:?}");
                        }
                        BookAction::Fill => {
                            let resting =
                                book.order(d.order_id).expect("a fill of a resting order");
                            assert_eq!(resting.price, d.price);
                            fills += 1;
                            last_fill = Some((d.order_id, d.size));
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                    if d.flags.contains(BookFlags::LAST) {
                        let (bid, ask) = (book.best_bid().unwrap(), book.best_ask().unwrap());
                        assert!(bid.price < ask.price, "crossed at a consistent point");
                        checks += 1;
                    }
                }
                _ => {}
            }
        }
        assert!(
            checks > 1000 && fills > 100 && trades > 100,
            "{checks} {fills} {trades}"
        );
        // A restore in the middle carries on exactly.
        let mut first = market(&[("book", "orders")]);
        let mut second = market(&[("book", "orders")]);
        let head = take(&mut first, 5_000);
        second.load_state(&first.save_state()).unwrap();
        assert_eq!(
            debug(&take(&mut first, 3_000)),
            debug(&take(&mut second, 3_000))
        );
        assert_eq!(head.len(), 5_000);
        assert!(
            market(&[]).load_state(&first.save_state()).is_err(),
            "book kinds differ"
        );
    }
}

//! Moving-average crossover: a trend-following strategy.
//!
//! For every instrument it keeps the last `slow` quote mids and compares the
//! simple moving average of the last `fast` of them with that of all `slow`.
//! When the fast average crosses above the slow one (a golden cross) it targets
//! a long position of `quantity`; when it crosses below (a death cross), a short
//! one of `quantity`. A cross counts once the gap between the averages exceeds
//! `band_bps` (hysteresis against whipsaws). The first full window only tells it
//! which side the fast average is on; it trades only on a later cross. While a
//! trend lasts, every further `scale_bps` of gap adds another `quantity` to the
//! target, up to `max_position`, so a flip from a scaled-up long to a short is a
//! large order: position, quantity and notional limits are there to catch these.
//!
//! Orders are marketable IOC limits: buy at the ask, sell at the bid. Every quote
//! updates the averages, but orders are decided once per market batch, on each
//! instrument's last quote (the touch the host has just posted as liquidity). At
//! most one order per instrument is in flight; any shortfall (partial fill, no
//! liquidity) is retried on a later batch. The strategy keeps its position and
//! order from its own execution reports. After a rejection it waits `cooldown`
//! quote updates of that instrument; a rejected add-on to a trend is abandoned,
//! and after a quantity, notional or position-limit rejection of an entry it
//! works the rest in clips of half the refused size.
//!
//! Config keys (defaults):
//! - `fast` (10): quote updates in the fast average, at least 1
//! - `slow` (40): quote updates in the slow average, more than `fast`
//! - `quantity` (100): units per position step, positive
//! - `max_position` (400): largest absolute target position, at least `quantity`
//! - `band_bps` (1.5): gap between the averages, in basis points of the slow
//!   average, that makes a cross, not negative
//! - `scale_bps` (3): further gap, in basis points, per added step; 0 never adds
//! - `cooldown` (20): quote updates to wait after a rejection

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::keeper::{Change, Keeper};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Quote, RejectReason, Side, Strategy,
    TimeInForce, fixed,
};

/// Format version written first by `save_state` (2: the orders, positions
/// and cooldowns in the SDK's keeper).
const STATE_VERSION: u8 = 2;

/// Quote updates after which an order still in flight is canceled. An IOC order
/// normally ends in the report batch right after its submission; this only
/// clears one the host left open. After three times as many, a cancel that was
/// never answered is given up and the order forgotten.
const STALE_QUOTES: u32 = 10;

/// Tunables read from the plugin config; see the crate docs for the keys.
#[derive(Debug, Clone)]
struct Params {
    /// `fast` (default 10): quote updates in the fast average.
    fast: usize,
    /// `slow` (default 40): quote updates in the slow average.
    slow: usize,
    /// `quantity` (default 100 units): one position step.
    quantity: i64,
    /// `max_position` (default 400 units): cap on the absolute target.
    max_position: i64,
    /// `band_bps` (default 1.5): gap a cross must open before it counts.
    band_bps: f64,
    /// `scale_bps` (default 3): further gap per added step; 0 disables scaling in.
    scale_bps: f64,
    /// `cooldown` (default 20): quote updates to wait after a rejection.
    cooldown: u32,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "fast",
            "slow",
            "quantity",
            "max_position",
            "band_bps",
            "scale_bps",
            "cooldown",
            "signals",
        ])?;
        let params = Self {
            fast: config.parse_or("fast", 10)?,
            slow: config.parse_or("slow", 40)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_position: config.fixed_or("max_position", fixed::from_units(400))?,
            band_bps: config.parse_or("band_bps", 1.5)?,
            scale_bps: config.parse_or("scale_bps", 3.0)?,
            cooldown: config.parse_or("cooldown", 20)?,
        };
        if params.fast == 0 {
            return Err("config `fast`: must be at least 1".into());
        }
        if params.slow <= params.fast || params.slow > 100_000 {
            return Err("config `slow`: must be greater than `fast` and at most 100000".into());
        }
        if params.quantity <= 0 {
            return Err("config `quantity`: must be positive".into());
        }
        if params.max_position < params.quantity {
            return Err("config `max_position`: must be at least `quantity`".into());
        }
        if !(params.band_bps.is_finite() && params.band_bps >= 0.0) {
            return Err("config `band_bps`: must be a non-negative number".into());
        }
        if !(params.scale_bps.is_finite() && params.scale_bps >= 0.0) {
            return Err("config `scale_bps`: must be a non-negative number".into());
        }
        Ok(params)
    }
}

/// Everything the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Book {
    tick: i64,
    lot: i64,
    /// The last `slow` mids, oldest first.
    mids: VecDeque<i64>,
    /// Side of the fast average against the slow one: 1 above, -1 below, 0 unknown.
    trend: i8,
    /// Steps of `quantity` reached in the current trend.
    level: i64,
    /// Signed position the strategy works towards.
    target: i64,
    /// Largest order to send; shrinks after limit rejections, reset on a cross.
    clip: i64,
}

impl Book {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            mids: VecDeque::new(),
            trend: 0,
            level: 0,
            target: 0,
            clip: i64::MAX,
        }
    }

    /// Take in one quote: the averages, the target, the order's age and the
    /// cooldown move on. Returns false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Params) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        while self.mids.len() > p.slow {
            self.mids.pop_front();
        }
        if self.mids.len() == p.slow {
            self.update_target(p);
        }
        true
    }

    /// Detect crosses and trend strength, and move `target` accordingly.
    fn update_target(&mut self, p: &Params) {
        let fast_sum: i128 = self
            .mids
            .iter()
            .rev()
            .take(p.fast)
            .map(|&m| i128::from(m))
            .sum();
        let slow_sum: i128 = self.mids.iter().map(|&m| i128::from(m)).sum();
        if slow_sum <= 0 {
            return;
        }
        // (fast_avg - slow_avg) * fast * slow, exact; divided by fast * slow_sum
        // it is the gap as a fraction of the slow average.
        let diff = fast_sum * p.slow as i128 - slow_sum * p.fast as i128;
        let gap_bps = diff as f64 / (p.fast as f64 * slow_sum as f64) * 1e4;
        let trend = if gap_bps > p.band_bps {
            1
        } else if gap_bps < -p.band_bps {
            -1
        } else {
            return; // inside the band: no (new) side
        };
        if self.trend == 0 {
            self.trend = trend; // first full window: learn the side, no cross yet
        } else if trend != self.trend {
            self.trend = trend;
            self.level = 1;
            self.clip = i64::MAX;
            self.target = i64::from(trend) * p.quantity;
        } else if self.target != 0 && p.scale_bps > 0.0 {
            let level = 1 + ((gap_bps.abs() - p.band_bps) / p.scale_bps) as i64; // saturating
            if level > self.level && self.target.abs() < p.max_position {
                self.level = level;
                let size = p.quantity.saturating_mul(level).min(p.max_position);
                self.target = i64::from(trend) * size;
            }
        }
    }

    /// Send what it takes to move from the position to `target`, one order
    /// at a time: an order still in flight after `STALE_QUOTES` quotes is
    /// canceled, and forgotten after three times as many.
    fn trade(&mut self, q: &Quote, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        let instrument = q.instrument;
        if keeper.cooling(instrument) {
            return;
        }
        keeper.stale(out, instrument, STALE_QUOTES, 3 * STALE_QUOTES);
        if keeper.in_flight(instrument).is_some() {
            return;
        }
        let wanted = self.target.saturating_sub(keeper.position(instrument));
        let quantity = fixed::floor_to_tick(wanted.saturating_abs().min(self.clip), self.lot);
        if quantity <= 0 {
            return;
        }
        let (side, price) = if wanted > 0 {
            (Side::Buy, fixed::ceil_to_tick(q.ask_price, self.tick))
        } else {
            (Side::Sell, fixed::floor_to_tick(q.bid_price, self.tick))
        };
        let (limit, ioc) = (OrderType::Limit, TimeInForce::Ioc);
        keeper.submit(out, instrument, side, limit, ioc, price, quantity);
    }

    /// After a rejection of its order (or of its cancel) it waits
    /// `cooldown` quotes; a refused add-on to a trend is abandoned, a refused
    /// entry worked in clips of half the refused size.
    fn on_change(&mut self, change: Change, keeper: &mut Keeper, p: &Params) {
        let (order, reason) = match change {
            Change::CancelRefused { order, .. } => {
                keeper.cool(order.instrument, p.cooldown);
                return;
            }
            Change::Rejected { order, reason } => (order, reason),
            _ => return,
        };
        keeper.cool(order.instrument, p.cooldown);
        let refused = order.leaves;
        if refused <= 0 {
            return; // the order had already ended
        }
        let position = keeper.position(order.instrument);
        let adding = (order.side == Side::Buy) == (position > 0) && position != 0;
        if adding {
            self.target = position; // abandon this add-on
        } else if matches!(
            reason,
            RejectReason::QuantityLimit | RejectReason::NotionalLimit | RejectReason::PositionLimit
        ) {
            self.clip = fixed::floor_to_tick(refused / 2, self.lot).max(self.lot);
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick).i64(self.lot).u32(self.mids.len() as u32);
        for &mid in &self.mids {
            w.i64(mid);
        }
        w.u8(self.trend as u8)
            .i64(self.level)
            .i64(self.target)
            .i64(self.clip);
    }

    fn load(r: &mut StateReader<'_>, p: &Params) -> Result<Self, String> {
        let mut book = Self::new(positive(r.i64()?, "tick")?, positive(r.i64()?, "lot")?);
        let len = r.u32()?;
        for _ in 0..len {
            book.mids.push_back(r.i64()?);
        }
        // A newer config may use a shorter window: keep the latest mids.
        while book.mids.len() > p.slow {
            book.mids.pop_front();
        }
        book.trend = match r.u8()? as i8 {
            t @ -1..=1 => t,
            _ => return Err("state: bad trend".into()),
        };
        book.level = r.i64()?;
        book.target = r.i64()?;
        book.clip = positive(r.i64()?, "clip")?;
        Ok(book)
    }
}

fn positive(value: i64, what: &str) -> Result<i64, String> {
    if value > 0 {
        Ok(value)
    } else {
        Err(format!("state: {what} must be positive"))
    }
}

/// The moving-average crossover strategy; see the crate docs.
#[derive(Debug)]
pub struct MaCrossover {
    params: Params,
    books: BTreeMap<u32, Book>,
    /// Its orders, positions and cooldowns.
    keeper: Keeper,
}

impl Strategy for MaCrossover {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            books: BTreeMap::new(),
            keeper: Keeper::default(),
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        // Every quote updates the signal; orders are decided once per batch on
        // each instrument's last quote, the touch the host has just posted.
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => {
                    let (tick, lot) = (def.tick_size.max(1), def.lot_size.max(1));
                    let book = self.books.entry(def.id);
                    let book = book.or_insert_with(|| Book::new(tick, lot));
                    (book.tick, book.lot) = (tick, lot);
                }
                MarketEvent::Quote(q) => {
                    let book = self.books.get_mut(&q.instrument);
                    if book.is_some_and(|book| book.observe(q, &self.params)) {
                        // A quote is its clock: orders age, cooldowns run down.
                        self.keeper.tick(q.instrument);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            if let Some(book) = self.books.get_mut(&id) {
                book.trade(q, &mut self.keeper, orders);
            }
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let Some(book) = self.books.get_mut(&event.instrument()) else {
                continue;
            };
            if let Some(change) = self.keeper.apply(event) {
                book.on_change(change, &mut self.keeper, &self.params);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION);
        self.keeper.save(&mut w);
        w.u32(self.books.len() as u32);
        for (&id, book) in &self.books {
            w.u32(id);
            book.save(&mut w);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let keeper = Keeper::load(&mut r)?;
        let mut books = BTreeMap::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            books.insert(id, Book::load(&mut r, &self.params)?);
        }
        r.finish()?;
        // Only now, with everything decoded, replace the running state.
        self.keeper = keeper;
        self.books = books;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MaCrossover);

#[cfg(test)]
mod tests;

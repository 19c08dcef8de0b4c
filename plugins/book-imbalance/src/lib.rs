//! Book imbalance: trades the pressure of the resting volume near the touch.
//!
//! For every instrument the strategy reads the best `levels` levels of each side
//! of the host's order book (`host::depth`) and scores them as
//! `imbalance = (bid volume - ask volume) / (bid volume + ask volume)`, in
//! `[-1, 1]`: positive when more is bid than offered. The score is smoothed by an
//! exponential moving average over about `smoothing` quote updates (weight
//! `2 / (smoothing + 1)` per update; `smoothing = 1` is the raw score), and no
//! order goes out before `smoothing` quote updates have been seen.
//!
//! The host posts a quote after every change of a book's touch, but applies the
//! whole market batch to its books before the strategy runs: the book between two
//! quotes of one batch cannot be read. So the book is read once per instrument
//! and batch, after its last quote, and a batch with `k` quotes of the instrument
//! counts as `k` updates of the average with that reading. On a feed with only
//! the touch (quotes, no book data) the host's book has one level per side and the
//! imbalance is that of the touch sizes; when the host has no book at all, the
//! quote's own sizes are used.
//!
//! Decisions (once per instrument per batch, on its last quote, one order at a
//! time per instrument):
//! - entry: a smoothed imbalance above `entry` buys `quantity`, one below
//!   `-entry` sells it, with a marketable IOC limit at the far touch (buy at the
//!   best ask, sell at the best bid); while the signal holds it adds `quantity`
//!   per batch until the absolute position is `max_position`;
//! - exit: a long position is flattened (an IOC for all of it at the best bid)
//!   once the smoothed imbalance is at or below `exit`, a short one (at the best
//!   ask) once it is at or above `-exit`; or, either way, once the position has
//!   been open `max_hold_ms` of market time (from the fill that opened it to the
//!   quote's time). After such a time exit no new entry on the same side is made
//!   until the imbalance has come back through `exit`, so a lasting imbalance is
//!   not re-entered at once. After an exit that fills only in part, the rest is
//!   sent on a later batch while the exit condition still holds (a time exit's
//!   always does). A remainder below one lot cannot be traded and counts as flat.
//!
//! It keeps its position and its one order in flight per instrument from its own
//! execution reports (an order with no answer for 100 quote updates is
//! forgotten), sends nothing while an instrument's status is not `trading`, and
//! after any rejection sends no order for that instrument (exits included) during
//! `cooldown` quote updates. Prices are rounded to the tick so that the order still
//! reaches the touch (a buy's up, a sell's down), quantities down to the lot.
//!
//! With a `signals` entry (for example `signals = "imbalance:5"`, what the
//! `indicators` processor derives with `imbalance = 5`), the raw score is the
//! first subscribed signal's last value for the instrument in the batch
//! instead of the strategy's own reading of the book; a batch without that
//! signal for an instrument leaves its average as it was.
//!
//! Config keys (defaults):
//! - `signals` (none): a signal to use as the raw imbalance, see above
//! - `levels` (5): book levels per side in the imbalance, 1 to 100
//! - `smoothing` (10): quote updates of the moving average (its span), 1 to 100000
//! - `entry` (0.2): smoothed imbalance beyond which it enters, above 0 and below 1
//! - `exit` (0.0): imbalance at which a position is closed (a long at `exit` or
//!   below, a short at `-exit` or above), above `-entry` and below `entry`
//! - `quantity` (100): units per entry order, positive
//! - `max_position` (500): largest absolute position, at least `quantity`
//! - `max_hold_ms` (5000): market time a position may be held, in milliseconds;
//!   0 holds until the imbalance exit
//! - `cooldown` (10): quote updates to wait after a rejection

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tradsys_sdk::keeper::Keeper;
use tradsys_sdk::signals::Subscriptions;
use tradsys_sdk::{
    BookDepth, Config, DepthLevel, MarketEvent, OrderCommand, OrderEvent, Params, Quote, Side,
    Strategy, TradingStatus, fixed, host, state,
};

/// Format version of `save_state` (3: serde, the keeper holding tick and lot).
const STATE_VERSION: u8 = 3;
/// Quote updates after which an order never answered is forgotten.
const FORGET_AFTER: u32 = 100;
/// Most instruments a saved state may hold (the host's own bound).
const MAX_INSTRUMENTS: usize = 100_000;
const MS_NS: u64 = 1_000_000;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone, Params)]
#[params(also = "signals", check = Self::check)]
struct Tunables {
    #[param(default = 5, min = 1, max = 100)]
    levels: u32,
    #[param(default = 10, min = 1, max = 100_000)]
    smoothing: u32,
    #[param(default = 0.2, positive)]
    entry: f64,
    #[param(default = 0.0)]
    exit: f64,
    #[param(decimal = "100", positive, max = "1000000000")]
    quantity: i64,
    #[param(decimal = "500", min = quantity)]
    max_position: i64,
    /// 0 for none; at most a year.
    #[param(default = 5000, max = 365 * 24 * 3_600_000)]
    max_hold_ms: u64,
    #[param(default = 10)]
    cooldown: u32,
}

impl Tunables {
    fn check(&self) -> Result<(), String> {
        if self.entry >= 1.0 {
            Err("config `entry`: must be above 0 and below 1".into())
        } else if !(self.exit > -self.entry && self.exit < self.entry) {
            Err("config `exit`: must be above `-entry` and below `entry`".into())
        } else {
            Ok(())
        }
    }

    /// Weight of one update in the moving average.
    fn alpha(&self) -> f64 {
        2.0 / (f64::from(self.smoothing) + 1.0)
    }
}

/// `(bid volume - ask volume) / (bid volume + ask volume)` of some levels, if
/// there is any volume.
fn imbalance(bids: &[DepthLevel], asks: &[DepthLevel]) -> Option<f64> {
    let volume = |levels: &[DepthLevel]| -> i128 {
        levels.iter().map(|l| i128::from(l.quantity.max(0))).sum()
    };
    let (bid, ask) = (volume(bids), volume(asks));
    let total = bid + ask;
    (total > 0).then(|| (bid - ask) as f64 / total as f64)
}

/// The imbalance of `book`, or of `q`'s touch sizes when the book is empty.
fn book_imbalance(book: &BookDepth, q: &Quote) -> Option<f64> {
    if book.bids.is_empty() && book.asks.is_empty() {
        let level = |price, quantity| DepthLevel {
            price,
            quantity,
            orders: 1,
        };
        imbalance(
            &[level(q.bid_price, q.bid_size)],
            &[level(q.ask_price, q.ask_size)],
        )
    } else {
        imbalance(&book.bids, &book.asks)
    }
}

/// What the strategy tracks for one instrument besides its orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Instrument {
    /// Smoothed imbalance.
    average: f64,
    /// Quote updates in the average, up to `smoothing`.
    seen: u32,
    /// Market time the position was opened (`None` when flat).
    opened_at: Option<u64>,
    /// After a time exit: the side not to enter until the imbalance resets.
    blocked: Option<Side>,
    /// The instrument's status does not allow trading.
    halted: bool,
    /// Time of the latest quote.
    last_ts: u64,
}

impl Instrument {
    /// Take in `updates` quote updates whose book has imbalance `value`.
    fn observe(&mut self, value: f64, updates: u32, p: &Tunables) {
        let alpha = p.alpha();
        for _ in 0..updates {
            self.average = if self.seen == 0 {
                value
            } else {
                self.average + alpha * (value - self.average)
            };
            self.seen = self.seen.saturating_add(1).min(p.smoothing);
        }
        self.average = self.average.clamp(-1.0, 1.0);
        let reset = match self.blocked {
            Some(Side::Buy) => self.average <= p.exit,
            Some(Side::Sell) => self.average >= -p.exit,
            None => false,
        };
        if reset {
            self.blocked = None;
        }
    }

    /// Decide this batch's order on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Tunables, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        self.last_ts = self.last_ts.max(q.ts);
        let busy = keeper.in_flight(q.instrument).is_some() || keeper.cooling(q.instrument);
        if busy || self.halted || self.seen < p.smoothing {
            return;
        }
        let position = keeper.position(q.instrument);
        if q.bid_price <= 0 || q.ask_price <= q.bid_price {
            return; // empty or crossed touch
        }
        // A remainder below one lot cannot be traded: it counts as flat.
        let lot = keeper.grid(q.instrument).map_or(1, |g| g.lot);
        let closable = fixed::floor_to_tick(position.saturating_abs(), lot);
        let held = if closable > 0 { position.signum() } else { 0 };
        if held != 0 {
            let side = if held > 0 { Side::Buy } else { Side::Sell };
            let faded = match side {
                Side::Buy => self.average <= p.exit,
                Side::Sell => self.average >= -p.exit,
            };
            let opened = self.opened_at.unwrap_or(q.ts);
            let max_hold_ns = p.max_hold_ms * MS_NS;
            let expired = max_hold_ns > 0 && q.ts.saturating_sub(opened) >= max_hold_ns;
            if faded || expired {
                if expired && !faded {
                    self.blocked = Some(side);
                }
                keeper.take(out, q, -side.signed(closable)); // a marketable IOC
                return;
            }
        }
        let side = if self.average > p.entry {
            Side::Buy
        } else if self.average < -p.entry {
            Side::Sell
        } else {
            return;
        };
        if self.blocked == Some(side) {
            return;
        }
        // Not held against the signal: that position has just been exited.
        let room = p.max_position.saturating_sub(side.signed(position));
        keeper.take(out, q, side.signed(room.min(p.quantity))); // a marketable IOC
    }

    /// The position opened (or flipped through flat) at `ts`, or closed.
    fn moved(&mut self, before: i64, after: i64, ts: u64) {
        if after == 0 {
            self.opened_at = None;
        } else if before == 0 || before.signum() != after.signum() {
            self.opened_at = Some(ts.max(self.last_ts));
        }
    }
}

/// The book-imbalance strategy; see the crate docs.
#[derive(Debug)]
pub struct BookImbalance {
    p: Tunables,
    /// The signal read as the raw score, when configured.
    signal: Subscriptions,
    instruments: BTreeMap<u32, Instrument>,
    /// Its orders, positions, cooldowns, ticks and lots.
    keeper: Keeper,
}

impl Strategy for BookImbalance {
    fn new(config: &Config) -> Result<Self, String> {
        let (p, signal) = (
            Tunables::from_config(config)?,
            Subscriptions::from_config(config)?,
        );
        let (instruments, keeper) = Default::default();
        Ok(Self {
            p,
            signal,
            instruments,
            keeper,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        // Per instrument: its last usable quote and how many quotes it had.
        let mut last: BTreeMap<u32, (&Quote, u32)> = BTreeMap::new();
        // Per instrument: the last value of the subscribed signal.
        let mut signalled: BTreeMap<u32, f64> = BTreeMap::new();
        for event in events {
            if let Some((0, s)) = self.signal.get(event) {
                signalled.insert(s.instrument, s.value);
                continue;
            }
            match event {
                MarketEvent::Instrument(def) => {
                    self.keeper.define(def);
                    self.instruments.entry(def.id).or_default();
                }
                MarketEvent::Status(s) => {
                    if let Some(inst) = self.instruments.get_mut(&s.instrument) {
                        inst.halted = s.status != TradingStatus::Trading;
                    }
                }
                MarketEvent::Quote(q) if self.instruments.contains_key(&q.instrument) => {
                    let entry = last.entry(q.instrument).or_insert((q, 0));
                    *entry = (q, entry.1.saturating_add(1));
                }
                _ => {}
            }
        }
        let p = &self.p;
        for (id, (q, updates)) in last {
            let Some(inst) = self.instruments.get_mut(&id) else {
                continue;
            };
            // Quotes are its clock: orders age (one never answered in
            // `FORGET_AFTER` is forgotten), cooldowns run down.
            for _ in 0..updates {
                self.keeper.tick(id);
            }
            self.keeper.stale(orders, id, FORGET_AFTER, FORGET_AFTER);
            let value = if self.signal.is_empty() {
                book_imbalance(&host::depth(id, p.levels), q)
            } else {
                signalled.get(&id).map(|v| v.clamp(-1.0, 1.0))
            };
            if let Some(value) = value {
                inst.observe(value, updates, p);
            }
            inst.act(q, p, &mut self.keeper, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let id = event.instrument();
            let Some(inst) = self.instruments.get_mut(&id) else {
                continue;
            };
            let before = self.keeper.position(id);
            self.keeper.apply(event);
            if let OrderEvent::Filled(f) = event {
                inst.moved(before, self.keeper.position(id), f.ts);
            }
            // Any rejection on the instrument pauses it, exits included.
            if matches!(event, OrderEvent::Rejected(_)) {
                self.keeper.cool(id, self.p.cooldown);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(STATE_VERSION, &(&self.keeper, &self.instruments))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let (keeper, mut instruments): (Keeper, BTreeMap<u32, Instrument>) =
            state::load(STATE_VERSION, state)?;
        let count = instruments.len();
        if count > MAX_INSTRUMENTS {
            return Err(format!(
                "state: {count} instruments, at most {MAX_INSTRUMENTS}"
            ));
        }
        for inst in instruments.values_mut() {
            if !(-1.0..=1.0).contains(&inst.average) {
                return Err(format!("state: imbalance {} out of range", inst.average));
            }
            inst.seen = inst.seen.min(self.p.smoothing); // a newer config may smooth less
        }
        // Decoded in full: only now replace the running state.
        (self.keeper, self.instruments) = (keeper, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(BookImbalance);

#[cfg(test)]
mod tests;

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

use tradsys_sdk::signals::Subscriptions;
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, Config, DepthLevel, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType,
    Quote, Side, Strategy, TimeInForce, TradingStatus, fixed, host,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;
/// Quote updates after which an order never answered is forgotten.
const FORGET_AFTER: u32 = 100;
/// Most instruments a saved state may hold (the host's own bound).
const MAX_INSTRUMENTS: u32 = 100_000;
const MS_NS: u64 = 1_000_000;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone)]
struct Params {
    /// `levels` (default 5).
    levels: u32,
    /// `smoothing` (default 10).
    smoothing: u32,
    /// `entry` (default 0.2).
    entry: f64,
    /// `exit` (default 0.0).
    exit: f64,
    /// `quantity` (default 100 units).
    quantity: i64,
    /// `max_position` (default 500 units).
    max_position: i64,
    /// `max_hold_ms` (default 5000), in nanoseconds here; 0 for none.
    max_hold_ns: u64,
    /// `cooldown` (default 10).
    cooldown: u32,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        let max_hold_ms: u64 = config.parse_or("max_hold_ms", 5000)?;
        let p = Self {
            levels: config.parse_or("levels", 5)?,
            smoothing: config.parse_or("smoothing", 10)?,
            entry: config.parse_or("entry", 0.2)?,
            exit: config.parse_or("exit", 0.0)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_position: config.fixed_or("max_position", fixed::from_units(500))?,
            max_hold_ns: max_hold_ms.saturating_mul(MS_NS),
            cooldown: config.parse_or("cooldown", 10)?,
        };
        let ensure = |ok: bool, key: &str, why: &str| match ok {
            true => Ok(()),
            false => Err(format!("config `{key}`: {why}")),
        };
        ensure((1..=100).contains(&p.levels), "levels", "must be 1 to 100")?;
        let smoothing_ok = (1..=100_000).contains(&p.smoothing);
        ensure(smoothing_ok, "smoothing", "must be 1 to 100000")?;
        let entry_ok = p.entry > 0.0 && p.entry < 1.0; // false for NaN
        ensure(entry_ok, "entry", "must be above 0 and below 1")?;
        let exit_ok = p.exit > -p.entry && p.exit < p.entry;
        ensure(exit_ok, "exit", "must be above `-entry` and below `entry`")?;
        let quantity_ok = (1..=fixed::from_units(1_000_000_000)).contains(&p.quantity);
        ensure(
            quantity_ok,
            "quantity",
            "must be positive, at most 1000000000",
        )?;
        let position_ok = p.max_position >= p.quantity;
        ensure(position_ok, "max_position", "must be at least `quantity`")?;
        ensure(
            max_hold_ms <= 365 * 24 * 3_600_000,
            "max_hold_ms",
            "must be at most a year",
        )?;
        Ok(p)
    }

    /// Weight of one update in the moving average.
    fn alpha(&self) -> f64 {
        2.0 / (f64::from(self.smoothing) + 1.0)
    }
}

/// The one order of an instrument the venue has not finished with.
#[derive(Debug, Clone, PartialEq)]
struct Working {
    id: u64,
    side: Side,
    /// Quantity still open.
    leaves: i64,
    /// It closes a position (rather than opening or adding to one).
    exit: bool,
    /// Quote updates since it was sent.
    age: u32,
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

/// `quantity` signed by `side`.
fn signed(side: Side, quantity: i64) -> i64 {
    match side {
        Side::Buy => quantity,
        Side::Sell => -quantity,
    }
}

/// What the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    tick: i64,
    lot: i64,
    /// Smoothed imbalance.
    average: f64,
    /// Quote updates in the average, up to `smoothing`.
    seen: u32,
    /// Signed net position from fills.
    position: i64,
    /// Market time the position was opened (`None` when flat).
    opened_at: Option<u64>,
    order: Option<Working>,
    /// Quote updates left before any new order.
    cooldown: u32,
    /// After a time exit: the side not to enter until the imbalance resets.
    blocked: Option<Side>,
    /// The instrument's status allows trading.
    trading: bool,
    /// Time of the latest quote.
    last_ts: u64,
}

impl Instrument {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            average: 0.0,
            seen: 0,
            position: 0,
            opened_at: None,
            order: None,
            cooldown: 0,
            blocked: None,
            trading: true,
            last_ts: 0,
        }
    }

    /// Take in `updates` quote updates whose book has imbalance `value`.
    fn observe(&mut self, value: f64, updates: u32, p: &Params) {
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

    /// Count `updates` quote updates against the order's age and the cooldown.
    fn tick_clock(&mut self, updates: u32) {
        if let Some(o) = &mut self.order {
            o.age = o.age.saturating_add(updates);
            if o.age >= FORGET_AFTER {
                self.order = None; // never answered
            }
        }
        self.cooldown = self.cooldown.saturating_sub(updates);
    }

    /// Decide this batch's order on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Params, next_id: &mut u64, out: &mut Vec<OrderCommand>) {
        self.last_ts = self.last_ts.max(q.ts);
        if self.order.is_some() || self.cooldown > 0 || !self.trading || self.seen < p.smoothing {
            return;
        }
        if q.bid_price <= 0 || q.ask_price <= q.bid_price {
            return; // empty or crossed touch
        }
        // A remainder below one lot cannot be traded: it counts as flat.
        let closable = fixed::floor_to_tick(self.position.saturating_abs(), self.lot);
        let held = if closable > 0 {
            self.position.signum()
        } else {
            0
        };
        if held != 0 {
            let side = if held > 0 { Side::Buy } else { Side::Sell };
            let faded = match side {
                Side::Buy => self.average <= p.exit,
                Side::Sell => self.average >= -p.exit,
            };
            let opened = self.opened_at.unwrap_or(q.ts);
            let expired = p.max_hold_ns > 0 && q.ts.saturating_sub(opened) >= p.max_hold_ns;
            if faded || expired {
                if expired && !faded {
                    self.blocked = Some(side);
                }
                let close = match side {
                    Side::Buy => Side::Sell,
                    Side::Sell => Side::Buy,
                };
                self.send(close, closable, true, q, next_id, out);
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
        let room = p.max_position.saturating_sub(signed(side, self.position));
        let quantity = fixed::floor_to_tick(room.min(p.quantity), self.lot);
        self.send(side, quantity, false, q, next_id, out);
    }

    /// Send a marketable IOC of `quantity` at the far touch of `q`.
    fn send(
        &mut self,
        side: Side,
        quantity: i64,
        exit: bool,
        q: &Quote,
        next_id: &mut u64,
        out: &mut Vec<OrderCommand>,
    ) {
        let price = match side {
            Side::Buy => fixed::ceil_to_tick(q.ask_price, self.tick),
            Side::Sell => fixed::floor_to_tick(q.bid_price, self.tick),
        };
        if quantity <= 0 || price <= 0 {
            return;
        }
        *next_id += 1;
        self.order = Some(Working {
            id: *next_id,
            side,
            leaves: quantity,
            exit,
            age: 0,
        });
        out.push(OrderCommand::Submit(NewOrder {
            id: *next_id,
            instrument: q.instrument,
            side,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price,
            quantity,
        }));
    }

    fn on_order_event(&mut self, event: &OrderEvent, p: &Params) {
        if let OrderEvent::Filled(f) = event {
            let before = self.position;
            self.position = before.saturating_add(signed(f.side, f.quantity.max(0)));
            let ts = f.ts.max(self.last_ts);
            if self.position == 0 {
                self.opened_at = None;
            } else if before == 0 || before.signum() != self.position.signum() {
                self.opened_at = Some(ts); // opened, or flipped through flat
            }
        }
        let Some(o) = self.order.as_mut() else {
            if matches!(event, OrderEvent::Rejected(_)) {
                self.cooldown = p.cooldown;
            }
            return;
        };
        let done = match event {
            OrderEvent::Filled(f) if f.id == o.id => {
                o.leaves = f.leaves_quantity;
                f.leaves_quantity <= 0
            }
            OrderEvent::Modified(m) if m.id == o.id => {
                o.leaves = m.leaves_quantity;
                m.leaves_quantity <= 0
            }
            OrderEvent::Canceled(c) => c.id == o.id,
            OrderEvent::Rejected(r) => {
                self.cooldown = p.cooldown;
                r.id == o.id
            }
            _ => false,
        };
        if done {
            self.order = None;
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick)
            .i64(self.lot)
            .f64(self.average)
            .u32(self.seen);
        w.i64(self.position).option(self.opened_at, |w, t| {
            w.u64(t);
        });
        w.option(self.order.as_ref(), |w, o| {
            w.u64(o.id)
                .side(o.side)
                .i64(o.leaves)
                .bool(o.exit)
                .u32(o.age);
        });
        w.u32(self.cooldown).option(self.blocked, |w, s| {
            w.side(s);
        });
        w.bool(self.trading).u64(self.last_ts);
    }

    fn load(r: &mut StateReader<'_>, p: &Params) -> Result<Self, String> {
        let (tick, lot) = (r.i64()?, r.i64()?);
        if tick <= 0 || lot <= 0 {
            return Err("state: tick and lot must be positive".into());
        }
        let mut inst = Self::new(tick, lot);
        inst.average = r.f64()?;
        if !(-1.0..=1.0).contains(&inst.average) {
            return Err(format!("state: imbalance {} out of range", inst.average));
        }
        // A newer config may smooth over fewer updates.
        inst.seen = r.u32()?.min(p.smoothing);
        inst.position = r.i64()?;
        inst.opened_at = r.option(|r| r.u64())?;
        inst.order = r.option(|r| {
            Ok(Working {
                id: r.u64()?,
                side: r.side()?,
                leaves: r.i64()?,
                exit: r.bool()?,
                age: r.u32()?,
            })
        })?;
        inst.cooldown = r.u32()?;
        inst.blocked = r.option(|r| r.side())?;
        inst.trading = r.bool()?;
        inst.last_ts = r.u64()?;
        Ok(inst)
    }
}

/// The book-imbalance strategy; see the crate docs.
#[derive(Debug)]
pub struct BookImbalance {
    params: Params,
    /// The signal read as the raw score, when configured.
    signal: Subscriptions,
    instruments: BTreeMap<u32, Instrument>,
    /// Id of the last order sent; ids start at 1 and are never reused.
    next_id: u64,
}

impl Strategy for BookImbalance {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            signal: Subscriptions::from_config(config)?,
            instruments: BTreeMap::new(),
            next_id: 0,
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
                    let (tick, lot) = (def.tick_size.max(1), def.lot_size.max(1));
                    let inst = self.instruments.entry(def.id);
                    let inst = inst.or_insert_with(|| Instrument::new(tick, lot));
                    (inst.tick, inst.lot) = (tick, lot);
                }
                MarketEvent::Status(s) => {
                    if let Some(inst) = self.instruments.get_mut(&s.instrument) {
                        inst.trading = s.status == TradingStatus::Trading;
                    }
                }
                MarketEvent::Quote(q) if self.instruments.contains_key(&q.instrument) => {
                    let entry = last.entry(q.instrument).or_insert((q, 0));
                    *entry = (q, entry.1.saturating_add(1));
                }
                _ => {}
            }
        }
        let p = &self.params;
        for (id, (q, updates)) in last {
            let Some(inst) = self.instruments.get_mut(&id) else {
                continue;
            };
            inst.tick_clock(updates);
            let value = if self.signal.is_empty() {
                book_imbalance(&host::depth(id, p.levels), q)
            } else {
                signalled.get(&id).map(|v| v.clamp(-1.0, 1.0))
            };
            if let Some(value) = value {
                inst.observe(value, updates, p);
            }
            inst.act(q, p, &mut self.next_id, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            if let Some(inst) = self.instruments.get_mut(&event.instrument()) {
                inst.on_order_event(event, &self.params);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION)
            .u64(self.next_id)
            .u32(self.instruments.len() as u32);
        for (&id, inst) in &self.instruments {
            w.u32(id);
            inst.save(&mut w);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let next_id = r.u64()?;
        let count = r.u32()?;
        if count > MAX_INSTRUMENTS {
            return Err(format!(
                "state: {count} instruments, at most {MAX_INSTRUMENTS}"
            ));
        }
        let mut instruments = BTreeMap::new();
        for _ in 0..count {
            let id = r.u32()?;
            let inst = Instrument::load(&mut r, &self.params)?;
            if inst.order.as_ref().is_some_and(|o| o.id > next_id) {
                return Err(format!("state: order id beyond the last id {next_id}"));
            }
            if instruments.insert(id, inst).is_some() {
                return Err(format!("state: instrument {id} appears twice"));
            }
        }
        r.finish()?;
        // Decoded in full: only now replace the running state.
        (self.next_id, self.instruments) = (next_id, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(BookImbalance);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{book_depth, instrument, px, units};
    use tradsys_sdk::{
        Fill, InstrumentDefinition, OrderAccepted, OrderCanceled, OrderRejected, RejectReason,
        Rejection, StatusChange,
    };

    const MS: u64 = MS_NS;

    fn strategy_with(extra: &[(&str, &str)], def: InstrumentDefinition) -> BookImbalance {
        // The tests are written for an entry of 0.3.
        let mut entries = vec![("smoothing", "1"), ("cooldown", "0"), ("entry", "0.3")];
        entries.extend_from_slice(extra);
        let mut s = BookImbalance::new(&Config::new(entries)).unwrap();
        s.on_market(&[MarketEvent::Instrument(def)], &mut Vec::new());
        s
    }

    fn strategy(extra: &[(&str, &str)]) -> BookImbalance {
        strategy_with(extra, instrument(0, "SYN-A"))
    }

    /// A book of instrument 0 at 100.00 / 100.01 with `bids` and `asks` units
    /// on the levels from the touch out, a cent apart.
    fn set_book(bids: &[i64], asks: &[i64]) {
        let side = |sizes: &[i64], start: i64, step: i64| -> Vec<(i64, i64)> {
            let at = |i: usize| start + step * i as i64;
            let levels = sizes.iter().enumerate();
            levels
                .map(|(i, &n)| (at(i) * px("0.01"), units(n)))
                .collect()
        };
        let (b, a) = (side(bids, 10000, -1), side(asks, 10001, 1));
        host::set_depth(book_depth(0, &b, &a));
    }

    /// The quote of the book `set_book` builds (touch sizes `bid` and `ask`).
    fn quote_at(ts_ms: u64, bid: i64, ask: i64) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: ts_ms * MS,
            bid_price: px("100.00"),
            bid_size: units(bid),
            ask_price: px("100.01"),
            ask_size: units(ask),
        })
    }

    /// One batch of one quote over the book `bids`/`asks` at `ts_ms`.
    fn batch(s: &mut BookImbalance, ts_ms: u64, bids: &[i64], asks: &[i64]) -> Vec<OrderCommand> {
        set_book(bids, asks);
        let mut out = Vec::new();
        s.on_market(&[quote_at(ts_ms, bids[0], asks[0])], &mut out);
        out
    }

    fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
        out.iter()
            .map(|cmd| match cmd {
                OrderCommand::Submit(o) => *o,
                other => panic!("expected a submit, got {other:?}"),
            })
            .collect()
    }

    fn one(out: &[OrderCommand]) -> NewOrder {
        match submits(out)[..] {
            [o] => o,
            ref more => panic!("expected one order, got {more:?}"),
        }
    }

    fn report(s: &mut BookImbalance, event: OrderEvent) {
        s.on_order_events(&[event], &mut Vec::new());
    }

    /// Accept `o` and fill `quantity` of it at `ts_ms`; cancel the rest (an IOC).
    fn execute(s: &mut BookImbalance, o: &NewOrder, quantity: i64, ts_ms: u64) {
        let (id, instrument, ts) = (o.id, o.instrument, ts_ms * MS);
        report(
            s,
            OrderEvent::Accepted(OrderAccepted { id, instrument, ts }),
        );
        if quantity > 0 {
            let fill = Fill {
                id,
                instrument,
                ts,
                side: o.side,
                price: o.price,
                quantity,
                leaves_quantity: o.quantity - quantity,
                maker: false,
            };
            report(s, OrderEvent::Filled(fill));
        }
        if quantity < o.quantity {
            let canceled_quantity = o.quantity - quantity;
            let c = OrderCanceled {
                id,
                instrument,
                ts,
                canceled_quantity,
            };
            report(s, OrderEvent::Canceled(c));
        }
    }

    fn reject(s: &mut BookImbalance, o: &NewOrder, reason: RejectReason) {
        let rejection = Rejection {
            reason,
            message: None,
        };
        let (id, instrument) = (o.id, o.instrument);
        let r = OrderRejected {
            id,
            instrument,
            ts: 0,
            rejection,
        };
        report(s, OrderEvent::Rejected(r));
    }

    fn position(s: &BookImbalance) -> i64 {
        s.instruments[&0].position
    }

    // A bid-heavy, an ask-heavy and a balanced book (five levels).
    const HEAVY: [i64; 5] = [900, 800, 800, 800, 800];
    const LIGHT: [i64; 5] = [100, 100, 100, 100, 100];
    const EVEN: [i64; 5] = [500, 500, 500, 500, 500];

    #[test]
    fn a_bid_heavy_book_buys_at_the_ask_and_an_ask_heavy_one_sells_at_the_bid() {
        let mut s = strategy(&[]);
        let buy = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        assert_eq!(
            (buy.id, buy.side, buy.time_in_force, buy.order_type),
            (1, Side::Buy, TimeInForce::Ioc, OrderType::Limit)
        );
        assert_eq!((buy.price, buy.quantity), (px("100.01"), units(100)));

        let mut s = strategy(&[]);
        let sell = one(&batch(&mut s, 1, &LIGHT, &HEAVY));
        assert_eq!((sell.side, sell.price), (Side::Sell, px("100.00")));
        // A balanced book, or a mild imbalance, sends nothing.
        let mut s = strategy(&[]);
        assert!(batch(&mut s, 1, &EVEN, &EVEN).is_empty());
        assert!(batch(&mut s, 2, &[600; 5], &[400; 5]).is_empty()); // 0.2
    }

    #[test]
    fn only_the_configured_levels_count() {
        // The touch leans to the bid, the book behind it to the ask.
        let (bids, asks) = ([500, 100, 100, 100, 100], [100, 900, 900, 900, 900]);
        let mut s = strategy(&[("levels", "1")]);
        assert_eq!(one(&batch(&mut s, 1, &bids, &asks)).side, Side::Buy);
        let mut s = strategy(&[("levels", "5")]);
        assert_eq!(one(&batch(&mut s, 1, &bids, &asks)).side, Side::Sell);
        // Levels beyond the fifth are ignored: this is the same book.
        let mut s = strategy(&[]);
        let deep = [100, 100, 100, 100, 100, 9000, 9000];
        assert_eq!(one(&batch(&mut s, 1, &[500; 5], &deep)).side, Side::Buy);
    }

    #[test]
    fn without_a_host_book_the_touch_sizes_are_the_imbalance() {
        let mut s = strategy(&[]);
        host::set_depth(book_depth(0, &[], &[]));
        let mut out = Vec::new();
        s.on_market(&[quote_at(1, 100, 900)], &mut out);
        assert_eq!(one(&out).side, Side::Sell);
    }

    #[test]
    fn with_a_signal_subscribed_the_signal_is_the_score_not_the_book() {
        let mut s = strategy(&[("signals", "imbalance:5"), ("smoothing", "1")]);
        let id = tradsys_sdk::signals::id("imbalance:5").unwrap();
        // The book leans to the bid; the signal says the offer side is heavy.
        set_book(&HEAVY, &LIGHT);
        let mut out = Vec::new();
        let events = [
            quote_at(1, 900, 100),
            tradsys_sdk::signals::signal(0, 1, id, -0.6),
        ];
        s.on_market(&events, &mut out);
        assert_eq!(one(&out).side, Side::Sell);
        // A batch without the signal leaves the average alone.
        let before = s.instruments[&0].average;
        let mut out = Vec::new();
        s.on_market(&[quote_at(2, 900, 100)], &mut out);
        assert_eq!(s.instruments[&0].average, before);
    }

    #[test]
    fn the_average_warms_up_and_smooths_over_quote_updates() {
        let mut s = strategy(&[("smoothing", "3")]); // weight 1/2 per update
        // Warm-up: three quote updates before any order.
        assert!(batch(&mut s, 1, &HEAVY, &LIGHT).is_empty());
        assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
        // A balanced reading halves the average: still above 0.3, a buy.
        let heavy = s.instruments[&0].average;
        let o = one(&batch(&mut s, 3, &EVEN, &EVEN));
        assert_eq!(o.side, Side::Buy);
        assert!((s.instruments[&0].average - heavy / 2.0).abs() < 1e-12);
        // A batch of two quotes counts twice: h/2 -> -h/4 -> -5h/8, a sell.
        execute(&mut s, &o, 0, 3);
        set_book(&LIGHT, &HEAVY);
        let mut out = Vec::new();
        let twice = [quote_at(4, 900, 100), quote_at(5, 100, 900)];
        s.on_market(&twice, &mut out);
        assert!((s.instruments[&0].average + heavy * 0.625).abs() < 1e-12);
        assert_eq!(one(&out).side, Side::Sell);
    }

    #[test]
    fn one_decision_per_batch_on_the_last_quote() {
        let mut s = strategy(&[]);
        set_book(&HEAVY, &LIGHT);
        let moved = |ts, ask: &str| {
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts,
                bid_price: px("100.00"),
                bid_size: units(900),
                ask_price: px(ask),
                ask_size: units(100),
            })
        };
        let events = [moved(1, "100.03"), moved(2, "100.02"), moved(3, "100.01")];
        let mut out = Vec::new();
        s.on_market(&events, &mut out);
        assert_eq!(one(&out).price, px("100.01"));
    }

    #[test]
    fn fills_build_the_position_up_to_max_position_one_order_at_a_time() {
        let mut s = strategy(&[("max_position", "250"), ("max_hold_ms", "0")]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        // Nothing more until that order is answered.
        assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
        execute(&mut s, &o, units(100), 2);
        assert_eq!(position(&s), units(100));
        let o = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
        assert_eq!(o.quantity, units(100));
        // Partly filled, the rest canceled: the position counts what filled.
        execute(&mut s, &o, units(60), 3);
        assert_eq!(position(&s), units(160));
        let o = one(&batch(&mut s, 4, &HEAVY, &LIGHT));
        assert_eq!(o.quantity, units(90), "only the room left");
        execute(&mut s, &o, units(90), 4);
        assert_eq!(position(&s), units(250));
        assert!(batch(&mut s, 5, &HEAVY, &LIGHT).is_empty());
        assert_eq!(s.next_id, 3);
    }

    #[test]
    fn a_long_is_flattened_when_the_imbalance_crosses_back_through_exit() {
        let mut s = strategy(&[("exit", "0.1"), ("max_hold_ms", "0")]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        execute(&mut s, &o, units(100), 1);
        let o = one(&batch(&mut s, 2, &HEAVY, &LIGHT));
        execute(&mut s, &o, units(100), 2);
        // 0.2: below entry but above exit, so held (no adding either).
        assert!(batch(&mut s, 3, &[600; 5], &[400; 5]).is_empty());
        // 0.1: at exit, the whole position goes at the bid.
        let close = one(&batch(&mut s, 4, &[550; 5], &[450; 5]));
        assert_eq!(
            (close.side, close.price, close.quantity, close.time_in_force),
            (Side::Sell, px("100.00"), units(200), TimeInForce::Ioc)
        );
        // Half fills: the rest is sent again on the next batch.
        execute(&mut s, &close, units(120), 4);
        assert_eq!(position(&s), units(80));
        let rest = one(&batch(&mut s, 5, &EVEN, &EVEN));
        assert_eq!((rest.side, rest.quantity), (Side::Sell, units(80)));
        execute(&mut s, &rest, units(80), 5);
        assert_eq!(position(&s), 0);
        assert!(batch(&mut s, 6, &EVEN, &EVEN).is_empty());
    }

    #[test]
    fn a_short_reversing_to_a_buy_signal_is_exited_before_any_buy() {
        let mut s = strategy(&[("max_hold_ms", "0")]);
        let o = one(&batch(&mut s, 1, &LIGHT, &HEAVY));
        execute(&mut s, &o, units(100), 1);
        assert_eq!(position(&s), -units(100));
        let close = one(&batch(&mut s, 2, &HEAVY, &LIGHT));
        assert_eq!((close.side, close.quantity), (Side::Buy, units(100)));
        assert_eq!(close.price, px("100.01"));
        execute(&mut s, &close, units(100), 2);
        // Flat now, the buy signal enters.
        let buy = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
        assert_eq!((buy.side, buy.quantity), (Side::Buy, units(100)));
    }

    #[test]
    fn max_hold_exits_and_blocks_that_side_until_the_imbalance_resets() {
        let mut s = strategy(&[("max_hold_ms", "1000"), ("max_position", "100")]);
        let o = one(&batch(&mut s, 1000, &HEAVY, &LIGHT));
        execute(&mut s, &o, units(100), 1001);
        assert!(batch(&mut s, 1500, &HEAVY, &LIGHT).is_empty());
        assert!(
            batch(&mut s, 2000, &HEAVY, &LIGHT).is_empty(),
            "999 ms held"
        );
        let close = one(&batch(&mut s, 2001, &HEAVY, &LIGHT));
        assert_eq!((close.side, close.quantity), (Side::Sell, units(100)));
        execute(&mut s, &close, units(100), 2001);
        // Still bid-heavy: no new long.
        assert!(batch(&mut s, 2100, &HEAVY, &LIGHT).is_empty());
        // The imbalance comes back through exit, which lifts the block, and
        // the short signal enters...
        let sell = one(&batch(&mut s, 2200, &LIGHT, &HEAVY));
        assert_eq!(sell.side, Side::Sell);
        execute(&mut s, &sell, 0, 2200); // nothing filled
        // ...and longs are allowed again.
        let buy = one(&batch(&mut s, 2300, &HEAVY, &LIGHT));
        assert_eq!(buy.side, Side::Buy);
    }

    #[test]
    fn a_remainder_below_one_lot_does_not_block_the_strategy() {
        let mut s = strategy(&[("max_hold_ms", "0")]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        execute(&mut s, &o, px("50.5"), 1);
        let close = one(&batch(&mut s, 2, &LIGHT, &HEAVY));
        assert_eq!((close.side, close.quantity), (Side::Sell, units(50)));
        execute(&mut s, &close, units(50), 2);
        assert_eq!(position(&s), px("0.5"));
        // Half a unit cannot be closed: the sell signal enters a short.
        let sell = one(&batch(&mut s, 3, &LIGHT, &HEAVY));
        assert_eq!((sell.side, sell.quantity), (Side::Sell, units(100)));
    }

    #[test]
    fn a_rejection_cools_down_for_quote_updates() {
        let mut s = strategy(&[("cooldown", "2")]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        reject(&mut s, &o, RejectReason::PositionLimit);
        assert_eq!(position(&s), 0);
        assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
        let again = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
        assert_eq!(again.id, 2, "a new id, never a reused one");
    }

    #[test]
    fn an_order_never_answered_is_forgotten() {
        let mut s = strategy(&[]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        for t in 2..FORGET_AFTER as u64 + 1 {
            assert!(batch(&mut s, t, &HEAVY, &LIGHT).is_empty());
        }
        let next = one(&batch(&mut s, 200, &HEAVY, &LIGHT));
        assert_eq!(next.id, o.id + 1);
    }

    #[test]
    fn prices_go_to_the_tick_and_quantities_to_the_lot() {
        let def = InstrumentDefinition {
            tick_size: px("0.25"),
            lot_size: units(10),
            ..instrument(0, "ES")
        };
        let mut s = strategy_with(&[("quantity", "25")], def);
        host::set_depth(book_depth(0, &[], &[]));
        let quote = |bid: &str, ask: &str, bid_size, ask_size| {
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts: 0,
                bid_price: px(bid),
                bid_size: units(bid_size),
                ask_price: px(ask),
                ask_size: units(ask_size),
            })
        };
        let mut out = Vec::new();
        s.on_market(&[quote("4800.10", "4800.30", 900, 100)], &mut out);
        let buy = one(&out);
        assert_eq!((buy.price, buy.quantity), (px("4800.50"), units(20)));
        execute(&mut s, &buy, 0, 0);
        let mut out = Vec::new();
        s.on_market(&[quote("4800.10", "4800.30", 100, 900)], &mut out);
        let sell = one(&out);
        assert_eq!((sell.price, sell.quantity), (px("4800.00"), units(20)));
    }

    #[test]
    fn nothing_is_sent_while_the_instrument_does_not_trade() {
        let mut s = strategy(&[]);
        let status = |status| {
            MarketEvent::Status(StatusChange {
                instrument: 0,
                ts: 0,
                status,
            })
        };
        s.on_market(&[status(TradingStatus::Halted)], &mut Vec::new());
        assert!(batch(&mut s, 1, &HEAVY, &LIGHT).is_empty());
        s.on_market(&[status(TradingStatus::Trading)], &mut Vec::new());
        assert_eq!(one(&batch(&mut s, 2, &HEAVY, &LIGHT)).side, Side::Buy);
    }

    /// Books swinging between bid- and ask-heavy; every order is accepted and
    /// fills a third. Returns every command.
    fn scripted_session(s: &mut BookImbalance, from: u64, to: u64) -> Vec<String> {
        let mut log = Vec::new();
        for t in from..to {
            let lean = (t % 40) as i64 - 20; // -20..19
            let bids: Vec<i64> = (0..5).map(|i| 500 + lean * 20 + i * 7).collect();
            let asks: Vec<i64> = (0..5)
                .map(|i| 500 - lean * 20 + (t as i64 % 3) * i)
                .collect();
            for cmd in batch(s, t * 100, &bids, &asks) {
                log.push(format!("{cmd:?}"));
                if let OrderCommand::Submit(o) = cmd {
                    let third = fixed::floor_to_tick(o.quantity / 3, units(1));
                    execute(s, &o, third, t * 100);
                }
            }
        }
        log
    }

    #[test]
    fn saved_state_resumes_identically() {
        let config = [
            ("smoothing", "4"),
            ("cooldown", "3"),
            ("max_hold_ms", "1500"),
        ];
        let mut a = strategy(&config);
        assert!(!scripted_session(&mut a, 0, 130).is_empty());
        assert_ne!(position(&a), 0, "saved holding a position");
        let saved = a.save_state();
        let mut b = strategy(&config);
        b.load_state(&saved).unwrap();
        assert_eq!(b.save_state(), saved);
        let after_a = scripted_session(&mut a, 130, 400);
        assert!(!after_a.is_empty());
        assert_eq!(after_a, scripted_session(&mut b, 130, 400));
    }

    #[test]
    fn saved_state_with_an_order_in_flight_resumes_it() {
        let mut a = strategy(&[]);
        let o = one(&batch(&mut a, 1, &HEAVY, &LIGHT));
        let mut b = strategy(&[]);
        b.load_state(&a.save_state()).unwrap();
        assert!(
            batch(&mut b, 2, &HEAVY, &LIGHT).is_empty(),
            "still in flight"
        );
        execute(&mut b, &o, units(100), 2);
        assert_eq!(position(&b), units(100));
        assert_eq!(one(&batch(&mut b, 3, &HEAVY, &LIGHT)).id, 2);
    }

    #[test]
    fn garbage_state_is_refused_and_changes_nothing() {
        let mut s = strategy(&[]);
        let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
        execute(&mut s, &o, units(50), 1);
        let saved = s.save_state();
        let mut bad_version = saved.clone();
        bad_version[0] = 9;
        let mut bad_trailing = saved.clone();
        bad_trailing.push(0);
        for garbage in [
            &[][..],
            &bad_version,
            &saved[..saved.len() - 1],
            &bad_trailing,
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255][..],
        ] {
            assert!(s.load_state(garbage).is_err());
            assert_eq!(s.save_state(), saved);
        }
        assert!(s.load_state(&saved).is_ok());
    }

    #[test]
    fn bad_config_names_the_key() {
        let err = |kv: (&str, &str)| BookImbalance::new(&Config::new([kv])).unwrap_err();
        assert!(err(("levels", "0")).contains("`levels`"));
        assert!(err(("levels", "101")).contains("`levels`"));
        assert!(err(("smoothing", "0")).contains("`smoothing`"));
        assert!(err(("entry", "1")).contains("`entry`"));
        assert!(err(("entry", "NaN")).contains("`entry`"));
        assert!(err(("exit", "0.3")).contains("`exit`"));
        assert!(err(("exit", "-0.3")).contains("`exit`"));
        assert!(err(("quantity", "0")).contains("`quantity`"));
        assert!(err(("max_position", "50")).contains("`max_position`"));
        assert!(err(("max_hold_ms", "-1")).contains("`max_hold_ms`"));
        assert!(err(("cooldown", "x")).contains("`cooldown`"));
        assert!(BookImbalance::new(&Config::default()).is_ok());
        let ok = [("exit", "-0.1"), ("max_hold_ms", "0"), ("levels", "100")];
        assert!(BookImbalance::new(&Config::new(ok)).is_ok());
    }
}

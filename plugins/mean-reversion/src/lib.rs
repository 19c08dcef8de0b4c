//! Mean reversion: fades prices that stray far from their recent average.
//!
//! For every instrument the strategy keeps the last `window` quote mids and scores
//! the latest one as `z = (mid - mean) / standard deviation`. A z-score of
//! `entry_z` or more sells `quantity` units (the price should come back down), one
//! of `-entry_z` or less buys them; beyond `extreme_z` the fade doubles to
//! `2 × quantity`. Once `|z|` is back within `exit_z` the position is closed.
//!
//! How it trades depends on why:
//! - entering at an ordinary extreme: a passive GTC limit at the near touch (buy
//!   at the bid, sell at the ask), canceled after `max_age` quote updates or as
//!   soon as the target no longer wants it;
//! - entering at `|z| >= extreme_z`: an IOC limit `extreme_ticks` ticks through
//!   the far touch (buy up to the ask plus that many ticks), to be sure to get in.
//!   Such a price is far from the market and a price collar may refuse it; after
//!   a price-collar rejection the strategy enters passively until `|z|` drops
//!   below `extreme_z` again;
//! - closing (or reducing) a position: a FOK limit at the far touch (sell at the
//!   bid), all or nothing.
//!
//! It keeps its position and its one working order per instrument from its own
//! execution reports. Every quote updates the z-score; orders are decided once per
//! market batch, on each instrument's last quote (the touch the host has just
//! posted as liquidity), and an order that quote trades with is left alone until
//! its fill is reported. After a rejection, or an IOC/FOK order that ended
//! unfilled, it sends no new order for that instrument during `cooldown` quote
//! updates.
//!
//! Config keys (defaults):
//! - `window` (60): quote updates in the rolling mean and deviation, at least 2
//! - `entry_z` (2.0): |z| that opens a position, positive
//! - `exit_z` (0.5): |z| at or below which the position is closed, from 0 to below
//!   `entry_z`
//! - `extreme_z` (2.5): |z| that doubles the size and crosses the market, at least
//!   `entry_z`
//! - `extreme_ticks` (30): ticks through the far touch of an extreme entry
//! - `quantity` (100): units of an ordinary entry, positive
//! - `max_age` (30): quote updates a passive order may work before it is canceled
//! - `cooldown` (10): quote updates to wait after a rejection or unfilled IOC/FOK
//!
//! In the synthetic market, 30 ticks is 30 bps of SYN-A, 60 bps of SYN-B and 75
//! bps of SYN-C: a 50 bps price collar lets the first through and refuses the
//! others.

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

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone)]
struct Params {
    /// `window` (default 60).
    window: usize,
    /// `entry_z` (default 2.0).
    entry_z: f64,
    /// `exit_z` (default 0.5).
    exit_z: f64,
    /// `extreme_z` (default 2.5).
    extreme_z: f64,
    /// `extreme_ticks` (default 30).
    extreme_ticks: i64,
    /// `quantity` (default 100 units).
    quantity: i64,
    /// `max_age` (default 30).
    max_age: u32,
    /// `cooldown` (default 10).
    cooldown: u32,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "window",
            "entry_z",
            "exit_z",
            "extreme_z",
            "extreme_ticks",
            "quantity",
            "max_age",
            "cooldown",
            "signals",
        ])?;
        let p = Self {
            window: config.parse_or("window", 60)?,
            entry_z: config.parse_or("entry_z", 2.0)?,
            exit_z: config.parse_or("exit_z", 0.5)?,
            extreme_z: config.parse_or("extreme_z", 2.5)?,
            extreme_ticks: config.parse_or("extreme_ticks", 30)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_age: config.parse_or("max_age", 30)?,
            cooldown: config.parse_or("cooldown", 10)?,
        };
        if !(2..=100_000).contains(&p.window) {
            Err("config `window`: must be 2 to 100000".into())
        } else if !(p.entry_z.is_finite() && p.entry_z > 0.0) {
            Err("config `entry_z`: must be a positive number".into())
        } else if !(p.exit_z >= 0.0 && p.exit_z < p.entry_z) {
            Err("config `exit_z`: must be at least 0 and below `entry_z`".into())
        } else if p.extreme_z.is_nan() || p.extreme_z < p.entry_z {
            Err("config `extreme_z`: must be at least `entry_z`".into())
        } else if !(0..=1_000_000).contains(&p.extreme_ticks) {
            Err("config `extreme_ticks`: must be 0 to 1000000".into())
        } else if !(1..=fixed::from_units(1_000_000_000)).contains(&p.quantity) {
            Err("config `quantity`: must be positive and at most 1000000000".into())
        } else if p.max_age == 0 {
            Err("config `max_age`: must be at least 1".into())
        } else {
            Ok(p)
        }
    }
}

/// What the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    tick: i64,
    lot: i64,
    /// The last `window` mids, oldest first.
    mids: VecDeque<i64>,
    /// Signed position the strategy wants.
    target: i64,
    /// A price collar refused an extreme entry: enter passively until `|z|` eases.
    collared: bool,
}

/// The z-score of the newest mid against the full window, if it has any spread.
fn z_score(mids: &VecDeque<i64>, window: usize) -> Option<f64> {
    if mids.len() < window {
        return None;
    }
    let n = mids.len() as f64;
    let values = || mids.iter().map(|&m| fixed::to_f64(m));
    let mean = values().sum::<f64>() / n;
    let var = values().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let last = fixed::to_f64(*mids.back()?);
    (var > 0.0).then(|| (last - mean) / var.sqrt())
}

impl Instrument {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            mids: VecDeque::new(),
            target: 0,
            collared: false,
        }
    }

    /// Move `target` for a new z-score: fade beyond `entry_z`, flatten inside `exit_z`.
    fn update_target(&mut self, z: f64, p: &Params) {
        if z.abs() < p.extreme_z {
            self.collared = false;
        }
        if z.abs() <= p.exit_z {
            self.target = 0;
        } else if z.abs() >= p.entry_z {
            let size = if z.abs() >= p.extreme_z {
                2 * p.quantity
            } else {
                p.quantity
            };
            let target = if z > 0.0 { -size } else { size };
            // Keep a larger fade on the same side until the exit band.
            if target.signum() != self.target.signum() || size > self.target.abs() {
                self.target = target;
            }
        }
    }

    /// Take in one quote: the window, the target, the order's age and the
    /// cooldown move on. Returns false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Params) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        while self.mids.len() > p.window {
            self.mids.pop_front();
        }
        if let Some(z) = z_score(&self.mids, p.window) {
            self.update_target(z, p);
        }
        true
    }

    /// Decide this batch's command on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Params, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        let position = keeper.position(q.instrument);
        let wanted = self.target.saturating_sub(position);
        let side = if wanted > 0 { Side::Buy } else { Side::Sell };
        if let Some(o) = keeper.in_flight(q.instrument).cloned() {
            // When the host's posting of this quote trades with the order, its
            // fill report is on the way: leave the order alone until then.
            let traded = match o.side {
                Side::Buy => q.ask_price <= o.price,
                Side::Sell => q.bid_price >= o.price,
            };
            // Stale, or a resting entry the target no longer wants (an IOC or
            // FOK ends on its own right away).
            let gtc = o.time_in_force == TimeInForce::Gtc;
            let unwanted = gtc && (wanted == 0 || o.side != side);
            if o.canceling() && o.age >= p.max_age.saturating_mul(3) {
                keeper.forget(o.id); // the cancel was never answered
            } else if !o.canceling() && !traded && (o.age >= p.max_age || unwanted) {
                keeper.cancel(out, o.id);
            }
            return;
        }
        if keeper.cooling(q.instrument) {
            return;
        }
        let z = z_score(&self.mids, p.window);
        let (Some(z), quantity) = (z, fixed::floor_to_tick(wanted.saturating_abs(), self.lot))
        else {
            return;
        };
        if quantity <= 0 {
            return;
        }
        let reducing = match side {
            Side::Buy => position < 0 && self.target <= 0,
            Side::Sell => position > 0 && self.target >= 0,
        };
        let far = match side {
            Side::Buy => fixed::ceil_to_tick(q.ask_price, self.tick),
            Side::Sell => fixed::floor_to_tick(q.bid_price, self.tick),
        };
        let (tif, price) = if reducing {
            (TimeInForce::Fok, far)
        } else if z.abs() >= p.extreme_z && !self.collared {
            let through = self.tick.saturating_mul(p.extreme_ticks);
            let price = match side {
                Side::Buy => far.saturating_add(through),
                Side::Sell => far.saturating_sub(through).max(self.tick),
            };
            (TimeInForce::Ioc, price)
        } else {
            let near = match side {
                Side::Buy => fixed::floor_to_tick(q.bid_price, self.tick),
                Side::Sell => fixed::ceil_to_tick(q.ask_price, self.tick),
            };
            (TimeInForce::Gtc, near)
        };
        let limit = OrderType::Limit;
        keeper.submit(out, q.instrument, side, limit, tif, price, quantity);
    }

    /// An IOC or FOK that got nothing (the touch was too thin) and any
    /// rejection pause it for `cooldown` quotes; a collar that refused an
    /// extreme IOC entry makes it enter passively until `|z|` eases.
    fn on_change(&mut self, change: &Change, keeper: &mut Keeper, p: &Params) {
        match change {
            Change::Canceled(o) if o.time_in_force != TimeInForce::Gtc && o.filled == 0 => {
                keeper.cool(o.instrument, p.cooldown);
            }
            Change::Rejected { order, reason } | Change::CancelRefused { order, reason } => {
                keeper.cool(order.instrument, p.cooldown);
                let ioc = order.time_in_force == TimeInForce::Ioc;
                if *reason == RejectReason::PriceCollar && ioc {
                    self.collared = true;
                }
            }
            _ => {}
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick).i64(self.lot).u32(self.mids.len() as u32);
        for &m in &self.mids {
            w.i64(m);
        }
        w.i64(self.target).u8(self.collared.into());
    }

    fn load(r: &mut StateReader<'_>, p: &Params) -> Result<Self, String> {
        fn flag(r: &mut StateReader<'_>) -> Result<bool, String> {
            match r.u8()? {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(format!("state: bad flag {other}")),
            }
        }
        let (tick, lot) = (r.i64()?, r.i64()?);
        if tick <= 0 || lot <= 0 {
            return Err("state: tick and lot must be positive".into());
        }
        let mut inst = Self::new(tick, lot);
        for _ in 0..r.u32()? {
            inst.mids.push_back(r.i64()?);
        }
        while inst.mids.len() > p.window {
            inst.mids.pop_front(); // a newer config may use a shorter window
        }
        inst.target = r.i64()?;
        inst.collared = flag(r)?;
        Ok(inst)
    }
}

/// The mean-reversion strategy; see the crate docs.
#[derive(Debug)]
pub struct MeanReversion {
    params: Params,
    instruments: BTreeMap<u32, Instrument>,
    /// Its orders, positions and cooldowns.
    keeper: Keeper,
}

impl Strategy for MeanReversion {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            instruments: BTreeMap::new(),
            keeper: Keeper::default(),
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        // Every quote updates the z-score; orders are decided once per batch on
        // each instrument's last quote, the touch the host has just posted.
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => {
                    let (tick, lot) = (def.tick_size.max(1), def.lot_size.max(1));
                    let inst = self.instruments.entry(def.id);
                    let inst = inst.or_insert_with(|| Instrument::new(tick, lot));
                    (inst.tick, inst.lot) = (tick, lot);
                }
                MarketEvent::Quote(q) => {
                    let inst = self.instruments.get_mut(&q.instrument);
                    if inst.is_some_and(|inst| inst.observe(q, &self.params)) {
                        // A quote is its clock: orders age, cooldowns run down.
                        self.keeper.tick(q.instrument);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            if let Some(inst) = self.instruments.get_mut(&id) {
                inst.act(q, &self.params, &mut self.keeper, orders);
            }
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let Some(inst) = self.instruments.get_mut(&event.instrument()) else {
                continue;
            };
            if let Some(change) = self.keeper.apply(event) {
                inst.on_change(&change, &mut self.keeper, &self.params);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION);
        self.keeper.save(&mut w);
        w.u32(self.instruments.len() as u32);
        for (&id, inst) in &self.instruments {
            w.u32(id);
            inst.save(&mut w);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let keeper = Keeper::load(&mut r)?;
        let count = r.u32()?;
        let instruments = (0..count)
            .map(|_| Ok((r.u32()?, Instrument::load(&mut r, &self.params)?)))
            .collect::<Result<BTreeMap<_, _>, String>>()?;
        r.finish()?;
        // Decoded in full: only now replace the running state.
        self.keeper = keeper;
        self.instruments = instruments;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MeanReversion);

#[cfg(test)]
mod tests;

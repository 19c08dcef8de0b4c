//! Momentum: buys what has been rising and sells what has been falling, passively.
//!
//! For every instrument the strategy measures the return of the quote mid over the
//! last `lookback` quote updates. A return of at least `threshold_bps` basis points
//! (either way) is a signal; its strength is how many thresholds it spans, capped
//! at `max_scale`. A buy signal aims for a long position of strength × `quantity`
//! (at most `max_position`), a sell signal for the same short; a position already
//! that large is left alone.
//!
//! It works towards that target with a ladder of passive GTC child orders of
//! `quantity` each: the first at the touch (a buy at the best bid, a sell at the
//! best ask), each further one a tick behind the last, at most `max_scale` at once.
//! When the market runs `reprice_ticks` or more away from the ladder (the bid rises
//! above its best buy, the ask falls below its best sell), every rung is moved up
//! to it with a modify. Rungs are canceled once they have worked `max_age` quote
//! updates, or as soon as the signal turns against them. A strong move therefore
//! brings bursts of submits and modifies: an order-rate throttle will cut some.
//!
//! Every quote updates the signal; orders are decided once per market batch, on
//! each instrument's last quote (the touch the host has just posted as liquidity).
//! When that quote trades with a rung, the strategy waits for the fill report
//! before it touches the ladder again. It keeps its position and its rungs from
//! its own execution reports, and after any rejection sends no new order or modify
//! for the instrument during `cooldown` quote updates (cancels still go out).
//! It also learns the position limit it trades under: a position-limit rejection
//! caps its target at the exposure that was accepted, and every rung that fills in
//! full raises that cap by `quantity` again.
//!
//! Config keys (defaults):
//! - `lookback` (20): quote updates the return is measured over, at least 1
//! - `threshold_bps` (6): smallest return that is a signal, in basis points, positive
//! - `quantity` (100): units per threshold of signal strength and per rung, positive
//! - `max_scale` (5): largest strength multiple and most rungs at once, at least 1
//! - `max_position` (500): largest absolute position aimed for, at least `quantity`
//! - `max_age` (30): quote updates a rung may work before it is canceled
//! - `reprice_ticks` (1): ticks the market must run away from the ladder to move
//!   it; 0 never re-prices
//! - `cooldown` (10): quote updates to wait after a rejection

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    CancelOrder, Config, MarketEvent, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType,
    Quote, RejectReason, Side, Strategy, TimeInForce, fixed,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone)]
struct Params {
    /// `lookback` (default 20).
    lookback: usize,
    /// `threshold_bps` (default 6).
    threshold_bps: f64,
    /// `quantity` (default 100 units).
    quantity: i64,
    /// `max_scale` (default 5).
    max_scale: i64,
    /// `max_position` (default 500 units).
    max_position: i64,
    /// `max_age` (default 30).
    max_age: u32,
    /// `reprice_ticks` (default 1).
    reprice_ticks: i64,
    /// `cooldown` (default 10).
    cooldown: u32,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "lookback",
            "threshold_bps",
            "quantity",
            "max_scale",
            "max_position",
            "max_age",
            "reprice_ticks",
            "cooldown",
            "signals",
        ])?;
        let p = Self {
            lookback: config.parse_or("lookback", 20)?,
            threshold_bps: config.parse_or("threshold_bps", 6.0)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_scale: config.parse_or("max_scale", 5)?,
            max_position: config.fixed_or("max_position", fixed::from_units(500))?,
            max_age: config.parse_or("max_age", 30)?,
            reprice_ticks: config.parse_or("reprice_ticks", 1)?,
            cooldown: config.parse_or("cooldown", 10)?,
        };
        let ensure = |ok: bool, key: &str, why: &str| match ok {
            true => Ok(()),
            false => Err(format!("config `{key}`: {why}")),
        };
        let lookback_ok = (1..=100_000).contains(&p.lookback);
        ensure(lookback_ok, "lookback", "must be 1 to 100000")?;
        let threshold_ok = p.threshold_bps.is_finite() && p.threshold_bps > 0.0;
        ensure(threshold_ok, "threshold_bps", "must be positive")?;
        ensure(p.quantity > 0, "quantity", "must be positive")?;
        ensure(
            (1..=1000).contains(&p.max_scale),
            "max_scale",
            "must be 1 to 1000",
        )?;
        let position_ok = p.max_position >= p.quantity;
        ensure(position_ok, "max_position", "must be at least `quantity`")?;
        ensure(p.max_age >= 1, "max_age", "must be at least 1")?;
        ensure(
            p.reprice_ticks >= 0,
            "reprice_ticks",
            "must not be negative",
        )?;
        Ok(p)
    }
}

/// The command of ours about a rung that the venue has not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Submit,
    Modify,
    Cancel,
}

/// One child order of a ladder.
#[derive(Debug, Clone, PartialEq)]
struct Rung {
    side: Side,
    price: i64,
    /// Total quantity, filled part included (what a modify restates).
    quantity: i64,
    /// Quantity still working.
    leaves: i64,
    /// Quote updates since submission (a modify does not reset it).
    age: u32,
    pending: Option<Pending>,
}

impl Rung {
    /// Whether `q`, posted as the market's liquidity, trades with this rung.
    fn traded_by(&self, q: &Quote) -> bool {
        match self.side {
            Side::Buy => q.ask_price <= self.price,
            Side::Sell => q.bid_price >= self.price,
        }
    }
}

/// What the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    tick: i64,
    lot: i64,
    /// The last `lookback + 1` mids, oldest first.
    mids: VecDeque<i64>,
    /// Signed net position from fills.
    position: i64,
    /// Working rungs by order id.
    rungs: BTreeMap<u64, Rung>,
    /// Quote updates left before any new order or modify.
    cooldown: u32,
    /// Largest absolute position the risk limits are believed to allow.
    limit: i64,
}

impl Instrument {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            mids: VecDeque::new(),
            position: 0,
            rungs: BTreeMap::new(),
            cooldown: 0,
            limit: i64::MAX,
        }
    }

    /// Take in one quote; false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Params) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        while self.mids.len() > p.lookback + 1 {
            self.mids.pop_front();
        }
        for rung in self.rungs.values_mut() {
            rung.age = rung.age.saturating_add(1);
        }
        self.cooldown = self.cooldown.saturating_sub(1);
        true
    }

    /// The signal side and its strength in thresholds, once the window is full.
    fn signal(&self, p: &Params) -> Option<(Side, i64)> {
        let (&first, &last) = (self.mids.front()?, self.mids.back()?);
        if self.mids.len() <= p.lookback || first <= 0 {
            return None;
        }
        let return_bps = (fixed::to_f64(last) / fixed::to_f64(first) - 1.0) * 1e4;
        let strength = (return_bps.abs() / p.threshold_bps) as i64; // saturating cast
        let side = if return_bps > 0.0 {
            Side::Buy
        } else {
            Side::Sell
        };
        (strength >= 1).then(|| (side, strength.min(p.max_scale)))
    }

    /// Decide this batch's commands on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Params, next_id: &mut u64, out: &mut Vec<OrderCommand>) {
        let forget_after = p.max_age.saturating_mul(3);
        self.rungs
            .retain(|_, r| !(r.pending == Some(Pending::Cancel) && r.age >= forget_after));
        if self.rungs.values().any(|r| r.traded_by(q)) {
            return; // a fill is on its way: decide once it is known
        }
        let signal = self.signal(p);
        for (&id, rung) in &mut self.rungs {
            let against = signal.is_some_and(|(side, _)| side != rung.side);
            if rung.pending != Some(Pending::Cancel) && (against || rung.age >= p.max_age) {
                rung.pending = Some(Pending::Cancel);
                let instrument = q.instrument;
                out.push(OrderCommand::Cancel(CancelOrder { id, instrument }));
            }
        }
        let Some((side, strength)) = signal else {
            return;
        };
        let canceling = self
            .rungs
            .values()
            .any(|r| r.pending == Some(Pending::Cancel));
        if self.cooldown > 0 || canceling {
            return; // wait out the cooldown, or for cancels to be confirmed
        }
        // From here on every rung is on the signal's side.
        self.reprice(side, q, p, out);
        self.add_rungs(side, strength, q, p, next_id, out);
    }

    /// The passive price of `side` in `q`: join the bid to buy, the ask to sell.
    fn touch(&self, side: Side, q: &Quote) -> i64 {
        match side {
            Side::Buy => fixed::floor_to_tick(q.bid_price, self.tick),
            Side::Sell => fixed::ceil_to_tick(q.ask_price, self.tick),
        }
    }

    /// Move the whole ladder up to a touch that ran away from it.
    fn reprice(&mut self, side: Side, q: &Quote, p: &Params, out: &mut Vec<OrderCommand>) {
        let touch = self.touch(side, q);
        let prices = self.rungs.values().map(|r| r.price);
        let away = match side {
            Side::Buy => prices.max().map(|best| touch - best),
            Side::Sell => prices.min().map(|best| best - touch),
        };
        let threshold = p.reprice_ticks.saturating_mul(self.tick);
        let Some(away) = away.filter(|&a| p.reprice_ticks > 0 && a >= threshold) else {
            return;
        };
        for (&id, rung) in &mut self.rungs {
            if rung.pending.is_none() {
                rung.pending = Some(Pending::Modify);
                let price = match side {
                    Side::Buy => rung.price + away,
                    Side::Sell => rung.price - away,
                };
                let quantity = rung.quantity;
                out.push(OrderCommand::Modify(ModifyOrder {
                    id,
                    instrument: q.instrument,
                    price,
                    quantity,
                }));
            }
        }
    }

    /// Add rungs behind the ladder until it covers the target (or is full).
    fn add_rungs(
        &mut self,
        side: Side,
        strength: i64,
        q: &Quote,
        p: &Params,
        next_id: &mut u64,
        out: &mut Vec<OrderCommand>,
    ) {
        let target = p
            .quantity
            .saturating_mul(strength)
            .min(p.max_position)
            .min(self.limit);
        let held = if side == Side::Buy {
            self.position
        } else {
            -self.position
        };
        let working: i64 = self.rungs.values().map(|r| r.leaves).sum();
        let mut need = target.saturating_sub(held).saturating_sub(working);
        // Each new rung one tick behind the deepest one (the first at the touch).
        let step = if side == Side::Buy {
            -self.tick
        } else {
            self.tick
        };
        let deepest = match side {
            Side::Buy => self.rungs.values().map(|r| r.price).min(),
            Side::Sell => self.rungs.values().map(|r| r.price).max(),
        };
        let mut price = deepest.map_or(self.touch(side, q), |d| d.saturating_add(step));
        let mut count = self.rungs.len() as i64;
        while count < p.max_scale && price > 0 {
            let quantity = fixed::floor_to_tick(need.min(p.quantity), self.lot);
            if quantity <= 0 {
                break;
            }
            *next_id += 1;
            let rung = Rung {
                side,
                price,
                quantity,
                leaves: quantity,
                age: 0,
                pending: Some(Pending::Submit),
            };
            self.rungs.insert(*next_id, rung);
            out.push(OrderCommand::Submit(NewOrder {
                id: *next_id,
                instrument: q.instrument,
                side,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Gtc,
                price,
                quantity,
            }));
            need -= quantity;
            count += 1;
            price = price.saturating_add(step);
        }
    }

    fn on_order_event(&mut self, event: &OrderEvent, p: &Params) {
        let id = match event {
            OrderEvent::Filled(f) => {
                let quantity = f.quantity.max(0);
                let signed = if f.side == Side::Buy {
                    quantity
                } else {
                    -quantity
                };
                self.position = self.position.saturating_add(signed);
                f.id
            }
            OrderEvent::Accepted(e) => e.id,
            OrderEvent::Rejected(e) => e.id,
            OrderEvent::Canceled(e) => e.id,
            OrderEvent::Modified(e) => e.id,
        };
        let Some(rung) = self.rungs.get_mut(&id) else {
            return; // not a working rung (or one already forgotten)
        };
        let mut hit_position_limit = false;
        let done = match event {
            OrderEvent::Accepted(_) => {
                if rung.pending == Some(Pending::Submit) {
                    rung.pending = None;
                }
                false
            }
            OrderEvent::Filled(f) => {
                rung.leaves = f.leaves_quantity;
                if rung.pending == Some(Pending::Submit) {
                    rung.pending = None;
                }
                let done = f.leaves_quantity <= 0;
                if done {
                    self.limit = self.limit.saturating_add(p.quantity); // probe higher again
                }
                done
            }
            OrderEvent::Modified(m) => {
                (rung.price, rung.leaves, rung.pending) = (m.price, m.leaves_quantity, None);
                m.leaves_quantity <= 0
            }
            OrderEvent::Canceled(_) => true,
            OrderEvent::Rejected(r) => {
                self.cooldown = p.cooldown;
                let reason = r.rejection.reason;
                match rung.pending {
                    // A refused modify or cancel leaves the rung working, unless
                    // the venue no longer knows it.
                    Some(Pending::Modify | Pending::Cancel)
                        if reason != RejectReason::UnknownOrder =>
                    {
                        rung.pending = None;
                        false
                    }
                    Some(Pending::Submit) => {
                        hit_position_limit = reason == RejectReason::PositionLimit;
                        true
                    }
                    _ => true,
                }
            }
        };
        if done {
            let rung = self.rungs.remove(&id);
            if let Some(rung) = rung.filter(|_| hit_position_limit) {
                // What was working without the refused rung was acceptable.
                let held = if rung.side == Side::Buy {
                    self.position
                } else {
                    -self.position
                };
                let same_side = self.rungs.values().filter(|r| r.side == rung.side);
                let working: i64 = same_side.map(|r| r.leaves).sum();
                self.limit = held.saturating_add(working).max(p.quantity);
            }
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick).i64(self.lot).u32(self.mids.len() as u32);
        for &m in &self.mids {
            w.i64(m);
        }
        w.i64(self.position).u32(self.cooldown).i64(self.limit);
        w.u32(self.rungs.len() as u32);
        for (&id, r) in &self.rungs {
            let pending = match r.pending {
                None => 0,
                Some(Pending::Submit) => 1,
                Some(Pending::Modify) => 2,
                Some(Pending::Cancel) => 3,
            };
            w.u64(id).side(r.side).i64(r.price);
            w.i64(r.quantity).i64(r.leaves).u32(r.age).u8(pending);
        }
    }

    fn load(r: &mut StateReader<'_>, p: &Params) -> Result<Self, String> {
        let (tick, lot) = (r.i64()?, r.i64()?);
        if tick <= 0 || lot <= 0 {
            return Err("state: tick and lot must be positive".into());
        }
        let mut inst = Self::new(tick, lot);
        for _ in 0..r.u32()? {
            inst.mids.push_back(r.i64()?);
        }
        while inst.mids.len() > p.lookback + 1 {
            inst.mids.pop_front(); // a newer config may look back less far
        }
        inst.position = r.i64()?;
        inst.cooldown = r.u32()?;
        inst.limit = r.i64()?;
        for _ in 0..r.u32()? {
            let id = r.u64()?;
            let rung = Rung {
                side: r.side()?,
                price: r.i64()?,
                quantity: r.i64()?,
                leaves: r.i64()?,
                age: r.u32()?,
                pending: match r.u8()? {
                    0 => None,
                    1 => Some(Pending::Submit),
                    2 => Some(Pending::Modify),
                    3 => Some(Pending::Cancel),
                    _ => return Err("state: bad pending command".into()),
                },
            };
            if inst.rungs.insert(id, rung).is_some() {
                return Err(format!("state: order {id} appears twice"));
            }
        }
        Ok(inst)
    }
}

/// The momentum strategy; see the crate docs.
#[derive(Debug)]
pub struct Momentum {
    params: Params,
    instruments: BTreeMap<u32, Instrument>,
    /// Id of the last order sent; ids start at 1.
    next_id: u64,
}

impl Strategy for Momentum {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            instruments: BTreeMap::new(),
            next_id: 0,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
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
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            if let Some(inst) = self.instruments.get_mut(&id) {
                inst.act(q, &self.params, &mut self.next_id, orders);
            }
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let instrument = event.instrument();
            if let Some(inst) = self.instruments.get_mut(&instrument) {
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
        let mut instruments = BTreeMap::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            instruments.insert(id, Instrument::load(&mut r, &self.params)?);
        }
        r.finish()?;
        // Decoded in full: only now replace the running state.
        (self.next_id, self.instruments) = (next_id, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(Momentum);

#[cfg(test)]
mod tests;

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
mod tests {
    use super::*;
    use tradsys_sdk::{
        Fill, InstrumentDefinition, OrderAccepted, OrderCanceled, OrderModified, OrderRejected,
        Rejection,
    };

    const TICK: i64 = fixed::SCALE / 100;

    fn strategy(extra: &[(&str, &str)]) -> Momentum {
        let mut entries = vec![
            ("lookback", "4"),
            ("threshold_bps", "10"),
            ("cooldown", "0"),
        ];
        entries.extend_from_slice(extra);
        let mut s = Momentum::new(&Config::new(entries)).unwrap();
        let def = InstrumentDefinition {
            id: 0,
            symbol: "SYN-A".into(),
            tick_size: TICK,
            lot_size: fixed::SCALE,
            price_precision: 2,
            size_precision: 0,
            multiplier: 1,
        };
        s.on_market(&[MarketEvent::Instrument(def)], &mut Vec::new());
        s
    }

    /// A quote with bid `b` and ask `b + 2` ticks (mid `b + 1`), in cents.
    fn quote(b: i64) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 0,
            bid_price: b * TICK,
            bid_size: units(500),
            ask_price: (b + 2) * TICK,
            ask_size: units(500),
        })
    }

    /// Feed quotes one batch each, returning every command sent.
    fn feed(s: &mut Momentum, bids: &[i64]) -> Vec<OrderCommand> {
        let mut out = Vec::new();
        for &b in bids {
            s.on_market(&[quote(b)], &mut out);
        }
        out
    }

    fn report(s: &mut Momentum, event: OrderEvent) {
        s.on_order_events(&[event], &mut Vec::new());
    }

    fn accept(s: &mut Momentum, id: u64) {
        report(
            s,
            OrderEvent::Accepted(OrderAccepted {
                id,
                instrument: 0,
                ts: 0,
            }),
        );
    }

    fn fill(s: &mut Momentum, o: &NewOrder, quantity: i64, leaves: i64) {
        let fill = Fill {
            id: o.id,
            instrument: 0,
            ts: 0,
            side: o.side,
            price: o.price,
            quantity,
            leaves_quantity: leaves,
            maker: true,
        };
        report(s, OrderEvent::Filled(fill));
    }

    fn reject(s: &mut Momentum, id: u64, reason: RejectReason) {
        let rejection = Rejection {
            reason,
            message: None,
        };
        report(
            s,
            OrderEvent::Rejected(OrderRejected {
                id,
                instrument: 0,
                ts: 0,
                rejection,
            }),
        );
    }

    fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
        out.iter()
            .map(|cmd| match cmd {
                OrderCommand::Submit(o) => *o,
                other => panic!("expected a submit, got {other:?}"),
            })
            .collect()
    }

    fn units(n: i64) -> i64 {
        fixed::from_units(n)
    }

    /// Prices (in cents) and sizes (in units) of submits.
    fn ladder(orders: &[NewOrder]) -> Vec<(i64, i64)> {
        orders
            .iter()
            .map(|o| (o.price / TICK, o.quantity / fixed::SCALE))
            .collect()
    }

    #[test]
    fn no_order_before_the_lookback_fills() {
        let mut s = strategy(&[]);
        // A steep rise, but only four mids: the return needs five.
        assert!(feed(&mut s, &[10000, 10050, 10100, 10150]).is_empty());
        assert!(!feed(&mut s, &[10200]).is_empty());
    }

    #[test]
    fn rising_mids_bid_at_the_touch_and_falling_mids_ladder_offers_from_the_ask() {
        let mut s = strategy(&[]);
        // +15 bps over the lookback: one threshold, one rung of 100 at the bid.
        let out = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]));
        assert_eq!(ladder(&out), [(10015, 100)]);
        assert_eq!(
            (out[0].id, out[0].side, out[0].time_in_force),
            (1, Side::Buy, TimeInForce::Gtc)
        );
        accept(&mut s, 1);
        fill(&mut s, &out[0], units(100), 0);
        assert_eq!(s.instruments[&0].position, units(100));

        // -34 bps: three thresholds short from long 100 is 400 to sell, in rungs
        // of 100 from the ask up.
        let out = submits(&feed(&mut s, &[9966]));
        assert!(
            out.iter()
                .all(|o| o.side == Side::Sell && o.time_in_force == TimeInForce::Gtc)
        );
        assert_eq!(
            ladder(&out),
            [(9968, 100), (9969, 100), (9970, 100), (9971, 100)]
        );
        assert_eq!(out.iter().map(|o| o.id).collect::<Vec<_>>(), [2, 3, 4, 5]);
    }

    #[test]
    fn the_ladder_never_exceeds_max_scale_rungs() {
        let mut s = strategy(&[("max_scale", "2"), ("max_position", "1000")]);
        // A huge rise is still only two rungs.
        let out = submits(&feed(&mut s, &[10000, 10000, 10100, 10200, 10300]));
        assert_eq!(ladder(&out), [(10300, 100), (10299, 100)]);
        // Nothing more while they work, however strong the signal.
        for o in &out {
            accept(&mut s, o.id);
        }
        assert!(feed(&mut s, &[10300]).is_empty());
    }

    #[test]
    fn a_ladder_the_market_ran_away_from_is_moved_up_with_modifies() {
        let mut s = strategy(&[("reprice_ticks", "2"), ("max_scale", "2")]);
        // +25 bps: two rungs, at 10025 and 10024.
        let out = submits(&feed(&mut s, &[10000, 10000, 10010, 10020, 10025]));
        assert_eq!(ladder(&out), [(10025, 100), (10024, 100)]);
        // Unacknowledged rungs are left alone.
        assert!(feed(&mut s, &[10030]).is_empty());
        out.iter().for_each(|o| accept(&mut s, o.id));
        // The bid is 5 ticks above the best rung: both move up 5 ticks.
        let moved = feed(&mut s, &[10030]);
        let moves: Vec<_> = moved
            .iter()
            .map(|cmd| match cmd {
                OrderCommand::Modify(m) => (m.id, m.price / TICK, m.quantity / fixed::SCALE),
                other => panic!("expected a modify, got {other:?}"),
            })
            .collect();
        assert_eq!(moves, [(1, 10030, 100), (2, 10029, 100)]);
        for (id, price) in [(1, 10030), (2, 10029)] {
            let m = OrderModified {
                id,
                instrument: 0,
                ts: 0,
                price: price * TICK,
                leaves_quantity: units(100),
            };
            report(&mut s, OrderEvent::Modified(m));
        }
        // One tick away is below `reprice_ticks`: nothing.
        assert!(feed(&mut s, &[10031]).is_empty());
    }

    #[test]
    fn stale_rungs_are_canceled_and_replaced_only_once_confirmed() {
        let mut s = strategy(&[("max_age", "3"), ("reprice_ticks", "0")]);
        let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
        accept(&mut s, buy.id);
        assert!(feed(&mut s, &[10015, 10015]).is_empty());
        let out = feed(&mut s, &[10016]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
        // The signal still holds, but the cancel is not confirmed yet.
        assert!(feed(&mut s, &[10020]).is_empty());
        let canceled = OrderCanceled {
            id: buy.id,
            instrument: 0,
            ts: 0,
            canceled_quantity: units(100),
        };
        report(&mut s, OrderEvent::Canceled(canceled));
        let out = submits(&feed(&mut s, &[10030]));
        assert_eq!((out[0].id, out[0].price), (2, 10030 * TICK));
    }

    #[test]
    fn fills_update_the_position_and_nothing_is_duplicated() {
        let mut s = strategy(&[]);
        let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
        accept(&mut s, buy.id);
        fill(&mut s, &buy, units(30), units(70));
        assert!(feed(&mut s, &[10015]).is_empty(), "the rest still works");
        fill(&mut s, &buy, units(70), 0);
        assert!(s.instruments[&0].rungs.is_empty());
        // The same strength: the position already matches the signal.
        assert!(feed(&mut s, &[10020]).is_empty());
        // +25 bps, two thresholds: one more rung for the difference.
        let out = submits(&feed(&mut s, &[10035]));
        assert_eq!(ladder(&out), [(10035, 100)]);
    }

    #[test]
    fn a_quote_that_trades_with_a_rung_holds_the_ladder_until_the_fill_is_known() {
        let mut s = strategy(&[]);
        let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
        accept(&mut s, buy.id);
        // The ask drops through the rung's price and the signal turns, but no
        // cancel: the host's liquidity has just filled the rung.
        let out = feed(&mut s, &[9980]);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn the_signal_turning_cancels_and_a_rejection_cools_down() {
        let mut s = strategy(&[
            ("cooldown", "2"),
            ("max_scale", "1"),
            ("reprice_ticks", "0"),
        ]);
        let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
        accept(&mut s, buy.id);
        // Up further (one rung is the most), then down 14 bps: a sell signal,
        // and the ask stays above the rung.
        assert!(feed(&mut s, &[10020, 10030, 10030, 10030, 10030]).is_empty());
        let out = feed(&mut s, &[10016]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
        // A refused cancel leaves the rung working, and it is asked again.
        reject(&mut s, buy.id, RejectReason::RateLimit);
        assert!(s.instruments[&0].rungs.contains_key(&buy.id));
        let out = feed(&mut s, &[10016]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
        let canceled = OrderCanceled {
            id: buy.id,
            instrument: 0,
            ts: 0,
            canceled_quantity: units(100),
        };
        report(&mut s, OrderEvent::Canceled(canceled));
        // Two quote updates after the rejection, the sell ladder starts.
        assert_eq!(ladder(&submits(&feed(&mut s, &[10016]))), [(10018, 100)]);
    }

    #[test]
    fn a_position_limit_rejection_caps_the_target_until_fills_relax_it() {
        let mut s = strategy(&[("reprice_ticks", "0")]);
        // +35 bps: three rungs of 100.
        let out = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10035]));
        assert_eq!(out.len(), 3);
        accept(&mut s, out[0].id);
        accept(&mut s, out[1].id);
        reject(&mut s, out[2].id, RejectReason::PositionLimit);
        assert_eq!(s.instruments[&0].limit, units(200));
        // Still three thresholds, but 200 is all the limit is believed to allow.
        assert!(feed(&mut s, &[10035]).is_empty());
        // A rung fills in full: the cap rises by one rung and one is added.
        fill(&mut s, &out[0], units(100), 0);
        let more = submits(&feed(&mut s, &[10040]));
        assert_eq!(more.len(), 1);
    }

    #[test]
    fn a_batch_is_decided_once_on_its_last_quote() {
        let mut s = strategy(&[("max_age", "2")]);
        let batch: Vec<MarketEvent> = [10000, 10000, 10005, 10010, 10015, 10016, 10017]
            .map(quote)
            .to_vec();
        let mut out = Vec::new();
        s.on_market(&batch, &mut out);
        // One rung, at the last quote's bid.
        assert_eq!(ladder(&submits(&out)), [(10017, 100)]);
    }

    fn scripted_session(s: &mut Momentum, bids: &[i64]) -> Vec<String> {
        // Accept every order and fill a third of it; log all commands.
        let mut log = Vec::new();
        for &b in bids {
            for cmd in feed(s, &[b]) {
                log.push(format!("{cmd:?}"));
                if let OrderCommand::Submit(o) = cmd {
                    accept(s, o.id);
                    fill(s, &o, o.quantity / 3, o.quantity - o.quantity / 3);
                }
            }
        }
        log
    }

    #[test]
    fn saved_state_resumes_identically() {
        let bids: Vec<i64> = (0..240)
            .map(|i| 10000 + (i % 48 - 24i64).abs() * 4 + i % 5)
            .collect();
        let mut a = strategy(&[("max_age", "6")]);
        assert!(!scripted_session(&mut a, &bids[..100]).is_empty());
        assert!(
            !a.instruments[&0].rungs.is_empty(),
            "saved with working rungs"
        );
        let saved = a.save_state();
        let mut b = strategy(&[("max_age", "6")]);
        b.load_state(&saved).unwrap();
        assert_eq!(b.save_state(), saved);
        let after_a = scripted_session(&mut a, &bids[100..]);
        assert!(!after_a.is_empty());
        assert_eq!(after_a, scripted_session(&mut b, &bids[100..]));
    }

    #[test]
    fn garbage_state_is_refused_and_changes_nothing() {
        let mut s = strategy(&[]);
        feed(&mut s, &[10000, 10000, 10005, 10010, 10015]);
        let saved = s.save_state();
        let mut bad_pending = saved.clone();
        *bad_pending.last_mut().unwrap() = 7;
        for garbage in [
            &[][..],
            &[2, 0, 0][..],
            &saved[..saved.len() - 3],
            &bad_pending,
        ] {
            assert!(s.load_state(garbage).is_err());
            assert_eq!(s.save_state(), saved);
        }
    }

    #[test]
    fn bad_config_names_the_key() {
        let err = |kv: (&str, &str)| Momentum::new(&Config::new([kv])).unwrap_err();
        assert!(err(("lookback", "0")).contains("`lookback`"));
        assert!(err(("threshold_bps", "0")).contains("`threshold_bps`"));
        assert!(err(("quantity", "-1")).contains("`quantity`"));
        assert!(err(("max_scale", "0")).contains("`max_scale`"));
        assert!(err(("max_position", "5")).contains("`max_position`"));
        assert!(err(("reprice_ticks", "x")).contains("`reprice_ticks`"));
        assert!(Momentum::new(&Config::default()).is_ok());
    }
}

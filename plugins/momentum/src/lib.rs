//! Momentum: buys what has been rising and sells what has been falling, passively.
//!
//! For every instrument the strategy measures the return of the quote mid over the
//! last `lookback` quote updates. A return of at least `threshold_bps` basis points
//! (either way) is a signal; its strength is how many thresholds it spans, capped
//! at `max_scale`. A buy signal aims for a long position of strength × `quantity`
//! (at most `max_position`), a sell signal for the same short; a position already
//! that large, or larger, is left alone.
//!
//! Orders rest passively at the touch as GTC limits: a buy at the best bid, a sell
//! at the best ask. While an order works, it is re-priced with a modify whenever
//! the market runs `reprice_ticks` or more away from it (the bid rises above a
//! resting buy, the ask falls below a resting sell), and canceled once it has
//! worked `max_age` quote updates of its instrument or the signal turns against
//! it. A strong move therefore comes with a burst of submits, modifies and
//! cancels, and a flip from a full long to a full short is a single order of up to
//! twice `max_position`.
//!
//! The strategy keeps its position and its one working order per instrument from
//! its own execution reports, never stacks a second order, and after any rejection
//! sends nothing for that instrument during `cooldown` quote updates.
//!
//! Config keys (defaults):
//! - `lookback` (20): quote updates the return is measured over, at least 1
//! - `threshold_bps` (6): smallest return that is a signal, in basis points, positive
//! - `quantity` (100): units per threshold of signal strength, positive
//! - `max_scale` (6): largest strength multiple, at least 1
//! - `max_position` (600): largest absolute position aimed for, at least `quantity`
//! - `max_age` (25): quote updates an order may work before it is canceled
//! - `reprice_ticks` (2): ticks the touch must run away from a working order to
//!   re-price it; 0 never re-prices
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
    /// `max_scale` (default 6).
    max_scale: i64,
    /// `max_position` (default 600 units).
    max_position: i64,
    /// `max_age` (default 25).
    max_age: u32,
    /// `reprice_ticks` (default 2).
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
            max_scale: config.parse_or("max_scale", 6)?,
            max_position: config.fixed_or("max_position", fixed::from_units(600))?,
            max_age: config.parse_or("max_age", 25)?,
            reprice_ticks: config.parse_or("reprice_ticks", 2)?,
            cooldown: config.parse_or("cooldown", 10)?,
        };
        let checks = [
            (
                (1..=100_000).contains(&p.lookback),
                "lookback",
                "must be 1 to 100000",
            ),
            (
                p.threshold_bps.is_finite() && p.threshold_bps > 0.0,
                "threshold_bps",
                "must be positive",
            ),
            (p.quantity > 0, "quantity", "must be positive"),
            (p.max_scale >= 1, "max_scale", "must be at least 1"),
            (
                p.max_position >= p.quantity,
                "max_position",
                "must be at least `quantity`",
            ),
            (p.max_age >= 1, "max_age", "must be at least 1"),
            (
                p.reprice_ticks >= 0,
                "reprice_ticks",
                "must not be negative",
            ),
        ];
        match checks.iter().find(|(ok, ..)| !ok) {
            Some((_, key, why)) => Err(format!("config `{key}`: {why}")),
            None => Ok(p),
        }
    }
}

/// The command of ours about an order that the venue has not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Submit,
    Modify,
    Cancel,
}

/// The one working order of an instrument.
#[derive(Debug, Clone, PartialEq)]
struct Working {
    id: u64,
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

/// What the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    tick: i64,
    lot: i64,
    /// The last `lookback + 1` mids, oldest first.
    mids: VecDeque<i64>,
    /// Signed net position from fills.
    position: i64,
    working: Option<Working>,
    /// Quote updates left before any new command.
    cooldown: u32,
    /// Largest order the risk limits are believed to let through (learned from
    /// size rejections, relaxed by one `quantity` after every clean fill).
    max_order: i64,
}

impl Instrument {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            mids: VecDeque::new(),
            position: 0,
            working: None,
            cooldown: 0,
            max_order: i64::MAX,
        }
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

    fn on_quote(&mut self, q: &Quote, p: &Params, next_id: &mut u64, out: &mut Vec<OrderCommand>) {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        while self.mids.len() > p.lookback + 1 {
            self.mids.pop_front();
        }
        let signal = self.signal(p);
        if let Some(w) = &mut self.working {
            w.age = w.age.saturating_add(1);
        }
        if self.cooldown > 0 {
            self.cooldown -= 1;
            return;
        }
        // Passive prices: join the bid to buy, the ask to sell.
        let touch = |side| match side {
            Side::Buy => fixed::floor_to_tick(q.bid_price, self.tick),
            Side::Sell => fixed::ceil_to_tick(q.ask_price, self.tick),
        };
        let (instrument, tick) = (q.instrument, self.tick);
        match (&mut self.working, signal) {
            (Some(w), _) if w.pending == Some(Pending::Cancel) => {
                if w.age >= 3 * p.max_age {
                    self.working = None; // the cancel was never answered
                }
            }
            (Some(w), signal) => {
                let against = signal.is_some_and(|(side, _)| side != w.side);
                let price = touch(w.side);
                // How far the market ran away from the order (a touch that came
                // towards it is about to fill it instead).
                let away = match w.side {
                    Side::Buy => price - w.price,
                    Side::Sell => w.price - price,
                };
                if against || w.age >= p.max_age {
                    w.pending = Some(Pending::Cancel);
                    out.push(OrderCommand::Cancel(CancelOrder {
                        id: w.id,
                        instrument,
                    }));
                } else if w.pending.is_none()
                    && p.reprice_ticks > 0
                    && away >= p.reprice_ticks.saturating_mul(tick)
                {
                    w.pending = Some(Pending::Modify);
                    out.push(OrderCommand::Modify(ModifyOrder {
                        id: w.id,
                        instrument,
                        price,
                        quantity: w.quantity,
                    }));
                }
            }
            (None, Some((side, strength))) => {
                let size = p.quantity.saturating_mul(strength).min(p.max_position);
                let wanted = match side {
                    Side::Buy => size.saturating_sub(self.position),
                    Side::Sell => size.saturating_add(self.position),
                };
                let quantity = fixed::floor_to_tick(wanted.min(self.max_order), self.lot);
                if quantity <= 0 {
                    return; // already at least that far in the signal's direction
                }
                *next_id += 1;
                let price = touch(side);
                self.working = Some(Working {
                    id: *next_id,
                    side,
                    price,
                    quantity,
                    leaves: quantity,
                    age: 0,
                    pending: Some(Pending::Submit),
                });
                out.push(OrderCommand::Submit(NewOrder {
                    id: *next_id,
                    instrument,
                    side,
                    order_type: OrderType::Limit,
                    time_in_force: TimeInForce::Gtc,
                    price,
                    quantity,
                }));
            }
            (None, None) => {}
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
        let Some(w) = self.working.as_mut().filter(|w| w.id == id) else {
            return; // not our working order (or already forgotten)
        };
        let done = match event {
            OrderEvent::Accepted(_) => {
                if w.pending == Some(Pending::Submit) {
                    w.pending = None;
                }
                false
            }
            OrderEvent::Filled(f) => {
                w.leaves = f.leaves_quantity;
                if w.pending == Some(Pending::Submit) {
                    w.pending = None;
                }
                let done = f.leaves_quantity <= 0;
                if done {
                    // A clean fill: probe one step larger next time.
                    self.max_order = self.max_order.saturating_add(p.quantity);
                }
                done
            }
            OrderEvent::Modified(m) => {
                (w.price, w.leaves, w.pending) = (m.price, m.leaves_quantity, None);
                w.quantity = w.quantity.max(w.leaves);
                m.leaves_quantity <= 0
            }
            OrderEvent::Canceled(_) => true,
            OrderEvent::Rejected(r) => {
                self.cooldown = p.cooldown;
                match w.pending {
                    // A refused modify or cancel leaves the order working, unless
                    // the venue no longer knows it.
                    Some(Pending::Modify | Pending::Cancel)
                        if r.rejection.reason != RejectReason::UnknownOrder =>
                    {
                        w.pending = None;
                        false
                    }
                    Some(Pending::Submit) => {
                        // Refused for its size: stay a step below it from now on.
                        if matches!(
                            r.rejection.reason,
                            RejectReason::QuantityLimit
                                | RejectReason::NotionalLimit
                                | RejectReason::PositionLimit
                        ) {
                            self.max_order = (w.quantity - p.quantity).max(self.lot);
                        }
                        true
                    }
                    _ => true,
                }
            }
        };
        if done {
            self.working = None;
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick).i64(self.lot).u32(self.mids.len() as u32);
        self.mids.iter().for_each(|&m| {
            w.i64(m);
        });
        w.i64(self.position).u32(self.cooldown).i64(self.max_order);
        let Some(o) = &self.working else {
            w.u8(0);
            return;
        };
        let pending = match o.pending {
            None => 0,
            Some(Pending::Submit) => 1,
            Some(Pending::Modify) => 2,
            Some(Pending::Cancel) => 3,
        };
        w.u8(1)
            .u64(o.id)
            .u8(u8::from(o.side == Side::Sell))
            .i64(o.price);
        w.i64(o.quantity).i64(o.leaves).u32(o.age).u8(pending);
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
        inst.max_order = r.i64()?;
        if inst.max_order <= 0 {
            return Err("state: bad order size limit".into());
        }
        inst.working = match r.u8()? {
            0 => None,
            1 => Some(Working {
                id: r.u64()?,
                side: match r.u8()? {
                    0 => Side::Buy,
                    1 => Side::Sell,
                    _ => return Err("state: bad side".into()),
                },
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
            }),
            _ => return Err("state: bad order flag".into()),
        };
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
        for event in events {
            match event {
                MarketEvent::Instrument(def) => {
                    let (tick, lot) = (def.tick_size.max(1), def.lot_size.max(1));
                    let inst = self.instruments.entry(def.id);
                    let inst = inst.or_insert_with(|| Instrument::new(tick, lot));
                    (inst.tick, inst.lot) = (tick, lot);
                }
                MarketEvent::Quote(q) => {
                    if let Some(inst) = self.instruments.get_mut(&q.instrument) {
                        inst.on_quote(q, &self.params, &mut self.next_id, orders);
                    }
                }
                _ => {}
            }
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let instrument = match event {
                OrderEvent::Accepted(e) => e.instrument,
                OrderEvent::Rejected(e) => e.instrument,
                OrderEvent::Filled(e) => e.instrument,
                OrderEvent::Canceled(e) => e.instrument,
                OrderEvent::Modified(e) => e.instrument,
            };
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
        match r.u8()? {
            STATE_VERSION => {}
            other => return Err(format!("state: unknown version {other}")),
        }
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

// Native builds (unit tests) skip the component exports: their symbol names
// are not valid in a native shared library's export list.
#[cfg(target_family = "wasm")]
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

    /// Feed quotes with bid `b` and ask `b + 2` ticks (mid `b + 1`), in cents.
    fn feed(s: &mut Momentum, bids: &[i64]) -> Vec<OrderCommand> {
        let mut out = Vec::new();
        for &b in bids {
            let q = Quote {
                instrument: 0,
                ts: 0,
                bid_price: b * TICK,
                bid_size: fixed::from_units(500),
                ask_price: (b + 2) * TICK,
                ask_size: fixed::from_units(500),
            };
            s.on_market(&[MarketEvent::Quote(q)], &mut out);
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
        report(
            s,
            OrderEvent::Filled(Fill {
                id: o.id,
                instrument: 0,
                ts: 0,
                side: o.side,
                price: o.price,
                quantity,
                leaves_quantity: leaves,
                maker: true,
            }),
        );
    }

    fn submitted(cmd: &OrderCommand) -> NewOrder {
        match cmd {
            OrderCommand::Submit(o) => *o,
            other => panic!("expected a submit, got {other:?}"),
        }
    }

    fn units(n: i64) -> i64 {
        fixed::from_units(n)
    }

    #[test]
    fn no_order_before_the_lookback_fills() {
        let mut s = strategy(&[]);
        // A steep rise, but only four mids: the return needs five.
        assert!(feed(&mut s, &[10000, 10050, 10100, 10150]).is_empty());
        assert_eq!(feed(&mut s, &[10200]).len(), 1);
    }

    #[test]
    fn rising_mids_buy_at_the_bid_and_falling_mids_sell_at_the_ask() {
        let mut s = strategy(&[]);
        // +15 bps over the lookback: one threshold, 100 units.
        let out = feed(&mut s, &[10000, 10000, 10005, 10010, 10015]);
        assert_eq!(out.len(), 1);
        let buy = submitted(&out[0]);
        assert_eq!((buy.id, buy.side, buy.price), (1, Side::Buy, 10015 * TICK));
        assert_eq!(
            (buy.time_in_force, buy.quantity),
            (TimeInForce::Gtc, units(100))
        );
        accept(&mut s, buy.id);
        fill(&mut s, &buy, buy.quantity, 0);

        // -34 bps: three thresholds short means selling 100 + 300 at the ask.
        let out = feed(&mut s, &[9966]);
        assert_eq!(out.len(), 1);
        let sell = submitted(&out[0]);
        assert_eq!((sell.id, sell.side), (2, Side::Sell));
        assert_eq!((sell.price, sell.quantity), (9968 * TICK, units(400)));
    }

    #[test]
    fn working_order_is_repriced_with_a_modify_then_canceled_when_stale() {
        let mut s = strategy(&[("max_age", "4"), ("reprice_ticks", "2")]);
        let buy = submitted(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015])[0]);
        // Unacknowledged: no modify yet, whatever the touch does.
        assert!(feed(&mut s, &[10020]).is_empty());
        accept(&mut s, buy.id);
        // The bid moved 5 ticks away: re-price to it, same total quantity.
        let out = feed(&mut s, &[10020]);
        assert_eq!(out.len(), 1);
        match &out[0] {
            OrderCommand::Modify(m) => {
                assert_eq!(
                    (m.id, m.price, m.quantity),
                    (buy.id, 10020 * TICK, units(100))
                )
            }
            other => panic!("expected a modify, got {other:?}"),
        }
        let modified = OrderModified {
            id: buy.id,
            instrument: 0,
            ts: 0,
            price: 10020 * TICK,
            leaves_quantity: units(100),
        };
        report(&mut s, OrderEvent::Modified(modified));
        // A one-tick move is below `reprice_ticks`: nothing.
        assert!(feed(&mut s, &[10021]).is_empty());
        // Fourth quote of its life: canceled.
        let out = feed(&mut s, &[10021]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
        // Until the cancel is confirmed nothing new is sent.
        assert!(feed(&mut s, &[10025, 10030]).is_empty());
        let canceled = OrderCanceled {
            id: buy.id,
            instrument: 0,
            ts: 0,
            canceled_quantity: units(100),
        };
        report(&mut s, OrderEvent::Canceled(canceled));
        let out = feed(&mut s, &[10035]);
        assert_eq!(submitted(&out[0]).id, 2);
    }

    #[test]
    fn fills_update_the_position_and_no_order_is_duplicated() {
        let mut s = strategy(&[]);
        let buy = submitted(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015])[0]);
        accept(&mut s, buy.id);
        fill(&mut s, &buy, units(30), units(70));
        assert!(feed(&mut s, &[10015]).is_empty(), "the rest still works");
        fill(&mut s, &buy, units(70), 0);
        assert_eq!(s.instruments[&0].position, units(100));
        assert!(s.instruments[&0].working.is_none());
        // Same strength: the position already matches the signal.
        assert!(feed(&mut s, &[10020]).is_empty());
        // Stronger signal (+25 bps, two thresholds): add only the difference.
        let add = submitted(&feed(&mut s, &[10035])[0]);
        assert_eq!((add.side, add.quantity), (Side::Buy, units(100)));
    }

    #[test]
    fn the_signal_turning_cancels_the_order_and_a_rejection_cools_down() {
        let mut s = strategy(&[("cooldown", "2")]);
        let buy = submitted(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015])[0]);
        accept(&mut s, buy.id);
        // The bid falling below the resting buy is no reason to re-price; the
        // sell signal that follows is a reason to cancel.
        let out = feed(&mut s, &[10000, 9990, 9980]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
        // The cancel is refused by a throttle: the order still works, and the
        // instrument pauses for two quotes before asking again.
        let rejected = OrderRejected {
            id: buy.id,
            instrument: 0,
            ts: 0,
            rejection: Rejection {
                reason: RejectReason::RateLimit,
                message: None,
            },
        };
        report(&mut s, OrderEvent::Rejected(rejected));
        assert!(s.instruments[&0].working.is_some());
        assert!(feed(&mut s, &[9970, 9960]).is_empty());
        let out = feed(&mut s, &[9950]);
        assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
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
        let saved = a.save_state();
        let mut b = strategy(&[("max_age", "6")]);
        b.load_state(&saved).unwrap();
        assert_eq!(b.save_state(), saved);
        let (after_a, after_b) = (
            scripted_session(&mut a, &bids[100..]),
            scripted_session(&mut b, &bids[100..]),
        );
        assert!(!after_a.is_empty());
        assert_eq!(after_a, after_b);
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
        assert!(err(("max_position", "5")).contains("`max_position`"));
        assert!(err(("reprice_ticks", "x")).contains("`reprice_ticks`"));
        assert!(Momentum::new(&Config::default()).is_ok());
    }
}

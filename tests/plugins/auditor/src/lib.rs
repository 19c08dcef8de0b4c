//! A strategy that audits the host: it answers every market event (but
//! instrument definitions) with exactly one order, and checks that every
//! order it sends gets exactly one final report, at the latest before the
//! market batch after the next (an order reaches the simulated venue after
//! the exchange events stamped at or before its arrival: with the next
//! batch). It traps on any breach, so a test sees a lost or repeated event as
//! a `submitted` count that differs from the events, and a lost or repeated
//! report as a fault. Its state (order ids, positions, counts) survives a
//! swap, so two versions can take turns.
//!
//! Orders: on a quote, a one-unit IOC at the touch, buying and selling in
//! turn (it trades against the market's liquidity, so there are fills); on
//! any other event, a one-unit IOC buy one tick above zero, which never
//! fills. All are IOC, so each ends within the matcher call that took it.

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType, Side, Strategy,
    TimeInForce, fixed,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 2;

/// The auditor; see the crate documentation.
#[derive(Debug, Default)]
pub struct Auditor {
    next_id: u64,
    /// Orders sent and not yet finished, with the batch they were sent in.
    open: BTreeMap<u64, u64>,
    /// Market batches seen.
    batches: u64,
    /// Net position per instrument from the fills it was told of.
    positions: BTreeMap<u32, i64>,
    /// Market events answered so far.
    events: u64,
}

impl Auditor {
    fn order(&mut self, instrument: u32, side: Side, price: i64) -> OrderCommand {
        self.next_id += 1;
        self.open.insert(self.next_id, self.batches);
        OrderCommand::Submit(NewOrder {
            id: self.next_id,
            instrument,
            side,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price,
            quantity: fixed::from_units(1),
        })
    }

    /// Net position per instrument, from the fills reported to it.
    pub fn positions(&self) -> &BTreeMap<u32, i64> {
        &self.positions
    }
}

impl Strategy for Auditor {
    fn new(_config: &Config) -> Result<Self, String> {
        Ok(Self::default())
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        self.batches += 1;
        let late: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, sent)| **sent + 2 <= self.batches)
            .map(|(id, _)| *id)
            .collect();
        assert!(
            late.is_empty(),
            "orders {late:?} got no final report before the batch after the next"
        );
        for event in events {
            let command = match event {
                MarketEvent::Instrument(_) => continue,
                MarketEvent::Quote(q) if self.events.is_multiple_of(2) => {
                    self.order(q.instrument, Side::Buy, q.ask_price)
                }
                MarketEvent::Quote(q) => self.order(q.instrument, Side::Sell, q.bid_price),
                MarketEvent::Trade(t) => self.order(t.instrument, Side::Buy, 1),
                MarketEvent::Bar(b) => self.order(b.instrument, Side::Buy, 1),
                other => self.order(other.instrument(), Side::Buy, 1),
            };
            self.events += 1;
            orders.push(command);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let id = event.id();
            let last = match event {
                OrderEvent::Accepted(_) | OrderEvent::Modified(_) => false,
                OrderEvent::Filled(f) => {
                    let signed = match f.side {
                        Side::Buy => f.quantity,
                        Side::Sell => -f.quantity,
                    };
                    *self.positions.entry(f.instrument).or_default() += signed;
                    f.leaves_quantity <= 0
                }
                OrderEvent::Canceled(_) | OrderEvent::Rejected(_) => true,
            };
            assert!(
                self.open.contains_key(&id),
                "report for order {id}, which is not open: {event:?}"
            );
            if last {
                self.open.remove(&id);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION)
            .u64(self.next_id)
            .u64(self.events)
            .u64(self.batches);
        w.u32(self.open.len() as u32);
        for (id, sent) in &self.open {
            w.u64(*id).u64(*sent);
        }
        w.u32(self.positions.len() as u32);
        for (instrument, quantity) in &self.positions {
            w.u32(*instrument).i64(*quantity);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut next = Self {
            next_id: r.u64()?,
            events: r.u64()?,
            batches: r.u64()?,
            ..Self::default()
        };
        for _ in 0..r.u32()? {
            next.open.insert(r.u64()?, r.u64()?);
        }
        for _ in 0..r.u32()? {
            next.positions.insert(r.u32()?, r.i64()?);
        }
        r.finish()?;
        *self = next;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(Auditor);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::{Fill, OrderCanceled, Quote};

    fn quote() -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: fixed::from_units(99),
            bid_size: fixed::from_units(5),
            ask_price: fixed::from_units(100),
            ask_size: fixed::from_units(5),
        })
    }

    #[test]
    fn one_order_per_event_and_a_fill_moves_the_position() {
        let mut a = Auditor::default();
        let mut orders = Vec::new();
        a.on_market(&[quote(), quote()], &mut orders);
        assert_eq!(orders.len(), 2);
        let fill = OrderEvent::Filled(Fill {
            id: 1,
            instrument: 0,
            ts: 1,
            side: Side::Buy,
            price: fixed::from_units(100),
            quantity: fixed::from_units(1),
            leaves_quantity: 0,
            maker: false,
        });
        let cancel = OrderEvent::Canceled(OrderCanceled {
            id: 2,
            instrument: 0,
            ts: 1,
            canceled_quantity: fixed::from_units(1),
        });
        a.on_order_events(&[fill, cancel], &mut Vec::new());
        assert_eq!(a.positions()[&0], fixed::from_units(1));
        let mut b = Auditor::default();
        b.load_state(&a.save_state()).unwrap();
        assert_eq!(b.save_state(), a.save_state());
        b.on_market(&[quote()], &mut orders);
    }

    #[test]
    #[should_panic(expected = "got no final report")]
    fn a_lost_report_traps() {
        let mut a = Auditor::default();
        a.on_market(&[quote()], &mut Vec::new());
        // The next batch: the order may still be on its way.
        a.on_market(&[quote()], &mut Vec::new());
        a.on_order_events(&[canceled(2)], &mut Vec::new());
        // The one after: order 1 never got its report.
        a.on_market(&[quote()], &mut Vec::new());
    }

    fn canceled(id: u64) -> OrderEvent {
        OrderEvent::Canceled(OrderCanceled {
            id,
            instrument: 0,
            ts: 1,
            canceled_quantity: fixed::from_units(1),
        })
    }

    #[test]
    #[should_panic(expected = "which is not open")]
    fn a_repeated_final_report_traps() {
        let mut a = Auditor::default();
        a.on_market(&[quote()], &mut Vec::new());
        let cancel = OrderEvent::Canceled(OrderCanceled {
            id: 1,
            instrument: 0,
            ts: 1,
            canceled_quantity: fixed::from_units(1),
        });
        a.on_order_events(&[cancel.clone(), cancel], &mut Vec::new());
    }
}

//! `__NAME__`: a strategy that fades the mid's moves away from its average.
//!
//! For every quote it updates an exponential average of the mid. When the
//! mid is more than `threshold_bps` below the average it buys `quantity`
//! at the ask (immediate or cancel), when it is that far above it sells at
//! the bid, never past `max_position` either way, and with one order in
//! flight at a time per instrument. Its position comes from its fills.
//!
//! Config keys (a key not listed here is refused, so a typo never leaves a
//! default in place):
//!
//! | key             | meaning                                     | default |
//! |-----------------|---------------------------------------------|---------|
//! | `quantity`      | units per order                             | `1`     |
//! | `max_position`  | largest long or short position, in units    | `5`     |
//! | `threshold_bps` | distance from the average that trades (bps) | `5`     |
//! | `smoothing`     | quotes the average spans, about             | `50`    |

use std::collections::BTreeMap;

use tradsys_sdk::keeper::Keeper;
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Quote, Side, Strategy, TimeInForce,
    fixed,
};

/// See the crate documentation.
#[derive(Debug)]
pub struct __TYPE__ {
    quantity: i64,
    max_position: i64,
    threshold: f64,
    alpha: f64,
    /// The mid's exponential average per instrument (price units).
    averages: BTreeMap<u32, f64>,
    /// Its orders, fills and positions (the SDK's book-keeper).
    keeper: Keeper,
}

impl __TYPE__ {
    fn on_quote(&mut self, q: &Quote, orders: &mut Vec<OrderCommand>) {
        let Some(mid) = q.mid() else { return };
        let mid = fixed::to_f64(mid);
        let average = self.averages.entry(q.instrument).or_insert(mid);
        *average += self.alpha * (mid - *average);
        if self.keeper.in_flight(q.instrument).is_some() {
            return;
        }
        let distance = (mid - *average) / *average;
        let position = self.keeper.position(q.instrument);
        let (side, price) =
            if distance < -self.threshold && position + self.quantity <= self.max_position {
                (Side::Buy, q.ask_price)
            } else if distance > self.threshold && position - self.quantity >= -self.max_position {
                (Side::Sell, q.bid_price)
            } else {
                return;
            };
        let (limit, ioc) = (OrderType::Limit, TimeInForce::Ioc);
        self.keeper
            .submit(orders, q.instrument, side, limit, ioc, price, self.quantity);
    }
}

impl Strategy for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["quantity", "max_position", "threshold_bps", "smoothing"])?;
        let quantity = config.fixed_or("quantity", fixed::from_units(1))?;
        let max_position = config.fixed_or("max_position", fixed::from_units(5))?;
        let threshold_bps: f64 = config.parse_or("threshold_bps", 5.0)?;
        let smoothing: f64 = config.parse_or("smoothing", 50.0)?;
        if quantity <= 0 || max_position < quantity {
            return Err("config: `quantity` must be positive and at most `max_position`".into());
        }
        if !(threshold_bps > 0.0 && smoothing >= 1.0) {
            return Err("config: `threshold_bps` must be positive, `smoothing` at least 1".into());
        }
        Ok(Self {
            quantity,
            max_position,
            threshold: threshold_bps / 10_000.0,
            alpha: 2.0 / (smoothing + 1.0),
            averages: BTreeMap::new(),
            keeper: Keeper::default(),
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        for event in events {
            if let MarketEvent::Quote(q) = event {
                self.on_quote(q, orders);
            }
        }
    }

    /// Fills move the position; an IOC order ends filled, canceled or
    /// rejected, and the keeper forgets it.
    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            self.keeper.apply(event);
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        self.keeper.save(&mut w);
        w.u32(self.averages.len() as u32);
        for (instrument, average) in &self.averages {
            w.u32(*instrument).f64(*average);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        let keeper = Keeper::load(&mut r)?;
        let mut averages = BTreeMap::new();
        for _ in 0..r.u32()? {
            averages.insert(r.u32()?, r.f64()?);
        }
        r.finish()?;
        (self.keeper, self.averages) = (keeper, averages);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{px, units};
    use tradsys_sdk::{Fill, Quote};

    fn quote(bid: &str, ask: &str) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: px(bid),
            bid_size: units(10),
            ask_price: px(ask),
            ask_size: units(10),
        })
    }

    #[test]
    fn buys_a_drop_below_the_average_once_and_its_state_survives_a_swap() {
        let config = Config::new([("threshold_bps", "10"), ("smoothing", "10")]);
        let mut s = __TYPE__::new(&config).unwrap();
        let mut orders = Vec::new();
        s.on_market(
            &[quote("99.99", "100.01"), quote("98.99", "99.01")],
            &mut orders,
        );
        let buy = match orders.as_slice() {
            [OrderCommand::Submit(buy)] => *buy,
            other => panic!("one order expected: {other:?}"),
        };
        assert_eq!((buy.side, buy.price), (Side::Buy, px("99.01")));
        // One order in flight: the next quote far below sends nothing.
        orders.clear();
        s.on_market(&[quote("97.99", "98.01")], &mut orders);
        assert!(orders.is_empty(), "{orders:?}");
        let fill = OrderEvent::Filled(Fill {
            id: buy.id,
            instrument: 0,
            ts: 2,
            side: Side::Buy,
            price: buy.price,
            quantity: buy.quantity,
            leaves_quantity: 0,
            maker: false,
        });
        s.on_order_events(&[fill], &mut orders);
        let mut restored = __TYPE__::new(&config).unwrap();
        restored.load_state(&s.save_state()).unwrap();
        assert_eq!(restored.keeper, s.keeper);
        assert_eq!(restored.averages, s.averages);
        assert_eq!(restored.keeper.position(0), units(1));
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let err = __TYPE__::new(&Config::new([("max_postion", "3")])).unwrap_err();
        assert!(err.contains("max_postion"), "{err}");
    }
}

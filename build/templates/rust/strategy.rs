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
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Params, Quote, Side, Strategy,
    TimeInForce, fixed, state,
};

/// Its state's format version: `load_state` refuses any other.
const STATE_VERSION: u8 = 1;

/// The config keys, read and checked in one call (`Tunables::from_config`):
/// a key not listed is refused, a bad value named.
#[derive(Debug, Clone, Params)]
struct Tunables {
    #[param(decimal = "1", positive)]
    quantity: i64,
    #[param(decimal = "5", min = quantity)]
    max_position: i64,
    #[param(default = 5.0, positive)]
    threshold_bps: f64,
    #[param(default = 50.0, min = 1.0)]
    smoothing: f64,
}

/// See the crate documentation.
#[derive(Debug)]
pub struct __TYPE__ {
    p: Tunables,
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
        let alpha = 2.0 / (self.p.smoothing + 1.0);
        *average += alpha * (mid - *average);
        if self.keeper.in_flight(q.instrument).is_some() {
            return;
        }
        let distance = (mid - *average) / *average;
        let (threshold, quantity) = (self.p.threshold_bps / 10_000.0, self.p.quantity);
        let position = self.keeper.position(q.instrument);
        let (side, price) =
            if distance < -threshold && position + quantity <= self.p.max_position {
                (Side::Buy, q.ask_price)
            } else if distance > threshold && position - quantity >= -self.p.max_position {
                (Side::Sell, q.bid_price)
            } else {
                return;
            };
        let (limit, ioc) = (OrderType::Limit, TimeInForce::Ioc);
        self.keeper
            .submit(orders, q.instrument, side, limit, ioc, price, quantity);
    }
}

impl Strategy for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        let p = Tunables::from_config(config)?;
        let (averages, keeper) = Default::default();
        Ok(Self { p, averages, keeper })
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
        state::save(STATE_VERSION, &(&self.keeper, &self.averages))
    }

    fn load_state(&mut self, saved: &[u8]) -> Result<(), String> {
        (self.keeper, self.averages) = state::load(STATE_VERSION, saved)?;
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

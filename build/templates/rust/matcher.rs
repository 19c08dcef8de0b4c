//! `__NAME__`: a simulated venue over the feed's quotes (`[venue] model =
//! "simulated"`).
//!
//! It keeps the last quote of each instrument. An order that reaches the
//! touch (a buy at or above the ask, a market order) fills at once at the
//! touch's price, up to the size shown there; a fill-or-kill order that
//! the shown size cannot fill in full is rejected. The rest of a GTC limit
//! order rests, and fills at its own price when a later quote reaches it;
//! the rest of an IOC order is canceled. Cancel and modify act on resting
//! orders. Reports carry the time of the last quote.
//!
//! It takes no config keys.

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, Config, DepthLevel, Fill, MarketEvent, Matcher, NewOrder, OrderAccepted,
    OrderCanceled, OrderCommand, OrderEvent, OrderModified, OrderRejected, OrderType, Quote,
    RejectReason, Rejection, Side, TimeInForce,
};

/// An order resting at the venue.
#[derive(Debug, Clone, PartialEq)]
struct Resting {
    id: u64,
    instrument: u32,
    side: Side,
    price: i64,
    leaves: i64,
}

/// See the crate documentation.
#[derive(Debug, Default)]
pub struct __TYPE__ {
    quotes: BTreeMap<u32, Quote>,
    resting: Vec<Resting>,
    ts: u64,
}

fn reject(id: u64, instrument: u32, ts: u64, reason: RejectReason, why: &str) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts,
        rejection: Rejection {
            reason,
            message: Some(why.to_string()),
        },
    })
}

impl __TYPE__ {
    /// The price and size an order on `side` can take now, if any.
    fn touch(&self, instrument: u32, side: Side) -> Option<(i64, i64)> {
        let q = self.quotes.get(&instrument)?;
        let (price, size) = match side {
            Side::Buy => (q.ask_price, q.ask_size),
            Side::Sell => (q.bid_price, q.bid_size),
        };
        (size > 0).then_some((price, size))
    }

    /// A fill of `quantity` of `order` (whose `leaves` is what is left
    /// after it), at `order.price`.
    fn fill(&self, order: &Resting, quantity: i64, maker: bool) -> OrderEvent {
        OrderEvent::Filled(Fill {
            id: order.id,
            instrument: order.instrument,
            ts: self.ts,
            side: order.side,
            price: order.price,
            quantity,
            leaves_quantity: order.leaves,
            maker,
        })
    }

    fn submit(&mut self, o: &NewOrder, out: &mut Vec<OrderEvent>) {
        let ts = self.ts;
        let refuse = |reason, why: &str| reject(o.id, o.instrument, ts, reason, why);
        let limit = o.order_type == OrderType::Limit;
        if o.quantity <= 0 || (limit && o.price <= 0) {
            let why = "quantity and limit price must be positive";
            return out.push(refuse(RejectReason::InvalidOrder, why));
        }
        if self.resting.iter().any(|r| r.id == o.id) {
            let why = "an order with this id is working";
            return out.push(refuse(RejectReason::InvalidOrder, why));
        }
        let reached = self.touch(o.instrument, o.side).filter(|(price, _)| {
            !limit
                || match o.side {
                    Side::Buy => *price <= o.price,
                    Side::Sell => *price >= o.price,
                }
        });
        let taken = reached.map_or(0, |(_, size)| size.min(o.quantity));
        if o.time_in_force == TimeInForce::Fok && taken < o.quantity {
            let why = "the quote shows less than the whole quantity";
            return out.push(refuse(RejectReason::FillOrKillUnfilled, why));
        }
        if !limit && taken == 0 {
            return out.push(refuse(RejectReason::NoLiquidity, "no quote to take"));
        }
        out.push(OrderEvent::Accepted(OrderAccepted {
            id: o.id,
            instrument: o.instrument,
            ts: self.ts,
        }));
        let leaves = o.quantity - taken;
        if let Some((price, _)) = reached.filter(|_| taken > 0) {
            let taker = Resting {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
                price,
                leaves,
            };
            out.push(self.fill(&taker, taken, false));
        }
        if leaves == 0 {
            return;
        }
        if limit && o.time_in_force == TimeInForce::Gtc {
            self.resting.push(Resting {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
                price: o.price,
                leaves,
            });
        } else {
            out.push(OrderEvent::Canceled(OrderCanceled {
                id: o.id,
                instrument: o.instrument,
                ts: self.ts,
                canceled_quantity: leaves,
            }));
        }
    }

    /// Fill the resting orders of `instrument` that its quote now reaches.
    fn fill_reached(&mut self, instrument: u32, out: &mut Vec<OrderEvent>) {
        let Some(q) = self.quotes.get(&instrument).copied() else {
            return;
        };
        // What the quote shows is shared by the orders it reaches, oldest first.
        let (mut bid_size, mut ask_size) = (q.bid_size, q.ask_size);
        let mut i = 0;
        while i < self.resting.len() {
            let r = &self.resting[i];
            let shown = match r.side {
                Side::Buy if q.ask_price <= r.price => &mut ask_size,
                Side::Sell if q.bid_price >= r.price => &mut bid_size,
                _ => &mut 0,
            };
            if r.instrument != instrument || *shown <= 0 {
                i += 1;
                continue;
            }
            let quantity = r.leaves.min(*shown);
            *shown -= quantity;
            self.resting[i].leaves -= quantity;
            out.push(self.fill(&self.resting[i], quantity, true));
            if self.resting[i].leaves == 0 {
                self.resting.remove(i);
            } else {
                i += 1;
            }
        }
    }
}

impl Matcher for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[])?;
        Ok(Self::default())
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        for command in commands {
            match command {
                OrderCommand::Submit(o) => self.submit(o, reports),
                OrderCommand::Cancel(c) => match self.resting.iter().position(|r| r.id == c.id) {
                    Some(i) => {
                        let r = self.resting.remove(i);
                        reports.push(OrderEvent::Canceled(OrderCanceled {
                            id: r.id,
                            instrument: r.instrument,
                            ts: self.ts,
                            canceled_quantity: r.leaves,
                        }));
                    }
                    None => reports.push(reject(
                        c.id,
                        c.instrument,
                        self.ts,
                        RejectReason::UnknownOrder,
                        "not working",
                    )),
                },
                OrderCommand::Modify(m) => match self.resting.iter_mut().find(|r| r.id == m.id) {
                    Some(r) if m.price > 0 && m.quantity > 0 => {
                        // A modify states the new total; this venue keeps no
                        // filled quantity apart, so the total is what is left.
                        r.price = m.price;
                        r.leaves = m.quantity;
                        reports.push(OrderEvent::Modified(OrderModified {
                            id: r.id,
                            instrument: r.instrument,
                            ts: self.ts,
                            price: r.price,
                            leaves_quantity: r.leaves,
                        }));
                        self.fill_reached(m.instrument, reports);
                    }
                    Some(_) => reports.push(reject(
                        m.id,
                        m.instrument,
                        self.ts,
                        RejectReason::InvalidOrder,
                        "price and quantity must be positive",
                    )),
                    None => reports.push(reject(
                        m.id,
                        m.instrument,
                        self.ts,
                        RejectReason::UnknownOrder,
                        "not working",
                    )),
                },
            }
        }
    }

    fn on_market(&mut self, events: &[MarketEvent], reports: &mut Vec<OrderEvent>) {
        for event in events {
            if let MarketEvent::Quote(q) = event {
                self.ts = q.ts;
                self.quotes.insert(q.instrument, *q);
                self.fill_reached(q.instrument, reports);
            }
        }
    }

    /// The last quote as one level a side.
    fn depth(&self, instrument: u32, _levels: u32) -> BookDepth {
        let level = |price, quantity| DepthLevel {
            price,
            quantity,
            orders: 1,
        };
        let q = self.quotes.get(&instrument);
        BookDepth {
            instrument,
            bids: q
                .filter(|q| q.bid_size > 0)
                .map(|q| level(q.bid_price, q.bid_size))
                .into_iter()
                .collect(),
            asks: q
                .filter(|q| q.ask_size > 0)
                .map(|q| level(q.ask_price, q.ask_size))
                .into_iter()
                .collect(),
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(1).u64(self.ts).u32(self.quotes.len() as u32);
        for q in self.quotes.values() {
            w.market_event(&MarketEvent::Quote(*q));
        }
        w.u32(self.resting.len() as u32);
        for r in &self.resting {
            w.u64(r.id)
                .u32(r.instrument)
                .side(r.side)
                .i64(r.price)
                .i64(r.leaves);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(1)?;
        let ts = r.u64()?;
        let mut quotes = BTreeMap::new();
        for _ in 0..r.u32()? {
            match r.market_event()? {
                MarketEvent::Quote(q) => quotes.insert(q.instrument, q),
                other => return Err(format!("state: a quote expected, found {other:?}")),
            };
        }
        let mut resting = Vec::new();
        for _ in 0..r.u32()? {
            resting.push(Resting {
                id: r.u64()?,
                instrument: r.u32()?,
                side: r.side()?,
                price: r.i64()?,
                leaves: r.i64()?,
            });
        }
        r.finish()?;
        (self.ts, self.quotes, self.resting) = (ts, quotes, resting);
        Ok(())
    }
}

tradsys_sdk::export_matcher!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::testing::{self, px, units};

    fn quote(bid: &str, ask: &str) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 7,
            bid_price: px(bid),
            bid_size: units(10),
            ask_price: px(ask),
            ask_size: units(10),
        })
    }

    #[test]
    fn takes_the_touch_rests_the_rest_and_fills_it_when_a_quote_reaches_it() {
        let mut m = __TYPE__::new(&Config::new::<&str, &str>([])).unwrap();
        let mut reports = Vec::new();
        m.on_market(&[quote("99.99", "100.01")], &mut reports);
        m.execute(
            &[
                testing::limit(1, 0, Side::Buy, px("100.01"), units(4)),
                testing::limit(2, 0, Side::Buy, px("99.95"), units(3)),
            ],
            &mut reports,
        );
        let fills = |reports: &[OrderEvent]| -> Vec<(u64, i64, bool)> {
            reports
                .iter()
                .filter_map(|e| match e {
                    OrderEvent::Filled(f) => Some((f.id, f.quantity, f.maker)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(fills(&reports), [(1, units(4), false)]);
        let saved = m.save_state();
        reports.clear();
        m.on_market(&[quote("99.90", "99.94")], &mut reports);
        assert_eq!(fills(&reports), [(2, units(3), true)]);
        let mut restored = __TYPE__::default();
        restored.load_state(&saved).unwrap();
        assert_eq!(
            restored.resting.len(),
            1,
            "order 2 rests in the saved state"
        );
    }
}

//! The connector's own small venue: the touch of each instrument as
//! delivered, resting limit orders in arrival order, and the reports they
//! make (see the crate documentation for its rules).

use tradsys_sdk::{
    Fill, MarketEvent, NewOrder, OrderAccepted, OrderCanceled, OrderEvent, OrderModified,
    OrderRejected, OrderType, RejectReason, Rejection, Side, TimeInForce, fixed,
};

/// A limit order resting in the simulated venue.
#[derive(Debug, Clone)]
pub(crate) struct Resting {
    pub(crate) id: u64,
    pub(crate) instrument: u32,
    pub(crate) side: Side,
    pub(crate) price: i64,
    pub(crate) quantity: i64,
}

/// The simulated venue: the touch of each instrument as delivered, resting orders
/// in arrival order and reports waiting for `poll_reports`.
#[derive(Debug, Default)]
pub(crate) struct Venue {
    /// Best bid and ask per instrument id, from the last delivered quote.
    pub(crate) touch: Vec<Option<(i64, i64)>>,
    pub(crate) ticks: Vec<i64>,
    /// Time of the last delivered event; stamps every report.
    pub(crate) clock: u64,
    pub(crate) resting: Vec<Resting>,
    pub(crate) reports: Vec<OrderEvent>,
}

/// Report helpers.
fn rejected(id: u64, instrument: u32, ts: u64, reason: RejectReason, message: &str) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts,
        rejection: Rejection {
            reason,
            message: Some(message.to_string()),
        },
    })
}

impl Venue {
    /// Track a delivered event; a quote may fill resting orders it crosses.
    pub(crate) fn on_event(&mut self, event: &MarketEvent) {
        let (instrument, Some(ts)) = (event.instrument(), event.ts()) else {
            return;
        };
        self.clock = self.clock.max(ts);
        let MarketEvent::Quote(q) = event else { return };
        if let Some(touch) = self.touch.get_mut(instrument as usize) {
            *touch = Some((q.bid_price, q.ask_price));
        }
        let reports = &mut self.reports;
        self.resting.retain(|order| {
            let crossed = order.instrument == instrument
                && match order.side {
                    Side::Buy => q.ask_price <= order.price,
                    Side::Sell => q.bid_price >= order.price,
                };
            if crossed {
                // A resting order is the maker and fills at its own limit.
                reports.push(fill(order, order.price, ts, true));
            }
            !crossed
        });
    }

    /// The touch price an order on `side` with limit `price` executes against now,
    /// if it crosses (`None` price: a market order).
    pub(crate) fn crossing(&self, instrument: u32, side: Side, price: Option<i64>) -> Option<i64> {
        let (bid, ask) = (*self.touch.get(instrument as usize)?)?;
        match (side, price) {
            (Side::Buy, None) => Some(ask),
            (Side::Sell, None) => Some(bid),
            (Side::Buy, Some(p)) => (p >= ask).then_some(ask),
            (Side::Sell, Some(p)) => (p <= bid).then_some(bid),
        }
    }

    /// Why a price/quantity is unacceptable for `instrument`, if it is.
    pub(crate) fn invalid(
        &self,
        instrument: u32,
        price: Option<i64>,
        quantity: i64,
    ) -> Option<&'static str> {
        let Some(&tick) = self.ticks.get(instrument as usize) else {
            return Some("unknown instrument");
        };
        if quantity <= 0 || quantity % fixed::from_units(1) != 0 {
            return Some("quantity must be a positive whole number of lots");
        }
        match price {
            Some(p) if p <= 0 || p % tick != 0 => Some("price must be positive and on tick"),
            _ => None,
        }
    }

    pub(crate) fn submit(&mut self, order: &NewOrder, out: &mut Vec<OrderEvent>) {
        let (id, instrument, ts) = (order.id, order.instrument, self.clock);
        let limit = match order.order_type {
            OrderType::Limit => Some(order.price),
            OrderType::Market => None,
        };
        if let Some(why) = self.invalid(instrument, limit, order.quantity) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                why,
            ));
            return;
        }
        if self.resting.iter().any(|r| r.id == id) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                "duplicate order id",
            ));
            return;
        }
        let resting = Resting {
            id,
            instrument,
            side: order.side,
            price: order.price,
            quantity: order.quantity,
        };
        if let Some(price) = self.crossing(instrument, order.side, limit) {
            out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
            out.push(fill(&resting, price, ts, false));
            return;
        }
        match (limit, order.time_in_force) {
            (None, _) => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::NoLiquidity,
                "no quote yet",
            )),
            (Some(_), TimeInForce::Gtc) => {
                out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                self.resting.push(resting);
            }
            (Some(_), TimeInForce::Ioc) => {
                out.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                out.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: order.quantity,
                }));
            }
            (Some(_), TimeInForce::Fok) => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::FillOrKillUnfilled,
                "limit does not cross the touch",
            )),
        }
    }

    /// Index of the resting order `id` of `instrument`.
    pub(crate) fn find(&self, id: u64, instrument: u32) -> Option<usize> {
        self.resting
            .iter()
            .position(|r| r.id == id && r.instrument == instrument)
    }

    pub(crate) fn cancel(&mut self, id: u64, instrument: u32, out: &mut Vec<OrderEvent>) {
        let ts = self.clock;
        match self.find(id, instrument) {
            Some(index) => {
                let order = self.resting.remove(index);
                out.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: order.quantity,
                }));
            }
            None => out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::UnknownOrder,
                "no such working order",
            )),
        }
    }

    /// Replace price and quantity (resting orders never fill partly here, so the
    /// new quantity is all still working); a new price that crosses executes.
    pub(crate) fn modify(
        &mut self,
        id: u64,
        instrument: u32,
        price: i64,
        quantity: i64,
        out: &mut Vec<OrderEvent>,
    ) {
        let ts = self.clock;
        let Some(index) = self.find(id, instrument) else {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::UnknownOrder,
                "no such working order",
            ));
            return;
        };
        if let Some(why) = self.invalid(instrument, Some(price), quantity) {
            out.push(rejected(
                id,
                instrument,
                ts,
                RejectReason::InvalidOrder,
                why,
            ));
            return;
        }
        let side = self.resting[index].side;
        self.resting[index].price = price;
        self.resting[index].quantity = quantity;
        out.push(OrderEvent::Modified(OrderModified {
            id,
            instrument,
            ts,
            price,
            leaves_quantity: quantity,
        }));
        if let Some(touch) = self.crossing(instrument, side, Some(price)) {
            let order = self.resting.remove(index);
            out.push(fill(&order, touch, ts, false));
        }
    }
}

/// A full fill of `order` at `price`.
fn fill(order: &Resting, price: i64, ts: u64, maker: bool) -> OrderEvent {
    OrderEvent::Filled(Fill {
        id: order.id,
        instrument: order.instrument,
        ts,
        side: order.side,
        price,
        quantity: order.quantity,
        leaves_quantity: 0,
        maker,
    })
}

//! A matcher that accepts every new order and fills it in full at once at its
//! limit price, as a resting order met at its price (a venue with endless
//! liquidity), telling the truth until its
//! `at`-th `execute` call (config, default 3), where it tells the lie named by
//! config `lie` about the first new order of the call:
//! - `none`: no lie;
//! - `overfill`: a fill three times the order's quantity;
//! - `wrong-side`: the fill is on the other side;
//! - `negative`: a fill of minus the order's quantity;
//! - `double`: the same fill twice;
//! - `through-limit`: a buy filled one unit above its limit (a sell below);
//! - `leaves`: leaves that do not follow from the fill;
//! - `cancel-part`: accepted, then canceled with half its quantity (no fill);
//! - `accept-twice`: accepted twice before the fill;
//! - `unknown-order`: a fill of an order id the host never sent;
//! - `two-prices` (for the exchange venue): every order rests until the first
//!   call from the `at`-th on with a buy and a sell; it fills both, as
//!   much as the smaller, each at its own limit: a trade whose two sides
//!   disagree on price.
//!
//! With `rest_every` = N (default 0: never), the new orders of every N-th
//! call are accepted and left resting instead (they never fill). A Modify or
//! Cancel is refused as `unknown-order`.

use tradsys_sdk::{
    BookDepth, Config, Fill, Matcher, NewOrder, OrderAccepted, OrderCanceled, OrderCommand,
    OrderEvent, OrderRejected, RejectReason, Rejection, Side, fixed, host,
};

/// The matcher.
pub struct LyingMatcher {
    lie: String,
    at: u64,
    rest_every: u64,
    calls: u64,
    /// `two-prices` has told its lie.
    lied: bool,
}

const LIES: [&str; 11] = [
    "none",
    "overfill",
    "wrong-side",
    "negative",
    "double",
    "through-limit",
    "leaves",
    "cancel-part",
    "accept-twice",
    "unknown-order",
    "two-prices",
];

impl LyingMatcher {
    /// `two-prices`: rest everything until a call (from the `at`-th) brings
    /// a buy and a sell, then fill both at their own limits.
    fn two_prices(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let new: Vec<&NewOrder> = commands
            .iter()
            .filter_map(|c| match c {
                OrderCommand::Submit(o) => Some(o),
                _ => None,
            })
            .collect();
        for c in commands {
            match c {
                OrderCommand::Submit(o) => reports.push(OrderEvent::Accepted(OrderAccepted {
                    id: o.id,
                    instrument: o.instrument,
                    ts: host::now(),
                })),
                OrderCommand::Cancel(c) => reports.push(refused(c.id, c.instrument)),
                OrderCommand::Modify(m) => reports.push(refused(m.id, m.instrument)),
            }
        }
        if self.calls < self.at || self.lied {
            return;
        }
        let buy = new.iter().find(|o| o.side == Side::Buy);
        let sell = new.iter().find(|o| o.side == Side::Sell);
        if let (Some(buy), Some(sell)) = (buy, sell) {
            let quantity = buy.quantity.min(sell.quantity);
            push_fill(reports, buy, quantity, buy.quantity - quantity);
            push_fill(reports, sell, quantity, sell.quantity - quantity);
            self.lied = true;
        }
    }
}

impl Matcher for LyingMatcher {
    fn new(config: &Config) -> Result<Self, String> {
        let lie = config.get("lie").unwrap_or("none").to_string();
        if !LIES.contains(&lie.as_str()) {
            return Err(format!("config `lie`: unknown lie `{lie}`"));
        }
        Ok(Self {
            lie,
            at: config.parse_or("at", 3)?,
            rest_every: config.parse_or("rest_every", 0)?,
            calls: 0,
            lied: false,
        })
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        self.calls += 1;
        let mut lie = if self.calls >= self.at {
            self.lie.as_str()
        } else {
            "none"
        };
        if self.lie == "two-prices" {
            return self.two_prices(commands, reports);
        }
        let resting =
            lie == "none" && self.rest_every > 0 && self.calls.is_multiple_of(self.rest_every);
        for command in commands {
            let order = match command {
                OrderCommand::Submit(order) => order,
                OrderCommand::Cancel(c) => {
                    reports.push(refused(c.id, c.instrument));
                    continue;
                }
                OrderCommand::Modify(m) => {
                    reports.push(refused(m.id, m.instrument));
                    continue;
                }
            };
            let (id, instrument, ts) = (order.id, order.instrument, host::now());
            reports.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
            if resting {
                continue;
            }
            let fill = fill(order);
            match lie {
                "overfill" => push_fill(reports, order, 3 * order.quantity, -2 * order.quantity),
                "wrong-side" => {
                    let side = match order.side {
                        Side::Buy => Side::Sell,
                        Side::Sell => Side::Buy,
                    };
                    reports.push(OrderEvent::Filled(Fill { side, ..fill }));
                }
                "negative" => push_fill(reports, order, -order.quantity, 2 * order.quantity),
                "double" => {
                    reports.push(OrderEvent::Filled(fill));
                    reports.push(OrderEvent::Filled(fill));
                }
                "through-limit" => {
                    let price = match order.side {
                        Side::Buy => order.price + fixed::SCALE,
                        Side::Sell => order.price - fixed::SCALE,
                    };
                    reports.push(OrderEvent::Filled(Fill { price, ..fill }));
                }
                "leaves" => reports.push(OrderEvent::Filled(Fill {
                    leaves_quantity: order.quantity,
                    ..fill
                })),
                "cancel-part" => reports.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: order.quantity / 2,
                })),
                "accept-twice" => {
                    reports.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                    reports.push(OrderEvent::Filled(fill));
                }
                "unknown-order" => reports.push(OrderEvent::Filled(Fill {
                    id: id + 1_000_000,
                    ..fill
                })),
                _ => reports.push(OrderEvent::Filled(fill)),
            }
            // One lie per call, about its first new order.
            lie = "none";
        }
    }

    fn depth(&self, instrument: u32, _levels: u32) -> BookDepth {
        BookDepth {
            instrument,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = tradsys_sdk::state::StateWriter::default();
        w.u64(self.calls);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = tradsys_sdk::state::StateReader::new(state);
        self.calls = r.u64()?;
        r.finish()
    }
}

/// The truthful fill: all of it, at the limit price.
fn fill(order: &NewOrder) -> Fill {
    Fill {
        id: order.id,
        instrument: order.instrument,
        ts: host::now(),
        side: order.side,
        price: order.price,
        quantity: order.quantity,
        leaves_quantity: 0,
        maker: true,
    }
}

fn push_fill(reports: &mut Vec<OrderEvent>, order: &NewOrder, quantity: i64, leaves: i64) {
    reports.push(OrderEvent::Filled(Fill {
        quantity,
        leaves_quantity: leaves,
        ..fill(order)
    }));
}

fn refused(id: u64, instrument: u32) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts: host::now(),
        rejection: Rejection {
            reason: RejectReason::UnknownOrder,
            message: None,
        },
    })
}

tradsys_sdk::export_matcher!(LyingMatcher);

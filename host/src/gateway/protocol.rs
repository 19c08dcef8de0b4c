//! The WebSocket protocol: one JSON object per text message, `type` naming
//! it (README, *The host as a venue*). What a client sends is untrusted: a
//! message that does not parse, or an order that breaks a rule checked here
//! (a price with more than nine decimals, a quantity of zero or over the
//! gateway's maximum), is answered with an `error` naming the reason, and
//! nothing of it reaches the session.

use serde::{Deserialize, Serialize};

use crate::bindings::types::{OrderEvent, OrderType, Side, TimeInForce};
use crate::journal::decimal;

/// Bytes of one message at most.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// One fixed-point unit (nine decimals).
const UNIT: i128 = decimal::SCALE;

/// The deepest book a client may subscribe to, levels per side.
pub const MAX_DEPTH: u32 = 100;

/// What a client sends, as it parses.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Message {
    Logon {
        account: String,
        key: String,
    },
    Order {
        id: u64,
        symbol: String,
        side: WireSide,
        #[serde(default)]
        order_type: WireOrderType,
        #[serde(default)]
        tif: WireTif,
        #[serde(default)]
        price: Option<String>,
        quantity: String,
    },
    Cancel {
        id: u64,
        symbol: String,
    },
    Modify {
        id: u64,
        symbol: String,
        price: String,
        quantity: String,
    },
    Subscribe {
        symbol: String,
        #[serde(default = "default_depth")]
        depth: u32,
    },
    Unsubscribe {
        symbol: String,
    },
    OpenOrders,
}

fn default_depth() -> u32 {
    10
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireSide {
    Buy,
    Sell,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireOrderType {
    #[default]
    Limit,
    Market,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireTif {
    #[default]
    Gtc,
    Ioc,
    Fok,
}

/// A logon: the account and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logon {
    pub account: String,
    pub key: String,
}

/// A checked order request of a logged-on client; prices and quantities
/// fixed-point, the instrument still by symbol (the session knows them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Submit {
        id: u64,
        symbol: String,
        side: Side,
        order_type: OrderType,
        tif: TimeInForce,
        price: i64,
        quantity: i64,
    },
    Cancel {
        id: u64,
        symbol: String,
    },
    Modify {
        id: u64,
        symbol: String,
        price: i64,
        quantity: i64,
    },
    /// Trades and the venue's book to `depth` levels (0: trades only).
    Subscribe {
        symbol: String,
        depth: u32,
    },
    Unsubscribe {
        symbol: String,
    },
    /// The account's working orders (asked for at every logon, too).
    OpenOrders,
}

impl Request {
    /// What the refusal of the request names: its order, or its symbol.
    pub fn subject(&self) -> String {
        match self {
            Self::Submit { id, .. } | Self::Cancel { id, .. } | Self::Modify { id, .. } => {
                format!("request for order {id}")
            }
            Self::Subscribe { symbol, .. } | Self::Unsubscribe { symbol } => {
                format!("subscription to {symbol}")
            }
            Self::OpenOrders => "request for open orders".into(),
        }
    }

    /// The instrument's symbol it names.
    pub fn symbol(&self) -> &str {
        match self {
            Self::Submit { symbol, .. }
            | Self::Cancel { symbol, .. }
            | Self::Modify { symbol, .. }
            | Self::Subscribe { symbol, .. }
            | Self::Unsubscribe { symbol } => symbol,
            Self::OpenOrders => "",
        }
    }
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Logon(Logon),
    Request(Request),
}

/// Parse one message; `max_quantity` in whole units. The error is the
/// reason the client is told.
pub fn parse(text: &str, max_quantity: u64) -> Result<Incoming, String> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "message of {} bytes, more than {MAX_MESSAGE_BYTES}",
            text.len()
        ));
    }
    let message: Message =
        serde_json::from_str(text).map_err(|e| format!("malformed message: {e}"))?;
    let max = i128::from(max_quantity) * UNIT;
    Ok(match message {
        Message::Logon { account, key } => Incoming::Logon(Logon { account, key }),
        Message::Order {
            id,
            symbol,
            side,
            order_type,
            tif,
            price,
            quantity,
        } => {
            let order_type = match order_type {
                WireOrderType::Limit => OrderType::Limit,
                WireOrderType::Market => OrderType::Market,
            };
            let price = match (order_type, price) {
                (OrderType::Limit, None) => return Err("a limit order needs a price".into()),
                (_, Some(text)) => amount("price", &text, i128::from(i64::MAX))?,
                (OrderType::Market, None) => 0,
            };
            Incoming::Request(Request::Submit {
                id,
                symbol,
                side: match side {
                    WireSide::Buy => Side::Buy,
                    WireSide::Sell => Side::Sell,
                },
                order_type,
                tif: match tif {
                    WireTif::Gtc => TimeInForce::Gtc,
                    WireTif::Ioc => TimeInForce::Ioc,
                    WireTif::Fok => TimeInForce::Fok,
                },
                price,
                quantity: amount("quantity", &quantity, max)?,
            })
        }
        Message::Cancel { id, symbol } => Incoming::Request(Request::Cancel { id, symbol }),
        Message::Modify {
            id,
            symbol,
            price,
            quantity,
        } => Incoming::Request(Request::Modify {
            id,
            symbol,
            price: amount("price", &price, i128::from(i64::MAX))?,
            quantity: amount("quantity", &quantity, max)?,
        }),
        Message::Subscribe { symbol, depth } => {
            if depth > MAX_DEPTH {
                return Err(format!("depth: {depth} levels, more than {MAX_DEPTH}"));
            }
            Incoming::Request(Request::Subscribe { symbol, depth })
        }
        Message::Unsubscribe { symbol } => Incoming::Request(Request::Unsubscribe { symbol }),
        Message::OpenOrders => Incoming::Request(Request::OpenOrders),
    })
}

/// A positive decimal amount no larger than `max` (fixed-point).
pub(super) fn amount(what: &str, text: &str, max: i128) -> Result<i64, String> {
    let value = decimal::parse(text).map_err(|e| format!("{what}: {e}"))?;
    if value <= 0 {
        return Err(format!("{what}: {text} is not positive"));
    }
    if value > max {
        return Err(format!(
            "{what}: {text} is more than the gateway's maximum of {}",
            decimal::exact(max)
        ));
    }
    i64::try_from(value).map_err(|_| format!("{what}: {text} is too large"))
}

/// What a client is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The logon succeeded.
    LoggedOn { account: String },
    /// A message was refused; the connection stays (`symbol`: the
    /// subscription refused, if one was).
    Error {
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        symbol: Option<String>,
    },
    /// An order of the account's was accepted by the venue.
    Accepted { id: u64, symbol: String, ts: u64 },
    /// An order or a request about one was refused (`by`: `host` or a validator).
    Rejected {
        id: u64,
        symbol: String,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        ts: u64,
    },
    /// An order traded.
    Fill {
        id: u64,
        symbol: String,
        side: &'static str,
        price: String,
        quantity: String,
        leaves: String,
        maker: bool,
        ts: u64,
    },
    /// An order's rest was canceled.
    Canceled {
        id: u64,
        symbol: String,
        quantity: String,
        ts: u64,
    },
    /// An order's price and quantity were replaced.
    Modified {
        id: u64,
        symbol: String,
        price: String,
        leaves: String,
        ts: u64,
    },
    /// The gateway closes the connection, and why.
    Disconnect { reason: String },
    /// A subscription took effect (a `book` follows when `depth` > 0).
    Subscribed { symbol: String, depth: u32 },
    /// A subscription ended.
    Unsubscribed { symbol: String },
    /// The venue's book of `symbol`, best first, whenever it changed.
    Book {
        symbol: String,
        bids: Vec<Level>,
        asks: Vec<Level>,
        ts: u64,
    },
    /// A trade at the venue (`aggressor`: the taker's side).
    Trade {
        symbol: String,
        price: String,
        quantity: String,
        aggressor: &'static str,
        ts: u64,
    },
    /// The account's working orders: at every logon, and when asked.
    OpenOrders { orders: Vec<OpenOrder> },
    /// For a drop-copy account: an execution of any owner at the venue (a
    /// client's account, or a strategy of the host's).
    Execution {
        account: Option<String>,
        strategy: Option<String>,
        id: u64,
        symbol: String,
        side: &'static str,
        price: String,
        quantity: String,
        maker: bool,
        ts: u64,
    },
}

/// A working order of the account's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenOrder {
    pub id: u64,
    pub symbol: String,
    pub side: &'static str,
    /// Its limit; none for a market order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    pub leaves: String,
    pub filled: String,
    /// The average price of its fills, if it has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<String>,
}

/// One level of a book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub price: String,
    pub quantity: String,
    pub orders: u32,
}

impl Level {
    /// A level of fixed-point `price` and `quantity`.
    pub fn new(price: i64, quantity: i64, orders: u32) -> Self {
        Self {
            price: decimal::exact(i128::from(price)),
            quantity: decimal::exact(i128::from(quantity)),
            orders,
        }
    }
}

impl Reply {
    /// An execution report of the client's order `event` (the client's id),
    /// its instrument being `symbol`.
    pub fn report(event: &OrderEvent, symbol: &str) -> Self {
        let text = |v: i64| decimal::exact(i128::from(v));
        let symbol = symbol.to_string();
        match event {
            OrderEvent::Accepted(e) => Self::Accepted {
                id: e.id,
                symbol,
                ts: e.ts,
            },
            OrderEvent::Rejected(e) => Self::Rejected {
                id: e.id,
                symbol,
                reason: e.rejection.reason.name().to_string(),
                message: e.rejection.message.clone(),
                ts: e.ts,
            },
            OrderEvent::Filled(e) => Self::Fill {
                id: e.id,
                symbol,
                side: e.side.name(),
                price: text(e.price),
                quantity: text(e.quantity),
                leaves: text(e.leaves_quantity),
                maker: e.maker,
                ts: e.ts,
            },
            OrderEvent::Canceled(e) => Self::Canceled {
                id: e.id,
                symbol,
                quantity: text(e.canceled_quantity),
                ts: e.ts,
            },
            OrderEvent::Modified(e) => Self::Modified {
                id: e.id,
                symbol,
                price: text(e.price),
                leaves: text(e.leaves_quantity),
                ts: e.ts,
            },
        }
    }

    /// As JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a reply serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_parses_to_fixed_point_and_a_bad_one_names_its_fault() {
        let order = parse(
            r#"{"type":"order","id":7,"symbol":"ESH4","side":"buy","price":"4800.25","quantity":"2"}"#,
            100,
        )
        .unwrap();
        assert_eq!(
            order,
            Incoming::Request(Request::Submit {
                id: 7,
                symbol: "ESH4".into(),
                side: Side::Buy,
                order_type: OrderType::Limit,
                tif: TimeInForce::Gtc,
                price: 4_800_250_000_000,
                quantity: 2_000_000_000,
            })
        );
        let fault = |text: &str| parse(text, 100).unwrap_err();
        assert!(fault("{not json").starts_with("malformed message"));
        assert!(fault(r#"{"type":"fly"}"#).contains("unknown variant `fly`"));
        assert!(fault(r#"{"type":"cancel","id":1}"#).contains("missing field `symbol`"));
        assert!(fault(r#"{"type":"cancel","id":1,"symbol":"A","x":1}"#).contains("unknown field"));
        let order = |price: &str, quantity: &str| {
            format!(
                r#"{{"type":"order","id":1,"symbol":"A","side":"sell","price":"{price}","quantity":"{quantity}"}}"#
            )
        };
        assert!(fault(&order("1.0000000001", "1")).contains("price"));
        assert!(fault(&order("-1", "1")).contains("not positive"));
        assert!(fault(&order("1", "0")).contains("quantity: 0 is not positive"));
        assert!(fault(&order("1", "101")).contains("more than the gateway's maximum of 100"));
        assert!(
            fault(r#"{"type":"order","id":1,"symbol":"A","side":"buy","quantity":"1"}"#)
                .contains("needs a price")
        );
        assert!(fault(&"x".repeat(MAX_MESSAGE_BYTES + 1)).contains("more than"));
    }

    #[test]
    fn a_fill_is_told_in_decimals() {
        let fill = OrderEvent::Filled(crate::bindings::types::Fill {
            id: 3,
            instrument: 0,
            ts: 9,
            side: Side::Sell,
            price: 4_800_250_000_000,
            quantity: 1_000_000_000,
            leaves_quantity: 0,
            maker: true,
        });
        assert_eq!(
            Reply::report(&fill, "ESH4").to_text(),
            r#"{"type":"fill","id":3,"symbol":"ESH4","side":"sell","price":"4800.25","quantity":"1","leaves":"0","maker":true,"ts":9}"#
        );
    }
}

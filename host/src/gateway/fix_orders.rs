//! A FIX connection's application messages: NewOrderSingle (D),
//! OrderCancelRequest (F), OrderCancelReplaceRequest (G) and
//! MarketDataRequest (V) read into the gateway's requests; the session's
//! replies written as ExecutionReports (8), OrderCancelRejects (9),
//! market data (W snapshots, X trades) and rejects (Y, j).
//!
//! A FIX session hears the reports of the orders entered on it (as at a
//! FIX venue; a WebSocket connection of the same account hears them too).
//! ClOrdID (11) of a new order is the account's order id, so it must be a
//! whole number; a cancel's or a replace's ClOrdID may be any text, and the
//! order answers to it after a replace (OrigClOrdID, 41).

use std::collections::HashMap;

use tradsys_fix::{Message, time};

use super::fix_fields::{
    Refusal, amount, business_reject, decimal_field, incorrect, is_fix44_app_type, required, side,
    side_code,
};
use super::fix_session::reason;
use super::protocol::{MAX_DEPTH, Reply, Request};
use crate::bindings::types::{OrderType, Side, TimeInForce};
use crate::journal::decimal;

/// A change asked for and not answered yet.
#[derive(Debug, Clone)]
struct Pending {
    /// `1` a cancel, `2` a replace (CxlRejResponseTo, 434).
    kind: char,
    cl_ord_id: String,
}

/// A cancel or replace of an order this connection holds no ticket for.
#[derive(Debug, Clone)]
struct Stranger {
    pending: Pending,
    /// Its OrigClOrdID, symbol and side, as the request named them.
    original: String,
    symbol: String,
    side: Side,
}

impl Stranger {
    /// A ticket for it, once the venue did what was asked: what it knows.
    fn ticket(&self) -> Ticket {
        Ticket {
            cl_ord_id: self.pending.cl_ord_id.clone(),
            symbol: self.symbol.clone(),
            side: self.side,
            quantity: 0,
            price: None,
            filled: 0,
            notional: 0,
            pending: None,
        }
    }
}

/// What the connection knows of one of its orders.
#[derive(Debug, Clone)]
struct Ticket {
    cl_ord_id: String,
    symbol: String,
    side: Side,
    quantity: i64,
    price: Option<i64>,
    filled: i64,
    /// Sum of price × quantity of the fills (fixed point squared).
    notional: i128,
    pending: Option<Pending>,
}

impl Ticket {
    fn status(&self) -> char {
        if self.filled >= self.quantity {
            '2'
        } else if self.filled > 0 {
            '1'
        } else {
            '0'
        }
    }

    fn average(&self) -> String {
        if self.filled == 0 {
            return "0".into();
        }
        amount(i64::try_from(self.notional / i128::from(self.filled)).unwrap_or(i64::MAX))
    }
}

/// A subscription to one symbol's market data.
#[derive(Debug, Clone)]
struct Subscription {
    md_req_id: String,
    /// A snapshot only (SubscriptionRequestType 0): ends after one.
    once: bool,
}

/// One FIX connection's orders and subscriptions.
#[derive(Debug)]
pub(super) struct FixOrders {
    conn: u64,
    orders: HashMap<u64, Ticket>,
    /// Cancels and replaces of orders this connection holds no ticket for
    /// (over, or entered elsewhere): their ClOrdID and OrigClOrdID, so a
    /// refusal is answered with an OrderCancelReject.
    strangers: HashMap<u64, Stranger>,
    /// Every ClOrdID an order answered to, to its id.
    aliases: HashMap<String, u64>,
    subscriptions: HashMap<String, Subscription>,
    executions: u64,
    /// Lists of open orders asked for and not told yet, oldest first: the
    /// MassStatusReqID of an OrderMassStatusRequest (AF), none for the one
    /// asked at the logon.
    listings: std::collections::VecDeque<Option<String>>,
    /// The type of the last application message, for a
    /// BusinessMessageReject of a later refusal.
    last_type: String,
}

impl FixOrders {
    pub(super) fn new(conn: u64) -> Self {
        Self {
            conn,
            orders: HashMap::new(),
            strangers: HashMap::new(),
            aliases: HashMap::new(),
            subscriptions: HashMap::new(),
            executions: 0,
            listings: std::collections::VecDeque::from([None]),
            last_type: "D".into(),
        }
    }

    /// The requests application message `message` asks for.
    /// `max_quantity` in whole units.
    pub(super) fn read(
        &mut self,
        message: &Message,
        max_quantity: u64,
    ) -> Result<Vec<Request>, Refusal> {
        self.last_type = message.msg_type().to_string();
        let max = i128::from(max_quantity) * decimal::SCALE;
        match message.msg_type() {
            "D" => self.new_order(message, max).map(|r| vec![r]),
            "F" | "G" => self.change(message, max).map(|r| vec![r]),
            "V" => self.market_data(message),
            "AF" => {
                let id = required(message, 584)?.to_string();
                match required(message, 585)? {
                    // Every order, or every order of the account.
                    "7" | "8" => {}
                    other => {
                        return Err(incorrect(
                            585,
                            format!("MassStatusReqType (585) {other} is not served: 7 or 8"),
                        ));
                    }
                }
                self.listings.push_back(Some(id));
                Ok(vec![Request::OpenOrders])
            }
            other if is_fix44_app_type(other) => Err(Refusal::Answer(
                Message::new("j")
                    .with(372, other)
                    .with(380, 3)
                    .with(58, format!("MsgType {other} is not served by this venue")),
            )),
            other => Err(Refusal::Session {
                tag: Some(35),
                code: reason::INVALID_MSG_TYPE,
                text: format!("MsgType {other} is not a FIX 4.4 message"),
            }),
        }
    }

    fn new_order(&mut self, message: &Message, max: i128) -> Result<Request, Refusal> {
        let cl_ord_id = required(message, 11)?.to_string();
        let symbol = required(message, 55)?.to_string();
        let side = side(message)?;
        let order_type = match required(message, 40)? {
            "1" => OrderType::Market,
            "2" => OrderType::Limit,
            other => {
                return Err(incorrect(
                    40,
                    format!("OrdType (40) {other} is not served: 1 (market) or 2 (limit)"),
                ));
            }
        };
        let tif = match message.get(59).unwrap_or("1") {
            // A day at this venue lasts until it closes.
            "0" | "1" => TimeInForce::Gtc,
            "3" => TimeInForce::Ioc,
            "4" => TimeInForce::Fok,
            other => {
                return Err(incorrect(
                    59,
                    format!("TimeInForce (59) {other} is not served: 0, 1, 3 or 4"),
                ));
            }
        };
        let quantity = decimal_field(message, 38, "OrderQty", max)?;
        let price = match order_type {
            OrderType::Limit => Some(decimal_field(message, 44, "Price", i128::from(i64::MAX))?),
            OrderType::Market => None,
        };
        let Ok(id) = cl_ord_id.parse::<u64>() else {
            let ticket = Ticket {
                cl_ord_id,
                symbol,
                side,
                quantity,
                price,
                filled: 0,
                notional: 0,
                pending: None,
            };
            let text = "ClOrdID (11) of a new order must be a whole number: it is the \
                        account's order id";
            return Err(Refusal::Answer(self.execution(
                &ticket,
                0,
                '8',
                '8',
                Some(text),
            )));
        };
        self.aliases.insert(cl_ord_id.clone(), id);
        self.orders.insert(
            id,
            Ticket {
                cl_ord_id,
                symbol: symbol.clone(),
                side,
                quantity,
                price,
                filled: 0,
                notional: 0,
                pending: None,
            },
        );
        Ok(Request::Submit {
            id,
            symbol,
            side,
            order_type,
            tif,
            price: price.unwrap_or(0),
            quantity,
        })
    }

    /// A cancel (F) or a replace (G).
    fn change(&mut self, message: &Message, max: i128) -> Result<Request, Refusal> {
        let kind = if message.msg_type() == "F" { '1' } else { '2' };
        let original = required(message, 41)?.to_string();
        let cl_ord_id = required(message, 11)?.to_string();
        let symbol = required(message, 55)?.to_string();
        let side = side(message)?;
        let replace = if kind == '2' {
            let quantity = decimal_field(message, 38, "OrderQty", max)?;
            let price = decimal_field(message, 44, "Price", i128::from(i64::MAX))?;
            Some((price, quantity))
        } else {
            None
        };
        let id = self
            .aliases
            .get(&original)
            .copied()
            .or_else(|| original.parse().ok());
        let Some(id) = id else {
            return Err(Refusal::Answer(self.cancel_reject(
                kind,
                &cl_ord_id,
                &original,
                "unknown order: OrigClOrdID (41) names no order of this session",
            )));
        };
        let pending = Pending {
            kind,
            cl_ord_id: cl_ord_id.clone(),
        };
        match self.orders.get_mut(&id) {
            Some(ticket) => ticket.pending = Some(pending),
            None => {
                let stranger = Stranger {
                    pending,
                    original,
                    symbol: symbol.clone(),
                    side,
                };
                self.strangers.insert(id, stranger);
            }
        }
        self.aliases.insert(cl_ord_id, id);
        Ok(match replace {
            None => Request::Cancel { id, symbol },
            Some((price, quantity)) => Request::Modify {
                id,
                symbol,
                price,
                quantity,
            },
        })
    }

    fn market_data(&mut self, message: &Message) -> Result<Vec<Request>, Refusal> {
        let md_req_id = required(message, 262)?.to_string();
        // SubscriptionRequestType (263): a snapshot, updates, or no more.
        let once = match required(message, 263)? {
            "0" => true,
            "1" => false,
            "2" => return Ok(self.unsubscribe(&md_req_id)),
            other => {
                return Err(incorrect(
                    263,
                    format!("SubscriptionRequestType (263) {other} is not 0, 1 or 2"),
                ));
            }
        };
        let depth = match required(message, 264)?.parse::<u32>() {
            Ok(0) => MAX_DEPTH,
            Ok(depth) => depth.min(MAX_DEPTH),
            Err(_) => return Err(incorrect(264, "MarketDepth (264) is not a number".into())),
        };
        let symbols: Vec<String> = message
            .group(146, 55)
            .into_iter()
            .filter_map(|entry| entry.first().map(|(_, symbol)| symbol.to_string()))
            .collect();
        if symbols.is_empty() {
            return Err(Refusal::Session {
                tag: Some(146),
                code: reason::REQUIRED_TAG_MISSING,
                text: "NoRelatedSym (146) with at least one Symbol (55) is required".into(),
            });
        }
        Ok(symbols
            .into_iter()
            .map(|symbol| {
                self.subscriptions.insert(
                    symbol.clone(),
                    Subscription {
                        md_req_id: md_req_id.clone(),
                        once,
                    },
                );
                Request::Subscribe { symbol, depth }
            })
            .collect())
    }

    /// The subscriptions of request `md_req_id` end.
    fn unsubscribe(&mut self, md_req_id: &str) -> Vec<Request> {
        let symbols: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.md_req_id == md_req_id)
            .map(|(symbol, _)| symbol.clone())
            .collect();
        for symbol in &symbols {
            self.subscriptions.remove(symbol);
        }
        symbols
            .into_iter()
            .map(|symbol| Request::Unsubscribe { symbol })
            .collect()
    }

    /// An ExecutionReport of `ticket`: `exec_type` (150), `status` (39),
    /// a fill of `last` at `last_px` when there is one.
    fn execution(
        &mut self,
        ticket: &Ticket,
        leaves: i64,
        exec_type: char,
        status: char,
        text: Option<&str>,
    ) -> Message {
        self.executions += 1;
        let order_id = ticket
            .cl_ord_id
            .parse::<u64>()
            .map_or_else(|_| "NONE".to_string(), |_| ticket.cl_ord_id.clone());
        let mut m = Message::new("8")
            .with(37, order_id)
            .with(11, &ticket.cl_ord_id)
            .with(17, format!("{}-{}", self.conn, self.executions))
            .with(150, exec_type)
            .with(39, status)
            .with(55, &ticket.symbol)
            .with(54, side_code(ticket.side))
            .with(38, amount(ticket.quantity));
        if let Some(price) = ticket.price {
            m.push(44, amount(price));
        }
        m.push(151, amount(leaves));
        m.push(14, amount(ticket.filled));
        m.push(6, ticket.average());
        if let Some(text) = text {
            m.push(58, text);
        }
        m
    }

    fn cancel_reject(&self, kind: char, cl_ord_id: &str, original: &str, text: &str) -> Message {
        let (order_id, status) = self
            .aliases
            .get(original)
            .and_then(|id| self.orders.get(id).map(|t| (id.to_string(), t.status())))
            .unwrap_or_else(|| ("NONE".into(), '8'));
        Message::new("9")
            .with(37, order_id)
            .with(11, cl_ord_id)
            .with(41, original)
            .with(39, status)
            .with(434, kind)
            .with(102, if status == '8' { 1 } else { 99 })
            .with(58, text)
    }

    /// What `reply` is on this connection (nothing for an order it did not
    /// enter), and the requests it leads to (a snapshot-only subscription
    /// ends after its snapshot).
    pub(super) fn write(&mut self, reply: &Reply) -> (Vec<Message>, Vec<Request>) {
        let mut out = Vec::new();
        let mut then = Vec::new();
        match reply {
            Reply::Accepted { id, ts, .. } => {
                if let Some(ticket) = self.orders.get(id).cloned() {
                    let mut m = self.execution(&ticket, ticket.quantity, '0', '0', None);
                    m.push(60, time::format(*ts));
                    out.push(m);
                }
            }
            Reply::Rejected {
                id,
                reason,
                message,
                ..
            } => {
                let text = match message {
                    Some(message) => format!("{reason}: {message}"),
                    None => reason.clone(),
                };
                if let Some(stranger) = self.strangers.remove(id) {
                    out.push(self.cancel_reject(
                        stranger.pending.kind,
                        &stranger.pending.cl_ord_id,
                        &stranger.original,
                        &text,
                    ));
                } else if let Some(mut ticket) = self.orders.get(id).cloned() {
                    match ticket.pending.take() {
                        Some(pending) => {
                            let original = ticket.cl_ord_id.clone();
                            out.push(self.cancel_reject(
                                pending.kind,
                                &pending.cl_ord_id,
                                &original,
                                &text,
                            ));
                            self.orders.insert(*id, ticket);
                        }
                        None => {
                            out.push(self.execution(&ticket, 0, '8', '8', Some(&text)));
                            self.forget(*id);
                        }
                    }
                }
            }
            Reply::Fill {
                id,
                symbol,
                side,
                price,
                quantity,
                leaves,
                ts,
                ..
            } => {
                let fixed =
                    |text: &str| i64::try_from(decimal::parse(text).unwrap_or(0)).unwrap_or(0);
                // A fill of an order entered before this connection (told
                // after its logon): known from here on by its id.
                if !self.orders.contains_key(id) {
                    let ticket = Ticket {
                        cl_ord_id: id.to_string(),
                        symbol: symbol.clone(),
                        side: if *side == Side::Sell.name() {
                            Side::Sell
                        } else {
                            Side::Buy
                        },
                        quantity: fixed(quantity) + fixed(leaves),
                        price: None,
                        filled: 0,
                        notional: 0,
                        pending: None,
                    };
                    self.aliases.insert(ticket.cl_ord_id.clone(), *id);
                    self.orders.insert(*id, ticket);
                }
                if let Some(mut ticket) = self.orders.get(id).cloned() {
                    let (px, qty, leaves) = (fixed(price), fixed(quantity), fixed(leaves));
                    ticket.filled += qty;
                    ticket.notional += i128::from(px) * i128::from(qty);
                    let status = if leaves == 0 { '2' } else { '1' };
                    let mut m = self.execution(&ticket, leaves, 'F', status, None);
                    m.push(31, price);
                    m.push(32, quantity);
                    m.push(60, time::format(*ts));
                    out.push(m);
                    if leaves == 0 {
                        self.forget(*id);
                    } else {
                        self.orders.insert(*id, ticket);
                    }
                }
            }
            Reply::Canceled { id, ts, .. } => {
                // Of an order entered elsewhere, canceled at this session's
                // request: reported with what the request said of it.
                if let Some(stranger) = self.strangers.remove(id) {
                    let mut m = self.execution(&stranger.ticket(), 0, '4', '4', None);
                    m.push(41, &stranger.original);
                    m.push(60, time::format(*ts));
                    out.push(m);
                    self.forget(*id);
                } else if let Some(mut ticket) = self.orders.get(id).cloned() {
                    let original = ticket.cl_ord_id.clone();
                    if let Some(pending) = ticket.pending.take() {
                        ticket.cl_ord_id = pending.cl_ord_id;
                    }
                    let mut m = self.execution(&ticket, 0, '4', '4', None);
                    if original != ticket.cl_ord_id {
                        m.push(41, original);
                    }
                    m.push(60, time::format(*ts));
                    out.push(m);
                    self.forget(*id);
                }
            }
            Reply::Modified {
                id,
                price,
                leaves,
                ts,
                ..
            } => {
                // Of an order entered elsewhere, replaced at this session's
                // request: known from here on.
                if let Some(stranger) = self.strangers.remove(id) {
                    let mut ticket = stranger.ticket();
                    ticket.cl_ord_id.clone_from(&stranger.original);
                    ticket.pending = Some(stranger.pending);
                    self.orders.insert(*id, ticket);
                }
                if let Some(mut ticket) = self.orders.get(id).cloned() {
                    let fixed =
                        |text: &str| i64::try_from(decimal::parse(text).unwrap_or(0)).unwrap_or(0);
                    let original = ticket.cl_ord_id.clone();
                    if let Some(pending) = ticket.pending.take() {
                        ticket.cl_ord_id = pending.cl_ord_id;
                    }
                    ticket.price = Some(fixed(price));
                    let leaves = fixed(leaves);
                    ticket.quantity = ticket.filled + leaves;
                    let status = ticket.status();
                    let mut m = self.execution(&ticket, leaves, '5', status, None);
                    m.push(41, original);
                    m.push(60, time::format(*ts));
                    out.push(m);
                    self.orders.insert(*id, ticket);
                }
            }
            Reply::Book {
                symbol, bids, asks, ..
            } => {
                if let Some(subscription) = self.subscriptions.get(symbol).cloned() {
                    let mut m = Message::new("W")
                        .with(262, &subscription.md_req_id)
                        .with(55, symbol)
                        .with(268, bids.len() + asks.len());
                    for (kind, levels) in [('0', bids), ('1', asks)] {
                        for level in levels {
                            m.push(269, kind);
                            m.push(270, &level.price);
                            m.push(271, &level.quantity);
                        }
                    }
                    out.push(m);
                    if subscription.once {
                        self.subscriptions.remove(symbol);
                        then.push(Request::Unsubscribe {
                            symbol: symbol.clone(),
                        });
                    }
                }
            }
            Reply::Trade {
                symbol,
                price,
                quantity,
                ts,
                ..
            } => {
                if let Some(subscription) = self.subscriptions.get(symbol) {
                    // MDEntryDate (272) and MDEntryTime (273).
                    let stamp = time::format(*ts);
                    out.push(
                        Message::new("X")
                            .with(262, &subscription.md_req_id)
                            .with(268, 1)
                            .with(279, 0)
                            .with(269, 2)
                            .with(55, symbol)
                            .with(270, price)
                            .with(271, quantity)
                            .with(272, &stamp[..8])
                            .with(273, &stamp[9..]),
                    );
                }
            }
            Reply::Error { reason, symbol } => match symbol
                .as_ref()
                .and_then(|s| self.subscriptions.remove(s).map(|sub| (s, sub)))
            {
                Some((_, subscription)) => out.push(
                    Message::new("Y")
                        .with(262, subscription.md_req_id)
                        .with(281, 0)
                        .with(58, reason),
                ),
                None => out.push(business_reject(&self.last_type, reason)),
            },
            Reply::OpenOrders { orders } => {
                let asked = self.listings.pop_front().flatten();
                let total = orders.len();
                for (n, order) in orders.iter().enumerate() {
                    let fixed =
                        |text: &str| i64::try_from(decimal::parse(text).unwrap_or(0)).unwrap_or(0);
                    let (leaves, filled) = (fixed(&order.leaves), fixed(&order.filled));
                    let average = order.average.as_deref().map_or(0, fixed);
                    let ticket = self.orders.entry(order.id).or_insert_with(|| Ticket {
                        cl_ord_id: order.id.to_string(),
                        symbol: order.symbol.clone(),
                        side: if order.side == Side::Sell.name() {
                            Side::Sell
                        } else {
                            Side::Buy
                        },
                        quantity: filled + leaves,
                        price: order.price.as_deref().map(fixed),
                        filled,
                        notional: i128::from(average) * i128::from(filled),
                        pending: None,
                    });
                    self.aliases.insert(ticket.cl_ord_id.clone(), order.id);
                    let ticket = ticket.clone();
                    let status = ticket.status();
                    let mut m = self.execution(&ticket, leaves, 'I', status, None);
                    if let Some(id) = &asked {
                        m.push(584, id);
                        m.push(911, total);
                        if n + 1 == total {
                            m.push(912, "Y");
                        }
                    }
                    out.push(m);
                }
            }
            Reply::LoggedOn { .. }
            | Reply::Disconnect { .. }
            | Reply::Subscribed { .. }
            | Reply::Unsubscribed { .. }
            | Reply::Execution { .. } => {}
        }
        (out, then)
    }

    fn forget(&mut self, id: u64) {
        self.orders.remove(&id);
        self.aliases.retain(|_, order| *order != id);
    }
}

#[cfg(test)]
#[path = "fix_orders_tests.rs"]
mod tests;

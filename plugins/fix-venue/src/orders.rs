//! Orders over FIX: host commands as NewOrderSingle (D),
//! OrderCancelRequest (F) and OrderCancelReplaceRequest (G); the venue's
//! ExecutionReports (8) and OrderCancelRejects (9) as order events. A
//! ClOrdID is `PREFIX-HOSTID` (`.N` for the Nth cancel or replace), so every
//! answer names its host order; the prefix tells this session's orders from
//! any other's.

use std::collections::{BTreeMap, HashSet, VecDeque};

use tradsys_sdk::reconcile;
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Fill, OrderAccepted, OrderCanceled, OrderCommand, OrderEvent, OrderModified, OrderRejected,
    OrderType, RejectReason, Rejection, Side, TimeInForce, fixed,
};

use tradsys_fix::Message;
use tradsys_fix::time;

/// ExecIDs remembered, so a report the venue sends twice is booked once.
const KEEP_EXEC_IDS: usize = 1_024;

/// An order the venue knows of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its instrument and symbol.
    pub instrument: u32,
    pub symbol: String,
    pub side: Side,
    pub market: bool,
    pub tif: TimeInForce,
    pub price: i64,
    /// Total quantity, filled quantity.
    pub quantity: i64,
    pub filled: i64,
    /// Sum of price times quantity of its fills (for the average).
    pub value: i128,
    /// The ClOrdID the venue knows it by now, and how many were made.
    pub cl_ord_id: String,
    pub versions: u32,
    /// The venue acknowledged it.
    pub accepted: bool,
    /// When the last request about it (new, cancel, replace) went without
    /// an answer yet, and whether its status was asked since.
    pub waiting_since: Option<u64>,
    pub asked: bool,
}

impl Order {
    fn leaves(&self) -> i64 {
        self.quantity - self.filled
    }
}

/// The orders of one session.
#[derive(Debug, Default)]
pub struct Orders {
    /// Ours, by host id, while working.
    pub open: BTreeMap<u64, Order>,
    /// The ClOrdID prefix of this session's orders.
    pub prefix: String,
    exec_ids: HashSet<String>,
    exec_order: VecDeque<String>,
    /// Working orders the venue reported (a mass status) that are not this
    /// session's, to cancel or keep as the config says.
    pub strangers: Vec<Stranger>,
    cancels_sent: u64,
}

/// A working order at the venue that the host did not send (or no longer
/// knows: a session before a restart without `--resume`), as its mass
/// status report gives it (FIX text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stranger {
    pub cl_ord_id: String,
    pub symbol: String,
    pub side: String,
    pub leaves: String,
    /// CumQty, AvgPx, and Price (none for a market order).
    pub cum: String,
    pub avg_px: String,
    pub price: Option<String>,
    /// OrdType and TimeInForce (40, 59).
    pub ord_type: String,
    pub tif: String,
}

impl Stranger {
    /// Adopt it as host order `id`: it is one of this session's open
    /// orders from now on, known at the venue by its own ClOrdID; `None`
    /// when its numbers cannot be read.
    pub fn adopt(&self, instrument: u32) -> Option<Order> {
        let leaves = fixed::parse(&self.leaves)?;
        let filled = fixed::parse(&self.cum)?;
        let avg = fixed::parse(&self.avg_px).unwrap_or(0);
        let market = self.ord_type == "1";
        Some(Order {
            instrument,
            symbol: self.symbol.clone(),
            side: if self.side == "2" {
                Side::Sell
            } else {
                Side::Buy
            },
            market,
            tif: match self.tif.as_str() {
                "3" => TimeInForce::Ioc,
                "4" => TimeInForce::Fok,
                _ => TimeInForce::Gtc,
            },
            price: match (&self.price, market) {
                (Some(p), false) => fixed::parse(p)?,
                _ => 0,
            },
            quantity: leaves.checked_add(filled)?,
            filled,
            value: i128::from(avg) * i128::from(filled),
            cl_ord_id: self.cl_ord_id.clone(),
            versions: 0,
            accepted: true,
            waiting_since: None,
            asked: false,
        })
    }
}

/// Price or quantity as FIX text: the fixed-point value, exactly.
pub fn decimal(value: i64) -> String {
    let text = fixed::format(value, 9);
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

fn side_code(side: Side) -> &'static str {
    match side {
        Side::Buy => "1",
        Side::Sell => "2",
    }
}

fn rejected(id: u64, instrument: u32, ts: u64, reason: RejectReason, text: String) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts,
        rejection: Rejection {
            reason,
            message: Some(text),
        },
    })
}

impl Orders {
    /// The host id a ClOrdID of this session names, or of an adopted
    /// order (known at the venue by its own ClOrdID until it is changed).
    pub fn host_id(&self, cl_ord_id: &str) -> Option<u64> {
        let ours = || {
            let rest = cl_ord_id.strip_prefix(&self.prefix)?.strip_prefix('-')?;
            rest.split('.').next()?.parse().ok()
        };
        ours().or_else(|| {
            self.open
                .iter()
                .find(|(_, o)| o.cl_ord_id == cl_ord_id)
                .map(|(id, _)| *id)
        })
    }

    /// The message a command becomes, or the report refusing it.
    pub fn command(
        &mut self,
        command: &OrderCommand,
        symbol: Option<&str>,
        now: u64,
    ) -> Result<Message, OrderEvent> {
        let transact = time::format(now);
        match command {
            OrderCommand::Submit(o) => {
                let Some(symbol) = symbol else {
                    return Err(command.refused(now, "the venue has not named this instrument"));
                };
                let cl_ord_id = format!("{}-{}", self.prefix, o.id);
                let market = o.order_type == OrderType::Market;
                let mut m = Message::new("D")
                    .with(11, &cl_ord_id)
                    .with(55, symbol)
                    .with(54, side_code(o.side))
                    .with(60, &transact)
                    .with(38, decimal(o.quantity))
                    .with(40, if market { "1" } else { "2" });
                if !market {
                    m.push(44, decimal(o.price));
                }
                m.push(59, tif_code(o.time_in_force));
                self.open.insert(
                    o.id,
                    Order {
                        instrument: o.instrument,
                        symbol: symbol.to_string(),
                        side: o.side,
                        market,
                        tif: o.time_in_force,
                        price: o.price,
                        quantity: o.quantity,
                        filled: 0,
                        value: 0,
                        cl_ord_id,
                        versions: 0,
                        accepted: false,
                        waiting_since: Some(now),
                        asked: false,
                    },
                );
                Ok(m)
            }
            OrderCommand::Cancel(_) | OrderCommand::Modify(_) => {
                let id = command.id();
                let Some(order) = self.open.get_mut(&id) else {
                    return Err(command.refused(now, "no such working order"));
                };
                // A new ClOrdID for each request; the venue knows the order
                // by the last one it accepted.
                order.versions += 1;
                order.waiting_since = Some(now);
                order.asked = false;
                let cl_ord_id = format!("{}-{}.{}", self.prefix, id, order.versions);
                let kind = if let OrderCommand::Modify(_) = command {
                    "G"
                } else {
                    "F"
                };
                let mut m = Message::new(kind)
                    .with(41, &order.cl_ord_id)
                    .with(11, cl_ord_id)
                    .with(55, &order.symbol)
                    .with(54, side_code(order.side))
                    .with(60, transact);
                match command {
                    OrderCommand::Modify(modify) => {
                        m.push(38, decimal(modify.quantity));
                        m.push(40, "2");
                        m.push(44, decimal(modify.price));
                        m.push(59, tif_code(order.tif));
                    }
                    _ => m.push(38, decimal(order.quantity)),
                }
                Ok(m)
            }
        }
    }

    /// An ExecutionReport as order events (none for a duplicate, a report
    /// of another session's order, or one that changes nothing); a warning
    /// for what cannot be read.
    pub fn execution_report(
        &mut self,
        m: &Message,
        ts: u64,
        events: &mut Vec<OrderEvent>,
    ) -> Result<(), String> {
        let exec_type = m.get(150).ok_or("ExecutionReport without ExecType (150)")?;
        if let Some(exec_id) = m.get(17)
            && exec_type != "I"
            && !self.remember(exec_id)
        {
            return Ok(()); // booked once already
        }
        let cl_ord_id = m.get(11).unwrap_or("");
        let ours = self
            .host_id(cl_ord_id)
            .filter(|id| self.open.contains_key(id));
        let working = matches!(m.get(39), Some("0" | "1" | "5" | "6" | "A" | "E"));
        if exec_type == "I" && m.get(584).is_some() && ours.is_none() && working {
            let text = |tag| m.get(tag).unwrap_or("0").to_string();
            self.strangers.push(Stranger {
                cl_ord_id: cl_ord_id.to_string(),
                symbol: m.get(55).unwrap_or("").to_string(),
                side: m.get(54).unwrap_or("1").to_string(),
                leaves: text(151),
                cum: text(14),
                avg_px: text(6),
                price: m.get(44).map(str::to_string),
                ord_type: m.get(40).unwrap_or("2").to_string(),
                tif: m.get(59).unwrap_or("1").to_string(),
            });
            return Ok(());
        }
        if cl_ord_id.starts_with(&format!("{}-x", self.prefix)) {
            return Ok(()); // the answer to our cancel of a stranger
        }
        let Some(id) = self.host_id(cl_ord_id) else {
            if m.get(584).is_some() && m.get(37) == Some("NONE") {
                return Ok(()); // a mass status with no orders
            }
            return Err(format!(
                "ExecutionReport for ClOrdID `{cl_ord_id}`, not an order of this session"
            ));
        };
        let qty = |tag| m.get(tag).and_then(fixed::parse);
        let Some(order) = self.open.get_mut(&id) else {
            // The host checks a report of an order it does not know; the
            // instrument is what the report names, if anything.
            if exec_type == "F"
                && let (Some(px), Some(q)) = (qty(31), qty(32))
            {
                events.push(OrderEvent::Filled(Fill {
                    id,
                    instrument: u32::MAX,
                    ts,
                    side: if m.get(54) == Some("2") {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    price: px,
                    quantity: q,
                    leaves_quantity: qty(151).unwrap_or(0),
                    maker: m.get(851) == Some("1"),
                }));
            }
            return Ok(());
        };
        let instrument = order.instrument;
        if !matches!(exec_type, "I" | "A" | "6" | "E") {
            order.waiting_since = None; // answered
        }
        match exec_type {
            "0" if !order.accepted => {
                order.accepted = true;
                order.cl_ord_id = cl_ord_id.to_string();
                events.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
            }
            "F" => {
                let (Some(price), Some(quantity)) = (qty(31), qty(32)) else {
                    return Err(format!(
                        "fill of `{cl_ord_id}` without LastPx (31) or LastQty (32)"
                    ));
                };
                if !order.accepted {
                    // A venue that fills before it acknowledges: the fill
                    // acknowledges.
                    order.accepted = true;
                    events.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
                }
                let leaves = qty(151).unwrap_or(order.leaves() - quantity);
                order.filled += quantity;
                order.value += i128::from(price) * i128::from(quantity);
                events.push(OrderEvent::Filled(Fill {
                    id,
                    instrument,
                    ts,
                    side: order.side,
                    price,
                    quantity,
                    leaves_quantity: leaves,
                    maker: m.get(851) == Some("1"),
                }));
                if leaves <= 0 {
                    self.open.remove(&id);
                }
            }
            "4" | "C" | "3" => {
                let canceled = order.leaves();
                events.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: canceled,
                }));
                self.open.remove(&id);
            }
            "5" => {
                let (Some(price), Some(quantity)) = (qty(44), qty(38)) else {
                    return Err(format!(
                        "replace of `{cl_ord_id}` without Price (44) or OrderQty (38)"
                    ));
                };
                order.price = price;
                order.quantity = quantity;
                order.cl_ord_id = cl_ord_id.to_string();
                events.push(OrderEvent::Modified(OrderModified {
                    id,
                    instrument,
                    ts,
                    price,
                    leaves_quantity: order.leaves(),
                }));
            }
            "8" => {
                let text = m.get(58).unwrap_or("no reason given").to_string();
                events.push(rejected(
                    id,
                    instrument,
                    ts,
                    RejectReason::Other,
                    format!("venue: {text}"),
                ));
                if !order.accepted {
                    self.open.remove(&id);
                }
            }
            "I" => self.status(id, m, ts, events),
            _ => {} // pending new, pending cancel, pending replace: nothing yet
        }
        Ok(())
    }

    /// An order's status from the venue (the answer to H or AF): what the
    /// host missed while it could not hear is booked now, and told to the
    /// host as a reconciliation difference.
    fn status(&mut self, id: u64, m: &Message, ts: u64, events: &mut Vec<OrderEvent>) {
        let Some(order) = self.open.get_mut(&id) else {
            return;
        };
        let instrument = order.instrument;
        let cum = m.get(14).and_then(fixed::parse).unwrap_or(order.filled);
        let status = m.get(39);
        if !order.accepted && status.is_some_and(|s| s != "8") {
            order.accepted = true;
            events.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
        }
        if cum > order.filled {
            // Fills we did not hear of: their quantity at the price that
            // makes the venue's average.
            let avg = m.get(6).and_then(fixed::parse).unwrap_or(order.price);
            let missed = cum - order.filled;
            let total = i128::from(avg) * i128::from(cum);
            let price = ((total - order.value) / i128::from(missed)) as i64;
            order.filled = cum;
            order.value = total;
            reconcile::difference(
                id,
                &format!(
                    "the venue filled {} more than was heard (booked now at {})",
                    decimal(missed),
                    decimal(price)
                ),
                ts,
            );
            events.push(OrderEvent::Filled(Fill {
                id,
                instrument,
                ts,
                side: order.side,
                price,
                quantity: missed,
                leaves_quantity: order.leaves().max(0),
                maker: true,
            }));
        }
        // The venue does not know an order it acknowledged: it is not
        // working there.
        let lost = status == Some("8") && order.accepted && m.get(103) == Some("5");
        match status {
            Some("2") => {
                self.open.remove(&id);
            }
            Some("4") | Some("C") => {
                let canceled = order.leaves();
                self.open.remove(&id);
                reconcile::difference(id, "canceled at the venue without a word heard", ts);
                events.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: canceled,
                }));
            }
            _ if lost => {
                let canceled = order.leaves();
                self.open.remove(&id);
                reconcile::difference(
                    id,
                    "the venue does not know this order; booked as canceled",
                    ts,
                );
                events.push(OrderEvent::Canceled(OrderCanceled {
                    id,
                    instrument,
                    ts,
                    canceled_quantity: canceled,
                }));
            }
            Some("8") if !order.accepted => {
                self.open.remove(&id);
                reconcile::difference(id, "the venue never received this order", ts);
                events.push(rejected(
                    id,
                    instrument,
                    ts,
                    RejectReason::Other,
                    "venue: rejected".into(),
                ));
            }
            _ => {}
        }
    }

    /// An OrderCancelReject: the cancel or replace is refused.
    pub fn cancel_reject(&mut self, m: &Message, ts: u64, events: &mut Vec<OrderEvent>) {
        let Some(id) = m.get(11).and_then(|c| self.host_id(c)) else {
            return;
        };
        let text = m.get(58).unwrap_or("refused").to_string();
        if let Some(order) = self.open.get_mut(&id) {
            order.waiting_since = None;
        }
        let instrument = self.open.get(&id).map_or(u32::MAX, |o| o.instrument);
        events.push(rejected(
            id,
            instrument,
            ts,
            RejectReason::UnknownOrder,
            format!("venue: {text}"),
        ));
    }

    /// The session rejected a message we sent (`sent`): an order that never
    /// reached the venue is refused.
    pub fn session_reject(
        &mut self,
        sent: &Message,
        text: &str,
        ts: u64,
        events: &mut Vec<OrderEvent>,
    ) {
        let Some(id) = sent.get(11).and_then(|c| self.host_id(c)) else {
            return;
        };
        let instrument = self.open.get(&id).map_or(u32::MAX, |o| o.instrument);
        let reason = match sent.msg_type() {
            "D" => {
                self.open.remove(&id);
                RejectReason::Other
            }
            _ => RejectReason::UnknownOrder,
        };
        events.push(rejected(
            id,
            instrument,
            ts,
            reason,
            format!("venue session: {text}"),
        ));
    }

    /// The status requests to send after a logon: one per open order (H).
    pub fn status_requests(&self) -> Vec<Message> {
        self.open
            .values()
            .map(|o| {
                Message::new("H")
                    .with(11, &o.cl_ord_id)
                    .with(55, &o.symbol)
                    .with(54, side_code(o.side))
            })
            .collect()
    }

    /// The cancel of a stranger (an OrderCancelRequest with a ClOrdID of
    /// this session's that names no host order).
    pub fn cancel_stranger(&mut self, stranger: &Stranger, now: u64) -> Message {
        self.cancels_sent += 1;
        Message::new("F")
            .with(41, &stranger.cl_ord_id)
            .with(11, format!("{}-x{}", self.prefix, self.cancels_sent))
            .with(55, &stranger.symbol)
            .with(54, &stranger.side)
            .with(60, time::format(now))
            .with(38, &stranger.leaves)
    }

    /// Orders whose last request has gone unanswered for `after_ns` by
    /// `now`, each asked once: the host id, how long, and the status
    /// request (H) to send.
    pub fn overdue(&mut self, now: u64, after_ns: u64) -> Vec<(u64, u64, Message)> {
        let mut out = Vec::new();
        for (id, o) in &mut self.open {
            let Some(since) = o.waiting_since else {
                continue;
            };
            if o.asked || now.saturating_sub(since) < after_ns {
                continue;
            }
            o.asked = true;
            let request = Message::new("H")
                .with(11, &o.cl_ord_id)
                .with(55, &o.symbol)
                .with(54, side_code(o.side));
            out.push((*id, now - since, request));
        }
        out
    }

    fn remember(&mut self, exec_id: &str) -> bool {
        if !self.exec_ids.insert(exec_id.to_string()) {
            return false;
        }
        self.exec_order.push_back(exec_id.to_string());
        if self.exec_order.len() > KEEP_EXEC_IDS
            && let Some(old) = self.exec_order.pop_front()
        {
            self.exec_ids.remove(&old);
        }
        true
    }

    /// Open orders and remembered ExecIDs, for `save-state`.
    pub fn save(&self, w: &mut StateWriter) {
        w.str(&self.prefix).u32(self.open.len() as u32);
        for (id, o) in &self.open {
            w.u64(*id)
                .u32(o.instrument)
                .str(&o.symbol)
                .side(o.side)
                .bool(o.market);
            w.u8(tif_code(o.tif).as_bytes()[0]);
            w.i64(o.price).i64(o.quantity).i64(o.filled);
            w.bytes(&o.value.to_le_bytes());
            w.str(&o.cl_ord_id).u32(o.versions).bool(o.accepted);
            w.option(o.waiting_since, |w, t| {
                w.u64(t);
            })
            .bool(o.asked);
        }
        w.u32(self.exec_order.len() as u32);
        for id in &self.exec_order {
            w.str(id);
        }
        w.u64(self.cancels_sent);
    }

    /// Restore what [`Self::save`] wrote.
    pub fn load(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        self.prefix = r.string()?;
        self.open.clear();
        for _ in 0..r.u32()? {
            let id = r.u64()?;
            let order = Order {
                instrument: r.u32()?,
                symbol: r.string()?,
                side: r.side()?,
                market: r.bool()?,
                tif: match r.u8()? {
                    b'3' => TimeInForce::Ioc,
                    b'4' => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
                price: r.i64()?,
                quantity: r.i64()?,
                filled: r.i64()?,
                value: {
                    let bytes: [u8; 16] = r.bytes()?.try_into().map_err(|_| "order value")?;
                    i128::from_le_bytes(bytes)
                },
                cl_ord_id: r.string()?,
                versions: r.u32()?,
                accepted: r.bool()?,
                waiting_since: r.option(|r| r.u64())?,
                asked: r.bool()?,
            };
            self.open.insert(id, order);
        }
        self.exec_ids.clear();
        self.exec_order.clear();
        for _ in 0..r.u32()? {
            let id = r.string()?;
            self.exec_ids.insert(id.clone());
            self.exec_order.push_back(id);
        }
        self.cancels_sent = r.u64()?;
        Ok(())
    }
}

fn tif_code(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "1",
        TimeInForce::Ioc => "3",
        TimeInForce::Fok => "4",
    }
}

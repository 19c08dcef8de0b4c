//! `fix-venue`: trades live with a FIX 4.4 venue over the connection the
//! host owns (a network connector: no socket of its own).
//!
//! Config (every key checked):
//! - `sender_comp_id`, `target_comp_id`: the session's CompIDs (required);
//! - `heartbeat_s`: HeartBtInt, seconds (default 30);
//! - `reset_on_logon`: send ResetSeqNumFlag on every Logon (default false);
//! - `symbols`: the symbols to trade and subscribe to (required);
//! - `tick.SYMBOL`, `lot.SYMBOL` (and `tick`, `lot` for all): price and
//!   quantity increments (default 0.01 and 1), for a venue that sends no
//!   SecurityDefinition (d) before its market data; one that does sets
//!   them (and the contract multiplier);
//! - `status_after_ms`: an order whose new, cancel or replace has had no
//!   answer this long is logged at warn and its status asked (H) (5000);
//! - `cancel_on_disconnect`: after a connection was lost, cancel every
//!   order still open once logged on again (after asking its status), so
//!   nothing the strategies could not watch stays working (false).
//!
//! After each logon it asks for market data (V), the status of every order
//! it still holds open (H), every order the venue has (AF) and the
//! positions (AN), and tells the host what differs (the `reconciliation`
//! import): a working order at the venue this session did not send is
//! canceled, kept or adopted as the host decides (`[venue] unknown_orders`);
//! each position the venue reports (AP) is compared by the host with its
//! own; an order whose status shows fills or an end not heard of is booked
//! and reported.

mod market;
mod orders;
mod session;

use tradsys_sdk::host::{self, LogLevel};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Close, Config, NetworkConnector, NetworkOutput, OrderCommand, OrderEvent, Side, fixed,
    reconcile,
};

use crate::market::{Market, Symbol};
use crate::orders::{Orders, Stranger};
use crate::session::{Phase, Session, Settings, Step};
use tradsys_fix::{Message, time};

/// Format of `save-state`.
const STATE_FORMAT: u8 = 1;

/// The plugin: one FIX session, its orders and its market data.
pub struct FixVenue {
    session: Session,
    /// Ask the status of an order unanswered this long, ns.
    status_after_ns: u64,
    /// Instruments whose position the venue reported since the last
    /// request (AN); the rest are flat once it says it has sent them all.
    positions_seen: Vec<u32>,
    /// Cancel every open order at the logon after a lost connection.
    cancel_on_disconnect: bool,
    /// The connection was lost since the last logon.
    dropped: bool,
    /// Restored from a saved state (a swap, a restart after a trap): the
    /// books are only their best levels; ask for a fresh snapshot.
    resubscribe: bool,
    orders: Orders,
    market: Market,
    requests: u64,
}

impl FixVenue {
    /// Run a session step and turn what it produced into the host's output.
    fn finish(&mut self, step: Step, now: u64, out: &mut NetworkOutput) {
        let mut step = step;
        if std::mem::take(&mut self.resubscribe) && self.session.phase == Phase::Active {
            let request = self.market.request();
            self.session.send_app(request, now, &mut step);
        }
        if step.logged_on {
            let request = self.market.request();
            self.session.send_app(request, now, &mut step);
            for status in self.orders.status_requests() {
                self.session.send_app(status, now, &mut step);
            }
            if std::mem::take(&mut self.dropped) && self.cancel_on_disconnect {
                let open: Vec<OrderCommand> = self
                    .orders
                    .open
                    .iter()
                    .map(|(id, o)| {
                        OrderCommand::Cancel(tradsys_sdk::CancelOrder {
                            id: *id,
                            instrument: o.instrument,
                        })
                    })
                    .collect();
                for cancel in open {
                    if let Ok(message) = self.orders.command(&cancel, None, now) {
                        step.warnings.push(format!(
                            "order {}: canceled after the lost connection (cancel_on_disconnect)",
                            cancel.id()
                        ));
                        self.session.send_app(message, now, &mut step);
                    }
                }
            }
            self.requests += 1;
            let mass = Message::new("AF")
                .with(584, format!("ms{}", self.requests))
                .with(585, 7);
            self.session.send_app(mass, now, &mut step);
            let transact = time::format(now);
            let positions = Message::new("AN")
                .with(710, format!("pos{}", self.requests))
                .with(724, 0)
                .with(715, &transact[..8])
                .with(60, &transact);
            self.positions_seen.clear();
            self.session.send_app(positions, now, &mut step);
        }
        for message in std::mem::take(&mut step.app) {
            let ts = message.get(52).and_then(time::parse).unwrap_or(now);
            if let Err(why) = self.application(&message, ts, out) {
                step.warnings.push(why);
            }
        }
        for stranger in std::mem::take(&mut self.orders.strangers) {
            self.stranger(&stranger, now, &mut step);
        }
        for warning in &step.warnings {
            host::log(LogLevel::Warn, warning);
        }
        out.send.append(&mut step.send);
        if let Some((reason, reconnect)) = step.close {
            out.close = Some(Close { reason, reconnect });
        }
    }

    /// A working order at the venue the host does not know: the host
    /// decides.
    fn stranger(&mut self, stranger: &Stranger, now: u64, step: &mut Step) {
        let instrument = self.market.id(&stranger.symbol);
        let numbers = |text: &str| fixed::parse(text).unwrap_or(0);
        let order = reconcile::VenueOrder {
            venue_id: stranger.cl_ord_id.clone(),
            symbol: stranger.symbol.clone(),
            instrument,
            side: if stranger.side == "2" {
                Side::Sell
            } else {
                Side::Buy
            },
            price: stranger.price.as_deref().and_then(fixed::parse),
            leaves_quantity: numbers(&stranger.leaves),
            filled_quantity: numbers(&stranger.cum),
        };
        match reconcile::unknown_order(&order, now) {
            reconcile::Decision::Cancel => {
                let cancel = self.orders.cancel_stranger(stranger, now);
                self.session.send_app(cancel, now, step);
                step.warnings.push(format!(
                    "canceling venue order `{}`: the host does not know it",
                    stranger.cl_ord_id
                ));
            }
            reconcile::Decision::Keep => step.warnings.push(format!(
                "keeping venue order `{}`, which the host does not know",
                stranger.cl_ord_id
            )),
            reconcile::Decision::Adopt(id) => match instrument.and_then(|i| stranger.adopt(i)) {
                Some(adopted) => {
                    self.orders.open.insert(id, adopted);
                    step.warnings.push(format!(
                        "venue order `{}` adopted as host order {id}",
                        stranger.cl_ord_id
                    ));
                }
                None => step.warnings.push(format!(
                    "venue order `{}` cannot be adopted: its numbers do not read",
                    stranger.cl_ord_id
                )),
            },
        }
    }

    /// A PositionReport (AP): the venue's position in one instrument, or
    /// the end of its answer (then every instrument it did not name is
    /// flat there).
    fn position_report(&mut self, m: &Message, ts: u64) -> Result<(), String> {
        let named = m.get(55).filter(|s| !s.is_empty());
        if let Some(symbol) = named {
            let Some(instrument) = self.market.id(symbol) else {
                return Err(format!(
                    "position in `{symbol}`, not a symbol of this session"
                ));
            };
            let quantity = |tag| m.get(tag).and_then(fixed::parse).unwrap_or(0);
            let net = quantity(704).saturating_sub(quantity(705));
            self.positions_seen.push(instrument);
            reconcile::position(instrument, net, ts);
        }
        let last = m.get(912) == Some("Y") || m.get(728) == Some("2") || named.is_none();
        if last {
            for instrument in 0..self.market.defined.len() as u32 {
                if !self.positions_seen.contains(&instrument) {
                    reconcile::position(instrument, 0, ts);
                }
            }
            self.positions_seen.clear();
        }
        Ok(())
    }

    /// One application message from the venue.
    fn application(&mut self, m: &Message, ts: u64, out: &mut NetworkOutput) -> Result<(), String> {
        let mut reports: Vec<OrderEvent> = Vec::new();
        let result = match m.msg_type() {
            "8" => self.orders.execution_report(m, ts, &mut reports),
            "9" => {
                self.orders.cancel_reject(m, ts, &mut reports);
                Ok(())
            }
            "3" | "j" => {
                let text = m.get(58).unwrap_or("no reason given");
                if let Some(sent) = m.num(45).and_then(|seq| self.session.sent(seq)).cloned() {
                    self.orders.session_reject(&sent, text, ts, &mut reports);
                }
                Ok(())
            }
            "W" => {
                self.market.snapshot(m, ts, &mut out.market);
                Ok(())
            }
            "X" => {
                self.market.incremental(m, ts, &mut out.market);
                Ok(())
            }
            "AP" => self.position_report(m, ts),
            "d" => self.market.definition(m, &mut out.market),
            "Y" => Err(format!(
                "the venue refused market data: {}",
                m.get(58).unwrap_or("no reason given")
            )),
            other => Err(format!("message type {other} from the venue ignored")),
        };
        // A report of an order this session no longer holds names its
        // instrument by symbol.
        for report in &mut reports {
            if report.instrument() == u32::MAX
                && let OrderEvent::Filled(f) = report
                && let Some(id) = m
                    .get(55)
                    .and_then(|s| self.market.defined.iter().position(|d| d == s))
            {
                f.instrument = id as u32;
            }
        }
        out.reports.append(&mut reports);
        result
    }
}

impl NetworkConnector for FixVenue {
    fn new(config: &Config) -> Result<Self, String> {
        if config.get("unknown_orders").is_some() {
            return Err(
                "config `unknown_orders` moved to the host: `[venue] unknown_orders` \
                        (cancel, keep or adopt), since the host books what is adopted"
                    .into(),
            );
        }
        config.only(&[
            "sender_comp_id",
            "target_comp_id",
            "heartbeat_s",
            "reset_on_logon",
            "symbols",
            "tick",
            "tick.*",
            "lot",
            "lot.*",
            "status_after_ms",
            "cancel_on_disconnect",
            "seed", // the host gives every connector one; a live venue has no use for it
        ])?;
        let required = |key: &str| {
            config
                .get(key)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("config `{key}` is required"))
        };
        let heartbeat_s = config.parse_or("heartbeat_s", 30u64)?;
        if !(1..=3600).contains(&heartbeat_s) {
            return Err(format!(
                "config `heartbeat_s`: {heartbeat_s} is not 1 to 3600 seconds"
            ));
        }
        let settings = Settings {
            sender: required("sender_comp_id")?,
            target: required("target_comp_id")?,
            heartbeat_s,
            reset_on_logon: config.parse_or("reset_on_logon", false)?,
        };
        let names = config
            .list("symbols")
            .filter(|l| !l.is_empty())
            .ok_or("config `symbols` is required: the symbols to trade")?;
        let mut symbols = Vec::new();
        for name in names {
            let increment = |key: &str, default: i64| -> Result<i64, String> {
                match config.for_instrument(key, name) {
                    None => Ok(default),
                    Some(raw) => fixed::parse(raw).filter(|v| *v > 0).ok_or_else(|| {
                        format!("config `{key}.{name}`: `{raw}` is not a positive number")
                    }),
                }
            };
            symbols.push(Symbol {
                name: name.to_string(),
                tick: increment("tick", 10_000_000)?,
                lot: increment("lot", 1_000_000_000)?,
                multiplier: 1,
            });
        }
        let status_after_ms = config.parse_or("status_after_ms", 5_000u64)?;
        if status_after_ms == 0 {
            return Err("config `status_after_ms`: must be at least 1".into());
        }
        Ok(Self {
            cancel_on_disconnect: config.parse_or("cancel_on_disconnect", false)?,
            dropped: false,
            resubscribe: false,
            positions_seen: Vec::new(),
            session: Session::new(settings),
            status_after_ns: status_after_ms * 1_000_000,
            orders: Orders::default(),
            market: Market::new(symbols),
            requests: 0,
        })
    }

    fn connected(&mut self, now: u64, out: &mut NetworkOutput) {
        if self.orders.prefix.is_empty() {
            // Microseconds: two sessions (a restart) never share a prefix.
            self.orders.prefix = base36(now / 1_000);
        }
        let mut step = Step::default();
        self.session.connected(now, &mut step);
        self.finish(step, now, out);
    }

    fn received(&mut self, bytes: &[u8], now: u64, out: &mut NetworkOutput) {
        let mut step = Step::default();
        self.session.received(bytes, now, &mut step);
        self.finish(step, now, out);
    }

    fn disconnected(&mut self, reason: &str, now: u64, out: &mut NetworkOutput) {
        host::log(
            LogLevel::Warn,
            &format!("disconnected from the venue: {reason}"),
        );
        self.session.disconnected();
        self.dropped = true;
        self.finish(Step::default(), now, out);
    }

    fn tick(&mut self, now: u64, out: &mut NetworkOutput) {
        let mut step = Step::default();
        self.session.tick(now, &mut step);
        if self.session.phase == Phase::Active {
            for (id, waited, request) in self.orders.overdue(now, self.status_after_ns) {
                step.warnings.push(format!(
                    "order {id}: no answer from the venue in {} ms; asking its status",
                    waited / 1_000_000
                ));
                self.session.send_app(request, now, &mut step);
            }
        }
        self.finish(step, now, out);
    }

    fn submit_orders(&mut self, orders: &[OrderCommand], now: u64, out: &mut NetworkOutput) {
        let mut step = Step::default();
        for command in orders {
            if self.session.phase != Phase::Active {
                out.reports
                    .push(command.refused(now, "not logged on to the venue"));
                continue;
            }
            let symbol = self.market.symbol(command.instrument()).map(str::to_string);
            match self.orders.command(command, symbol.as_deref(), now) {
                Ok(message) => self.session.send_app(message, now, &mut step),
                Err(refused) => out.reports.push(refused),
            }
        }
        self.finish(step, now, out);
    }

    fn stop(&mut self, now: u64, out: &mut NetworkOutput) {
        let mut step = Step::default();
        match self.session.phase {
            Phase::Active => self.session.logout("tradsys is stopping", now, &mut step),
            _ => step.close = Some(("tradsys is stopping".into(), false)),
        }
        self.finish(step, now, out);
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_FORMAT).u64(self.requests).bool(self.dropped);
        self.session.save(&mut w);
        self.orders.save(&mut w);
        self.market.save(&mut w);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_FORMAT)?;
        self.requests = r.u64()?;
        self.dropped = r.bool()?;
        self.session.load(&mut r)?;
        self.orders.load(&mut r)?;
        self.market.load(&mut r)?;
        self.resubscribe = true;
        r.finish()
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

tradsys_sdk::export_network_connector!(FixVenue);

#[cfg(test)]
mod tests;

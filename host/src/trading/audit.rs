//! The journal's records of the data path, made from what the session and
//! the router hold: the session's plugins, a strategy command with every
//! validator's verdict, a matcher report with what the host booked for it.

use crate::bindings::types::{
    OrderCommand, OrderEvent, OrderType, Rejection, Side, TimeInForce, Verdict,
};
use crate::config::{LatencyModelKind, LatencySettings};
use crate::journal::decimal::exact;
use crate::journal::{
    Entry, Journal, LatencyEntry, OrderEntry, PluginEntry, RejectionEntry, ReportEntry,
    SessionEntry, VerdictEntry,
};
use crate::loading::Plugin;
use crate::sandbox::Fault;
use crate::trading::accounts::{GATEWAY, HOST};
use crate::trading::market::Market;

/// The instrument's symbol, or `#N` for an id the host does not know.
pub(crate) fn symbol(market: &Market, instrument: u32) -> String {
    market
        .definition(instrument)
        .map_or_else(|| format!("#{instrument}"), |d| d.symbol.clone())
}

/// A plugin as the session record names it.
pub(crate) fn plugin_entry(plugin: &Plugin) -> PluginEntry {
    PluginEntry {
        name: plugin.name().to_string(),
        version: plugin.version().to_string(),
        kind: plugin.kind(),
        signers: plugin.signers().iter().map(ToString::to_string).collect(),
        digest: plugin.digest().iter().map(|b| format!("{b:02x}")).collect(),
        config: plugin.grants().config.iter().cloned().collect(),
    }
}

/// The session's first record.
pub(crate) fn session_entry<'a>(
    plugins: impl Iterator<Item = &'a Plugin>,
    venue: &str,
    seed: u64,
    latency: &LatencySettings,
) -> SessionEntry {
    let latency = (!latency.is_zero()).then(|| LatencyEntry {
        model: match latency.model {
            LatencyModelKind::Constant => "constant".into(),
        },
        feed_ns: latency.feed_ns,
        order_ns: latency.order_ns,
        response_ns: latency.response_ns,
        instruments: latency
            .instruments
            .iter()
            .map(|(symbol, o)| {
                let delays = [
                    o.feed_ns.unwrap_or(latency.feed_ns),
                    o.order_ns.unwrap_or(latency.order_ns),
                    o.response_ns.unwrap_or(latency.response_ns),
                ];
                (symbol.clone(), delays)
            })
            .collect(),
    });
    SessionEntry {
        venue: venue.to_string(),
        seed,
        plugins: plugins.map(plugin_entry).collect(),
        latency,
    }
}

fn side(side: Side) -> String {
    side.name().to_string()
}

/// Who sent a command: a strategy, or a client of the gateway.
#[derive(Clone, Copy)]
pub(crate) enum Sender<'a> {
    Strategy(&'a Plugin),
    /// A client's account, and the batches the session had taken.
    Client(&'a str, u64),
}

/// `command` of `sender` as it was sent; verdicts and outcome to be filled in.
pub(crate) fn order_entry(
    sender: Sender<'_>,
    command: &OrderCommand,
    market: &Market,
) -> OrderEntry {
    let amount = |v: i64| Some(exact(i128::from(v)));
    let batch = match sender {
        Sender::Client(_, batch) => Some(batch),
        Sender::Strategy(_) => None,
    };
    let (strategy, version, signers, account) = match sender {
        Sender::Strategy(plugin) => (
            plugin.name().to_string(),
            plugin.version().to_string(),
            plugin.signers().iter().map(ToString::to_string).collect(),
            None,
        ),
        Sender::Client(account, _) => (
            GATEWAY.to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
            Vec::new(),
            Some(account.to_string()),
        ),
    };
    let mut entry = OrderEntry {
        strategy,
        account,
        batch,
        version,
        signers,
        action: String::new(),
        id: command.id(),
        host_id: None,
        arrives: None,
        instrument: symbol(market, command.instrument()),
        side: None,
        order_type: None,
        tif: None,
        price: None,
        quantity: None,
        verdicts: Vec::new(),
        approved: false,
        rejection: None,
    };
    match command {
        OrderCommand::Submit(o) => {
            entry.action = "submit".into();
            entry.side = Some(side(o.side));
            entry.order_type = Some(
                match o.order_type {
                    OrderType::Limit => "limit",
                    OrderType::Market => "market",
                }
                .into(),
            );
            entry.tif = Some(
                match o.time_in_force {
                    TimeInForce::Gtc => "gtc",
                    TimeInForce::Ioc => "ioc",
                    TimeInForce::Fok => "fok",
                }
                .into(),
            );
            if o.order_type == OrderType::Limit {
                entry.price = amount(o.price);
            }
            entry.quantity = amount(o.quantity);
        }
        OrderCommand::Cancel(_) => entry.action = "cancel".into(),
        OrderCommand::Modify(m) => {
            entry.action = "modify".into();
            entry.price = amount(m.price);
            entry.quantity = amount(m.quantity);
        }
    }
    entry
}

/// The refusal `by` gave, as the strategy was told it.
pub(crate) fn rejection_entry(by: &str, rejection: &Rejection) -> RejectionEntry {
    RejectionEntry {
        by: by.to_string(),
        reason: rejection.reason.name().to_string(),
        message: rejection.message.clone(),
    }
}

/// What `validator` said of one command.
pub(crate) fn verdict_entry(validator: &Plugin, verdict: &Verdict) -> VerdictEntry {
    let (verdict, reason, message) = match verdict {
        Verdict::Approve => ("approve", None, None),
        Verdict::Reject(r) => (
            "reject",
            Some(r.reason.name().to_string()),
            r.message.clone(),
        ),
    };
    VerdictEntry {
        validator: validator.name().to_string(),
        version: validator.version().to_string(),
        verdict: verdict.to_string(),
        reason,
        message,
    }
}

/// A validator that could not answer: it refused (fail closed).
pub(crate) fn fault_verdict(validator: &Plugin, fault: &Fault) -> VerdictEntry {
    VerdictEntry {
        validator: validator.name().to_string(),
        version: validator.version().to_string(),
        verdict: "fault".to_string(),
        reason: Some("validator-fault".to_string()),
        message: Some(fault.to_string()),
    }
}

/// `report` (still in host ids) about order `client_id` of `strategy`;
/// a fill's bookings are added by the router.
pub(crate) fn report_entry(
    strategy: &str,
    client_id: u64,
    report: &OrderEvent,
    market: &Market,
    matcher: &str,
) -> ReportEntry {
    let amount = |v: i64| Some(exact(i128::from(v)));
    let (event, venue_ts) = match report {
        OrderEvent::Accepted(a) => ("accepted", a.ts),
        OrderEvent::Rejected(r) => ("rejected", r.ts),
        OrderEvent::Filled(f) => ("filled", f.ts),
        OrderEvent::Canceled(c) => ("canceled", c.ts),
        OrderEvent::Modified(m) => ("modified", m.ts),
    };
    let mut entry = ReportEntry {
        strategy: strategy.to_string(),
        account: None,
        id: client_id,
        host_id: report.id(),
        instrument: symbol(market, report.instrument()),
        matcher: matcher.to_string(),
        event: event.to_string(),
        venue_ts,
        side: None,
        price: None,
        quantity: None,
        leaves: None,
        maker: None,
        fee: None,
        position: None,
        average_price: None,
        realized_pnl: None,
        queue_wait_ns: None,
        queue_ahead: None,
        reason: None,
        message: None,
    };
    match report {
        OrderEvent::Accepted(_) => {}
        OrderEvent::Rejected(r) => {
            entry.reason = Some(r.rejection.reason.name().to_string());
            entry.message = r.rejection.message.clone();
        }
        OrderEvent::Filled(f) => {
            entry.side = Some(side(f.side));
            entry.price = amount(f.price);
            entry.quantity = amount(f.quantity);
            entry.leaves = amount(f.leaves_quantity);
            entry.maker = Some(f.maker);
        }
        OrderEvent::Canceled(c) => entry.quantity = amount(c.canceled_quantity),
        OrderEvent::Modified(m) => {
            entry.price = amount(m.price);
            entry.leaves = amount(m.leaves_quantity);
        }
    }
    entry
}

/// The order records of one strategy's commands, as they are decided.
pub(crate) struct OrderLog<'a> {
    pub(crate) journal: &'a Journal,
    pub(crate) sender: Sender<'a>,
    pub(crate) market: &'a Market,
    pub(crate) now: u64,
}

impl OrderLog<'_> {
    /// `command` was refused by `by` (the host, or the first validator
    /// that refused it, when `verdicts` say so).
    pub(crate) fn refused(
        &self,
        command: &OrderCommand,
        verdicts: Vec<VerdictEntry>,
        rejection: &Rejection,
    ) {
        self.journal.write(self.now, || {
            let by = verdicts
                .iter()
                .find(|v| v.verdict != "approve")
                .map_or(HOST, |v| v.validator.as_str());
            let mut entry = order_entry(self.sender, command, self.market);
            entry.rejection = Some(rejection_entry(by, rejection));
            entry.verdicts = verdicts;
            Entry::Order(entry)
        });
    }

    /// `command` was approved by every validator and sent as host order `host_id`.
    pub(crate) fn approved(
        &self,
        command: &OrderCommand,
        verdicts: Vec<VerdictEntry>,
        host_id: u64,
        arrives: Option<u64>,
    ) {
        self.journal.write(self.now, || {
            let mut entry = order_entry(self.sender, command, self.market);
            entry.approved = true;
            entry.host_id = Some(host_id);
            entry.arrives = arrives;
            entry.verdicts = verdicts;
            Entry::Order(entry)
        });
    }
}

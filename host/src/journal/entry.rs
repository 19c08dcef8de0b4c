//! The journal's records: one JSON object per line.
//!
//! Every file starts with a [`Header`] line (the format, the part number and
//! the wall time the file was started: the only wall time in a journal, and
//! not part of the digest). Every other line is a [`Record`]: its number in
//! the session (`seq`, from 1), the market time it happened at (`ts`, ns,
//! the host clock) and what happened (`kind` and its fields). Prices and
//! quantities are exact decimals in strings (`"4810.25"`); a field without
//! a value is left out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::journal::states::{Halt, Stop, SwapOutcome};
use crate::policy::PluginKind;

/// The journal format this host writes and reads.
pub const FORMAT: u32 = 1;

/// The first line of every journal file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The format ([`FORMAT`]).
    pub journal: u32,
    /// 0 for the file named on the command line, N for its N-th continuation (`FILE.N`).
    pub part: u32,
    /// The host that wrote it (`tradsys 0.1.0`).
    pub host: String,
    /// Wall time the file was started, ms since the Unix epoch (not in the digest).
    pub wall_started_ms: u64,
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its number in the session, from 1; a gap means records are missing.
    pub seq: u64,
    /// Market time when it happened (the host clock), ns since the Unix epoch.
    pub ts: u64,
    /// What happened.
    #[serde(flatten)]
    pub entry: Entry,
}

/// What a record says happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Entry {
    /// The session started with these plugins (always the first record).
    Session(SessionEntry),
    /// A strategy's command, what every validator said, and the outcome.
    Order(OrderEntry),
    /// A report of the venue (or the host, when trading halted) about an order.
    Report(ReportEntry),
    /// A swap of plugin versions, made or refused.
    Swap(SwapEntry),
    /// A shadow started or ended (promoted, ended, discarded).
    Shadow(ShadowEntry),
    /// A plugin call faulted (trap, fuel, deadline, memory, contract, ...).
    Fault(FaultEntry),
    /// The circuit breaker quarantined a plugin.
    Quarantine(QuarantineEntry),
    /// Trading halted (the matcher failed).
    Halt(HaltEntry),
    /// A plugin joined, left, was disabled, enabled or removed.
    Membership(MembershipEntry),
    /// A network connector's connection opened or closed, bytes went over
    /// it, it was ticked or told to stop: everything it was given and
    /// everything it sent, so a live session can be replayed.
    Wire(WireEntry),
    /// What a live session's connector found when it compared the venue's
    /// view with its own (an unknown order, a position, an order whose
    /// state differed), and what the host did.
    Reconcile(ReconcileEntry),
    /// The session ended (always the last record of a complete journal).
    End(EndEntry),
}

/// A change of the session's plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipEntry {
    /// `name@version`.
    pub plugin: String,
    /// Its kind.
    pub kind: PluginKind,
    /// `joined`, `left`, `disabled`, `enabled`, `removal-pending`, `removed`.
    pub change: String,
    /// What asked for it (a file, the operator).
    pub cause: String,
    /// Working orders the host cancelled.
    pub canceled_orders: u64,
}

/// The session's plugins and settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEntry {
    /// `simulated` or `exchange`.
    pub venue: String,
    /// The connector's seed.
    pub seed: u64,
    /// Every plugin the session runs.
    pub plugins: Vec<PluginEntry>,
    /// The simulated venue's latencies, ns of market time (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencyEntry>,
}

/// The latencies a session modelled (`[venue.latency]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyEntry {
    /// The model (`constant`).
    pub model: String,
    /// Exchange → strategy, market data.
    pub feed_ns: u64,
    /// Strategy → venue, an order.
    pub order_ns: u64,
    /// Venue → strategy, a report.
    pub response_ns: u64,
    /// Per instrument symbol: (feed, order, response) where it differs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instruments: BTreeMap<String, [u64; 3]>,
}

/// One plugin of the session, as it was verified and configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginEntry {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its kind.
    pub kind: PluginKind,
    /// Ids of the keys whose signatures verified (none when run unsigned).
    pub signers: Vec<String>,
    /// BLAKE3 of its file, hex.
    pub digest: String,
    /// Its config entries, as the plugin reads them.
    pub config: BTreeMap<String, String>,
}

/// One strategy command: as the strategy sent it, the verdicts, the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEntry {
    /// The strategy that sent it (`gateway` for a client's).
    pub strategy: String,
    /// The client account that sent it through the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// A client's: the batches the session had taken when it was served
    /// (where `tradsys run --resume` enters it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    /// Its version.
    pub version: String,
    /// Ids of the keys that signed it.
    pub signers: Vec<String>,
    /// `submit`, `cancel` or `modify`.
    pub action: String,
    /// The strategy's order id.
    pub id: u64,
    /// The host's order id (what the matcher saw), when it was approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<u64>,
    /// When it reaches the venue (market time; the simulated venue's order
    /// latency after the record's time), when it was approved: it trades
    /// after every exchange event stamped at or before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrives: Option<u64>,
    /// Instrument symbol (`#N` for an id the host does not know).
    pub instrument: String,
    /// `buy` or `sell` (submit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// `limit` or `market` (submit).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub order_type: Option<String>,
    /// `gtc`, `ioc` or `fok` (submit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tif: Option<String>,
    /// Limit price (submit, modify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// Quantity (submit; modify: the new total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<String>,
    /// What each validator said, in the order they ran (none when the host refused it first).
    #[serde(default)]
    pub verdicts: Vec<VerdictEntry>,
    /// Whether it went to the matcher.
    pub approved: bool,
    /// Why it did not: the refusal the strategy was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionEntry>,
}

/// One validator's verdict on one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictEntry {
    /// The validator.
    pub validator: String,
    /// Its version.
    pub version: String,
    /// `approve`, `reject`, or `fault` (it could not answer: refused, fail closed).
    pub verdict: String,
    /// The reject reason (`price-collar`, ...; `validator-fault` for a fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its message, if it gave one (the fault, for a fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectionEntry {
    /// `host` or the validator that refused first.
    pub by: String,
    /// The reject reason.
    pub reason: String,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A report about one strategy order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportEntry {
    /// The strategy whose order it is.
    pub strategy: String,
    /// The client account whose order it is (the gateway's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The strategy's order id.
    pub id: u64,
    /// The host's order id.
    pub host_id: u64,
    /// Instrument symbol.
    pub instrument: String,
    /// The matcher that reported it.
    pub matcher: String,
    /// `accepted`, `rejected`, `filled`, `canceled` or `modified`.
    pub event: String,
    /// The time the matcher stamped on it.
    pub venue_ts: u64,
    /// Filled: the order's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
    /// Filled: the fill price; modified: the new limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// Filled: the quantity filled; canceled: the quantity canceled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<String>,
    /// Filled, modified: what is left working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaves: Option<String>,
    /// Filled: a resting order's fill (maker) or one that took liquidity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maker: Option<bool>,
    /// Filled: the fee charged (negative: a rebate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<String>,
    /// Filled: the strategy's net position in the instrument after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Filled: the average entry price of that position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_price: Option<String>,
    /// Filled: the strategy's realized PnL after it, fees included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realized_pnl: Option<String>,
    /// Filled (maker): market time from acceptance to this fill, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_wait_ns: Option<u64>,
    /// Accepted (simulated venue, limit order): the feed's quantity resting
    /// at its price and side when it was accepted, what it queues behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_ahead: Option<String>,
    /// Rejected: the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Rejected: the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A swap request's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapEntry {
    /// `name from → to` per plugin.
    pub plugins: Vec<String>,
    /// `swapped`, or why not.
    pub outcome: SwapOutcome,
    /// What asked for it.
    pub cause: String,
}

/// A shadow's start or end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowEntry {
    /// The live plugin it shadows.
    pub plugin: String,
    /// The candidate's version.
    pub version: String,
    /// `started`, `promoted`, `ended` or `discarded`.
    pub event: String,
    /// Ended: outputs compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<u64>,
    /// Ended: outputs that differed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differing: Option<u64>,
}

/// A faulted call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultEntry {
    /// The plugin.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// The fault's kind (`trap`, `fuel`, `deadline`, `contract`, ...).
    pub fault: String,
    /// What happened.
    pub message: String,
}

/// A quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// The plugin.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Why.
    pub reason: String,
}

/// What happened on a network connector's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WireEvent {
    /// The host connected (`detail`: the address).
    Connected,
    /// Bytes arrived.
    In,
    /// Bytes were written.
    Out,
    /// The connection closed (`detail`: why).
    Closed,
    /// The connector was ticked (time passed).
    Tick,
    /// The host asked the connector to end the session (Ctrl-C, the budget).
    Stop,
}

/// A reconciliation finding of a live session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileEntry {
    /// The connector that found it (`name`).
    pub plugin: String,
    /// `unknown-order`, `position` or `order`.
    pub finding: String,
    /// The host order it is about (an adopted one: its new id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u64>,
    /// The instrument's symbol, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// What was found, for the operator.
    pub detail: String,
    /// What the host did: `canceled`, `kept`, `adopted by STRATEGY`,
    /// `reported`, or `none` (a position that matches).
    pub action: String,
}

/// Bytes on a network connector's connection, or the connection opening or
/// closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEntry {
    /// The connector (`name`).
    pub plugin: String,
    /// What happened.
    pub event: WireEvent,
    /// The time the connector was given with them (the wall clock), ns
    /// since the Unix epoch.
    pub at: u64,
    /// How many bytes (`in`, `out`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// The bytes, exactly, when they are UTF-8 (FIX is ASCII; its SOH is
    /// `\u0001` in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The bytes in hex, when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// The address connected to, or why the connection closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl WireEntry {
    /// Bytes that went `event` (in or out) at `at`.
    pub fn bytes(plugin: &str, event: WireEvent, at: u64, bytes: &[u8]) -> Self {
        let (text, hex) = match std::str::from_utf8(bytes) {
            Ok(text) => (Some(text.to_string()), None),
            Err(_) => (
                None,
                Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
            ),
        };
        Self {
            plugin: plugin.to_string(),
            event,
            at,
            len: Some(bytes.len() as u64),
            text,
            hex,
            detail: None,
        }
    }

    /// The bytes the record holds (`in`, `out`), as [`Self::bytes`] wrote
    /// them; empty for the other events. The error says what is not hex.
    pub fn payload(&self) -> Result<Vec<u8>, String> {
        if let Some(text) = &self.text {
            return Ok(text.as_bytes().to_vec());
        }
        let hex = self.hex.as_deref().unwrap_or_default();
        if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
            return Err(format!("a wire record's hex is not hex: `{hex}`"));
        }
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()
            .map_err(|_| format!("a wire record's hex is not hex: `{hex}`"))
    }

    /// A tick or a stop at `at`.
    pub fn moment(plugin: &str, event: WireEvent, at: u64) -> Self {
        Self {
            plugin: plugin.to_string(),
            event,
            at,
            len: None,
            text: None,
            hex: None,
            detail: None,
        }
    }

    /// The connection opened or closed at `at`, with `detail`.
    pub fn change(plugin: &str, event: WireEvent, at: u64, detail: String) -> Self {
        Self {
            plugin: plugin.to_string(),
            event,
            at,
            len: None,
            text: None,
            hex: None,
            detail: Some(detail),
        }
    }
}

/// Trading halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaltEntry {
    /// Why.
    pub reason: Halt,
}

/// The session's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndEntry {
    /// Market events processed.
    pub events: u64,
    /// Batches processed.
    pub batches: u64,
    /// Why it stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// Per strategy: its fills judged by the exchange's rules beside the
    /// session (simulated venue, a feed by order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fills_audit: Option<BTreeMap<String, StrategyAudit>>,
}

/// Fills of one kind judged by the rules: how many, how many right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    /// Fills booked.
    pub fills: u64,
    /// Of them, ones the rules give (at that time, price and size).
    pub right: u64,
}

/// One strategy's fills against the exchange's rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategyAudit {
    /// Maker fills.
    pub maker: Judged,
    /// Taker fills.
    pub taker: Judged,
    /// Maker volume the market brought to its orders, lots.
    pub reachable: f64,
    /// Of it, the share its orders did not get (zero when the venue is right).
    pub reachable_not_taken: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_flat_json_object_that_reads_back() {
        let record = Record {
            seq: 3,
            ts: 17,
            entry: Entry::Halt(HaltEntry {
                reason: Halt::MatcherFailed {
                    matcher: "m".into(),
                    fault: "trap".into(),
                },
            }),
        };
        let line = serde_json::to_string(&record).unwrap();
        assert_eq!(
            line,
            r#"{"seq":3,"ts":17,"kind":"halt","reason":"matcher m failed: trap"}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
        let unknown = r#"{"seq":3,"ts":17,"kind":"dance"}"#;
        let error = serde_json::from_str::<Record>(unknown).unwrap_err();
        assert!(error.to_string().contains("dance"), "{error}");
    }
}

//! The report's `gateway` object: the host as a venue, its connections and
//! what each client account did.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::gateway::protocol::Level;
use crate::journal::summary::PositionReport;

/// The gateway over the session.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GatewayReport {
    /// Where WebSocket clients connected, if they could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<String>,
    /// Where FIX clients connected, if they could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Connections accepted, logons that succeeded and that were refused.
    pub connections: u64,
    pub logons: u64,
    pub refused_logons: u64,
    /// Connections turned away: `max_connections` were open.
    pub turned_away: u64,
    /// Messages refused as malformed (the connection stayed).
    pub malformed: u64,
    /// Messages over a connection's rate limit (refused; it stayed).
    pub rate_limited: u64,
    /// Requests refused because the session's inbox was full.
    pub busy: u64,
    /// Connections closed as slow consumers.
    pub slow_consumers: u64,
    /// Requests naming an instrument the venue does not know.
    pub unknown_instruments: u64,
    /// Per account, by name.
    pub accounts: Vec<ClientReport>,
    /// The connections logged on (none once the session ended).
    #[serde(default)]
    pub connected: Vec<ConnectedClient>,
    /// The venue's book of each instrument clients traded, best five
    /// levels a side (the matcher's).
    #[serde(default)]
    pub books: Vec<VenueBook>,
}

/// A connection logged on to an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectedClient {
    pub connection: u64,
    pub account: String,
    /// `websocket` or `fix`.
    pub protocol: String,
}

/// The venue's book of one instrument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VenueBook {
    pub symbol: String,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

/// What one client account did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientReport {
    pub account: String,
    /// Commands sent, approved, refused (by the host or a validator).
    pub submitted: u64,
    pub approved: u64,
    pub rejected: u64,
    pub fills: u64,
    pub fees: String,
    pub realized_pnl: String,
    /// Open positions at the end.
    pub positions: Vec<PositionReport>,
}

impl GatewayReport {
    /// Its lines of the text report.
    pub(crate) fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "gateway:{}{}, {} connections ({} logons, {} refused, {} turned away), \
             {} malformed, {} over the rate limit, {} busy, {} slow consumers, \
             {} for unknown instruments",
            self.websocket
                .as_ref()
                .map_or_else(String::new, |a| format!(" ws://{a}")),
            self.fix
                .as_ref()
                .map_or_else(String::new, |a| format!(" FIX {a}")),
            self.connections,
            self.logons,
            self.refused_logons,
            self.turned_away,
            self.malformed,
            self.rate_limited,
            self.busy,
            self.slow_consumers,
            self.unknown_instruments
        );
        for a in &self.accounts {
            let _ = writeln!(
                out,
                "  account {}: {} submitted, {} approved, {} refused, {} fills, realized PnL {}, \
                 fees {}",
                a.account, a.submitted, a.approved, a.rejected, a.fills, a.realized_pnl, a.fees
            );
        }
    }
}

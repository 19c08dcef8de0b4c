//! The `[gateway]` table: where the venue's clients connect (`gateway/`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use serde::Deserialize;

use super::{VenueModel, VenueSettings};

/// The `[gateway]` table: the host as a venue, its clients' orders matched
/// by the matcher plugin with the strategies' (`[venue] model = "exchange"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// The FIX 4.4 acceptor's address (README, *FIX 4.4*).
    pub fix: Option<SocketAddr>,
    /// The venue's CompID: the TargetCompID (56) clients' FIX messages
    /// name, and the SenderCompID of the venue's.
    pub fix_comp_id: String,
    /// Where each FIX session's sequence numbers are kept, so that they
    /// survive a restart (default: `fix-sessions` beside the accounts file).
    pub fix_store: Option<PathBuf>,
    /// The WebSocket address (JSON messages; README, *The host as a venue*).
    pub websocket: Option<SocketAddr>,
    /// The accounts file: per account, its API key's hash (`tradsys gateway
    /// key`) and its FIX SenderCompID.
    pub accounts: Option<PathBuf>,
    /// Allow addresses other than loopback.
    pub allow_remote: bool,
    /// Connections at once; one more is told why and closed.
    pub max_connections: usize,
    /// Messages a connection may send per second (a token bucket of one
    /// second's worth); one over is refused with the reason, and the
    /// connection stays.
    pub max_messages_per_second: u32,
    /// Messages waiting to be sent to one connection; a client that lets
    /// more pile up is a slow consumer and is disconnected with the reason.
    pub outbound_queue: usize,
    /// The largest quantity of one order, in whole units; a larger one is
    /// refused before it reaches the host's checks.
    pub max_order_quantity: u64,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            fix: None,
            fix_comp_id: "TRADSYS".into(),
            fix_store: None,
            websocket: None,
            accounts: None,
            allow_remote: false,
            max_connections: 64,
            max_messages_per_second: 10_000,
            outbound_queue: 4_096,
            max_order_quantity: 1_000_000,
        }
    }
}

impl GatewaySettings {
    /// The directory of the FIX sessions' sequence numbers.
    pub fn fix_store(&self) -> Option<PathBuf> {
        self.fix_store.clone().or_else(|| {
            let accounts = self.accounts.as_ref()?;
            Some(accounts.parent()?.join("fix-sessions"))
        })
    }

    /// Whether clients are served.
    pub fn is_on(&self) -> bool {
        self.websocket.is_some() || self.fix.is_some()
    }

    pub(super) fn check(&self, venue: &VenueSettings) -> Result<()> {
        if !self.is_on() {
            return Ok(());
        }
        anyhow::ensure!(
            !self.fix_comp_id.is_empty() && self.fix_comp_id.bytes().all(|b| b.is_ascii_graphic()),
            "gateway.fix_comp_id: `{}` is not printable ASCII without spaces",
            self.fix_comp_id
        );
        anyhow::ensure!(
            venue.model == VenueModel::Exchange,
            "gateway: clients trade at an exchange venue; set [venue] model = \"exchange\""
        );
        anyhow::ensure!(
            self.accounts.is_some(),
            "gateway.accounts: the accounts file is needed (`tradsys gateway key` makes a key and \
             its hash)"
        );
        for address in self.websocket.iter().chain(&self.fix) {
            anyhow::ensure!(
                self.allow_remote || address.ip().is_loopback(),
                "gateway: {address} is not a loopback address; set gateway.allow_remote = true \
                 to serve other hosts"
            );
        }
        anyhow::ensure!(
            self.max_connections > 0
                && self.max_messages_per_second > 0
                && self.outbound_queue > 0
                && self.max_order_quantity > 0,
            "gateway: max_connections, max_messages_per_second, outbound_queue and \
             max_order_quantity must be at least 1"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::HostConfig;

    fn refused(toml: &str) -> String {
        let config: HostConfig = toml::from_str(toml).unwrap();
        format!("{:#}", config.check().unwrap_err())
    }

    #[test]
    fn a_gateway_needs_an_exchange_venue_accounts_and_loopback() {
        let exchange = "[venue]\nmodel = \"exchange\"\n";
        let ws = "[gateway]\nwebsocket = \"127.0.0.1:9881\"\n";
        let accounts = "accounts = \"accounts.toml\"\n";
        assert!(refused(&format!("{ws}{accounts}")).contains("set [venue] model = \"exchange\""));
        assert!(refused(&format!("{exchange}{ws}")).contains("gateway.accounts"));
        let remote = "[gateway]\nwebsocket = \"0.0.0.0:9881\"\n";
        assert!(refused(&format!("{exchange}{remote}{accounts}")).contains("not a loopback"));
        let fix = "[gateway]\nfix = \"127.0.0.1:9880\"\nfix_comp_id = \"MY VENUE\"\n";
        assert!(refused(&format!("{exchange}{fix}{accounts}")).contains("gateway.fix_comp_id"));
        let zero = format!("{exchange}{ws}{accounts}outbound_queue = 0\n");
        assert!(refused(&zero).contains("must be at least 1"));
        let good: HostConfig = toml::from_str(&format!("{exchange}{ws}{accounts}")).unwrap();
        good.check().unwrap();
    }
}

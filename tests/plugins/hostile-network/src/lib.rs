//! A network connector that misbehaves: on `connected` it sends a FIX 4.4
//! Logon (TRADSYS to VENUE, sequence number 1, ResetSeqNumFlag, so a
//! QuickFIX venue answers), and then it traps on every call: what arrives,
//! every tick. The host must restart it from its saved state after each trap
//! and, once the circuit breaker opens, end the live session saying why.

use tradsys_sdk::{Config, NetworkConnector, NetworkOutput, OrderCommand};

/// The misbehaving connector.
pub struct HostileNetwork;

/// A FIX message with its BodyLength and CheckSum, fields joined by SOH.
fn framed(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\u{1}");
    let head = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len());
    let sum = head.bytes().chain(body.bytes()).map(u32::from).sum::<u32>() % 256;
    format!("{head}{body}10={sum:03}\u{1}").into_bytes()
}

impl NetworkConnector for HostileNetwork {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["seed"])?;
        Ok(Self)
    }

    fn connected(&mut self, _now: u64, out: &mut NetworkOutput) {
        out.send =
            framed("35=A|49=TRADSYS|56=VENUE|34=1|52=20231225-00:00:00.000|98=0|108=30|141=Y|");
    }

    fn received(&mut self, bytes: &[u8], _now: u64, _out: &mut NetworkOutput) {
        panic!("hostile-network: trapping on {} bytes", bytes.len());
    }

    fn disconnected(&mut self, _reason: &str, _now: u64, _out: &mut NetworkOutput) {}

    fn tick(&mut self, _now: u64, _out: &mut NetworkOutput) {
        panic!("hostile-network: trapping on a tick");
    }

    fn submit_orders(&mut self, orders: &[OrderCommand], now: u64, out: &mut NetworkOutput) {
        for order in orders {
            out.reports
                .push(order.refused(now, "hostile-network sends nothing"));
        }
    }

    fn stop(&mut self, _now: u64, out: &mut NetworkOutput) {
        out.close = Some(tradsys_sdk::Close {
            reason: "stopping".into(),
            reconnect: false,
        });
    }

    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    fn load_state(&mut self, _state: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

tradsys_sdk::export_network_connector!(HostileNetwork);

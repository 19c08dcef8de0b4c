//! A connector that tries, in `init`, what config `try` names, and reports
//! what it found as `init`'s error (so a test can read it):
//! - `read` (default): read the file `path` (default `/data/inside.txt`);
//! - `env`: read the environment variable `name` (default `HOME`) and count all variables;
//! - `clock`: read the wall clock;
//! - `connect`: open a TCP connection to `address` (default `127.0.0.1:9`).
//!
//! With `try = none`, `init` succeeds and the connector ends its stream at once.

use tradsys_sdk::{Config, Connector, MarketEvent, OrderCommand, OrderEvent};

/// The connector.
pub struct HostileIo;

impl Connector for HostileIo {
    fn new(config: &Config) -> Result<Self, String> {
        let found = match config.get("try").unwrap_or("read") {
            "none" => return Ok(Self),
            "read" => {
                let path = config.get("path").unwrap_or("/data/inside.txt");
                match std::fs::read_to_string(path) {
                    Ok(text) => format!("read {path}: {text}"),
                    Err(e) => format!("read {path}: denied: {e}"),
                }
            }
            "env" => {
                let name = config.get("name").unwrap_or("HOME");
                let count = std::env::vars().count();
                format!(
                    "env {name}: {:?}, {count} variables",
                    std::env::var(name).ok()
                )
            }
            "clock" => {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                format!("clock: {} ns", now.map(|d| d.as_nanos()).unwrap_or(0))
            }
            "connect" => {
                let address = config.get("address").unwrap_or("127.0.0.1:9");
                match std::net::TcpStream::connect(address) {
                    Ok(_) => format!("connect {address}: connected"),
                    Err(e) => format!("connect {address}: denied: {e}"),
                }
            }
            other => format!("unknown try `{other}`"),
        };
        Err(found)
    }

    fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        Ok(None)
    }

    fn submit_orders(&mut self, _orders: &[OrderCommand]) -> Vec<OrderEvent> {
        Vec::new()
    }

    /// It delivers nothing, so it has no position to keep.
    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        match state {
            [] => Ok(()),
            _ => Err("hostile-io keeps no state".to_string()),
        }
    }
}

tradsys_sdk::export_connector!(HostileIo);

//! The trading system around the plugins: the session's data path, the
//! order router, instruments and last prices, the ledger, the report, and
//! what a running session shows its operators (telemetry, alerts).

pub(crate) mod accounts;
pub mod alerts;
pub(crate) mod audit;
pub mod books;
pub mod events;
pub(crate) mod feed;
pub(crate) mod fills_audit;
pub(crate) mod ids;
pub(crate) mod in_flight;
pub mod latency;
pub mod ledger;
pub mod market;
pub(crate) mod membership;
pub mod processing;
#[cfg(test)]
mod props;
pub mod report;
pub mod report_gateway;
pub mod report_live;
pub(crate) mod reporting;
pub(crate) mod roster;
pub mod router;
pub(crate) mod sanity;
pub mod selection;
pub mod session;
pub mod telemetry;
pub(crate) mod verify;
pub(crate) mod verify_matcher;

pub use processing::ProcessorReport;
pub use report::{LoadSource, Report};
pub use session::Session;
pub use telemetry::{Snapshot, Telemetry};

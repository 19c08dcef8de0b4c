//! The trading system around the plugins: the session's data path, the
//! order router, instruments and last prices, the ledger, the report.

pub(crate) mod audit;
pub mod books;
pub(crate) mod ids;
pub mod ledger;
pub mod market;
pub mod processing;
pub mod report;
pub mod router;
pub mod selection;
pub mod session;
pub(crate) mod verify;

pub use processing::ProcessorReport;
pub use report::{LoadSource, Report};
pub use session::Session;

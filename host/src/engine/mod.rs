//! The wasmtime layer: engine, linker, stores, compiled artifacts. Nothing
//! here knows plugin files, sessions or trading.

pub mod cache;
pub mod logs;
pub mod reconcile;
pub mod runtime;
pub mod signals;
pub(crate) mod stderr;
pub mod store;
pub mod venue_feed;

pub use cache::{ArtifactCache, CacheOutcome};
pub use logs::LogLimiter;
pub use reconcile::{Finding, SharedReconciliation};
pub use runtime::{KindPre, LoadInfo, ProcessorVersions, Runtime, Versioned};
pub use signals::SignalNames;
pub use store::{Clock, HostState, SharedBooks, SharedOwners};

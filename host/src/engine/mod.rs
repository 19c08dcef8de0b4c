//! The wasmtime layer: engine, linker, stores, compiled artifacts. Nothing
//! here knows plugin files, sessions or trading.

pub mod cache;
pub mod runtime;
pub mod store;

pub use cache::{ArtifactCache, CacheOutcome};
pub use runtime::{KindPre, LoadInfo, Runtime, Versioned};
pub use store::{Clock, HostState, SharedBooks};

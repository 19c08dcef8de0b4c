//! The tradsys plugin host: loads signed WebAssembly plugins from a
//! directory and runs the trading data path over them.
//!
//! ```no_run
//! use tradsys_host::Host;
//!
//! # fn main() -> anyhow::Result<()> {
//! let host = Host::builder()
//!     .plugins_dir("target/plugins")
//!     .trust_dir("trust")
//!     .build()?;
//! let mut session = host.session()?;
//! session.run()?;
//! print!("{}", session.report().render());
//! # Ok(())
//! # }
//! ```
//!
//! The public API is the facade: [`Host`] (a plugin directory under a trust
//! policy and a [`HostConfig`]), [`Session`] (run it, get its [`Report`]),
//! [`Control`] (steer a running session from another thread: status, swaps,
//! rollback, shadows), the directory [`watch`]er, the session's
//! [`Telemetry`], and the HTTP server ([`admin`]: admin API, dashboard, metrics).
//! The layers behind it (see ARCHITECTURE.md): `policy` and `bindings` at
//! the bottom, then `config`, `journal` (the order journal), `engine` (wasmtime), `loading` (plugin files),
//! `sandbox` (instances and calls), `live` (operations), `trading` (the
//! session), `ops` (the HTTP server). What the tests need of them is in the hidden [`testing`].

mod bindings;
mod config;
mod engine;
pub mod gateway;
mod host;
mod journal;
mod live;
mod loading;
mod network;
mod ops;
mod policy;
mod sandbox;
mod trading;

pub use config::{
    AdminSettings, ConfigValue, DEFAULT_ADMIN, DEFAULT_CONNECTOR, DEFAULT_DASHBOARD,
    DEFAULT_EVENTS, DEFAULT_SEED, HostConfig, KindLimits, Loading, OnFault, PluginSettings,
    RunSettings, SwapSettings, TrustSettings, VenueModel, VenueSettings,
};
pub use engine::{CacheOutcome, LoadInfo};
pub use host::{Host, HostBuilder, InstanceCheck, PluginCheck};
pub use journal::{
    Filter as JournalFilter, Halt, JournalReport, Reader as JournalReader, Record as JournalRecord,
    Stop, Summary as JournalSummary, line as journal_line,
};
pub use live::{
    Change, ConfigChange, Control, ControlError, Difference, MembershipRecord, Presence,
    RollbackMode, ShadowReport, ShadowState, StartedFrom, Status, SwapOutcome, SwapRecord, watch,
};
pub use loading::{
    API_VERSION, FileState, Interface, Plugin, PluginFile, Readiness, RejectedFile, TrustMode,
    TrustPolicy, api_version, export_fits, read_interface,
};
pub use policy::{
    FaultSettings, Grant, Grants, LimitSettings, Limits, MemorySettings, Placement, PluginKind,
    Pressure,
};
pub use sandbox::{Fault, LifeState, PluginStatus};
pub use trading::alerts::{Tally, TimelineEntry};
pub use trading::telemetry::{Curve, CurvePoint};
pub use trading::{LoadSource, ProcessorReport, Report, Session, Snapshot, Telemetry};

/// The host's HTTP server (admin API, dashboard, metrics, health checks)
/// and the client `tradsys status` and `tradsys plugin ...` use.
pub mod admin {
    pub use crate::ops::{Server, request, serve, token_path};
}

/// The report (and the curve of its session) as one self-contained HTML page.
pub use ops::report_html::render as report_html;
/// Trap codes, to tell a plugin's faults apart by downcasting.
pub use wasmtime::Trap;

/// Internals the end-to-end tests and benchmarks drive directly. Not part
/// of the API: an embedder uses [`Host`], [`Session`] and [`Control`].
#[doc(hidden)]
pub mod testing {
    pub use crate::bindings::types;
    pub use crate::engine::{ArtifactCache, Clock, KindPre, Runtime, SharedBooks, SharedOwners};
    pub use crate::live::shadow::{ShadowCommand, ShadowLog};
    pub use crate::live::swap::{History, Running, SwapLog, SwapRequest};
    pub use crate::loading::{Registry, RollbackState, Verified, cache_path, state_path};
    pub use crate::sandbox::{
        AnyInstance, CallStats, Connector, KindBindings, Matcher, PluginInstance, Processor,
        RiskValidator, Strategy, eviction,
    };
}

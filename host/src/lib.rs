//! The tradsys plugin host: loads WebAssembly plugins from a directory and
//! runs the trading data path over them.
//!
//! ```no_run
//! use std::sync::Arc;
//! use tradsys_host::{HostConfig, Registry, Report, Runtime, Session, TrustPolicy};
//!
//! # fn main() -> anyhow::Result<()> {
//! let mut config = HostConfig::default();
//! config.trust.dir = Some("trust".into()); // *.pub keys and a `revoked` list
//! let policy = TrustPolicy::from_settings(&config.trust)?;
//! let runtime = Arc::new(Runtime::new()?.with_memory(config.memory));
//! let registry = Registry::load_dir("target/plugins".as_ref(), &config, &policy)?;
//! let mut session = Session::new(runtime, &registry, &config)?;
//! session.run()?;
//! print!("{}", Report::new(&session, &policy).render());
//! # Ok(())
//! # }
//! ```
//!
//! Code map: [`Runtime`] owns the wasmtime engine and linker; [`Registry`]
//! verifies every file of a directory under a [`TrustPolicy`], selects one
//! version per plugin and discovers it as a [`Plugin`] (refusing bad files
//! by name, with the reason), compiled on first use;
//! [`PluginInstance`] is the one place an instance is created and a call is
//! made; [`eviction`] decides which idle instances leave under the memory
//! budget; [`Session`] runs connector → strategies → validators → matcher and
//! books fills in a [`Ledger`]; [`Report`] summarises it. The WIT types are
//! in [`bindings`], generated there and nowhere else.

pub mod admin;
pub mod bindings;
mod cache;
mod config;
pub mod eviction;
mod instance;
mod ledger;
mod market;
mod plugin;
mod registry;
mod report;
mod runtime;
mod session;
pub mod shadow;
mod state;
pub mod swap;
pub mod watch;

pub use cache::{ArtifactCache, CacheOutcome};
pub use config::{
    AdminSettings, ConfigValue, DEFAULT_ADMIN, DEFAULT_CONNECTOR, DEFAULT_EVENTS, DEFAULT_SEED,
    HostConfig, Loading, MemorySettings, PluginSettings, Pressure, RunSettings, TrustSettings,
};
pub use instance::{CallStats, Fault, KindBindings, LifeState, PluginInstance};
pub use ledger::{Holding, Ledger};
pub use market::Market;
pub use plugin::{
    API_VERSION, Interface, KindPre, Placement, Plugin, PluginKind, Readiness, Verified,
    api_compatible, api_version, identify_kind, read_interface,
};
pub use registry::{FileState, PluginFile, Registry, RejectedFile, TrustPolicy};
pub use report::{PluginStatus, Report};
pub use runtime::{Clock, Grants, HostState, LoadInfo, Runtime};
pub use session::{Counters, Session, StatusRequest, StrategyCounts, reason_name};
pub use state::{RollbackState, cache_path, state_path};
/// Trap codes, to tell a plugin's faults apart by downcasting.
pub use wasmtime::Trap;

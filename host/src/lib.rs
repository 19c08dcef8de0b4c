//! The tradsys plugin host: loads WebAssembly plugins from a directory and
//! runs the trading data path over them.
//!
//! ```no_run
//! use std::sync::Arc;
//! use tradsys_host::{HostConfig, Registry, Report, Runtime, Session};
//!
//! # fn main() -> anyhow::Result<()> {
//! let config = HostConfig::default();
//! let runtime = Arc::new(Runtime::new()?);
//! let registry = Registry::load_dir(&runtime, "target/plugins".as_ref(), &config)?;
//! let mut session = Session::new(runtime, &registry, &config)?;
//! session.run()?;
//! print!("{}", Report::new(&session).render());
//! # Ok(())
//! # }
//! ```
//!
//! Code map: [`Runtime`] owns the wasmtime engine and linker; [`Registry`]
//! loads a directory into [`Plugin`]s (refusing bad files by name);
//! [`PluginInstance`] is the one place an instance is created and a call is
//! made; [`Session`] runs connector → strategies → validators → matcher and
//! books fills in a [`Ledger`]; [`Report`] summarises it. The WIT types are
//! in [`bindings`], generated there and nowhere else.

pub mod bindings;
mod config;
mod instance;
mod ledger;
mod market;
mod plugin;
mod registry;
mod report;
mod runtime;
mod session;

pub use config::{
    ConfigValue, DEFAULT_CONNECTOR, DEFAULT_EVENTS, DEFAULT_SEED, HostConfig, PluginSettings,
    RunSettings,
};
pub use instance::{CallStats, Fault, KindBindings, PluginInstance};
pub use ledger::{Holding, Ledger};
pub use market::Market;
pub use plugin::{API_VERSION, KindPre, Plugin, PluginKind, identify_kind};
pub use registry::{Registry, RejectedFile};
pub use report::Report;
pub use runtime::{Clock, Grants, HostState, Runtime};
pub use session::{Counters, Session, StrategyCounts, reason_name};

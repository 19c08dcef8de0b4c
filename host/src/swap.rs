//! Hot swap: a new version is compiled, instantiated and initialised off the
//! data path ([`Prepared::prepare`]), then the session installs it between
//! two market batches, after handing it the running version's state
//! (`save-state` on the old instance, `load-state` on the new). A request
//! may hold several plugins (an atomic group): all of them switch between
//! the same two batches, or none does. If any handoff fails, every running
//! version stays and the reason is logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::bindings::{
    connector::Connector, matcher::Matcher, risk_validator::RiskValidator, strategy::Strategy,
};
use crate::instance::{KindBindings, PluginInstance};
use crate::plugin::{Plugin, PluginKind};
use crate::runtime::Runtime;

/// A new version with a live, initialised instance, ready to take over.
pub enum Prepared {
    /// A strategy.
    Strategy(PluginInstance<Strategy>),
    /// A risk validator.
    RiskValidator(PluginInstance<RiskValidator>),
    /// The matcher.
    Matcher(PluginInstance<Matcher>),
    /// The connector.
    Connector(PluginInstance<Connector>),
}

impl Prepared {
    /// Compile `plugin` (or load it from the cache), instantiate it and run
    /// its `init`; called off the data path.
    pub fn prepare(runtime: &Arc<Runtime>, plugin: Arc<Plugin>) -> Result<Self, String> {
        fn live<B: KindBindings>(
            runtime: &Arc<Runtime>,
            plugin: Arc<Plugin>,
        ) -> Result<PluginInstance<B>, String> {
            let mut instance = PluginInstance::new(runtime.clone(), plugin);
            instance.ensure_live().map_err(|fault| fault.to_string())?;
            Ok(instance)
        }
        plugin.prepare(runtime)?;
        match plugin.kind() {
            PluginKind::Strategy => live(runtime, plugin).map(Self::Strategy),
            PluginKind::RiskValidator => live(runtime, plugin).map(Self::RiskValidator),
            PluginKind::Matcher => live(runtime, plugin).map(Self::Matcher),
            PluginKind::Connector => live(runtime, plugin).map(Self::Connector),
        }
    }

    /// The plugin it runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        match self {
            Self::Strategy(i) => i.plugin(),
            Self::RiskValidator(i) => i.plugin(),
            Self::Matcher(i) => i.plugin(),
            Self::Connector(i) => i.plugin(),
        }
    }
}

/// Plugins to install together, and what to do once they are in.
pub struct SwapRequest {
    /// The new versions; all switch between the same two batches, or none.
    pub members: Vec<Prepared>,
    /// What asked for it (a changed file, a test, ...).
    pub cause: String,
    /// Run once every member is installed (the directory watcher raises the
    /// rollback floor here, not before).
    pub on_swapped: Option<Box<dyn FnOnce() + Send>>,
    /// A return to a version from the history: it leaves the history, and
    /// the version it replaces does not join it.
    pub rollback: bool,
    /// Where to send the outcome.
    pub reply: Option<std::sync::mpsc::Sender<SwapRecord>>,
}

impl SwapRequest {
    /// A plain swap of `members`.
    pub fn new(members: Vec<Prepared>, cause: impl Into<String>) -> Self {
        Self {
            members,
            cause: cause.into(),
            on_swapped: None,
            rollback: false,
            reply: None,
        }
    }
}

/// One swap, or one update that was not made, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwapRecord {
    /// Market events processed when it happened (a swap falls between this
    /// event and the next); `None` for an update refused before reaching
    /// the session.
    pub after_event: Option<u64>,
    /// `name from → to` per plugin, or the file concerned.
    pub plugins: Vec<String>,
    /// `swapped`, or why not (the running versions go on).
    pub outcome: String,
    /// What asked for it.
    pub cause: String,
}

/// Swaps and refused updates so far, readable while the session runs.
pub type SwapLog = Arc<Mutex<Vec<SwapRecord>>>;

/// The plugin running under each name, kept by the session.
pub type Running = Arc<Mutex<BTreeMap<String, Arc<Plugin>>>>;

/// Per plugin name, the versions it ran before, oldest first; they stay
/// compiled so a rollback is quick (`[swap] keep_versions` of them).
pub type History = Arc<Mutex<BTreeMap<String, Vec<Arc<Plugin>>>>>;

/// Add `record` to `log`, and say it in the host's log.
pub fn note(log: &SwapLog, record: SwapRecord) {
    if record.outcome == "swapped" {
        tracing::info!(plugins = ?record.plugins, cause = record.cause, "swapped");
    } else {
        tracing::warn!(plugins = ?record.plugins, cause = record.cause, "not swapped: {}", record.outcome);
    }
    log.lock().expect("swap log").push(record);
}

/// Hand `old`'s state to `new`; `old` is untouched whatever happens.
pub(crate) fn hand_over<B: KindBindings>(
    old: &mut PluginInstance<B>,
    new: &mut PluginInstance<B>,
) -> Result<(), String> {
    match old.export_state().map_err(|fault| fault.to_string())? {
        Some(state) => new.import_state(&state),
        None => Ok(()),
    }
}

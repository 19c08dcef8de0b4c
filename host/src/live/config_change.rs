//! The record of a configuration change (`live/reconfigure.rs` makes
//! them): which settings changed, from what to what, and whether the new
//! configuration runs.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::live::recent::Recent;

/// One setting that changed: its old and new value (`None`: unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// `config.KEY`, `limits.FIELD`, `read_dir`, `network`, `random`, `faults`.
    pub setting: String,
    /// The value before.
    pub old: Option<String>,
    /// The value after.
    pub new: Option<String>,
}

impl Difference {
    /// `old → new`, `(unset)` for a value not set.
    pub fn values(&self) -> String {
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
        format!("{} → {}", value(&self.old), value(&self.new))
    }
}

/// A configuration change of one plugin, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// `name@version`.
    pub plugin: String,
    /// What asked for it: the operator, or the config file.
    pub cause: String,
    /// What changed.
    pub differences: Vec<Difference>,
    /// Whether the new configuration runs.
    pub applied: bool,
    /// Why not, when it does not (the running one goes on).
    pub reason: Option<String>,
}

/// Configuration changes a session keeps (the oldest go first).
pub const CONFIG_LOG_LENGTH: usize = 1000;

/// The session's configuration changes so far.
pub type ConfigLog = Arc<Mutex<Recent<ConfigChange, CONFIG_LOG_LENGTH>>>;

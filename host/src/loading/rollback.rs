//! The host's small persistent state: per plugin name, the highest version it
//! has accepted (rollback protection), and the versions an operator pinned
//! through the admin endpoint (`plugin rollback`), so a restart runs what
//! ran before it. Kept as JSON beside the plugin directory
//! (`files::state_path`) and replaced atomically.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use semver::Version;
use serde::{Deserialize, Serialize};
use tradsys_signing::file::{Access, write_atomically};

/// Highest accepted version per plugin name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackState {
    /// Plugin name → highest version ever accepted.
    pub accepted: BTreeMap<String, Version>,
    /// Plugin name → the version an operator rolled back to: it runs, below
    /// the floor if need be, until a newer version is promoted or swapped in.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pins: BTreeMap<String, Version>,
}

impl RollbackState {
    /// Read the state file; a missing file is an empty state, a corrupt one an
    /// error naming it (the floor must not silently vanish).
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "host state {} is corrupt (delete it to reset rollback protection)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading host state {}", path.display())),
        }
    }

    /// Write atomically and durably.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("state serialises");
        write_atomically(path, &json, Access::Default)
            .with_context(|| format!("saving host state {}", path.display()))
    }

    /// The highest accepted version of `name`.
    pub fn floor(&self, name: &str) -> Option<&Version> {
        self.accepted.get(name)
    }

    /// The version of `name` an operator pinned, if any.
    pub fn pin(&self, name: &str) -> Option<&Version> {
        self.pins.get(name)
    }

    /// Pin `name` at `version` (an operator's rollback), or drop its pin.
    pub fn set_pin(&mut self, name: &str, version: Option<&Version>) {
        match version {
            Some(v) => self.pins.insert(name.to_string(), v.clone()),
            None => self.pins.remove(name),
        };
    }

    /// Record that `version` of `name` was accepted; true when the floor rose.
    pub fn accept(&mut self, name: &str, version: &Version) -> bool {
        match self.accepted.get(name) {
            Some(v) if v >= version => false,
            _ => {
                self.accepted.insert(name.to_string(), version.clone());
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loading::files::state_path;

    #[test]
    fn round_trips_atomically_and_only_rises() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(&dir.path().join("plugins"));
        assert_eq!(path, dir.path().join("plugins.state.json"));
        let mut state = RollbackState::load(&path).unwrap();
        assert!(state.accept("a", &Version::new(1, 2, 0)));
        assert!(!state.accept("a", &Version::new(1, 1, 0)));
        state.save(&path).unwrap();
        assert_eq!(
            RollbackState::load(&path).unwrap().floor("a"),
            Some(&Version::new(1, 2, 0))
        );
        // A pin round-trips; a state file from before pins existed still loads.
        state.set_pin("a", Some(&Version::new(1, 0, 0)));
        state.save(&path).unwrap();
        let loaded = RollbackState::load(&path).unwrap();
        assert_eq!(loaded.pin("a"), Some(&Version::new(1, 0, 0)));
        std::fs::write(&path, r#"{"accepted":{"a":"1.2.0"}}"#).unwrap();
        assert_eq!(RollbackState::load(&path).unwrap().pin("a"), None);
        std::fs::write(&path, "{garbage").unwrap();
        let err = format!("{:#}", RollbackState::load(&path).unwrap_err());
        assert!(
            err.contains("plugins.state.json") && err.contains("corrupt"),
            "{err}"
        );
    }
}

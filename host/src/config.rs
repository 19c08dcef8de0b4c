//! The host configuration file (TOML).
//!
//! ```toml
//! [run]
//! events = 20000                 # market events to process (0: until the connector ends)
//! seed = 42                      # handed to the connector as its `seed` config value
//! batch_size = 32                # market events per strategy call
//! connector = "synthetic-market" # which connector feeds the session
//! # matcher = "fifo-matcher"     # needed only when several matchers are installed
//! max_rounds = 4                 # order-event → command rounds per market batch
//! # plugins_dir = "plugins"      # default: --plugins, else ./target/plugins
//!
//! [trust]
//! dir = "trust"                  # trust store: *.pub keys and a `revoked` list
//! allow_unsigned = false         # development only: run plugins with no valid signature
//!
//! [plugins.max-notional]
//! version = "^1.2"                       # pin: only versions matching this run
//! config = { max_notional = "150000" }   # entries passed to init / config-get
//!
//! [plugins.csv-replay]
//! read_dir = "../shared/data"            # preopened read-only at /data
//! config = { file = "eurusd-quotes-2020-01.csv", format = "quotes" }
//! ```
//!
//! Relative paths are relative to the config file's directory. Unknown keys
//! are refused, so a typo is an error rather than a silently ignored setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::runtime::Grants;

/// Default number of market events in a run.
pub const DEFAULT_EVENTS: u64 = 20_000;
/// Default seed of the synthetic market.
pub const DEFAULT_SEED: u64 = 42;
/// Default connector.
pub const DEFAULT_CONNECTOR: &str = "synthetic-market";

/// The whole host configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// How a session runs.
    pub run: RunSettings,
    /// Which plugin signatures are trusted.
    pub trust: TrustSettings,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginSettings>,
}

/// The `[run]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Market events to process; 0 runs until the connector's stream ends.
    pub events: u64,
    /// Seed handed to the connector (`seed` config value).
    pub seed: u64,
    /// Market events per batch handed to strategies.
    pub batch_size: u32,
    /// Name of the connector that feeds the session.
    pub connector: String,
    /// Name of the matcher; optional when exactly one is installed.
    pub matcher: Option<String>,
    /// Rounds of order events → strategy commands per market batch.
    pub max_rounds: u32,
    /// Plugin directory, when `--plugins` is not given.
    pub plugins_dir: Option<PathBuf>,
    /// Rollback-protection state file (default: `<plugins dir>.state.json` beside it).
    pub state_file: Option<PathBuf>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            events: DEFAULT_EVENTS,
            seed: DEFAULT_SEED,
            batch_size: 32,
            connector: DEFAULT_CONNECTOR.to_string(),
            matcher: None,
            max_rounds: 4,
            plugins_dir: None,
            state_file: None,
        }
    }
}

/// The `[trust]` table. By default nothing is trusted: a trust store must be
/// named (here or with `--trust`) for any plugin to run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Trust store directory: `*.pub` key files and an optional `revoked` list.
    pub dir: Option<PathBuf>,
    /// Development only: plugins without a valid signature run too, and the
    /// report and logs say so on every run.
    pub allow_unsigned: bool,
}

/// A `[plugins.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginSettings {
    /// Load the plugin at all (default true).
    pub enabled: bool,
    /// Entries passed to the plugin's `init` and answered by `config-get`.
    pub config: BTreeMap<String, ConfigValue>,
    /// A directory the plugin may read, preopened read-only at `/data`.
    pub read_dir: Option<PathBuf>,
    /// Versions allowed to run. Setting it is the operator's explicit pin:
    /// a matching version runs even below the rollback-protection floor.
    pub version: Option<semver::VersionReq>,
}

impl Default for PluginSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            config: BTreeMap::new(),
            read_dir: None,
            version: None,
        }
    }
}

/// A plugin config value: any TOML scalar, handed to the plugin as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// Text.
    Text(String),
    /// Integer.
    Integer(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

impl ConfigValue {
    fn to_text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Integer(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

impl HostConfig {
    /// Read and check a config file; relative paths become relative to its directory.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .with_context(|| format!("config {} is invalid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let absolutise = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(dir) = config.run.plugins_dir.as_mut() {
            absolutise(dir);
        }
        if let Some(dir) = config.trust.dir.as_mut() {
            absolutise(dir);
        }
        if let Some(file) = config.run.state_file.as_mut() {
            absolutise(file);
        }
        for settings in config.plugins.values_mut() {
            if let Some(dir) = settings.read_dir.as_mut() {
                absolutise(dir);
            }
        }
        config
            .check()
            .with_context(|| format!("config {} is invalid", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        anyhow::ensure!(self.run.batch_size > 0, "run.batch_size must be at least 1");
        anyhow::ensure!(self.run.max_rounds > 0, "run.max_rounds must be at least 1");
        Ok(())
    }

    /// Whether the plugin called `name` should be loaded.
    pub fn enabled(&self, name: &str) -> bool {
        self.plugins.get(name).is_none_or(|p| p.enabled)
    }

    /// The operator's version pin for `name`, if any.
    pub fn pin(&self, name: &str) -> Option<&semver::VersionReq> {
        self.plugins.get(name).and_then(|p| p.version.as_ref())
    }

    /// What the host grants the plugin called `name`. The session's connector
    /// also gets `seed` unless its config sets one.
    pub fn grants(&self, name: &str) -> Grants {
        let settings = self.plugins.get(name);
        let mut config: Vec<(String, String)> = settings
            .map(|s| {
                s.config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_text()))
                    .collect()
            })
            .unwrap_or_default();
        if name == self.run.connector && !config.iter().any(|(k, _)| k == "seed") {
            config.push(("seed".to_string(), self.run.seed.to_string()));
        }
        Grants {
            config,
            read_dir: settings.and_then(|s| s.read_dir.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_config_and_renders_values_as_text() {
        let config: HostConfig = toml::from_str(
            r#"
            [run]
            events = 500
            seed = 7
            [plugins.max-notional]
            config = { max_notional = 150000, band = 1.5, strict = true, name = "x" }
            "#,
        )
        .unwrap();
        assert_eq!(config.run.events, 500);
        let grants = config.grants("max-notional");
        assert_eq!(
            grants.config,
            vec![
                ("band".to_string(), "1.5".to_string()),
                ("max_notional".to_string(), "150000".to_string()),
                ("name".to_string(), "x".to_string()),
                ("strict".to_string(), "true".to_string()),
            ]
        );
        assert!(
            config
                .grants(DEFAULT_CONNECTOR)
                .config
                .contains(&("seed".to_string(), "7".to_string()))
        );
    }

    #[test]
    fn refuses_unknown_keys_naming_them() {
        let err = toml::from_str::<HostConfig>("[run]\nevnts = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("evnts"), "{err}");
        let err = toml::from_str::<HostConfig>("[plugins.a]\nconfg = {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("confg"), "{err}");
    }
}

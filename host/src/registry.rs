//! The plugins found in a plugin directory, and the files refused with why.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::config::HostConfig;
use crate::plugin::{Plugin, PluginKind};
use crate::runtime::Runtime;

/// A file in the plugin directory that the host refused, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RejectedFile {
    /// The file.
    pub file: PathBuf,
    /// Why it was refused.
    pub reason: String,
}

/// Every plugin loaded from one directory, in file-name order.
#[derive(Debug, Default)]
pub struct Registry {
    plugins: Vec<Arc<Plugin>>,
    rejected: Vec<RejectedFile>,
}

impl Registry {
    /// Load every `*.wasm` file of `dir`. A file that cannot be loaded is
    /// recorded in [`Registry::rejected`] and does not affect the others; only
    /// an unreadable directory is an error.
    pub fn load_dir(runtime: &Runtime, dir: &Path, config: &HostConfig) -> Result<Self> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading plugin directory {}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        files.sort();
        let mut registry = Self::default();
        for path in files {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !config.enabled(&name) {
                tracing::info!(plugin = name, "disabled in config; not loaded");
                continue;
            }
            let loaded = std::fs::read(&path)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| {
                    Plugin::load(runtime, &name, &path, &bytes, config.grants(&name))
                });
            match loaded {
                Ok(plugin) => {
                    tracing::info!(plugin = name, kind = %plugin.kind(), file = %path.display(), "loaded");
                    registry.plugins.push(Arc::new(plugin));
                }
                Err(error) => registry.reject(path, format!("{error:#}")),
            }
        }
        Ok(registry)
    }

    /// Record `file` as refused.
    pub fn reject(&mut self, file: PathBuf, reason: String) {
        tracing::error!(file = %file.display(), "plugin file refused: {reason}");
        self.rejected.push(RejectedFile { file, reason });
    }

    /// Loaded plugins.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// Loaded plugins of one kind, in file-name order.
    pub fn of_kind(&self, kind: PluginKind) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter().filter(move |p| p.kind() == kind)
    }

    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// Files refused, with reasons.
    pub fn rejected(&self) -> &[RejectedFile] {
        &self.rejected
    }
}

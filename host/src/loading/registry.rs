//! The plugin directory: which files are plugins, which of them run, and why
//! the others do not.
//!
//! Every `*.wasm` file is verified (signature, manifest, and the imports and
//! exports in its headers); nothing is compiled here. For each plugin name
//! the highest version that is trusted, compatible with this host's API,
//! allowed by the operator's pin and not below the rollback-protection floor
//! is selected; its declared dependencies must be selected too, and a
//! dependency cycle is refused with the cycle named. Selected plugins are
//! compiled on first use, by the background preloader, or all at once by
//! [`Registry::prepare`] in eager mode. A refused file never stops or
//! changes the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context as _, Result};
use semver::Version;
use serde::{Deserialize, Serialize};
use tradsys_signing::{Manifest, read_manifest};

use crate::config::{HostConfig, Loading};
use crate::engine::Runtime;
use crate::loading::files::{plugin_files, state_path};
use crate::loading::grants;
use crate::loading::interface::NotGranted;
use crate::loading::interface::{API_VERSION, api_fits};
use crate::loading::plugin::Plugin;
use crate::loading::rollback::RollbackState;
use crate::loading::trust::TrustPolicy;
use crate::policy::PluginKind;

/// A file in the plugin directory that the host refused, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectedFile {
    /// The file.
    pub file: PathBuf,
    /// `name@version`, when the manifest could be read.
    pub plugin: Option<String>,
    /// Why it was refused.
    pub reason: String,
}

/// What became of one file of the plugin directory.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum FileState {
    /// Loaded: this version runs.
    Running,
    /// Valid, but another version of the plugin runs (or the pin excludes it).
    Standby {
        /// Why it does not run.
        reason: String,
    },
    /// Disabled in the host config.
    Disabled,
    /// Refused.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// One file of the plugin directory and its state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PluginFile {
    /// The file.
    pub file: PathBuf,
    /// `name@version`, when the manifest could be read.
    pub plugin: Option<String>,
    /// Its state.
    #[serde(flatten)]
    pub state: FileState,
}

/// Every plugin selected from one directory, and the fate of every file.
#[derive(Debug)]
pub struct Registry {
    dir: PathBuf,
    policy: TrustPolicy,
    plugins: Vec<Arc<Plugin>>,
    files: Vec<PluginFile>,
}

struct Candidate {
    file: PathBuf,
    plugin: Plugin,
    manifest: Manifest,
}

impl Registry {
    /// Discover the plugins of `dir` under `policy`, recording the highest
    /// accepted version of each in the state file beside `dir`. Nothing is
    /// compiled. Only an unreadable directory or state file is an error.
    pub fn load_dir(dir: &Path, config: &HostConfig, policy: &TrustPolicy) -> Result<Self> {
        Self::discover(dir, config, policy, true)
    }

    /// As [`Registry::load_dir`], without raising the rollback floor: what a
    /// running host sees when its directory changes, before anything is swapped.
    pub fn scan(dir: &Path, config: &HostConfig, policy: &TrustPolicy) -> Result<Self> {
        Self::discover(dir, config, policy, false)
    }

    /// Raise the rollback floor of `dir` to the versions of `plugins` (after
    /// they were swapped in).
    pub fn accept(dir: &Path, config: &HostConfig, plugins: &[Arc<Plugin>]) -> Result<()> {
        let state_file = state_file(dir, config);
        let mut state = RollbackState::load(&state_file)?;
        let mut rose = false;
        for plugin in plugins {
            rose |= state.accept(plugin.name(), plugin.version());
        }
        if rose {
            state.save(&state_file)?;
        }
        Ok(())
    }

    /// Record what an operator's swap of `plugin` means for a restart: a
    /// version at or above the floor raises it and drops any pin; one below
    /// it (a rollback) is pinned, so the next start runs it again.
    pub fn record_operator_swap(dir: &Path, config: &HostConfig, plugin: &Plugin) -> Result<()> {
        let state_file = state_file(dir, config);
        let mut state = RollbackState::load(&state_file)?;
        let name = plugin.name();
        let version = plugin.version();
        if state.floor(name).is_some_and(|floor| version < floor) {
            state.set_pin(name, Some(version));
        } else {
            state.accept(name, version);
            state.set_pin(name, None);
        }
        state.save(&state_file)
    }

    /// The rollback-protection floor of `name` in `dir`: the highest version
    /// accepted so far.
    pub fn floor(dir: &Path, config: &HostConfig, name: &str) -> Result<Option<Version>> {
        let state = RollbackState::load(&state_file(dir, config))?;
        Ok(state.floor(name).cloned())
    }

    fn discover(
        dir: &Path,
        config: &HostConfig,
        policy: &TrustPolicy,
        record: bool,
    ) -> Result<Self> {
        let state_file = state_file(dir, config);
        let mut state = RollbackState::load(&state_file)?;
        let paths = plugin_files(dir)
            .with_context(|| format!("reading plugin directory {}", dir.display()))?;
        let mut registry = Self {
            dir: dir.to_path_buf(),
            policy: policy.clone(),
            plugins: Vec::new(),
            files: Vec::new(),
        };
        let mut by_name: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for file in paths {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) => {
                    registry.reject(&file, None, format!("cannot read: {e}"));
                    continue;
                }
            };
            let verified = match policy.check(&bytes) {
                Ok(verified) => verified,
                Err(e) => {
                    // Name the plugin when the manifest can be read at all.
                    let plugin = read_manifest(&bytes).ok().map(|m| m.id());
                    registry.reject(&file, plugin, e.to_string());
                    continue;
                }
            };
            let manifest = verified.manifest.clone();
            if verified.signers.is_empty() {
                tracing::warn!(file = %file.display(), plugin = manifest.id(), "UNSIGNED plugin accepted (development mode)");
            }
            if !grants::enabled(config, manifest.name.as_str()) {
                registry.files.push(PluginFile {
                    file,
                    plugin: Some(manifest.id()),
                    state: FileState::Disabled,
                });
                continue;
            }
            if let Some(reason) = grants::misfit(config, &manifest) {
                registry.reject(&file, Some(manifest.id()), reason);
                continue;
            }
            let granted = grants::grants(config, &manifest);
            let placement = grants::placement(config, &manifest);
            match Plugin::discover(verified, &file, &bytes, granted, placement) {
                Ok(plugin) => {
                    by_name
                        .entry(manifest.name.to_string())
                        .or_default()
                        .push(Candidate {
                            file,
                            plugin,
                            manifest,
                        })
                }
                Err(error) if error.is::<NotGranted>() => {
                    // Installed, not enabled: a note, not an error (a
                    // session that selects it fails, naming this).
                    tracing::info!(file = %file.display(), plugin = manifest.id(), "installed, not used: {error}");
                    registry.files.push(PluginFile {
                        file,
                        plugin: Some(manifest.id()),
                        state: FileState::Rejected {
                            reason: error.to_string(),
                        },
                    });
                }
                Err(error) => registry.reject(&file, Some(manifest.id()), format!("{error:#}")),
            }
        }

        let mut chosen = registry.select(by_name, config, &state);
        loop {
            registry.check_dependencies(&mut chosen);
            if !registry.refuse_cycles(&mut chosen) {
                break;
            }
        }

        let mut floor_rose = false;
        for candidate in chosen.into_values() {
            let id = candidate.manifest.id();
            tracing::debug!(plugin = id, kind = %candidate.manifest.kind, file = %candidate.file.display(), "discovered");
            floor_rose |= state.accept(
                candidate.manifest.name.as_str(),
                &candidate.manifest.version,
            );
            registry.plugins.push(Arc::new(candidate.plugin));
            registry.files.push(PluginFile {
                file: candidate.file,
                plugin: Some(id),
                state: FileState::Running,
            });
        }
        if record && floor_rose {
            state.save(&state_file)?;
        }
        registry.plugins.sort_by(|a, b| a.name().cmp(b.name()));
        registry.files.sort_by(|a, b| a.file.cmp(&b.file));
        for plugin in &registry.plugins {
            let dependencies = plugin
                .manifest()
                .dependencies
                .keys()
                .filter_map(|dep| registry.get(dep.as_str()).cloned())
                .collect();
            plugin.set_dependencies(dependencies);
        }
        Ok(registry)
    }

    /// Get the selected plugins ready as `loading` says. Eager: compile every
    /// one now, highest priority first (each after its dependencies), and
    /// return when done. Lazy: compile those marked `preload` on a background
    /// thread in the same order, and return its handle at once; a session
    /// needing a plugin the preloader is compiling waits for that one only.
    pub fn prepare(&self, runtime: &Arc<Runtime>, loading: Loading) -> Option<JoinHandle<()>> {
        let mut order: Vec<Arc<Plugin>> = self
            .plugins
            .iter()
            .filter(|p| loading == Loading::Eager || p.placement().preload)
            .cloned()
            .collect();
        order.sort_by(|a, b| {
            b.placement()
                .priority
                .cmp(&a.placement().priority)
                .then_with(|| a.name().cmp(b.name()))
        });
        let compile = {
            let runtime = runtime.clone();
            move || {
                for plugin in order {
                    // A failure is kept in the plugin and reported at its first use.
                    let _ = plugin.prepare(&runtime);
                }
            }
        };
        match loading {
            Loading::Eager => {
                compile();
                None
            }
            Loading::Lazy => std::thread::Builder::new()
                .name("tradsys-preload".into())
                .spawn(compile)
                .map_err(|e| tracing::error!("cannot start the preloader: {e}"))
                .ok(),
        }
    }

    /// Per name, the highest version that may run; the others are recorded.
    fn select(
        &mut self,
        by_name: BTreeMap<String, Vec<Candidate>>,
        config: &HostConfig,
        state: &RollbackState,
    ) -> BTreeMap<String, Candidate> {
        let mut chosen = BTreeMap::new();
        for (name, mut candidates) in by_name {
            candidates.sort_by(|a, b| {
                b.manifest
                    .version
                    .cmp(&a.manifest.version)
                    .then(a.file.cmp(&b.file))
            });
            // The config's pin, else the operator's from the state file (if
            // a file of that version is still here).
            let operator = state.pin(&name).and_then(|v| {
                let exact = semver::VersionReq::parse(&format!("={v}")).ok()?;
                let here = candidates
                    .iter()
                    .any(|c| exact.matches(&c.manifest.version));
                if !here {
                    tracing::warn!(
                        plugin = name,
                        "the operator's pin {v} has no file here; ignored"
                    );
                }
                here.then_some(exact)
            });
            let pin = grants::pin(config, &name).or(operator.as_ref());
            let floor = state.floor(&name);
            let mut selected: Option<Candidate> = None;
            let mut previous: Option<(Version, PathBuf)> = None;
            for c in candidates {
                let id = Some(c.manifest.id());
                let version = &c.manifest.version;
                if let Some((v, file)) = &previous
                    && v == version
                {
                    let reason =
                        format!("duplicate: {} also holds {name} {version}", file.display());
                    self.reject(&c.file, id, reason);
                    continue;
                }
                previous = Some((version.clone(), c.file.clone()));
                if !api_fits(&c.manifest.api) {
                    let reason = format!(
                        "incompatible API: needs tradsys:plugins {} but this host implements {API_VERSION}",
                        c.manifest.api
                    );
                    self.reject(&c.file, id, reason);
                } else if pin.is_some_and(|p| !p.matches(version)) {
                    let reason = format!("not allowed by the pin {}", pin.expect("checked"));
                    self.files.push(PluginFile {
                        file: c.file,
                        plugin: id,
                        state: FileState::Standby { reason },
                    });
                } else if pin.is_none()
                    && let Some(floor) = floor.filter(|f| version < *f)
                {
                    let reason = format!(
                        "rollback refused: {version} is older than {floor}, the highest version accepted before \
                         (pin it with [plugins.{name}] version = \"={version}\" to run it)"
                    );
                    self.reject(&c.file, id, reason);
                } else if let Some(running) = &selected {
                    let reason = format!("superseded by {}", running.manifest.version);
                    self.files.push(PluginFile {
                        file: c.file,
                        plugin: id,
                        state: FileState::Standby { reason },
                    });
                } else {
                    selected = Some(c);
                }
            }
            if let Some(c) = selected {
                chosen.insert(name, c);
            }
        }
        chosen
    }

    /// Refuse selected plugins whose dependencies are not selected in a
    /// matching version, until every remaining one is satisfied.
    fn check_dependencies(&mut self, chosen: &mut BTreeMap<String, Candidate>) {
        loop {
            let unmet = chosen.iter().find_map(|(name, c)| {
                c.manifest.dependencies.iter().find_map(|(dep, req)| {
                    let installed = chosen.get(dep.as_str()).map(|d| &d.manifest.version);
                    match installed {
                        Some(v) if req.matches(v) => None,
                        Some(v) => Some((
                            name.clone(),
                            format!("unmet dependency: needs {dep} {req}, installed {v}"),
                        )),
                        None => Some((
                            name.clone(),
                            format!("unmet dependency: needs {dep} {req}, not installed"),
                        )),
                    }
                })
            });
            let Some((name, reason)) = unmet else { return };
            let c = chosen.remove(&name).expect("found above");
            self.reject(&c.file, Some(c.manifest.id()), reason);
        }
    }

    /// Refuse every selected plugin on a dependency cycle, naming the cycle.
    /// True when one was found (refusals may leave others' dependencies unmet).
    fn refuse_cycles(&mut self, chosen: &mut BTreeMap<String, Candidate>) -> bool {
        let graph: BTreeMap<&str, Vec<&str>> = chosen
            .iter()
            .map(|(name, c)| {
                let deps = c
                    .manifest
                    .dependencies
                    .keys()
                    .map(|d| d.as_str())
                    .filter(|d| chosen.contains_key(*d))
                    .collect();
                (name.as_str(), deps)
            })
            .collect();
        let Some(cycle) = find_cycle(&graph) else {
            return false;
        };
        let members: BTreeSet<String> = cycle.iter().map(|n| n.to_string()).collect();
        let path = cycle.join(" → ");
        for name in members {
            let c = chosen.remove(&name).expect("a member of the graph");
            let reason = format!("dependency cycle: {path}");
            self.reject(&c.file, Some(c.manifest.id()), reason);
        }
        true
    }

    fn reject(&mut self, file: &Path, plugin: Option<String>, reason: String) {
        tracing::error!(file = %file.display(), plugin = plugin.as_deref().unwrap_or("-"), "plugin file refused: {reason}");
        self.files.push(PluginFile {
            file: file.to_path_buf(),
            plugin,
            state: FileState::Rejected { reason },
        });
    }

    /// Selected, loaded plugins, by name.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// Loaded plugins of one kind, by name.
    pub fn of_kind(&self, kind: PluginKind) -> impl Iterator<Item = &Arc<Plugin>> {
        self.plugins.iter().filter(move |p| p.kind() == kind)
    }

    /// The loaded plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// Every file of the directory with its state, by file name.
    pub fn files(&self) -> &[PluginFile] {
        &self.files
    }

    /// Files refused, with reasons.
    pub fn rejected(&self) -> Vec<RejectedFile> {
        self.files
            .iter()
            .filter_map(|f| match &f.state {
                FileState::Rejected { reason } => Some(RejectedFile {
                    file: f.file.clone(),
                    plugin: f.plugin.clone(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The directory it was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The trust policy its files were verified under.
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }
}

/// The state file of plugin directory `dir` (rollback floors, operator pins).
pub fn state_file(dir: &Path, config: &HostConfig) -> PathBuf {
    config
        .run
        .state_file
        .clone()
        .unwrap_or_else(|| state_path(dir))
}

/// A cycle of `graph` (node → the nodes it depends on), as the path from a
/// node back to itself, if there is one.
fn find_cycle<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path
                    .iter()
                    .position(|n| *n == node)
                    .expect("open nodes are on the path");
                let mut cycle = path[start..].to_vec();
                cycle.push(node);
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node, Mark::Open);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut marks, &mut Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_names_dependency_cycles() {
        let graph = |edges: &[(&'static str, &[&'static str])]| -> BTreeMap<&'static str, Vec<&'static str>> {
            edges.iter().map(|(n, d)| (*n, d.to_vec())).collect()
        };
        assert_eq!(
            find_cycle(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])),
            None
        );
        assert_eq!(
            find_cycle(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])])),
            Some(vec!["a", "b", "c", "a"])
        );
        assert_eq!(find_cycle(&graph(&[("a", &["a"])])), Some(vec!["a", "a"]));
        // A diamond is not a cycle.
        assert_eq!(
            find_cycle(&graph(&[
                ("a", &["b", "c"]),
                ("b", &["d"]),
                ("c", &["d"]),
                ("d", &[])
            ])),
            None
        );
    }
}

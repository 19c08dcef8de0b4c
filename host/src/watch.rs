//! The plugin directory watched while the host runs: a changed `*.wasm`
//! file (after `[swap] debounce_ms` without further changes) makes the
//! directory be scanned again exactly as at start-up (signatures, manifest,
//! pins, rollback floor). A plugin whose selected version is now newer than
//! the running one is prepared off the data path and sent to the session to
//! swap in; the plugins of one `[swap] groups` entry that changed together
//! go as one request. A file that fails verification (half written,
//! tampered, badly signed) is left alone and logged once, and the running
//! version stays; when it is later completed, the next change picks it up.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::{Context as _, Result};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{Debouncer, new_debouncer};

use crate::config::HostConfig;
use crate::plugin::Plugin;
use crate::registry::{Registry, TrustPolicy};
use crate::runtime::Runtime;
use crate::swap::{Prepared, Running, SwapLog, SwapRecord, SwapRequest, note};

/// Everything the watcher needs from the host.
pub struct WatchContext {
    /// The plugin directory.
    pub dir: PathBuf,
    /// The host config (pins, grants, groups).
    pub config: HostConfig,
    /// How signatures are checked.
    pub policy: TrustPolicy,
    /// Where new versions are compiled and instantiated.
    pub runtime: Arc<Runtime>,
    /// What runs now (kept by the session).
    pub running: Running,
    /// Where prepared swaps go (the session's [`crate::Session::swapper`]).
    pub swaps: Sender<SwapRequest>,
    /// Where refused updates are recorded.
    pub log: SwapLog,
}

/// A running directory watcher; dropping it stops watching.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

/// Watch `context.dir` until the returned watcher is dropped.
pub fn start(context: WatchContext) -> Result<Watcher> {
    let (tx, rx) = std::sync::mpsc::channel();
    let debounce = Duration::from_millis(context.config.swap.debounce_ms);
    let mut debouncer = new_debouncer(debounce, tx).context("starting the directory watcher")?;
    debouncer
        .watcher()
        .watch(&context.dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("watching {}", context.dir.display()))?;
    tracing::info!(dir = %context.dir.display(), "watching the plugin directory for new versions");
    std::thread::Builder::new()
        .name("tradsys-watch".into())
        .spawn(move || {
            let mut reported = BTreeSet::new();
            // Ends when the debouncer (and with it the sender) is dropped.
            for result in rx {
                match result {
                    Ok(events) if events.iter().any(|e| is_plugin_file(&e.path)) => {
                        rescan(&context, &mut reported);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!("directory watcher: {error}"),
                }
            }
        })
        .context("starting the watcher thread")?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

/// A plugin file, not a temporary one (`.name.wasm.tmp` of an atomic install).
fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "wasm")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Scan the directory and send what is newer than what runs.
fn rescan(context: &WatchContext, reported: &mut BTreeSet<(PathBuf, String)>) {
    let refuse = |plugins: Vec<String>, outcome: String, cause: String| {
        let record = SwapRecord {
            after_event: None,
            plugins,
            outcome,
            cause,
        };
        note(&context.log, record);
    };
    let registry = match Registry::scan(&context.dir, &context.config, &context.policy) {
        Ok(registry) => registry,
        Err(error) => {
            let cause = context.dir.display().to_string();
            return refuse(Vec::new(), format!("{error:#}"), cause);
        }
    };
    for file in registry.rejected() {
        // Each refusal is said once, not on every later change.
        if reported.insert((file.file.clone(), file.reason.clone())) {
            let plugin = file.plugin.into_iter().collect();
            let outcome = format!("file refused: {}", file.reason);
            refuse(plugin, outcome, file.file.display().to_string());
        }
    }
    let running = context.running.lock().expect("running").clone();
    let updates: Vec<Arc<Plugin>> = registry
        .plugins()
        .iter()
        .filter(|new| {
            running
                .get(new.name())
                .is_some_and(|old| new.digest() != old.digest() && new.version() > old.version())
        })
        .cloned()
        .collect();
    for group in grouped(updates, &context.config.swap.groups) {
        let cause: Vec<String> = group
            .iter()
            .map(|p| p.path().display().to_string())
            .collect();
        let cause = cause.join(", ");
        let mut members = Vec::new();
        for plugin in &group {
            match Prepared::prepare(&context.runtime, plugin.clone()) {
                Ok(prepared) => members.push(prepared),
                Err(reason) => {
                    let ids = group.iter().map(|p| p.id()).collect();
                    return refuse(ids, format!("refused: {}: {reason}", plugin.id()), cause);
                }
            }
        }
        let (dir, config) = (context.dir.clone(), context.config.clone());
        let on_swapped = Box::new(move || {
            if let Err(error) = Registry::accept(&dir, &config, &group) {
                tracing::error!("recording the new rollback floor: {error:#}");
            }
        });
        let request = SwapRequest {
            on_swapped: Some(on_swapped),
            ..SwapRequest::new(members, cause)
        };
        if context.swaps.send(request).is_err() {
            return; // the session has ended
        }
    }
}

/// `updates` in swap units: the members of each configured group together,
/// every other plugin alone.
fn grouped(mut updates: Vec<Arc<Plugin>>, groups: &[Vec<String>]) -> Vec<Vec<Arc<Plugin>>> {
    let mut units = Vec::new();
    for group in groups {
        let (members, rest): (Vec<_>, Vec<_>) = updates
            .into_iter()
            .partition(|p| group.iter().any(|name| name == p.name()));
        if !members.is_empty() {
            units.push(members);
        }
        updates = rest;
    }
    units.extend(updates.into_iter().map(|p| vec![p]));
    units
}

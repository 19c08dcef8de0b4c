//! The plugin directory watched while the host runs: a changed `*.wasm`
//! file (after `[swap] debounce_ms` without further changes) makes the
//! directory be scanned again exactly as at start-up (signatures, manifest,
//! pins, rollback floor). A plugin whose selected version is now newer than
//! the running one is prepared off the data path and sent to the session to
//! swap in; the plugins of one `[swap] groups` entry that changed together
//! go as one request. A file that fails verification (half written,
//! tampered, badly signed) is left alone and logged once, and the running
//! version stays; when it is later completed, the next change picks it up.
//!
//! The `shadow/` folder of the directory holds shadow candidates: a signed
//! strategy, validator or processor put there runs in shadow beside the live plugin of
//! its name (from the start too), removing it discards the shadow, and
//! moving it into the directory promotes it (it is then the newer version,
//! swapped in like any other, and its shadow ends as promoted).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebouncedEvent, Debouncer, RecommendedCache, new_debouncer};

use crate::live::control::Control;
use crate::live::membership::{Change, Presence};
use crate::live::shadow::{self, ShadowCommand};
use crate::live::swap::{SwapOutcome, SwapRecord, SwapRequest, note};
use crate::loading::{Plugin, Registry, is_plugin_file};
use crate::policy::PluginKind;
use crate::sandbox::AnyInstance;

/// The folder of the plugin directory whose files run in shadow.
pub const SHADOW_DIR: &str = "shadow";

/// A running directory watcher; dropping it stops watching.
pub struct Watcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

/// Watch the plugin directory of `control`'s session until the returned
/// watcher is dropped.
pub fn start(context: Control) -> Result<Watcher> {
    let (tx, rx) = std::sync::mpsc::channel();
    let debounce = Duration::from_millis(context.env().config().swap.debounce_ms);
    let mut debouncer =
        new_debouncer(debounce, None, tx).context("starting the directory watcher")?;
    // Recursive, so a `shadow/` folder made after start-up is watched too.
    debouncer
        .watch(context.dir(), RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", context.dir().display()))?;
    tracing::info!(dir = %context.dir().display(), "watching the plugin directory for new versions");
    let dir = context
        .dir()
        .canonicalize()
        .with_context(|| format!("watching {}", context.dir().display()))?;
    std::thread::Builder::new()
        .name("tradsys-watch".into())
        .spawn(move || {
            let mut reported = BTreeSet::new();
            let mut shadows = DirShadows::default();
            shadows.reconcile(&context, None, &mut reported);
            // Ends when the debouncer (and with it the sender) is dropped.
            for result in rx {
                let events = match result {
                    Ok(events) => events,
                    Err(errors) => {
                        for error in errors {
                            tracing::warn!("directory watcher: {error}");
                        }
                        continue;
                    }
                };
                // Events name absolute paths; the directory may be relative.
                let changed = |folder: &Path| {
                    events.iter().filter(|e| is_change(e)).any(|e| {
                        e.paths
                            .iter()
                            .any(|p| is_plugin_file(p) && p.parent() == Some(folder))
                    })
                };
                let shadow_dir = dir.join(SHADOW_DIR);
                let registry = changed(&dir)
                    .then(|| rescan(&context, &mut reported))
                    .flatten();
                if changed(&shadow_dir) || registry.is_some() {
                    shadows.reconcile(&context, registry.as_ref(), &mut reported);
                }
            }
        })
        .context("starting the watcher thread")?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

/// Watch the host config file `path` until the returned watcher is
/// dropped: an edit gives the session's plugins their new `[plugins]`
/// settings (`live/reconfigure.rs`); a file that does not load is refused
/// with the reason, and the running config goes on.
pub fn watch_config(context: Control, path: &Path) -> Result<Watcher> {
    let file = path
        .canonicalize()
        .with_context(|| format!("watching the host config {}", path.display()))?;
    let folder = file
        .parent()
        .context("the host config has no folder")?
        .to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    let debounce = Duration::from_millis(context.env().config().swap.debounce_ms);
    let mut debouncer = new_debouncer(debounce, None, tx).context("starting the config watcher")?;
    // The folder, not the file: editors replace a file by renaming over it.
    debouncer
        .watch(&folder, RecursiveMode::NonRecursive)
        .with_context(|| format!("watching {}", folder.display()))?;
    tracing::info!(file = %file.display(), "watching the host config for [plugins] changes");
    std::thread::Builder::new()
        .name("tradsys-config".into())
        .spawn(move || {
            for result in rx {
                let Ok(events) = result else { continue };
                let touched = events
                    .iter()
                    .filter(|e| is_change(e))
                    .any(|e| e.paths.contains(&file));
                if !touched {
                    continue;
                }
                match context.reload_config(&file) {
                    Ok(said) => {
                        for line in said {
                            tracing::info!("{line}");
                        }
                    }
                    Err(why) => tracing::warn!(file = %file.display(), "host config: {why}"),
                }
            }
        })
        .context("starting the config watcher's thread")?;
    Ok(Watcher {
        _debouncer: debouncer,
    })
}

/// An event that may change what a file holds. Reading a file (the host's
/// own scans and compiles do) is not one: it would rescan in a loop.
fn is_change(event: &DebouncedEvent) -> bool {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Record an update that was not made (`after_event` is `None`: it never
/// reached the session).
fn refuse(context: &Control, plugins: Vec<String>, outcome: SwapOutcome, cause: String) {
    let record = SwapRecord {
        after_event: None,
        plugins,
        outcome,
        cause,
    };
    note(&context.shared().swap_log, record);
}

/// Scan the directory and send what is newer than what runs; the scan, for
/// the shadow folder's promotions.
fn rescan(context: &Control, reported: &mut BTreeSet<(PathBuf, String)>) -> Option<Registry> {
    let refuse = |plugins, outcome, cause| refuse(context, plugins, outcome, cause);
    let env = context.env();
    let config = env.config();
    let registry = match Registry::scan(&env.dir, &config, &env.policy) {
        Ok(registry) => registry,
        Err(error) => {
            let cause = env.dir.display().to_string();
            refuse(
                Vec::new(),
                SwapOutcome::Refused(format!("{error:#}")),
                cause,
            );
            return None;
        }
    };
    for file in registry.rejected() {
        // Each refusal is said once, not on every later change.
        if reported.insert((file.file.clone(), file.reason.clone())) {
            let plugin = file.plugin.into_iter().collect();
            let outcome = SwapOutcome::FileRefused(file.reason);
            refuse(plugin, outcome, file.file.display().to_string());
        }
    }
    let running = context.running();
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
    // A unit that cannot be prepared is refused; the other units go on.
    'units: for group in grouped(updates, &config.swap.groups) {
        let cause: Vec<String> = group
            .iter()
            .map(|p| p.path().display().to_string())
            .collect();
        let cause = cause.join(", ");
        let mut members = Vec::new();
        for plugin in &group {
            match AnyInstance::prepare(&env.runtime, plugin.clone()) {
                Ok(prepared) => members.push(prepared),
                Err(reason) => {
                    let ids = group.iter().map(|p| p.id()).collect();
                    let outcome = SwapOutcome::Refused(format!("{}: {reason}", plugin.id()));
                    refuse(ids, outcome, cause);
                    continue 'units;
                }
            }
        }
        let (dir, config) = (env.dir.clone(), config.clone());
        let on_swapped = Box::new(move || {
            if let Err(error) = Registry::accept(&dir, &config, &group) {
                tracing::error!("recording the new rollback floor: {error:#}");
            }
        });
        let request = SwapRequest {
            on_swapped: Some(on_swapped),
            ..SwapRequest::new(members, cause)
        };
        if context.submit(request).is_err() {
            break; // the session has ended
        }
    }
    reconcile_members(context, &registry);
    Some(registry)
}

/// Plugins new to the session join it (prepared here, off the data path);
/// a plugin of the session whose file left the directory is told to the
/// session (a strategy leaves, a validator or processor waits for the
/// operator); a strategy that left rejoins when its file is back.
fn reconcile_members(context: &Control, registry: &Registry) {
    let env = context.env();
    let config = env.config();
    let run = &config.run;
    let roll = context.roll();
    let wanted = |p: &Plugin| {
        let listed = match p.kind() {
            PluginKind::Strategy => &run.strategies,
            PluginKind::RiskValidator => &run.validators,
            PluginKind::Processor => &run.processors,
            PluginKind::Connector | PluginKind::Matcher => return false,
        };
        listed
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == p.name()))
    };
    for plugin in registry.plugins() {
        let cause = plugin.path().display().to_string();
        match roll.get(plugin.name()) {
            None if wanted(plugin) => {
                match AnyInstance::prepare(&env.runtime, plugin.clone()) {
                    Ok(prepared) => {
                        if context.join(prepared, cause).is_err() {
                            return; // the session has ended
                        }
                    }
                    Err(reason) => refuse(
                        context,
                        vec![plugin.id()],
                        SwapOutcome::Refused(format!("{} cannot join: {reason}", plugin.id())),
                        cause,
                    ),
                }
            }
            Some((_, Presence::Left)) => {
                match context.change(
                    plugin.name(),
                    Change::Enable,
                    &format!("its file is back: {cause}"),
                ) {
                    Ok(said) => tracing::info!("{said}"),
                    Err(why) => tracing::warn!(plugin = plugin.name(), "{why}"),
                }
            }
            _ => {}
        }
    }
    // A file refused now (half written, badly signed) is not a removal.
    let refused: BTreeSet<String> = registry
        .rejected()
        .iter()
        .filter_map(|f| f.plugin.as_deref()?.split('@').next().map(String::from))
        .collect();
    for (name, (kind, presence)) in &roll {
        let gone = registry.get(name).is_none() && !refused.contains(name);
        if !gone || !matches!(presence, Presence::Active | Presence::Disabled) {
            continue;
        }
        if matches!(kind, PluginKind::Connector | PluginKind::Matcher) {
            continue; // a session keeps its connector and matcher
        }
        context.file_removed(name, &env.dir.display().to_string());
    }
}

/// The shadows the watcher started from files in the `shadow/` folder.
#[derive(Default)]
struct DirShadows {
    /// Plugin name → digest of the file running in shadow.
    started: BTreeMap<String, [u8; 32]>,
    /// Digests of candidates the session or the checks refused: not tried
    /// again until the file changes.
    refused: BTreeSet<[u8; 32]>,
}

impl DirShadows {
    /// Make the running shadows match the folder: start what is new or
    /// changed, discard what left. A file that left the folder for the
    /// directory itself (`registry`, or a fresh scan, selects it) is being
    /// promoted: its swap ends the shadow.
    fn reconcile(
        &mut self,
        context: &Control,
        registry: Option<&Registry>,
        reported: &mut BTreeSet<(PathBuf, String)>,
    ) {
        let env = context.env();
        let folder = env.dir.join(SHADOW_DIR);
        // No folder: no candidates.
        let files = crate::loading::plugin_files(&folder).unwrap_or_default();
        let mut present: BTreeMap<String, ([u8; 32], PathBuf)> = BTreeMap::new();
        for file in files {
            let mut refuse_file = |reason: String| {
                if reported.insert((file.clone(), reason.clone())) {
                    let outcome = SwapOutcome::ShadowRefused(reason);
                    refuse(context, Vec::new(), outcome, file.display().to_string());
                }
            };
            // Whatever does not verify is refused by `prepare_candidate` below.
            let verified = std::fs::read(&file)
                .ok()
                .and_then(|bytes| env.policy.check(&bytes).ok());
            if let Some(verified) = &verified {
                let name = verified.manifest.name.to_string();
                if let Some((_, other)) = present.get(&name) {
                    let other = other.display();
                    refuse_file(format!("{name} already has a candidate in shadow: {other}"));
                    continue;
                }
                if self.started.get(&name) == Some(&verified.digest) {
                    present.insert(name, (verified.digest, file));
                    continue; // already running in shadow
                }
                if self.refused.contains(&verified.digest) {
                    continue; // refused before, and unchanged
                }
            }
            match self.start(context, &file) {
                Ok((name, digest)) => {
                    present.insert(name, (digest, file));
                }
                Err(reason) => {
                    if let Some(verified) = verified {
                        self.refused.insert(verified.digest);
                    }
                    refuse_file(reason);
                }
            }
        }
        let gone: Vec<(String, [u8; 32])> = self
            .started
            .iter()
            .filter(|(name, _)| !present.contains_key(*name))
            .map(|(name, digest)| (name.clone(), *digest))
            .collect();
        if gone.is_empty() {
            return;
        }
        let scanned;
        let registry = match registry {
            Some(registry) => Some(registry),
            None => {
                scanned = Registry::scan(&env.dir, &env.config(), &env.policy).ok();
                scanned.as_ref()
            }
        };
        for (name, digest) in gone {
            self.started.remove(&name);
            let promoted = registry
                .and_then(|r| r.get(&name))
                .is_some_and(|p| *p.digest() == digest);
            // Only the shadow this folder started: one started since from
            // the admin endpoint replaced it and is not the folder's to drop.
            let ours = context
                .shared()
                .candidates
                .lock()
                .expect("candidates")
                .get(&name)
                .is_some_and(|p| *p.digest() == digest);
            if promoted || !ours {
                continue;
            }
            if let Ok(message) =
                context.shadow_command(|reply| ShadowCommand::Discard(name.clone(), reply))
            {
                tracing::info!(plugin = name, "{message}: its file left {SHADOW_DIR}/");
            }
        }
    }

    /// Verify and prepare the candidate `file` and have the session start
    /// it in shadow: its name and digest, or why not.
    fn start(&mut self, context: &Control, file: &Path) -> Result<(String, [u8; 32]), String> {
        let env = context.env();
        let prepared = shadow::prepare_candidate(file, &env.policy, &env.config(), &env.runtime)?;
        let (name, digest) = (
            prepared.plugin().name().to_string(),
            *prepared.plugin().digest(),
        );
        let message = context
            .shadow_command(|reply| ShadowCommand::Start(Box::new(prepared), reply))
            .map_err(|e| e.to_string())?;
        tracing::info!(file = %file.display(), "{message}");
        self.started.insert(name.clone(), digest);
        Ok((name, digest))
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

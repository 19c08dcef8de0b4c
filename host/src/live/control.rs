//! The control plane: how a running session is steered from other threads
//! (the admin endpoint, the directory watcher, an embedder) without ever
//! being blocked by them.
//!
//! [`Control`] is the handle: cheap to clone, it prepares new versions on
//! the caller's thread (compile, instantiate, `init`: never on the data
//! path), sends them to the session, and reads the logs the session keeps.
//! The session's end, [`ControlPlane`], takes what was sent between two
//! market batches, and only then: a swap or a shadow never splits a batch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use serde::Serialize;

use crate::config::HostConfig;
use crate::engine::Runtime;
use crate::journal::Journal;
use crate::live::config_change::{ConfigChange, ConfigLog};
use crate::live::error::{ControlError, RollbackMode};
use crate::live::membership::{
    Change, MembershipCommand, MembershipLog, MembershipRecord, Presence, Roll,
};
use crate::live::shadow::{self, Candidates, ShadowCommand, ShadowLog, ShadowReport, ShadowSet};
use crate::live::swap::{
    History, Installer, Running, SwapLog, SwapOutcome, SwapRecord, SwapRequest,
};
use crate::loading::{Plugin, Registry, TrustPolicy};
use crate::policy::PluginKind;
use crate::sandbox::{AnyInstance, PluginStatus, Slots};

/// A request for the plugins' status: where to send the answer.
pub type StatusRequest = Sender<Vec<PluginStatus>>;

/// How long a request waits for the session to act (between two batches).
pub const SESSION_WAIT: Duration = Duration::from_secs(10);

/// Where new versions come from and are prepared: the plugin directory,
/// the host config, the trust policy, the runtime.
pub(crate) struct Env {
    pub(crate) dir: PathBuf,
    /// The host config as it stands now (`[plugins]` changes while running).
    pub(crate) config: std::sync::RwLock<HostConfig>,
    /// Held while a reconfiguration reads, applies and stores the config.
    pub(crate) reconfiguring: std::sync::Mutex<()>,
    pub(crate) policy: TrustPolicy,
    pub(crate) runtime: Arc<Runtime>,
}

impl Env {
    /// The host config now.
    pub(crate) fn config(&self) -> HostConfig {
        self.config.read().expect("config").clone()
    }
}

/// What the session shares with those who steer it, readable at any time.
#[derive(Clone, Default)]
pub(crate) struct Shared {
    pub(crate) swap_log: SwapLog,
    pub(crate) shadow_log: ShadowLog,
    pub(crate) running: Running,
    pub(crate) history: History,
    pub(crate) candidates: Candidates,
    pub(crate) membership_log: MembershipLog,
    pub(crate) roll: Roll,
    pub(crate) config_log: ConfigLog,
    /// Set when the session has run its last batch: nothing answers requests
    /// any more (the logs stay readable).
    pub(crate) ended: Arc<AtomicBool>,
    /// Requests sent that need the plugin slots (statuses, swaps, shadows),
    /// counted after each is sent: the session brings its connector home
    /// when this moves (`trading/feed.rs`).
    pub(crate) requests: Arc<std::sync::atomic::AtomicU64>,
}

/// A running session's status, as the admin endpoint's `GET /status` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The version running under each plugin name.
    pub running: BTreeMap<String, String>,
    /// The versions kept compiled for a rollback, oldest first.
    pub kept_versions: BTreeMap<String, Vec<String>>,
    /// Each plugin's lifecycle state, memory, calls and faults (empty when
    /// the session did not answer: it has ended).
    pub plugins: Vec<PluginStatus>,
    /// Swaps and refused updates so far.
    pub swaps: Vec<SwapRecord>,
    /// Shadow runs so far.
    pub shadows: Vec<ShadowReport>,
    /// Plugins that joined, left, were disabled, enabled or removed.
    pub membership: Vec<MembershipRecord>,
    /// Configuration changes, applied or refused.
    pub config_changes: Vec<ConfigChange>,
}

/// A handle to steer a running session from any thread.
#[derive(Clone)]
pub struct Control {
    env: Arc<Env>,
    swaps: Sender<SwapRequest>,
    shadows: Sender<ShadowCommand>,
    status: Sender<StatusRequest>,
    membership: Sender<MembershipCommand>,
    shared: Shared,
    stop: Arc<AtomicBool>,
    /// The kill switch: 0 off, 1 halt, 2 halt and cancel every working order.
    halt: Arc<std::sync::atomic::AtomicU8>,
}

impl Control {
    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        &self.env.dir
    }

    pub(crate) fn env(&self) -> &Env {
        &self.env
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Send `request` to the session, which installs it between two batches
    /// (for the watcher and the tests; an embedder uses `rollback` and
    /// `promote`).
    #[doc(hidden)]
    pub fn submit(&self, request: SwapRequest) -> Result<(), ControlError> {
        self.check_running()?;
        self.swaps.send(request).map_err(|_| ControlError::Ended)?;
        self.sent();
        Ok(())
    }

    fn sent(&self) {
        self.shared.requests.fetch_add(1, Ordering::Release);
    }

    /// Whether the session still runs batches (and so answers requests).
    pub fn check_running(&self) -> Result<(), ControlError> {
        if self.shared.ended.load(Ordering::Acquire) {
            Err(ControlError::Ended)
        } else {
            Ok(())
        }
    }

    /// Ask the session to start or drop a shadow; its answer (for the
    /// watcher and the tests; an embedder uses `shadow` and `discard`).
    #[doc(hidden)]
    pub fn shadow_command(
        &self,
        command: impl FnOnce(Sender<Result<String, ControlError>>) -> ShadowCommand,
    ) -> Result<String, ControlError> {
        self.check_running()?;
        let (reply, answer) = std::sync::mpsc::channel();
        self.shadows
            .send(command(reply))
            .map_err(|_| ControlError::Ended)?;
        self.sent();
        // The session answers between two batches (its first batch may wait
        // for plugins to compile), or drops the command when it ends.
        answer.recv().map_err(|_| ControlError::Ended)?
    }

    /// The kill switch: from the end of the current batch no new order or
    /// modify is sent (cancels still go), and with `cancel_all` every
    /// working order is canceled at the venue. What it did, in a sentence.
    pub fn halt(&self, cancel_all: bool) -> Result<String, ControlError> {
        self.check_running()?;
        self.halt
            .fetch_max(1 + u8::from(cancel_all), Ordering::AcqRel);
        Ok(if cancel_all {
            "trading halts and every working order is canceled at the venue".into()
        } else {
            "trading halts: no new order or modify; working orders stay".into()
        })
    }

    /// End the session after its current batch.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// What runs now, what ran before, each plugin's state (asked of the
    /// session, which answers between two batches), swaps and shadows.
    pub fn status(&self) -> Status {
        let (reply, answer) = std::sync::mpsc::channel();
        let plugins = match self.check_running().map(|()| self.status.send(reply)) {
            Ok(Ok(())) => {
                self.sent();
                answer.recv_timeout(SESSION_WAIT).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let running = self
            .running()
            .into_iter()
            .map(|(name, p)| (name, p.version().to_string()))
            .collect();
        let kept_versions = self
            .shared
            .history
            .lock()
            .expect("history")
            .iter()
            .map(|(name, versions)| {
                let versions = versions.iter().map(|p| p.version().to_string()).collect();
                (name.clone(), versions)
            })
            .collect();
        Status {
            running,
            kept_versions,
            plugins,
            swaps: self.swap_log(),
            shadows: self.shadow_log(),
            membership: self.membership_log(),
            config_changes: self.config_log(),
        }
    }

    /// Configuration changes so far (applied or refused).
    pub fn config_log(&self) -> Vec<ConfigChange> {
        self.shared.config_log.lock().expect("config log").to_vec()
    }

    /// Membership changes so far.
    pub fn membership_log(&self) -> Vec<MembershipRecord> {
        let log = self.shared.membership_log.lock().expect("membership log");
        log.to_vec()
    }

    /// Each plugin of the session by name: its kind and presence.
    pub fn roll(&self) -> std::collections::BTreeMap<String, (PluginKind, Presence)> {
        self.shared.roll.lock().expect("roll").clone()
    }

    /// Have the session add `instance` (prepared off the data path) between
    /// two batches (the watcher's join).
    pub(crate) fn join(&self, instance: AnyInstance, cause: String) -> Result<(), ControlError> {
        self.check_running()?;
        let command = MembershipCommand::Join {
            instance: Box::new(instance),
            cause,
        };
        self.membership
            .send(command)
            .map_err(|_| ControlError::Ended)
    }

    /// Ask the session to `change` the plugin `name` (for `cause`) and wait
    /// for its answer: what it did, or why not.
    pub fn change(&self, name: &str, change: Change, cause: &str) -> Result<String, ControlError> {
        self.check_running()?;
        let (reply, answer) = std::sync::mpsc::channel();
        self.membership
            .send(MembershipCommand::Change {
                name: name.to_string(),
                change,
                cause: cause.to_string(),
                reply: Some(reply),
            })
            .map_err(|_| ControlError::Ended)?;
        answer
            .recv_timeout(SESSION_WAIT)
            .map_err(|_| ControlError::NoAnswer)?
    }

    /// Tell the session, without waiting, that `name`'s file left the directory.
    pub(crate) fn file_removed(&self, name: &str, file: &str) {
        let _ = self.membership.send(MembershipCommand::Change {
            name: name.to_string(),
            change: Change::FileRemoved,
            cause: file.to_string(),
            reply: None,
        });
    }

    /// The plugin running under each name.
    pub fn running(&self) -> BTreeMap<String, Arc<Plugin>> {
        self.shared.running.lock().expect("running").clone()
    }

    /// Swaps and refused updates so far.
    pub fn swap_log(&self) -> Vec<SwapRecord> {
        self.shared.swap_log.lock().expect("swap log").to_vec()
    }

    /// Swap records and shadow runs dropped from the logs (the oldest first,
    /// beyond their lengths).
    pub fn dropped_from_logs(&self) -> (u64, u64) {
        let swaps = self.shared.swap_log.lock().expect("swap log").dropped();
        let shadows = self.shared.shadow_log.lock().expect("shadow log").dropped();
        (swaps, shadows)
    }

    /// Shadow runs so far.
    pub fn shadow_log(&self) -> Vec<ShadowReport> {
        self.shared.shadow_log.lock().expect("shadow log").to_vec()
    }

    /// Swap `name` back to the version it ran before. Below the rollback
    /// floor only in [`RollbackMode::Pin`] (the operator's explicit pin).
    pub fn rollback(&self, name: &str, mode: RollbackMode) -> Result<SwapRecord, ControlError> {
        self.check_running()?;
        if !self.running().contains_key(name) {
            return Err(ControlError::UnknownPlugin(name.to_string()));
        }
        let target = self
            .shared
            .history
            .lock()
            .expect("history")
            .get(name)
            .and_then(|versions| versions.last().cloned())
            .ok_or_else(|| ControlError::NoEarlierVersion(name.to_string()))?;
        let floor = Registry::floor(&self.env.dir, &self.env.config(), name)
            .map_err(|e| ControlError::Refused(format!("{e:#}")))?;
        if let Some(floor) = floor.filter(|f| target.version() < f)
            && mode == RollbackMode::AboveFloor
        {
            return Err(ControlError::BelowFloor {
                name: name.to_string(),
                target: target.version().to_string(),
                floor: floor.to_string(),
            });
        }
        let prepared = AnyInstance::prepare(&self.env.runtime, target.clone())
            .map_err(ControlError::Refused)?;
        let record = self.swap(prepared, "rollback", true)?;
        // Kept across a restart: the state file pins the version.
        self.record(&target)?;
        Ok(record)
    }

    /// Record in the host's state file what an operator's swap to `plugin`
    /// means for a restart (see [`Registry::record_operator_swap`]).
    fn record(&self, plugin: &Plugin) -> Result<(), ControlError> {
        Registry::record_operator_swap(&self.env.dir, &self.env.config(), plugin).map_err(|e| {
            ControlError::NotKept(format!(
                "{} runs now, but a restart would not run it: {e:#}",
                plugin.id()
            ))
        })
    }

    /// Verify the candidate `file` and run it in shadow beside the live
    /// plugin of its name.
    pub fn shadow(&self, file: &Path) -> Result<String, ControlError> {
        self.check_running()?;
        let env = &self.env;
        let prepared = shadow::prepare_candidate(file, &env.policy, &env.config(), &env.runtime)
            .map_err(ControlError::Refused)?;
        self.shadow_command(|reply| ShadowCommand::Start(Box::new(prepared), reply))
    }

    /// Swap the shadow candidate of `name` in (the session ends the shadow as
    /// promoted when it installs it).
    pub fn promote(&self, name: &str) -> Result<SwapRecord, ControlError> {
        self.check_running()?;
        if !self.running().contains_key(name) {
            return Err(ControlError::UnknownPlugin(name.to_string()));
        }
        let candidate = self
            .shared
            .candidates
            .lock()
            .expect("candidates")
            .get(name)
            .cloned()
            .ok_or_else(|| ControlError::NoShadow(name.to_string()))?;
        let prepared = AnyInstance::prepare(&self.env.runtime, candidate.clone())
            .map_err(ControlError::Refused)?;
        let record = self.swap(prepared, "promoted from shadow", false)?;
        // Kept across a restart: the candidate's file goes into the plugin
        // directory (atomically), then the floor rises to it.
        self.install(&candidate)?;
        self.record(&candidate)?;
        Ok(record)
    }

    /// Install `plugin`'s file into the plugin directory, unless it is there:
    /// the bytes that verified (the digest is checked again), written to a
    /// temporary file and renamed.
    fn install(&self, plugin: &Plugin) -> Result<(), ControlError> {
        let dir = &self.env.dir;
        if plugin.path().parent() == Some(dir.as_path()) {
            return Ok(());
        }
        let fail = |why: String| {
            ControlError::NotKept(format!(
                "{} runs now, but was not installed into {} (a restart would not run it): {why}",
                plugin.id(),
                dir.display()
            ))
        };
        let bytes = std::fs::read(plugin.path())
            .map_err(|e| fail(format!("reading {}: {e}", plugin.path().display())))?;
        let digest = tradsys_signing::digest(&bytes).map_err(|e| fail(e.to_string()))?;
        if digest != *plugin.digest() {
            return Err(fail(format!(
                "{} changed since it was verified",
                plugin.path().display()
            )));
        }
        let file = dir.join(format!("{}-{}.wasm", plugin.name(), plugin.version()));
        tradsys_signing::file::write_atomically(
            &file,
            &bytes,
            tradsys_signing::file::Access::Default,
        )
        .map_err(|e| fail(e.to_string()))?;
        tracing::info!(plugin = plugin.id(), file = %file.display(), "promoted version installed");
        Ok(())
    }

    /// Drop the shadow of `name`.
    pub fn discard(&self, name: &str) -> Result<String, ControlError> {
        self.check_running()?;
        if !self.running().contains_key(name) {
            return Err(ControlError::UnknownPlugin(name.to_string()));
        }
        self.shadow_command(|reply| ShadowCommand::Discard(name.to_string(), reply))
    }

    /// Swap `prepared` in and wait for the outcome: the record when it was
    /// swapped, else the reason.
    fn swap(
        &self,
        prepared: AnyInstance,
        cause: &str,
        rollback: bool,
    ) -> Result<SwapRecord, ControlError> {
        let (reply, answer) = std::sync::mpsc::channel();
        self.submit(SwapRequest {
            rollback,
            reply: Some(reply),
            ..SwapRequest::new(vec![prepared], cause)
        })?;
        let record = answer
            .recv_timeout(SESSION_WAIT)
            .map_err(|_| ControlError::NoAnswer)?;
        if record.outcome == SwapOutcome::Swapped {
            Ok(record)
        } else {
            Err(ControlError::Refused(format!(
                "{}: {}",
                record.plugins.join(", "),
                record.outcome
            )))
        }
    }
}

/// The session's end of the control plane.
pub(crate) struct ControlPlane {
    handle: Control,
    swaps: Receiver<SwapRequest>,
    shadow_commands: Receiver<ShadowCommand>,
    status: Receiver<StatusRequest>,
    membership: Receiver<MembershipCommand>,
    /// The candidates running in shadow, fed on the data path.
    pub(crate) shadows: ShadowSet,
    keep_versions: usize,
    /// Where swaps and shadows are recorded.
    journal: Journal,
    /// [`Shared::requests`] when [`Self::wants_slots`] last looked.
    requests_seen: u64,
}

impl ControlPlane {
    /// A control plane for a session over `env`, running `running`.
    pub(crate) fn new(env: Env, running: BTreeMap<String, Arc<Plugin>>) -> Self {
        let (swap_tx, swaps) = std::sync::mpsc::channel();
        let (shadow_tx, shadow_commands) = std::sync::mpsc::channel();
        let (status_tx, status) = std::sync::mpsc::channel();
        let (membership_tx, membership) = std::sync::mpsc::channel();
        let roll = running
            .iter()
            .map(|(name, p)| (name.clone(), (p.kind(), Presence::Active)))
            .collect();
        let shared = Shared {
            running: Arc::new(std::sync::Mutex::new(running)),
            roll: Arc::new(std::sync::Mutex::new(roll)),
            ..Shared::default()
        };
        let keep_versions = env.config().swap.keep_versions;
        let shadows = ShadowSet::new(shared.shadow_log.clone(), shared.candidates.clone());
        Self {
            handle: Control {
                env: Arc::new(env),
                swaps: swap_tx,
                shadows: shadow_tx,
                status: status_tx,
                membership: membership_tx,
                shared,
                stop: Arc::new(AtomicBool::new(false)),
                halt: Arc::default(),
            },
            swaps,
            shadow_commands,
            status,
            membership,
            shadows,
            keep_versions,
            journal: Journal::default(),
            requests_seen: 0,
        }
    }

    /// Record swaps and shadows in `journal`.
    pub(crate) fn set_journal(&mut self, journal: Journal) {
        let clock = self.handle.env.runtime.clock().clone();
        self.shadows.set_journal(journal.clone(), clock);
        self.journal = journal;
    }

    /// A handle for others to steer the session.
    pub(crate) fn handle(&self) -> &Control {
        &self.handle
    }

    /// The kill switch, once pulled: whether to cancel every working order
    /// too (taken: the next call says `None` until it is pulled again).
    pub(crate) fn halt_requested(&self) -> Option<bool> {
        match self.handle.halt.swap(0, Ordering::AcqRel) {
            0 => None,
            n => Some(n > 1),
        }
    }

    /// Whether the session was asked to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.handle.stop.load(Ordering::Relaxed)
    }

    /// The session has run its last batch: requests are answered
    /// [`ControlError::Ended`] at once from now on.
    pub(crate) fn end(&self) {
        self.shared().ended.store(true, Ordering::Release);
    }

    /// The flag that stops the session (a Ctrl-C handler sets it).
    pub(crate) fn stop_flag(&self) -> Arc<AtomicBool> {
        self.handle.stop.clone()
    }

    /// The membership changes sent since the last batch, for the session
    /// to apply (it owns the accounts and the orders they touch).
    pub(crate) fn membership_commands(&mut self) -> Vec<MembershipCommand> {
        self.membership.try_iter().collect()
    }

    /// What the session shares with its steerers (the roll and the
    /// membership log it keeps).
    pub(crate) fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// Whether a request that needs the plugin slots was sent since the
    /// last time this said so.
    pub(crate) fn wants_slots(&mut self) -> bool {
        let sent = self.handle.shared.requests.load(Ordering::Acquire);
        std::mem::replace(&mut self.requests_seen, sent) != sent
    }

    /// Between batches: answer status requests, install the new versions
    /// that are ready, start or drop shadows.
    pub(crate) fn between_batches(&mut self, slots: &mut Slots, after_event: u64) {
        while let Ok(reply) = self.status.try_recv() {
            let _ = reply.send(slots.statuses());
        }
        let shared = &self.handle.shared;
        while let Ok(request) = self.swaps.try_recv() {
            let mut installer = Installer {
                slots: &mut *slots,
                shadows: &mut self.shadows,
                running: &shared.running,
                history: &shared.history,
                keep_versions: self.keep_versions,
                after_event,
                journal: &self.journal,
                now: self.handle.env.runtime.clock().now(),
            };
            installer.apply(request, &shared.swap_log);
        }
        while let Ok(command) = self.shadow_commands.try_recv() {
            let (result, reply) = match command {
                ShadowCommand::Start(candidate, reply) => {
                    (self.shadows.start(*candidate, slots), reply)
                }
                ShadowCommand::Discard(name, reply) => (
                    self.shadows.end(&name, shadow::ShadowState::Discarded),
                    reply,
                ),
            };
            let _ = reply.send(result);
        }
    }
}

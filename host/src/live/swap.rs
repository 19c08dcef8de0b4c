//! Hot swap: a new version is compiled, instantiated and initialised off the
//! data path ([`AnyInstance::prepare`]), then the session installs it
//! between two market batches, after handing it the running version's state
//! (`save-state` on the old instance, `load-state` on the new). A request
//! may hold several plugins (an atomic group): all of them switch between
//! the same two batches, or none does. If any handoff fails, every running
//! version stays and the reason is logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use crate::journal::SwapOutcome;
use crate::journal::{Entry, Journal, SwapEntry};
use crate::live::recent::Recent;
use crate::live::shadow::{ShadowSet, ShadowState};
use crate::loading::Plugin;
use crate::sandbox::{AnyInstance, Slots};

/// Plugins to install together, and what to do once they are in.
pub struct SwapRequest {
    /// The new versions, live and initialised; all switch between the same
    /// two batches, or none.
    pub members: Vec<AnyInstance>,
    /// What asked for it (a changed file, a test, ...).
    pub cause: String,
    /// Run once every member is installed (the directory watcher raises the
    /// rollback floor here, not before).
    pub on_swapped: Option<Box<dyn FnOnce() + Send>>,
    /// A return to a version from the history: it leaves the history, and
    /// the version it replaces does not join it.
    pub rollback: bool,
    /// The running code with a new configuration (`tradsys plugin
    /// configure`): not dropped for being the file that already runs.
    pub reconfigure: bool,
    /// Where to send the outcome.
    pub reply: Option<std::sync::mpsc::Sender<SwapRecord>>,
}

impl SwapRequest {
    /// A plain swap of `members`.
    pub fn new(members: Vec<AnyInstance>, cause: impl Into<String>) -> Self {
        Self {
            members,
            cause: cause.into(),
            on_swapped: None,
            rollback: false,
            reconfigure: false,
            reply: None,
        }
    }
}

/// One swap, or one update that was not made, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapRecord {
    /// Market events processed when it happened (a swap falls between this
    /// event and the next); `None` for an update refused before reaching
    /// the session.
    pub after_event: Option<u64>,
    /// `name from → to` per plugin, or the file concerned.
    pub plugins: Vec<String>,
    /// Whether it was made, or why not.
    pub outcome: SwapOutcome,
    /// What asked for it.
    pub cause: String,
}

/// Swap records a session keeps (the oldest go first; `swaps_dropped` counts them).
pub const SWAP_LOG_LENGTH: usize = 1000;

/// Swaps and refused updates so far, readable while the session runs.
pub type SwapLog = Arc<Mutex<Recent<SwapRecord, SWAP_LOG_LENGTH>>>;

/// The plugin running under each name, kept by the session.
pub type Running = Arc<Mutex<BTreeMap<String, Arc<Plugin>>>>;

/// Per plugin name, the versions it ran before, oldest first; they stay
/// compiled so a rollback is quick (`[swap] keep_versions` of them).
pub type History = Arc<Mutex<BTreeMap<String, Vec<Arc<Plugin>>>>>;

/// Add `record` to `log`, and say it in the host's log.
pub fn note(log: &SwapLog, record: SwapRecord) {
    if record.outcome == SwapOutcome::Swapped {
        tracing::info!(plugins = ?record.plugins, cause = record.cause, "swapped");
    } else {
        tracing::warn!(plugins = ?record.plugins, cause = record.cause, "not swapped: {}", record.outcome);
    }
    log.lock().expect("swap log").push(record);
}

/// The session's side of a swap, run between two batches.
pub(crate) struct Installer<'a> {
    pub(crate) slots: &'a mut Slots,
    pub(crate) shadows: &'a mut ShadowSet,
    pub(crate) running: &'a Running,
    pub(crate) history: &'a History,
    pub(crate) keep_versions: usize,
    pub(crate) after_event: u64,
    pub(crate) journal: &'a Journal,
    /// Market time, for the journal.
    pub(crate) now: u64,
}

impl Installer<'_> {
    /// Hand every member the running version's state; only if all accept,
    /// install them all. The outcome is logged and sent to the requester.
    pub(crate) fn apply(&mut self, request: SwapRequest, log: &SwapLog) {
        let SwapRequest {
            mut members,
            cause,
            on_swapped,
            rollback,
            reconfigure,
            reply,
        } = request;
        let running = self.running.lock().expect("running").clone();
        // A version already running (two scans sending the same file) is no swap.
        members.retain(|m| {
            reconfigure
                || running
                    .get(m.plugin().name())
                    .is_none_or(|p| p.digest() != m.plugin().digest())
        });
        if members.is_empty() {
            if let Some(reply) = reply {
                let _ = reply.send(SwapRecord {
                    after_event: Some(self.after_event),
                    plugins: Vec::new(),
                    outcome: SwapOutcome::AlreadyRunning,
                    cause,
                });
            }
            return;
        }
        let plugins: Vec<String> = members
            .iter()
            .map(|m| {
                let new = m.plugin();
                match running.get(new.name()) {
                    Some(old) => format!("{} {} → {}", new.name(), old.version(), new.version()),
                    None => new.id(),
                }
            })
            .collect();
        let refusal = members.iter_mut().find_map(|member| {
            let id = member.plugin().id();
            self.hand_over(member)
                .err()
                .map(|reason| format!("{id}: {reason}"))
        });
        let outcome = match refusal {
            Some(reason) => SwapOutcome::Refused(reason),
            None => {
                for member in members {
                    self.install(member, rollback);
                }
                if let Some(done) = on_swapped {
                    done();
                }
                SwapOutcome::Swapped
            }
        };
        let record = SwapRecord {
            after_event: Some(self.after_event),
            plugins,
            outcome,
            cause,
        };
        if let Some(reply) = reply {
            let _ = reply.send(record.clone());
        }
        self.journal.write(self.now, || {
            Entry::Swap(SwapEntry {
                plugins: record.plugins.clone(),
                outcome: record.outcome.clone(),
                cause: record.cause.clone(),
            })
        });
        note(log, record);
    }

    fn hand_over(&mut self, member: &mut AnyInstance) -> Result<(), String> {
        let name = member.plugin().name().to_string();
        self.slots
            .slot_mut(&name)
            .ok_or_else(|| format!("no {name} runs in this session"))?
            .hand_over_to(member)
    }

    /// Put a new version in its slot; the old one joins the slot's history
    /// (kept compiled for a rollback), unless this is a rollback, which
    /// takes its version off the history instead.
    fn install(&mut self, member: AnyInstance, rollback: bool) {
        let plugin = member.plugin().clone();
        let name = plugin.name().to_string();
        // The handoff found the slot, and of the same kind.
        let Some(old) = self
            .slots
            .slot_mut(&name)
            .and_then(|slot| slot.replace(member))
        else {
            tracing::error!(plugin = name, "no slot of its kind to install it in");
            return;
        };
        let mut history = self.history.lock().expect("history");
        let versions = history.entry(name.clone()).or_default();
        if rollback {
            versions.retain(|p| p.version() != plugin.version());
        } else {
            versions.retain(|p| p.version() != old.version());
            versions.push(old);
            let excess = versions.len().saturating_sub(self.keep_versions);
            versions.drain(..excess);
        }
        drop(history);
        // Running first: whoever sees the shadow promoted sees the version too.
        self.running
            .lock()
            .expect("running")
            .insert(name.clone(), plugin.clone());
        if let Some(candidate) = self.shadows.candidate_digest(&name) {
            let state = if candidate == *plugin.digest() {
                ShadowState::Promoted
            } else {
                ShadowState::Ended
            };
            let _ = self.shadows.end(&name, state);
        }
    }
}

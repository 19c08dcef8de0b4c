//! Shadow runs: a candidate version of a strategy, validator or processor runs beside
//! the live one. It starts from the live one's state and gets the same
//! inputs; its outputs are compared with the live outputs and recorded,
//! never acted on. A shadow that faults only counts its faults (and is
//! quarantined by its own circuit breaker); the live plugin never notices.
//! `promote` swaps the candidate in through the ordinary swap path;
//! `discard` drops it. A shadow is started from the admin endpoint or by a
//! file in the plugin directory's `shadow/` folder (see `live::watch`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::bindings::types::{MarketEvent, OrderCommand, OrderEvent, RiskContext, Verdict};
use crate::config::HostConfig;
use crate::engine::Clock;
use crate::engine::Runtime;
use crate::journal::{Entry, Journal, ShadowEntry};
use crate::live::error::ControlError;
use crate::live::recent::Recent;
use crate::loading::{Plugin, TrustPolicy, grants};
use crate::policy::PluginKind;
use crate::sandbox::{AnyInstance, Fault, Slots};

/// Differences kept per shadow (the count goes on).
pub const MAX_DIFFS: usize = 50;

/// One input on which the candidate answered differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowDiff {
    /// Market events processed when it happened.
    pub after_event: u64,
    /// The input both got.
    pub input: String,
    /// What the live version answered.
    pub live: String,
    /// What the candidate answered.
    pub candidate: String,
}

/// A shadow run, as the report and the admin endpoint show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowReport {
    /// Plugin name.
    pub plugin: String,
    /// The live version when the shadow started.
    pub live_version: String,
    /// The candidate's version.
    pub candidate_version: String,
    /// The live plugin's state, or a fresh one when the candidate refused it.
    pub started_from: StartedFrom,
    /// Running, or how it ended.
    pub state: ShadowState,
    /// Inputs compared.
    pub compared: u64,
    /// Inputs on which the outputs differed.
    pub differing: u64,
    /// The candidate's faults (none of them reached the live path).
    pub faults: u64,
    /// Why its circuit breaker quarantined it, if it did.
    pub quarantined: Option<String>,
    /// The first differences.
    pub diffs: Vec<ShadowDiff>,
}

/// Where a shadow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShadowState {
    /// Running beside the live version.
    Running,
    /// Swapped in: it is the live version now.
    Promoted,
    /// Dropped by the operator (or replaced by another candidate).
    Discarded,
    /// Ended with the session, or when another version was swapped in.
    Ended,
}

impl std::fmt::Display for ShadowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Promoted => "promoted",
            Self::Discarded => "discarded",
            Self::Ended => "ended",
        })
    }
}

/// Which state a candidate started from. The JSON report spells it as
/// [`std::fmt::Display`] does: `the live state`, `fresh state (why)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedFrom {
    /// The live version's state, handed over.
    LiveState,
    /// Its own fresh state: it refused the live one (why).
    FreshState(String),
}

impl std::fmt::Display for StartedFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LiveState => f.write_str("the live state"),
            Self::FreshState(why) => write!(f, "fresh state ({why})"),
        }
    }
}

impl Serialize for StartedFrom {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for StartedFrom {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "the live state" {
            return Ok(Self::LiveState);
        }
        text.strip_prefix("fresh state (")
            .and_then(|rest| rest.strip_suffix(')'))
            .map(|why| Self::FreshState(why.to_string()))
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a starting state")))
    }
}

/// Shadow runs so far, readable while the session runs.
pub type ShadowLog = Arc<Mutex<Recent<ShadowReport, SHADOW_LOG_LENGTH>>>;

/// Shadow runs a session keeps in its log (the oldest go first; `shadows_dropped` counts them).
pub const SHADOW_LOG_LENGTH: usize = 200;

/// The candidate running in shadow under each plugin name, kept by the
/// session: whoever started a shadow, the admin endpoint can promote it.
pub type Candidates = Arc<Mutex<BTreeMap<String, Arc<Plugin>>>>;

/// Verify the plugin file `file` as a shadow candidate (a signed strategy or
/// validator, granted what the config grants its name) and compile,
/// instantiate and initialise it, off the data path. The error names the
/// file or the plugin.
pub fn prepare_candidate(
    file: &Path,
    policy: &TrustPolicy,
    config: &HostConfig,
    runtime: &Arc<Runtime>,
) -> Result<AnyInstance, String> {
    let refused = |e: &dyn std::fmt::Display| format!("{} refused: {e}", file.display());
    let bytes = std::fs::read(file).map_err(|e| refused(&e))?;
    let verified = policy.check(&bytes).map_err(|e| refused(&e))?;
    let manifest = verified.manifest.clone();
    if !shadowable(manifest.kind) {
        return Err(format!(
            "{}: only strategies, validators and processors run in shadow, not a {}",
            manifest.id(),
            manifest.kind
        ));
    }
    let granted = grants::grants(config, &manifest);
    let placement = grants::placement(config, &manifest);
    let plugin = Plugin::discover(verified, file, &bytes, granted, placement)
        .map_err(|e| refused(&format!("{e:#}")))?;
    AnyInstance::prepare(runtime, Arc::new(plugin))
}

/// Whether a plugin of `kind` can run in shadow: its outputs are compared,
/// never acted on (a matcher's or connector's would move the market).
fn shadowable(kind: PluginKind) -> bool {
    matches!(
        kind,
        PluginKind::Strategy | PluginKind::RiskValidator | PluginKind::Processor
    )
}

/// What the admin endpoint asks of the session about shadows.
pub enum ShadowCommand {
    /// Start shadowing the live plugin of the candidate's name.
    Start(Box<AnyInstance>, Sender<Result<String, ControlError>>),
    /// Drop the shadow of this plugin.
    Discard(String, Sender<Result<String, ControlError>>),
}

/// A running shadow: its candidate and its entry in the log.
struct Shadow {
    name: String,
    candidate: AnyInstance,
    entry: u64,
}

/// The shadows of a session, their log, and the candidates by name.
#[derive(Default)]
pub(crate) struct ShadowSet {
    running: Vec<Shadow>,
    log: ShadowLog,
    candidates: Candidates,
    /// Where starts and ends are recorded, stamped by the host clock.
    journal: Journal,
    clock: Clock,
}

impl ShadowSet {
    /// Shadows recording into `log` and `candidates`.
    pub(crate) fn new(log: ShadowLog, candidates: Candidates) -> Self {
        Self {
            running: Vec::new(),
            log,
            candidates,
            journal: Journal::default(),
            clock: Clock::default(),
        }
    }

    /// Record starts and ends in `journal`, at the time of `clock`.
    pub(crate) fn set_journal(&mut self, journal: Journal, clock: Clock) {
        self.journal = journal;
        self.clock = clock;
    }

    fn record(&self, plugin: &str, version: &str, event: &str, counts: Option<(u64, u64)>) {
        self.journal.write(self.clock.now(), || {
            Entry::Shadow(ShadowEntry {
                plugin: plugin.to_string(),
                version: version.to_string(),
                event: event.to_string(),
                compared: counts.map(|c| c.0),
                differing: counts.map(|c| c.1),
            })
        });
    }

    /// The digest of the candidate in shadow beside `name`, if any.
    pub(crate) fn candidate_digest(&self, name: &str) -> Option<[u8; 32]> {
        self.running
            .iter()
            .find(|s| s.name == name)
            .map(|s| *s.candidate.plugin().digest())
    }

    /// Run `candidate` beside the live plugin of its name in `slots`, from
    /// the live state when the candidate accepts it, else from its own
    /// fresh state. A shadow already running for that name is discarded.
    pub(crate) fn start(
        &mut self,
        mut candidate: AnyInstance,
        slots: &mut Slots,
    ) -> Result<String, ControlError> {
        let plugin = candidate.plugin().clone();
        let name = plugin.name().to_string();
        let version = plugin.version().to_string();
        if !shadowable(plugin.kind()) {
            return Err(ControlError::Invalid(
                "only strategies, validators and processors run in shadow".to_string(),
            ));
        }
        let mut live = slots
            .slot_mut(&name)
            .ok_or_else(|| ControlError::UnknownPlugin(name.clone()))?;
        let started_from = match live.hand_over_to(&mut candidate) {
            Ok(()) => StartedFrom::LiveState,
            Err(reason) => StartedFrom::FreshState(reason),
        };
        let live_version = live.plugin().version().to_string();
        let _ = self.end(&name, ShadowState::Discarded);
        let message =
            format!("{name} {version} runs in shadow beside {live_version}, from {started_from}");
        let mut log = self.log.lock().expect("shadow log");
        let entry = log.push(ShadowReport {
            plugin: name.clone(),
            live_version: live_version.clone(),
            candidate_version: version.clone(),
            started_from,
            state: ShadowState::Running,
            compared: 0,
            differing: 0,
            faults: 0,
            quarantined: None,
            diffs: Vec::new(),
        });
        self.running.push(Shadow {
            name: name.clone(),
            candidate,
            entry,
        });
        self.candidates
            .lock()
            .expect("candidates")
            .insert(name.clone(), plugin);
        drop(log);
        self.record(&name, &version, "started", None);
        tracing::info!(
            plugin = name,
            candidate = version,
            live = live_version,
            "shadow started"
        );
        Ok(message)
    }

    /// Stop the shadow of `name`, recording how it ended.
    pub(crate) fn end(&mut self, name: &str, state: ShadowState) -> Result<String, ControlError> {
        let index = self
            .running
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| ControlError::NoShadow(name.to_string()))?;
        let shadow = self.running.remove(index);
        self.candidates.lock().expect("candidates").remove(name);
        let mut log = self.log.lock().expect("shadow log");
        let (compared, differing) = log.get_mut(shadow.entry).map_or((0, 0), |entry| {
            entry.state = state;
            (entry.compared, entry.differing)
        });
        drop(log);
        let version = shadow.candidate.plugin().version().to_string();
        self.record(
            name,
            &version,
            &state.to_string(),
            Some((compared, differing)),
        );
        Ok(format!(
            "shadow of {name} {state} after {compared} comparisons, {differing} different"
        ))
    }

    /// End every shadow (the session is over).
    pub(crate) fn end_all(&mut self) {
        let names: Vec<String> = self.running.iter().map(|s| s.name.clone()).collect();
        for name in names {
            let _ = self.end(&name, ShadowState::Ended);
        }
    }

    /// Feed the candidate strategy `name` what the live one got, and compare.
    pub(crate) fn on_market(
        &mut self,
        name: &str,
        after_event: u64,
        events: &[MarketEvent],
        live: &[OrderCommand],
    ) {
        let log = &self.log;
        for shadow in self.running.iter_mut().filter(|s| s.name == name) {
            let AnyInstance::Strategy(instance) = &mut shadow.candidate else {
                continue;
            };
            let answer = instance.call(|b, s| b.on_market(s, events));
            let input = || format!("on-market: {events:?}");
            shadow.compare(log, after_event, input, live, answer);
        }
    }

    /// The same for execution reports.
    pub(crate) fn on_order_events(
        &mut self,
        name: &str,
        after_event: u64,
        events: &[OrderEvent],
        live: &[OrderCommand],
    ) {
        let log = &self.log;
        for shadow in self.running.iter_mut().filter(|s| s.name == name) {
            let AnyInstance::Strategy(instance) = &mut shadow.candidate else {
                continue;
            };
            let answer = instance.call(|b, s| b.on_order_events(s, events));
            let input = || format!("on-order-events: {events:?}");
            shadow.compare(log, after_event, input, live, answer);
        }
    }

    /// The same for a validation.
    pub(crate) fn validate(
        &mut self,
        name: &str,
        after_event: u64,
        context: &RiskContext,
        orders: &[OrderCommand],
        live: &[Verdict],
    ) {
        let log = &self.log;
        for shadow in self.running.iter_mut().filter(|s| s.name == name) {
            let AnyInstance::RiskValidator(instance) = &mut shadow.candidate else {
                continue;
            };
            let answer = instance.call(|b, s| b.validate(s, context, orders));
            let input = || format!("validate (strategy {}): {orders:?}", context.strategy);
            shadow.compare(log, after_event, input, live, answer);
        }
    }

    /// The same for a processor's batch.
    pub(crate) fn process(
        &mut self,
        name: &str,
        after_event: u64,
        events: &[MarketEvent],
        live: &[MarketEvent],
    ) {
        let log = &self.log;
        for shadow in self.running.iter_mut().filter(|s| s.name == name) {
            let AnyInstance::Processor(instance) = &mut shadow.candidate else {
                continue;
            };
            let answer = instance.call(|b, s| b.process(s, events));
            let input = || format!("process: {events:?}");
            shadow.compare(log, after_event, input, live, answer);
        }
    }
}

impl Shadow {
    fn compare<T: std::fmt::Debug>(
        &mut self,
        log: &ShadowLog,
        after_event: u64,
        input: impl FnOnce() -> String,
        live: &[T],
        answer: Result<Vec<T>, Fault>,
    ) {
        let candidate = self.candidate.get();
        let faults = candidate.stats().faults.values().sum();
        let quarantined = candidate.quarantined().map(str::to_string);
        let mut log = log.lock().expect("shadow log");
        let Some(entry) = log.get_mut(self.entry) else {
            return; // its entry was dropped from the log (hundreds of shadows ago)
        };
        entry.faults = faults;
        entry.quarantined = quarantined;
        let candidate = match answer {
            Ok(items) => format!("{items:?}"),
            // No more comparisons once quarantined.
            Err(Fault::Quarantined { .. }) => return,
            Err(fault) => format!("fault: {fault}"),
        };
        let live = format!("{live:?}");
        entry.compared += 1;
        if live != candidate {
            entry.differing += 1;
            if entry.diffs.len() < MAX_DIFFS {
                entry.diffs.push(ShadowDiff {
                    after_event,
                    input: input(),
                    live,
                    candidate,
                });
            }
        }
    }
}

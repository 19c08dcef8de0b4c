//! Shadow runs: a candidate version of a strategy or validator runs beside
//! the live one. It starts from the live one's state and gets the same
//! inputs; its outputs are compared with the live outputs and recorded,
//! never acted on. A shadow that faults only counts its faults (and is
//! quarantined by its own circuit breaker); the live plugin never notices.
//! `promote` swaps the candidate in through the ordinary swap path;
//! `discard` drops it. A shadow is started from the admin endpoint or by a
//! file in the plugin directory's `shadow/` folder (see [`crate::watch`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::bindings::types::{MarketEvent, OrderCommand, OrderEvent, RiskContext, Verdict};
use crate::bindings::{risk_validator::RiskValidator, strategy::Strategy};
use crate::config::HostConfig;
use crate::instance::PluginInstance;
use crate::plugin::{Plugin, PluginKind};
use crate::registry::TrustPolicy;
use crate::runtime::Runtime;
use crate::swap::Prepared;

/// Differences kept per shadow (the count goes on).
pub const MAX_DIFFS: usize = 50;

/// One input on which the candidate answered differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowReport {
    /// Plugin name.
    pub plugin: String,
    /// The live version when the shadow started.
    pub live_version: String,
    /// The candidate's version.
    pub candidate_version: String,
    /// `the live state`, or `fresh state (why)` when the candidate refused it.
    pub started_from: String,
    /// `running`, `promoted`, `discarded`, or `ended` (with the session).
    pub state: String,
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

/// Shadow runs so far, readable while the session runs.
pub type ShadowLog = Arc<Mutex<Vec<ShadowReport>>>;

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
) -> Result<Prepared, String> {
    let refused = |e: &dyn std::fmt::Display| format!("{} refused: {e}", file.display());
    let bytes = std::fs::read(file).map_err(|e| refused(&e))?;
    let verified = policy.check(&bytes).map_err(|e| refused(&e))?;
    let manifest = verified.manifest.clone();
    if !matches!(
        manifest.kind,
        PluginKind::Strategy | PluginKind::RiskValidator
    ) {
        return Err(format!(
            "{}: only strategies and validators run in shadow, not a {}",
            manifest.id(),
            manifest.kind
        ));
    }
    let grants = config.grants(&manifest);
    let placement = config.placement(&manifest);
    let plugin = Plugin::discover(verified, file, &bytes, grants, placement)
        .map_err(|e| refused(&format!("{e:#}")))?;
    Prepared::prepare(runtime, Arc::new(plugin))
}

/// What the admin endpoint asks of the session about shadows.
pub enum ShadowCommand {
    /// Start shadowing the live plugin of the candidate's name.
    Start(Box<Prepared>, Sender<Result<String, String>>),
    /// Drop the shadow of this plugin.
    Discard(String, Sender<Result<String, String>>),
}

/// The candidate's instance.
pub(crate) enum Candidate {
    Strategy(PluginInstance<Strategy>),
    RiskValidator(PluginInstance<RiskValidator>),
}

/// A running shadow: its instance and its entry in the log.
pub(crate) struct Shadow {
    pub(crate) name: String,
    pub(crate) candidate: Candidate,
    pub(crate) entry: usize,
}

impl Shadow {
    /// Feed the candidate strategy what the live one got, and compare.
    pub(crate) fn on_market(
        &mut self,
        log: &ShadowLog,
        after_event: u64,
        events: &[MarketEvent],
        live: &[OrderCommand],
    ) {
        let Candidate::Strategy(instance) = &mut self.candidate else {
            return;
        };
        let answer = instance
            .call(|b, s| b.tradsys_plugins_strategy_api().call_on_market(s, events))
            .map_err(|fault| fault.to_string());
        let input = format!("on-market: {events:?}");
        self.compare(log, after_event, input, live, answer);
    }

    /// The same for execution reports.
    pub(crate) fn on_order_events(
        &mut self,
        log: &ShadowLog,
        after_event: u64,
        events: &[OrderEvent],
        live: &[OrderCommand],
    ) {
        let Candidate::Strategy(instance) = &mut self.candidate else {
            return;
        };
        let answer = instance
            .call(|b, s| {
                b.tradsys_plugins_strategy_api()
                    .call_on_order_events(s, events)
            })
            .map_err(|fault| fault.to_string());
        let input = format!("on-order-events: {events:?}");
        self.compare(log, after_event, input, live, answer);
    }

    /// The same for a validation.
    pub(crate) fn validate(
        &mut self,
        log: &ShadowLog,
        after_event: u64,
        context: &RiskContext,
        orders: &[OrderCommand],
        live: &[Verdict],
    ) {
        let Candidate::RiskValidator(instance) = &mut self.candidate else {
            return;
        };
        let answer = instance
            .call(|b, s| {
                b.tradsys_plugins_risk_validator_api()
                    .call_validate(s, context, orders)
            })
            .map_err(|fault| fault.to_string());
        let input = format!("validate (strategy {}): {orders:?}", context.strategy);
        self.compare(log, after_event, input, live, answer);
    }

    fn compare<T: std::fmt::Debug>(
        &mut self,
        log: &ShadowLog,
        after_event: u64,
        input: String,
        live: &[T],
        answer: Result<Vec<T>, String>,
    ) {
        let (faults, quarantined) = match &self.candidate {
            Candidate::Strategy(i) => (i.stats().faults.values().sum(), i.quarantined()),
            Candidate::RiskValidator(i) => (i.stats().faults.values().sum(), i.quarantined()),
        };
        let live = format!("{live:?}");
        let candidate = match answer {
            Ok(items) => format!("{items:?}"),
            Err(fault) => format!("fault: {fault}"),
        };
        let mut log = log.lock().expect("shadow log");
        let entry = &mut log[self.entry];
        entry.faults = faults;
        entry.quarantined = quarantined.map(str::to_string);
        if quarantined.is_some() && candidate.contains("is quarantined") {
            return; // no more comparisons once quarantined
        }
        entry.compared += 1;
        if live != candidate {
            entry.differing += 1;
            if entry.diffs.len() < MAX_DIFFS {
                entry.diffs.push(ShadowDiff {
                    after_event,
                    input,
                    live,
                    candidate,
                });
            }
        }
    }
}

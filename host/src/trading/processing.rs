//! Processors on the data path: every market batch goes through the
//! session's processors, in dependency order, after the books and the venue
//! saw it and before the strategies get it. Each processor sees the feed's
//! batch plus what the processors before it derived; what it returns is
//! checked (`verify::derived`) and appended.
//!
//! A processor that faults (a trap, a limit, output the host refuses) loses
//! its output for that batch. With `on_fault = "open"` (the default) the
//! strategies get the batch without it; with `"closed"` they do not get the
//! batch at all. The report counts both per processor.
//!
//! A strategy gets the feed's events, then the derived bars, then the
//! signals it subscribed to: the names in its `signals` config entry (the
//! SDK reads the same entry). Without one it gets no signal.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bindings::types::{InstrumentDefinition, MarketEvent};
use crate::config::OnFault;
use crate::engine::SignalNames;
use crate::live::shadow::ShadowSet;
use crate::loading::Plugin;
use crate::policy::EventKind;
use crate::sandbox::{PluginInstance, Processor, Strategy};
use crate::trading::events::event_instrument;
use crate::trading::market::Market;
use crate::trading::verify;

/// The config entry naming the signals a strategy subscribes to.
pub const SIGNALS_KEY: &str = "signals";

/// A processor as the report shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorReport {
    /// Plugin name.
    pub name: String,
    /// Its fault policy.
    pub on_fault: OnFault,
    /// Bars it derived.
    pub bars: u64,
    /// Signals it derived.
    pub signals: u64,
    /// Batches whose output of it was dropped after a fault (`open`).
    pub batches_dropped: u64,
    /// Batches the strategies did not get after its fault (`closed`).
    pub batches_withheld: u64,
    /// Its last fault, if it had one.
    pub last_fault: Option<String>,
}

/// The processors' table of the plain-text report (nothing without processors).
pub fn render_processors(reports: &[ProcessorReport], out: &mut String) {
    use std::fmt::Write as _;
    if reports.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nprocessor          on_fault     bars    signals  dropped  withheld  last fault"
    );
    for r in reports {
        let policy = match r.on_fault {
            OnFault::Open => "open",
            OnFault::Closed => "closed",
        };
        let _ = writeln!(
            out,
            "{:<18} {:<8} {:>8} {:>10} {:>8} {:>9}  {}",
            r.name,
            policy,
            r.bars,
            r.signals,
            r.batches_dropped,
            r.batches_withheld,
            r.last_fault.as_deref().unwrap_or("-")
        );
    }
}

/// The names a strategy subscribed to, as ids (sorted), the event kinds
/// and the instruments it wants, for the plugin version they were read from.
struct Subscription {
    plugin: Arc<Plugin>,
    ids: Vec<u32>,
    /// Its manifest's `events`, or `[plugins.NAME] events`: the kinds it is
    /// handed (all when `None`).
    kinds: Option<Vec<EventKind>>,
    /// `[plugins.NAME] instruments`: the symbols it is handed (all when
    /// `None`), and for each host instrument id defined so far whether it
    /// is one of them.
    symbols: Option<Vec<String>>,
    instruments: Vec<bool>,
}

impl Subscription {
    /// Whether it filters the batch at all.
    fn filters(&self) -> bool {
        self.kinds.is_some() || self.symbols.is_some()
    }

    /// Whether it is handed `event` for its instrument (an instrument's
    /// definition included).
    fn wants_instrument(&self, event: &MarketEvent) -> bool {
        if self.symbols.is_none() {
            return true;
        }
        let id = match event {
            MarketEvent::Instrument(def) => Some(def.id),
            other => event_instrument(other),
        };
        id.is_some_and(|id| self.instruments.get(id as usize).copied().unwrap_or(false))
    }

    /// Note the instruments defined since the last batch.
    fn resolve(&mut self, definitions: &[InstrumentDefinition]) {
        let Some(symbols) = &self.symbols else { return };
        for def in &definitions[self.instruments.len().min(definitions.len())..] {
            self.instruments.push(symbols.contains(&def.symbol));
        }
    }
}

/// Whether a strategy that wants `kinds` is handed `event` (signals are
/// decided by its signal subscription).
fn wanted_kind(kinds: Option<&[EventKind]>, event: &MarketEvent) -> bool {
    let Some(kinds) = kinds else { return true };
    let kind = match event {
        MarketEvent::Quote(_) => EventKind::Quote,
        MarketEvent::Trade(_) => EventKind::Trade,
        MarketEvent::BookDelta(_) => EventKind::BookDelta,
        MarketEvent::Depth(_) => EventKind::Depth,
        MarketEvent::Bar(_) => EventKind::Bar,
        MarketEvent::Instrument(_) | MarketEvent::Status(_) | MarketEvent::Signal(_) => {
            return true;
        }
    };
    kinds.contains(&kind)
}

/// The processors' side of a session: their policies and counts, and the
/// strategies' subscriptions.
#[derive(Default)]
pub(crate) struct Processing {
    reports: Vec<ProcessorReport>,
    /// Whether each processor runs (a disabled or removed one does not).
    active: Vec<bool>,
    subscriptions: Vec<Option<Subscription>>,
    /// Where the signals of the current batch start.
    signals_from: usize,
}

impl Processing {
    /// For processors with these fault policies, in the order they run.
    pub(crate) fn new(processors: &[PluginInstance<Processor>], policies: &[OnFault]) -> Self {
        let reports = processors
            .iter()
            .zip(policies)
            .map(|(p, on_fault)| ProcessorReport {
                name: p.plugin().name().to_string(),
                on_fault: *on_fault,
                ..ProcessorReport::default()
            })
            .collect();
        Self {
            active: vec![true; processors.len()],
            reports,
            ..Self::default()
        }
    }

    /// A processor that joined the session (it runs last: what it reads was
    /// running before it).
    pub(crate) fn add(&mut self, name: &str, on_fault: OnFault) {
        self.reports.push(ProcessorReport {
            name: name.to_string(),
            on_fault,
            ..ProcessorReport::default()
        });
        self.active.push(true);
    }

    /// Run processor `i`, or not.
    pub(crate) fn set_active(&mut self, i: usize, active: bool) {
        if let Some(slot) = self.active.get_mut(i) {
            *slot = active;
        }
    }

    /// The processors' figures so far.
    pub(crate) fn reports(&self) -> &[ProcessorReport] {
        &self.reports
    }

    /// Run every processor on `events`, appending what they derive (bars
    /// first, then signals). False when a `closed` processor faulted: the
    /// strategies do not get this batch.
    pub(crate) fn run(
        &mut self,
        processors: &mut [PluginInstance<Processor>],
        shadows: &mut ShadowSet,
        events: &mut Vec<MarketEvent>,
        (market, signals): (&Market, &SignalNames),
        (now, after_event): (u64, u64),
    ) -> bool {
        let feed = events.len();
        self.signals_from = feed;
        let mut deliver = true;
        let active = &self.active;
        for (i, (processor, report)) in processors.iter_mut().zip(&mut self.reports).enumerate() {
            if !active.get(i).copied().unwrap_or(true) {
                continue;
            }
            let derived = processor
                .call(|b, s| b.process(s, events))
                .and_then(|out| processor.limit_output(out))
                .and_then(|out| match verify::derived(&out, market, signals, now) {
                    Ok(()) => Ok(out),
                    Err(reason) => Err(processor.contract_fault(reason)),
                });
            match derived {
                Ok(out) => {
                    let name = processor.plugin().name();
                    shadows.process(name, after_event, events, &out);
                    let signals = out
                        .iter()
                        .filter(|e| matches!(e, MarketEvent::Signal(_)))
                        .count() as u64;
                    report.signals += signals;
                    report.bars += out.len() as u64 - signals;
                    events.extend(out);
                }
                Err(fault) => {
                    report.last_fault = Some(fault.to_string());
                    match report.on_fault {
                        OnFault::Open => report.batches_dropped += 1,
                        OnFault::Closed => {
                            report.batches_withheld += 1;
                            deliver = false;
                        }
                    }
                }
            }
        }
        // Bars before signals, each in the order derived.
        let derived = &mut events[feed..];
        derived.sort_by_key(|e| matches!(e, MarketEvent::Signal(_)));
        self.signals_from = feed
            + derived
                .iter()
                .take_while(|e| !matches!(e, MarketEvent::Signal(_)))
                .count();
        deliver
    }

    /// Read each strategy's subscription again where its plugin changed (a
    /// swap, a new session).
    pub(crate) fn subscribe(
        &mut self,
        strategies: &[PluginInstance<Strategy>],
        names: &SignalNames,
        definitions: &[InstrumentDefinition],
    ) {
        self.subscriptions.resize_with(strategies.len(), || None);
        for (slot, strategy) in self.subscriptions.iter_mut().zip(strategies) {
            let plugin = strategy.plugin();
            if !slot
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(&s.plugin, plugin))
            {
                *slot = Some(Subscription {
                    plugin: plugin.clone(),
                    ids: subscribed(plugin, names),
                    kinds: plugin.grants().events.clone(),
                    symbols: plugin.grants().instruments.clone(),
                    instruments: Vec::new(),
                });
            }
            if let Some(subscription) = slot {
                subscription.resolve(definitions);
            }
        }
    }

    /// Whether strategy `i` subscribed to event kinds or instruments: a
    /// batch with none of them is not handed to it.
    pub(crate) fn filters(&self, i: usize) -> bool {
        self.subscriptions
            .get(i)
            .and_then(Option::as_ref)
            .is_some_and(Subscription::filters)
    }

    /// The batch strategy `i` gets of `events` (as [`Self::run`] left it):
    /// the kinds (its manifest's or `[plugins.NAME] events`) and the
    /// instruments (`[plugins.NAME] instruments`) it subscribed to, and its
    /// signals. Empty when a strategy that filters wants none of them: it
    /// is then not called for this batch ([`Self::filters`]).
    pub(crate) fn batch_for<'a>(
        &self,
        i: usize,
        events: &'a [MarketEvent],
    ) -> Cow<'a, [MarketEvent]> {
        let subscription = self.subscriptions.get(i).and_then(Option::as_ref);
        let kinds = subscription.and_then(|s| s.kinds.as_deref());
        let ids = subscription.map_or(&[][..], |s| &s.ids[..]);
        let (common, signals) = events.split_at(self.signals_from.min(events.len()));
        let instrument = |e: &MarketEvent| subscription.is_none_or(|s| s.wants_instrument(e));
        let wanted = |e: &&MarketEvent| {
            instrument(e)
                && match e {
                    MarketEvent::Signal(s) => ids.binary_search(&s.name).is_ok(),
                    other => wanted_kind(kinds, other),
                }
        };
        if !subscription.is_some_and(Subscription::filters) {
            if signals.is_empty() {
                return Cow::Borrowed(events);
            }
            return match signals.iter().filter(wanted).count() {
                0 => Cow::Borrowed(common),
                n if n == signals.len() => Cow::Borrowed(events),
                _ => {
                    let mut batch = common.to_vec();
                    batch.extend(signals.iter().filter(wanted).cloned());
                    Cow::Owned(batch)
                }
            };
        }
        // The feed's part by kind, the processors' signals by name; both
        // by instrument.
        let batch: Vec<MarketEvent> = common
            .iter()
            .filter(|e| instrument(e) && wanted_kind(kinds, e))
            .chain(signals.iter().filter(wanted))
            .cloned()
            .collect();
        if batch.len() == events.len() {
            return Cow::Borrowed(events);
        }
        Cow::Owned(batch)
    }
}

/// The ids of the signals `plugin`'s config subscribes it to (names
/// separated by commas or spaces; a malformed one is skipped here, and the
/// SDK's `init` refuses it with the reason).
fn subscribed(plugin: &Plugin, names: &SignalNames) -> Vec<u32> {
    let Some((_, entry)) = plugin
        .grants()
        .config
        .iter()
        .rev()
        .find(|(k, _)| k == SIGNALS_KEY)
    else {
        return Vec::new();
    };
    let mut ids: Vec<u32> = entry
        .split([',', ' '])
        .filter(|n| !n.is_empty())
        .filter_map(|n| names.intern(n).ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

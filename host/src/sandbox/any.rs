//! An instance of a kind known only at run time: [`AnyInstance`] owns one
//! (a version prepared for a swap, a shadow candidate), [`SlotMut`] borrows
//! a session's slot. With `engine::KindPre` (compiled code) these are the
//! only enums over the five kinds; everything else is generic over
//! `KindBindings`, or sees an instance as a [`Slot`] whatever its kind.

use std::sync::Arc;

use crate::engine::Runtime;
use crate::loading::Plugin;
use crate::policy::PluginKind;
use crate::sandbox::fault::Fault;
use crate::sandbox::instance::{CallStats, PluginInstance};
use crate::sandbox::kinds::KindBindings;
use crate::sandbox::kinds::{Connector, Matcher, Processor, RiskValidator, Strategy};

/// What an instance slot answers whatever its kind (each method is the
/// `PluginInstance` one of the same name).
pub trait Slot {
    /// The plugin it runs.
    fn plugin(&self) -> &Arc<Plugin>;
    /// Its counters so far.
    fn stats(&self) -> &CallStats;
    /// Why its circuit breaker quarantined it, if it did.
    fn quarantined(&self) -> Option<&str>;
    /// Linear memory its live instance holds, bytes.
    fn memory_bytes(&self) -> u64;
    /// Instantiate now if there is no live instance.
    fn ensure_live(&mut self) -> Result<(), Fault>;
}

impl<B: KindBindings> Slot for PluginInstance<B> {
    fn plugin(&self) -> &Arc<Plugin> {
        PluginInstance::plugin(self)
    }

    fn stats(&self) -> &CallStats {
        PluginInstance::stats(self)
    }

    fn quarantined(&self) -> Option<&str> {
        PluginInstance::quarantined(self)
    }

    fn memory_bytes(&self) -> u64 {
        PluginInstance::memory_bytes(self)
    }

    fn ensure_live(&mut self) -> Result<(), Fault> {
        PluginInstance::ensure_live(self)
    }
}

/// One plugin instance slot, whatever its kind.
pub enum AnyInstance {
    /// A strategy.
    Strategy(PluginInstance<Strategy>),
    /// A risk validator.
    RiskValidator(PluginInstance<RiskValidator>),
    /// A matcher.
    Matcher(PluginInstance<Matcher>),
    /// A connector.
    Connector(PluginInstance<Connector>),
    /// A processor.
    Processor(PluginInstance<Processor>),
}

/// One plugin instance slot of a session, borrowed, whatever its kind.
pub enum SlotMut<'a> {
    /// A strategy.
    Strategy(&'a mut PluginInstance<Strategy>),
    /// A risk validator.
    RiskValidator(&'a mut PluginInstance<RiskValidator>),
    /// A matcher.
    Matcher(&'a mut PluginInstance<Matcher>),
    /// A connector.
    Connector(&'a mut PluginInstance<Connector>),
    /// A processor.
    Processor(&'a mut PluginInstance<Processor>),
}

impl AnyInstance {
    /// A slot for `plugin`, of the kind its manifest names; nothing is
    /// compiled or instantiated yet.
    pub fn new(runtime: Arc<Runtime>, plugin: Arc<Plugin>) -> Self {
        match plugin.kind() {
            PluginKind::Strategy => Self::Strategy(PluginInstance::new(runtime, plugin)),
            PluginKind::RiskValidator => Self::RiskValidator(PluginInstance::new(runtime, plugin)),
            PluginKind::Matcher => Self::Matcher(PluginInstance::new(runtime, plugin)),
            PluginKind::Connector => Self::Connector(PluginInstance::new(runtime, plugin)),
            PluginKind::Processor => Self::Processor(PluginInstance::new(runtime, plugin)),
        }
    }

    /// Compile `plugin` (or load it from the cache), instantiate it and run
    /// its `init`; the reason when it cannot. Called off the data path, for
    /// a version about to take over or run in shadow.
    pub fn prepare(runtime: &Arc<Runtime>, plugin: Arc<Plugin>) -> Result<Self, String> {
        plugin.prepare(runtime)?;
        let mut instance = Self::new(runtime.clone(), plugin);
        instance
            .get_mut()
            .ensure_live()
            .map_err(|f| f.to_string())?;
        Ok(instance)
    }

    /// The instance, whatever its kind.
    pub fn get(&self) -> &dyn Slot {
        match self {
            Self::Strategy(i) => i,
            Self::RiskValidator(i) => i,
            Self::Matcher(i) => i,
            Self::Connector(i) => i,
            Self::Processor(i) => i,
        }
    }

    /// The instance, whatever its kind, to change.
    pub fn get_mut(&mut self) -> &mut dyn Slot {
        match self {
            Self::Strategy(i) => i,
            Self::RiskValidator(i) => i,
            Self::Matcher(i) => i,
            Self::Connector(i) => i,
            Self::Processor(i) => i,
        }
    }

    /// The plugin it runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        self.get().plugin()
    }
}

impl SlotMut<'_> {
    /// The plugin the slot runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        match self {
            Self::Strategy(i) => i.plugin(),
            Self::RiskValidator(i) => i.plugin(),
            Self::Matcher(i) => i.plugin(),
            Self::Connector(i) => i.plugin(),
            Self::Processor(i) => i.plugin(),
        }
    }

    /// Hand this slot's state to `new`, a version of the same plugin taking
    /// over; this slot is untouched whatever happens.
    pub fn hand_over_to(&mut self, new: &mut AnyInstance) -> Result<(), String> {
        match (self, new) {
            (Self::Strategy(old), AnyInstance::Strategy(new)) => old.hand_over_to(new),
            (Self::RiskValidator(old), AnyInstance::RiskValidator(new)) => old.hand_over_to(new),
            (Self::Matcher(old), AnyInstance::Matcher(new)) => old.hand_over_to(new),
            (Self::Connector(old), AnyInstance::Connector(new)) => old.hand_over_to(new),
            (Self::Processor(old), AnyInstance::Processor(new)) => old.hand_over_to(new),
            (old, new) => Err(kinds_differ(old.plugin(), new.plugin())),
        }
    }

    /// Put `new` in this slot, taking over its counters: the plugin it ran
    /// before. `None` (and `new` is dropped) when the kinds differ.
    pub fn replace(self, new: AnyInstance) -> Option<Arc<Plugin>> {
        fn swap_in<B: KindBindings>(
            old: &mut PluginInstance<B>,
            mut new: PluginInstance<B>,
        ) -> Arc<Plugin> {
            new.inherit_stats(old);
            std::mem::replace(old, new).plugin().clone()
        }
        match (self, new) {
            (Self::Strategy(old), AnyInstance::Strategy(new)) => Some(swap_in(old, new)),
            (Self::RiskValidator(old), AnyInstance::RiskValidator(new)) => Some(swap_in(old, new)),
            (Self::Matcher(old), AnyInstance::Matcher(new)) => Some(swap_in(old, new)),
            (Self::Connector(old), AnyInstance::Connector(new)) => Some(swap_in(old, new)),
            (Self::Processor(old), AnyInstance::Processor(new)) => Some(swap_in(old, new)),
            _ => None,
        }
    }
}

fn kinds_differ(old: &Plugin, new: &Plugin) -> String {
    format!(
        "{} is a {} but the running {} is a {}",
        new.id(),
        new.kind(),
        old.name(),
        old.kind()
    )
}

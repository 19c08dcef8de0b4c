//! The plugin slots of one session: its connector, its processors, its
//! matcher, its strategies and its validators, found by name in one place.

use crate::sandbox::any::SlotMut;
use crate::sandbox::eviction::Evictable;
use crate::sandbox::instance::{PluginInstance, PluginStatus};
use crate::sandbox::kinds::{Connector, Matcher, Processor, RiskValidator, Strategy};

/// A session's plugin slots.
pub struct Slots {
    /// The connector that feeds the session.
    pub connector: PluginInstance<Connector>,
    /// The matcher; none in a live session without one installed (the
    /// venue matches).
    pub matcher: Option<PluginInstance<Matcher>>,
    /// Strategies, in the order they are called.
    pub strategies: Vec<PluginInstance<Strategy>>,
    /// Risk validators, in the order they are asked.
    pub validators: Vec<PluginInstance<RiskValidator>>,
    /// Processors, in dependency order (the order they are called).
    pub processors: Vec<PluginInstance<Processor>>,
}

impl Slots {
    /// The slot running the plugin called `name`.
    pub fn slot_mut(&mut self, name: &str) -> Option<SlotMut<'_>> {
        if self.connector.plugin().name() == name {
            return Some(SlotMut::Connector(&mut self.connector));
        }
        if let Some(matcher) = &mut self.matcher
            && matcher.plugin().name() == name
        {
            return Some(SlotMut::Matcher(matcher));
        }
        if let Some(s) = self
            .strategies
            .iter_mut()
            .find(|s| s.plugin().name() == name)
        {
            return Some(SlotMut::Strategy(s));
        }
        if let Some(p) = self
            .processors
            .iter_mut()
            .find(|p| p.plugin().name() == name)
        {
            return Some(SlotMut::Processor(p));
        }
        self.validators
            .iter_mut()
            .find(|v| v.plugin().name() == name)
            .map(SlotMut::RiskValidator)
    }

    /// Where each plugin is now: connector, matcher, strategies, validators,
    /// processors.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        let mut statuses = vec![PluginStatus::of(&self.connector)];
        statuses.extend(self.matcher.iter().map(PluginStatus::of));
        statuses.extend(self.strategies.iter().map(PluginStatus::of));
        statuses.extend(self.validators.iter().map(PluginStatus::of));
        statuses.extend(self.processors.iter().map(PluginStatus::of));
        statuses
    }

    /// The slots that may be evicted. The connector is called every batch,
    /// so it is never idle; processors are too, but memory pressure may
    /// still evict them (their state is saved and restored).
    pub fn evictable(&mut self) -> Vec<&mut dyn Evictable> {
        let mut slots: Vec<&mut dyn Evictable> = Vec::new();
        if let Some(matcher) = &mut self.matcher {
            slots.push(matcher);
        }
        slots.extend(self.strategies.iter_mut().map(|s| s as &mut dyn Evictable));
        slots.extend(self.validators.iter_mut().map(|v| v as &mut dyn Evictable));
        slots.extend(self.processors.iter_mut().map(|p| p as &mut dyn Evictable));
        slots
    }
}

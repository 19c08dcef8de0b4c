//! The session's side of membership changes (`live/membership.rs`): a
//! plugin joins, leaves, is disabled, enabled or removed between two
//! batches. A strategy that stops being called has its working orders
//! cancelled by the host (straight to the matcher: no validator may refuse
//! a cancel); its account, fills and position stay in the report.

use crate::journal::{Entry, MembershipEntry};
use crate::live::ControlError;
use crate::live::membership::{Change, MembershipCommand, MembershipRecord, Presence};
use crate::policy::PluginKind;
use crate::sandbox::AnyInstance;
use crate::trading::session::Session;

/// Where a plugin sits among the slots the roster covers.
#[derive(Clone, Copy)]
enum Place {
    Strategy(usize),
    Validator(usize),
    Processor(usize),
}

impl Session {
    /// Apply what was sent since the last batch.
    pub(crate) fn apply_membership(&mut self) {
        for command in self.control.membership_commands() {
            match command {
                MembershipCommand::Join { instance, cause } => {
                    if let Err(why) = self.join(*instance, &cause) {
                        tracing::warn!("{cause}: {why}");
                    }
                }
                MembershipCommand::Change {
                    name,
                    change,
                    cause,
                    reply,
                } => {
                    let result = self.change(&name, change, &cause);
                    match reply {
                        Some(reply) => {
                            let _ = reply.send(result);
                        }
                        None => {
                            if let Err(why) = result {
                                tracing::warn!(plugin = name, "{why}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// What a plugin joining mid-stream missed: the instrument definitions.
    fn catch_up(&self) -> Vec<crate::bindings::types::MarketEvent> {
        self.market
            .definitions()
            .iter()
            .cloned()
            .map(crate::bindings::types::MarketEvent::Instrument)
            .collect()
    }

    fn place(&self, name: &str) -> Option<Place> {
        let slots = &self.slots;
        let named = |p: &crate::loading::Plugin| p.name() == name;
        if let Some(i) = slots.strategies.iter().position(|s| named(s.plugin())) {
            return Some(Place::Strategy(i));
        }
        if let Some(i) = slots.validators.iter().position(|v| named(v.plugin())) {
            return Some(Place::Validator(i));
        }
        slots
            .processors
            .iter()
            .position(|p| named(p.plugin()))
            .map(Place::Processor)
    }

    fn join(&mut self, instance: AnyInstance, cause: &str) -> Result<String, String> {
        let plugin = instance.plugin().clone();
        let name = plugin.name().to_string();
        if self.slots.slot_mut(&name).is_some() {
            return Err(format!("{} is already in the session", plugin.id()));
        }
        match instance {
            AnyInstance::Strategy(strategy) => {
                self.slots.strategies.push(strategy);
                let i = self.router.add_strategy(&name);
                self.roster.strategies.push(Presence::Active);
                // It missed the stream's start: the instruments first.
                let catch_up = self.catch_up();
                let strategy = &mut self.slots.strategies[i];
                let commands = strategy
                    .call(|b, s| b.on_market(s, &catch_up))
                    .and_then(|commands| strategy.limit_output(commands));
                if let Ok(commands) = commands {
                    self.route(i, commands);
                }
            }
            AnyInstance::RiskValidator(validator) => {
                self.slots.validators.push(validator);
                self.roster.validators.push(Presence::Active);
            }
            AnyInstance::Processor(processor) => {
                let config = self.control.handle().env().config();
                let on_fault = config
                    .plugins
                    .get(&name)
                    .and_then(|s| s.on_fault)
                    .unwrap_or_default();
                self.slots.processors.push(processor);
                self.processing.add(&name, on_fault);
                self.roster.processors.push(Presence::Active);
                // The instruments it missed; what it derives of them goes nowhere.
                let catch_up = self.catch_up();
                if let Some(processor) = self.slots.processors.last_mut() {
                    let _ = processor.call(|b, s| b.process(s, &catch_up));
                }
            }
            AnyInstance::Connector(_) | AnyInstance::Matcher(_) => {
                return Err(format!(
                    "a {} cannot join a running session (it has one; a newer version of it is swapped in)",
                    plugin.kind()
                ));
            }
        }
        let shared = self.control.shared();
        shared
            .running
            .lock()
            .expect("running")
            .insert(name.clone(), plugin.clone());
        self.record(&plugin, None, Presence::Active, cause, 0);
        Ok(format!("{} joined the session", plugin.id()))
    }

    fn change(&mut self, name: &str, change: Change, cause: &str) -> Result<String, ControlError> {
        let Some(place) = self.place(name) else {
            if let Some(kind) = self.fixed(name) {
                return Err(ControlError::Refused(format!(
                    "{name} is the session's {kind}: a session needs one, so it never leaves \
                     (put a newer version into the directory to swap it)"
                )));
            }
            return Err(ControlError::UnknownPlugin(name.to_string()));
        };
        let already = |what: &str| Err(ControlError::Refused(format!("{name} {what}")));
        let from = match place {
            Place::Strategy(i) => self.roster.strategies[i],
            Place::Validator(i) => self.roster.validators[i],
            Place::Processor(i) => self.roster.processors[i],
        };
        let strategy = matches!(place, Place::Strategy(_));
        let to = match (change, from) {
            (Change::Enable, Presence::Active) => return already("is active"),
            (Change::Enable, _) => Presence::Active,
            (Change::Disable, Presence::Disabled) => return already("is disabled"),
            (Change::Disable, _) => Presence::Disabled,
            (Change::Remove, Presence::Removed) => return already("was removed"),
            (Change::Remove, _) => Presence::Removed,
            (Change::FileRemoved, Presence::Active) if strategy => Presence::Left,
            (Change::FileRemoved, Presence::Active) => Presence::RemovalPending,
            // Already out, or already waiting for the operator.
            (Change::FileRemoved, _) => return Ok(format!("{name}: nothing to do")),
        };
        let mut canceled = 0;
        match place {
            Place::Strategy(i) => {
                self.roster.strategies[i] = to;
                if from.active() && !to.active() {
                    // Its orders on their way never arrive; those at the
                    // venue are canceled there.
                    let now = self.runtime().clock().now();
                    canceled = self.router.recall(i, &self.market, now);
                    let cancels = self.router.cancel_all(i);
                    canceled += cancels.len() as u64;
                    self.execute(cancels);
                }
            }
            Place::Validator(i) => self.roster.validators[i] = to,
            Place::Processor(i) => {
                self.roster.processors[i] = to;
                self.processing.set_active(i, to.active());
            }
        }
        let plugin = match place {
            Place::Strategy(i) => self.slots.strategies[i].plugin().clone(),
            Place::Validator(i) => self.slots.validators[i].plugin().clone(),
            Place::Processor(i) => self.slots.processors[i].plugin().clone(),
        };
        let record = self.record(&plugin, Some(from), to, cause, canceled);
        let mut said = format!("{}: {}", plugin.id(), record.change);
        if canceled > 0 {
            said.push_str(&format!(" ({canceled} working orders canceled)"));
        }
        if to == Presence::RemovalPending {
            said.push_str(&format!(
                "; it keeps running until `tradsys plugin remove {name}` confirms"
            ));
        }
        Ok(said)
    }

    /// The connector's or the matcher's kind when `name` is one of them.
    fn fixed(&self, name: &str) -> Option<PluginKind> {
        std::iter::once(self.slots.connector.plugin())
            .chain(self.slots.matcher.as_ref().map(|m| m.plugin()))
            .find(|p| p.name() == name)
            .map(|p| p.kind())
    }

    /// Note a change in the roll, the log, the membership log and the journal.
    fn record(
        &mut self,
        plugin: &crate::loading::Plugin,
        from: Option<Presence>,
        to: Presence,
        cause: &str,
        canceled_orders: u64,
    ) -> MembershipRecord {
        let change = match (from, to) {
            (None, _) => "joined",
            (_, Presence::Active) => "enabled",
            (_, Presence::Left) => "left",
            (_, Presence::Disabled) => "disabled",
            (_, Presence::RemovalPending) => "removal-pending",
            (_, Presence::Removed) => "removed",
        };
        let record = MembershipRecord {
            after_event: self.counts.events,
            plugin: plugin.id(),
            kind: plugin.kind(),
            change: change.to_string(),
            from,
            to,
            cause: cause.to_string(),
            canceled_orders,
        };
        let shared = self.control.shared();
        shared
            .roll
            .lock()
            .expect("roll")
            .insert(plugin.name().to_string(), (plugin.kind(), to));
        shared
            .membership_log
            .lock()
            .expect("membership log")
            .push(record.clone());
        // A risk check that stops, or waits to be removed, is worth a warning.
        let check_stops = plugin.kind() == PluginKind::RiskValidator && to != Presence::Active;
        if to == Presence::RemovalPending || check_stops {
            tracing::warn!(plugin = plugin.name(), version = %plugin.version(), "{change}: {cause}");
        } else {
            tracing::info!(plugin = plugin.name(), version = %plugin.version(), "{change}: {cause}");
        }
        let now = self.runtime().clock().now();
        self.journal.write(now, || {
            Entry::Membership(MembershipEntry {
                plugin: record.plugin.clone(),
                kind: record.kind,
                change: record.change.clone(),
                cause: record.cause.clone(),
                canceled_orders: record.canceled_orders,
            })
        });
        record
    }
}

//! Commands on their way to the simulated venue: approved, host-numbered,
//! each with the market time it arrives at (its strategy's clock when it
//! was sent plus the order latency), in arrival order and, for one arrival,
//! in the order they were sent.

use std::collections::BTreeMap;

use crate::bindings::types::OrderCommand;

/// Commands in flight, by (arrival, sequence).
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    commands: BTreeMap<(u64, u64), OrderCommand>,
    sent: u64,
}

impl InFlight {
    /// `command` sets off, arriving at `arrival`.
    pub(crate) fn send(&mut self, command: OrderCommand, arrival: u64) {
        self.sent += 1;
        self.commands.insert((arrival, self.sent), command);
    }

    /// How many are in flight.
    pub(crate) fn len(&self) -> usize {
        self.commands.len()
    }

    /// When the next one arrives.
    pub(crate) fn next_arrival(&self) -> Option<u64> {
        self.commands.keys().next().map(|(arrival, _)| *arrival)
    }

    /// Those that arrive before `ts` (all of them with `None`), grouped by
    /// arrival, oldest first.
    pub(crate) fn arrived(&mut self, before: Option<u64>) -> Vec<(u64, Vec<OrderCommand>)> {
        let mut out: Vec<(u64, Vec<OrderCommand>)> = Vec::new();
        while let Some(entry) = self.commands.first_entry() {
            let arrival = entry.key().0;
            if before.is_some_and(|ts| arrival >= ts) {
                break;
            }
            let command = entry.remove();
            match out.last_mut() {
                Some((at, commands)) if *at == arrival => commands.push(command),
                _ => out.push((arrival, vec![command])),
            }
        }
        out
    }

    /// Whether a command in flight is about order `id`.
    pub(crate) fn names(&self, id: u64) -> bool {
        self.commands.values().any(|c| c.id() == id)
    }

    /// Take out, in order, every command `pick` says.
    pub(crate) fn take(&mut self, pick: impl Fn(&OrderCommand) -> bool) -> Vec<OrderCommand> {
        let keys: Vec<(u64, u64)> = self
            .commands
            .iter()
            .filter(|(_, c)| pick(c))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.commands.remove(&k))
            .collect()
    }
}

//! Which idle instances to evict, and when.
//!
//! All plugin instances share one memory budget (`[memory]`). After each
//! market batch the session asks [`plan`] which instances to evict:
//! - any instance idle for `idle_evict_ms` goes, whatever the pressure;
//! - at medium pressure, instances idle for `min_idle_ms` go, lowest priority
//!   first (least recently used first within a priority), until usage is
//!   back below the medium mark;
//! - at high or critical pressure the same, without waiting for `min_idle_ms`.
//!
//! At critical pressure `PluginInstance` also refuses to instantiate
//! strategies, validators and processors below `reserved_priority`. An evicted instance
//! saves its state first and gets it back when re-made, so eviction does not
//! change results. The connector is called every batch, so it is never idle
//! and never evicted.

use std::time::Duration;

use crate::policy::{MemorySettings, Pressure};
use crate::sandbox::fault::Fault;
use crate::sandbox::instance::PluginInstance;
use crate::sandbox::kinds::KindBindings;

/// What the planner needs to know of one live instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The plugin's priority: lower goes first.
    pub priority: i32,
    /// Time since its last call.
    pub idle: Duration,
    /// Linear memory it holds.
    pub bytes: u64,
}

/// Indices of `candidates` to evict when `used` bytes are in use.
pub fn plan(candidates: &[Candidate], used: u64, settings: &MemorySettings) -> Vec<usize> {
    let idle_limit = Duration::from_millis(settings.idle_evict_ms);
    let min_idle = Duration::from_millis(settings.min_idle_ms);
    let mut used = used;
    let mut evict: Vec<usize> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if c.idle >= idle_limit {
            evict.push(i);
            used = used.saturating_sub(c.bytes);
        }
    }
    let pressure = settings.pressure(used);
    if pressure == Pressure::Low {
        return evict;
    }
    let mut eligible: Vec<usize> = (0..candidates.len())
        .filter(|i| !evict.contains(i))
        .filter(|&i| pressure >= Pressure::High || candidates[i].idle >= min_idle)
        .collect();
    eligible.sort_by(|&a, &b| {
        let (a, b) = (&candidates[a], &candidates[b]);
        a.priority.cmp(&b.priority).then(b.idle.cmp(&a.idle))
    });
    for i in eligible {
        if used < settings.low_mark() {
            break;
        }
        evict.push(i);
        used = used.saturating_sub(candidates[i].bytes);
    }
    evict
}

/// A slot the session can evict, whatever its kind.
pub trait Evictable {
    /// The planner's view of it, if it has a live instance that may be evicted.
    fn candidate(&self) -> Option<Candidate>;

    /// Save state and drop the instance.
    fn evict(&mut self) -> Result<bool, Fault>;
}

impl<B: KindBindings> Evictable for PluginInstance<B> {
    fn candidate(&self) -> Option<Candidate> {
        self.is_live().then(|| Candidate {
            priority: self.plugin().placement().priority,
            idle: self.idle(),
            bytes: self.memory_bytes(),
        })
    }

    fn evict(&mut self) -> Result<bool, Fault> {
        PluginInstance::evict(self)
    }
}

/// Evict from `slots` what [`plan`] picks; returns how many were evicted.
/// A failure to save state is already counted as the plugin's fault.
pub fn run(slots: &mut [&mut dyn Evictable], used: u64, settings: &MemorySettings) -> u64 {
    let live: Vec<(usize, Candidate)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.candidate().map(|c| (i, c)))
        .collect();
    let candidates: Vec<Candidate> = live.iter().map(|(_, c)| *c).collect();
    let mut evicted = 0;
    for pick in plan(&candidates, used, settings) {
        if let Ok(true) = slots[live[pick].0].evict() {
            evicted += 1;
        }
    }
    evicted
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// The default levels (0.5, 0.75, 0.9), 60 s idle, 1 s minimum idle, on 10 MiB.
    fn settings() -> MemorySettings {
        MemorySettings {
            budget_bytes: 10 * MIB,
            ..MemorySettings::default()
        }
    }

    fn c(priority: i32, idle_ms: u64) -> Candidate {
        Candidate {
            priority,
            idle: Duration::from_millis(idle_ms),
            bytes: 2 * MIB,
        }
    }

    #[test]
    fn low_pressure_evicts_only_long_idle_instances() {
        let all = [c(0, 5_000), c(0, 61_000), c(5, 100)];
        assert_eq!(plan(&all, 4 * MIB, &settings()), vec![1]);
    }

    #[test]
    fn medium_pressure_evicts_lowest_priority_then_least_recently_used_until_below_the_mark() {
        // 6 MiB of 10: medium. Down below 5 MiB takes one 2 MiB instance:
        // the lowest priority idle long enough.
        let all = [c(3, 5_000), c(1, 2_000), c(1, 9_000), c(0, 500)];
        // c(0, 500) is the lowest priority but idle less than min_idle_ms.
        assert_eq!(plan(&all, 6 * MIB, &settings()), vec![2]);
        // 8 MiB (high): min_idle no longer protects; two must go.
        assert_eq!(plan(&all, 8 * MIB, &settings()), vec![3, 2]);
    }

    #[test]
    fn idle_evictions_count_toward_relieving_pressure() {
        let all = [c(9, 70_000), c(0, 2_000)];
        // 6 MiB, but the long-idle one frees 2 MiB: back to low.
        assert_eq!(plan(&all, 6 * MIB, &settings()), vec![0]);
    }

    #[test]
    fn forced_eviction_takes_every_instance() {
        let forced = MemorySettings {
            idle_evict_ms: 0,
            ..settings()
        };
        let all = [c(9, 0), c(0, 0)];
        assert_eq!(plan(&all, 0, &forced), vec![0, 1]);
    }
}

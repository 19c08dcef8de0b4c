//! A session's start-up: the plugins it selected are compiled (or loaded
//! from the artifact cache) in parallel, one thread per core, before its
//! clock starts. The session's figures are then the session's, and its
//! first market event (live: the venue's first message) does not wait for
//! a compiler. Instances stay lazy: each is made on its first call. A
//! plugin that fails to compile keeps its reason and fails at first use,
//! as before; plugins installed but not selected are not compiled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::engine::CacheOutcome;
use crate::loading::{Plugin, Readiness};
use crate::trading::report::StartupReport;

use super::Session;

impl Session {
    /// Compile the selected plugins not ready yet; what it did.
    pub(super) fn compile_selected(&mut self) -> StartupReport {
        let slots = &self.slots;
        let waiting: Vec<Arc<Plugin>> = std::iter::once(slots.connector.plugin())
            .chain(slots.matcher.iter().map(|m| m.plugin()))
            .chain(slots.strategies.iter().map(|s| s.plugin()))
            .chain(slots.validators.iter().map(|v| v.plugin()))
            .chain(slots.processors.iter().map(|p| p.plugin()))
            .filter(|p| matches!(p.readiness(), Readiness::Discovered))
            .cloned()
            .collect();
        if waiting.is_empty() {
            return StartupReport::default();
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(waiting.len());
        tracing::info!(
            "making {} plugins ready before the session ({threads} at a time)",
            waiting.len()
        );
        let started = Instant::now();
        let next = AtomicUsize::new(0);
        let runtime = &self.runtime;
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    while let Some(plugin) = waiting.get(next.fetch_add(1, Ordering::Relaxed)) {
                        // A failure stays with the plugin, for its first use.
                        let _ = plugin.prepare(runtime);
                    }
                });
            }
        });
        let mut report = StartupReport {
            plugins: waiting.len() as u32,
            elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
            ..StartupReport::default()
        };
        for plugin in &waiting {
            if let Readiness::Compiled(load) = plugin.readiness()
                && matches!(load.cache, Some(CacheOutcome::Hit))
            {
                report.from_cache += 1;
            }
        }
        tracing::info!(
            "{} plugins ready in {:.0} ms ({} from the artifact cache), before the session's clock",
            report.plugins,
            report.elapsed_ms,
            report.from_cache
        );
        report
    }
}

//! Runtime reconfiguration: `tradsys plugin configure NAME key=value ...`
//! and an edit of the host config file (watched with `--watch`) give a
//! plugin of the session its new `[plugins.NAME]` settings through the swap
//! path: the running code is prepared again with them (verified, `init` run
//! off the data path), hands its state over and takes the slot between two
//! batches. A config its `init` refuses leaves the running instance as it
//! was, with the reason. Limits and grants are part of it: they hold from
//! the new instance on.
//!
//! Only `[plugins]` changes apply while running; an edit of any other table
//! is logged as taking effect at the next start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::{ConfigValue, HostConfig};
use crate::live::config_change::{ConfigChange, Difference};
use crate::live::control::Control;
use crate::live::error::ControlError;
use crate::live::swap::{SwapOutcome, SwapRequest};
use crate::loading::{Plugin, Registry};
use crate::policy::Grants;
use crate::sandbox::AnyInstance;

/// What differs between the grants of `old` and `new`.
fn differences(old: &Grants, new: &Grants) -> Vec<Difference> {
    let mut out = Vec::new();
    let config = |g: &Grants| -> BTreeMap<String, String> { g.config.iter().cloned().collect() };
    let (before, after) = (config(old), config(new));
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (o, n) = (before.get(key), after.get(key));
        if o != n {
            out.push(Difference {
                setting: format!("config.{key}"),
                old: o.cloned(),
                new: n.cloned(),
            });
        }
    }
    let mut compare = |setting: &str, o: String, n: String| {
        if o != n {
            out.push(Difference {
                setting: setting.to_string(),
                old: Some(o),
                new: Some(n),
            });
        }
    };
    let (a, b) = (&old.limits, &new.limits);
    for (setting, o, n) in [
        ("limits.fuel_per_call", a.fuel_per_call, b.fuel_per_call),
        ("limits.deadline_ms", a.deadline_ms, b.deadline_ms),
        ("limits.memory_bytes", a.memory_bytes, b.memory_bytes),
        (
            "limits.max_output",
            u64::from(a.max_output),
            u64::from(b.max_output),
        ),
        ("limits.init_fuel", a.init_fuel, b.init_fuel),
        (
            "limits.init_deadline_ms",
            a.init_deadline_ms,
            b.init_deadline_ms,
        ),
    ] {
        compare(setting, o.to_string(), n.to_string());
    }
    compare(
        "read_dir",
        format!("{:?}", old.read_dir),
        format!("{:?}", new.read_dir),
    );
    compare(
        "network",
        format!("{:?}", old.network),
        format!("{:?}", new.network),
    );
    compare("random", old.random.to_string(), new.random.to_string());
    compare(
        "faults",
        format!("{:?}", old.faults),
        format!("{:?}", new.faults),
    );
    out
}

fn describe(differences: &[Difference]) -> String {
    let each: Vec<String> = differences
        .iter()
        .map(|d| format!("{}: {}", d.setting, d.values()))
        .collect();
    each.join(", ")
}

impl Control {
    /// Set `pairs` in the config of plugin `name` and re-initialise it
    /// with them: what changed, or why it could not.
    pub fn configure(
        &self,
        name: &str,
        pairs: &[(String, String)],
    ) -> Result<String, ControlError> {
        self.check_running()?;
        if pairs.is_empty() {
            return Err(ControlError::Invalid(
                "nothing to configure: give key=value pairs".into(),
            ));
        }
        if !self.running().contains_key(name) {
            return Err(ControlError::UnknownPlugin(name.to_string()));
        }
        let _one_at_a_time = self.env().reconfiguring.lock().expect("reconfiguring");
        let mut config = self.env().config();
        let settings = config.plugins.entry(name.to_string()).or_default();
        for (key, value) in pairs {
            settings
                .config
                .insert(key.clone(), ConfigValue::Text(value.clone()));
        }
        let said = self.apply_config(config, "the operator", Some(name))?;
        if said.is_empty() {
            return Err(ControlError::Refused(format!(
                "{name}: the config already says so"
            )));
        }
        Ok(said.join("; "))
    }

    /// The host config file `path` changed: give every plugin of the session
    /// whose `[plugins]` entry changed its new settings. The file's other
    /// tables take effect at the next start (logged).
    pub fn reload_config(&self, path: &Path) -> Result<Vec<String>, ControlError> {
        let file = HostConfig::load(path)
            .map_err(|e| ControlError::Invalid(format!("{e:#}; the running config goes on")))?;
        let _one_at_a_time = self.env().reconfiguring.lock().expect("reconfiguring");
        let mut config = self.env().config();
        config.plugins = file.plugins.clone();
        let same = |a: &HostConfig, b: &HostConfig| {
            format!("{:?}{:?}{:?}", a.venue, a.memory, a.swap)
                == format!("{:?}{:?}{:?}", b.venue, b.memory, b.swap)
        };
        if !same(&file, &config) {
            tracing::warn!(
                file = %path.display(),
                "only [plugins] changes apply while running; [venue], [memory] and [swap] take effect at the next start"
            );
        }
        self.apply_config(config, &format!("{} changed", path.display()), None)
    }

    /// Re-initialise the plugins (all, or `only`) whose grants differ under
    /// `config`; keep `config` for what comes next (a refused plugin keeps its
    /// old entry). What was done, per plugin.
    fn apply_config(
        &self,
        mut config: HostConfig,
        cause: &str,
        only: Option<&str>,
    ) -> Result<Vec<String>, ControlError> {
        let env = self.env();
        let old_config = env.config();
        let registry = Registry::scan(&env.dir, &config, &env.policy).map_err(|e| {
            ControlError::Refused(format!(
                "scanning {} with the new config: {e:#}",
                env.dir.display()
            ))
        })?;
        let mut said = Vec::new();
        let mut failed = Vec::new();
        for (name, running) in self.running() {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            let Some(new) = registry.get(&name) else {
                continue;
            };
            let diff = differences(running.grants(), new.grants());
            if diff.is_empty() {
                continue;
            }
            let result = self.reconfigure(&running, new.clone(), cause, &diff);
            let change = ConfigChange {
                plugin: running.id(),
                cause: cause.to_string(),
                differences: diff.clone(),
                applied: result.is_ok(),
                reason: result.as_ref().err().map(ToString::to_string),
            };
            self.shared()
                .config_log
                .lock()
                .expect("config log")
                .push(change);
            match result {
                Ok(()) => {
                    tracing::info!(plugin = name, version = %running.version(), "reconfigured ({cause}): {}", describe(&diff));
                    said.push(format!(
                        "{}: reconfigured: {}",
                        running.id(),
                        describe(&diff)
                    ));
                }
                Err(reason) => {
                    tracing::warn!(plugin = name, version = %running.version(), "new config refused ({cause}): {reason}");
                    failed.push(format!("{}: {reason}", running.id()));
                    // The refused plugin keeps what it runs with.
                    match old_config.plugins.get(&name) {
                        Some(old) => config.plugins.insert(name.clone(), old.clone()),
                        None => config.plugins.remove(&name),
                    };
                }
            }
        }
        *env.config.write().expect("config") = config;
        if failed.is_empty() {
            Ok(said)
        } else {
            said.extend(failed);
            Err(ControlError::Refused(said.join("; ")))
        }
    }

    /// Prepare `new` (the running code under new grants) and swap it in.
    fn reconfigure(
        &self,
        running: &Arc<Plugin>,
        new: Arc<Plugin>,
        cause: &str,
        diff: &[Difference],
    ) -> Result<(), ControlError> {
        if new.digest() != running.digest() {
            return Err(ControlError::Refused(format!(
                "the directory now selects {} (not the running {}): upgrade first",
                new.id(),
                running.id()
            )));
        }
        let prepared = AnyInstance::prepare(&self.env().runtime, new).map_err(|reason| {
            ControlError::Refused(format!("its init refused the new config: {reason}"))
        })?;
        let (reply, answer) = std::sync::mpsc::channel();
        self.submit(SwapRequest {
            reconfigure: true,
            reply: Some(reply),
            ..SwapRequest::new(
                vec![prepared],
                format!("reconfigured ({cause}): {}", describe(diff)),
            )
        })?;
        let record = answer
            .recv_timeout(crate::live::control::SESSION_WAIT)
            .map_err(|_| ControlError::NoAnswer)?;
        match record.outcome {
            SwapOutcome::Swapped => Ok(()),
            other => Err(ControlError::Refused(other.to_string())),
        }
    }
}

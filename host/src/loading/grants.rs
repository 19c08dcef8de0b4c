//! What the host grants one plugin, decided in this one place from the host
//! config and the plugin's manifest: whether it loads, its pin, its
//! placement, its limits (its own `[plugins.NAME.limits]`, else
//! `[limits.KIND]`, else the kind's default, never more than that however
//! much the manifest asks) and its capabilities and config entries.

use crate::config::HostConfig;
use crate::policy::{Grants, Limits, Placement, PluginKind};

/// Whether the plugin called `name` should be loaded.
pub fn enabled(config: &HostConfig, name: &str) -> bool {
    config.plugins.get(name).is_none_or(|p| p.enabled)
}

/// The operator's version pin for `name`, if any.
pub fn pin<'a>(config: &'a HostConfig, name: &str) -> Option<&'a semver::VersionReq> {
    config.plugins.get(name).and_then(|p| p.version.as_ref())
}

/// The priority and preloading of the plugin of `manifest`.
pub fn placement(config: &HostConfig, manifest: &tradsys_signing::Manifest) -> Placement {
    let settings = config.plugins.get(manifest.name.as_str());
    Placement {
        priority: settings
            .and_then(|s| s.priority)
            .unwrap_or(manifest.priority),
        preload: settings.is_some_and(|s| s.preload),
    }
}

/// Why the config's settings for the plugin of `manifest` cannot apply to
/// it, if they cannot (the file is then refused with this reason).
pub fn misfit(config: &HostConfig, manifest: &tradsys_signing::Manifest) -> Option<String> {
    let name = manifest.name.as_str();
    let settings = config.plugins.get(name);
    let own = settings.and_then(|p| p.limits.as_ref());
    for (key, set) in [
        ("events", settings.is_some_and(|s| s.events.is_some())),
        (
            "instruments",
            settings.is_some_and(|s| s.instruments.is_some()),
        ),
    ] {
        if manifest.kind != PluginKind::Strategy && set {
            return Some(format!(
                "[plugins.{name}] {key} is a strategy's subscription; {name} is a {}",
                manifest.kind
            ));
        }
    }
    (manifest.kind == PluginKind::RiskValidator && own.is_some_and(|l| l.max_output.is_some()))
        .then(|| {
            format!(
                "[plugins.{name}.limits] max_output does not apply to a risk validator, which \
                 answers exactly one verdict per order"
            )
        })
}

/// The most the host allows the plugin called `name` of `kind`: its own
/// `[plugins.NAME.limits]`, else `[limits.KIND]`, else the kind's default.
pub fn limits(config: &HostConfig, name: &str, kind: PluginKind) -> Limits {
    let by_kind = match kind {
        PluginKind::Strategy => config.limits.strategy.as_ref(),
        PluginKind::RiskValidator => config.limits.risk_validator.as_ref(),
        PluginKind::Matcher => config.limits.matcher.as_ref(),
        PluginKind::Connector => config.limits.connector.as_ref(),
        PluginKind::Processor => config.limits.processor.as_ref(),
    };
    let own = config.plugins.get(name).and_then(|p| p.limits.as_ref());
    Limits::default_for(kind)
        .overridden(by_kind)
        .overridden(own)
}

/// What the host grants the plugin of `manifest`. The session's connector
/// also gets `seed` unless its config sets one.
pub fn grants(config: &HostConfig, manifest: &tradsys_signing::Manifest) -> Grants {
    let name = manifest.name.as_str();
    let settings = config.plugins.get(name);
    let mut entries: Vec<(String, String)> = settings
        .map(|s| {
            s.config
                .iter()
                .map(|(k, v)| (k.clone(), v.to_text()))
                .collect()
        })
        .unwrap_or_default();
    if name == config.run.connector && !entries.iter().any(|(k, _)| k == "seed") {
        entries.push(("seed".to_string(), config.run.seed.to_string()));
    }
    Grants {
        config: entries,
        read_dir: settings.and_then(|s| s.read_dir.clone()),
        limits: limits(config, name, manifest.kind).granting(&manifest.limits),
        network: settings.map(|s| resolve(&s.network)).unwrap_or_default(),
        random: settings.is_some_and(|s| s.random),
        tls: settings.and_then(|s| s.tls.clone()),
        events: settings
            .and_then(|s| s.events.clone())
            .or_else(|| manifest.events.clone()),
        instruments: settings.and_then(|s| s.instruments.clone()),
        faults: config.faults,
    }
}

/// Resolve `host:port` grants (checked when the config is loaded).
fn resolve(addresses: &[String]) -> Vec<std::net::SocketAddr> {
    use std::net::ToSocketAddrs as _;
    addresses
        .iter()
        .filter_map(|a| a.to_socket_addrs().ok())
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONNECTOR;

    fn manifest(name: &str, kind: &str) -> tradsys_signing::Manifest {
        let json = format!(r#"{{"name":"{name}","version":"1.0.0","kind":"{kind}","api":"^1.0"}}"#);
        tradsys_signing::Manifest::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn limits_come_from_the_plugin_then_the_kind_then_the_default_and_cap_the_manifest() {
        let config: HostConfig = toml::from_str(
            "[limits.strategy]\nfuel_per_call = 1000\ndeadline_ms = 7\n\n[plugins.fast.limits]\nfuel_per_call = 50\n",
        )
        .unwrap();
        let strategy = limits(&config, "slow", PluginKind::Strategy);
        assert_eq!((strategy.fuel_per_call, strategy.deadline_ms), (1000, 7));
        assert_eq!(
            strategy.memory_bytes,
            Limits::default_for(PluginKind::Strategy).memory_bytes
        );
        assert_eq!(
            limits(&config, "fast", PluginKind::Strategy).fuel_per_call,
            50
        );
        assert_eq!(
            limits(&config, "any", PluginKind::Matcher),
            Limits::default_for(PluginKind::Matcher)
        );
        // A manifest may ask for less, never for more than the host allows.
        let asks = |fuel| tradsys_signing::Limits {
            fuel_per_call: Some(fuel),
            ..Default::default()
        };
        assert_eq!(strategy.granting(&asks(10)).fuel_per_call, 10);
        assert_eq!(strategy.granting(&asks(1_000_000)).fuel_per_call, 1000);
    }

    #[test]
    fn an_output_limit_for_a_validator_is_refused_naming_the_setting() {
        let config: HostConfig =
            toml::from_str("[plugins.max-notional.limits]\nmax_output = 5\n").unwrap();
        let validator = misfit(&config, &manifest("max-notional", "risk-validator"));
        assert!(
            validator
                .unwrap()
                .contains("[plugins.max-notional.limits] max_output")
        );
        let config: HostConfig =
            toml::from_str("[plugins.ma-crossover.limits]\nmax_output = 5\n").unwrap();
        assert_eq!(misfit(&config, &manifest("ma-crossover", "strategy")), None);
    }

    #[test]
    fn parses_a_full_config_and_renders_values_as_text() {
        let config: HostConfig = toml::from_str(
            r#"
            [run]
            events = 500
            seed = 7
            [plugins.max-notional]
            config = { max_notional = 150000, band = 1.5, strict = true, name = "x" }
            "#,
        )
        .unwrap();
        assert_eq!(config.run.events, 500);
        let granted = grants(&config, &manifest("max-notional", "risk-validator"));
        assert_eq!(
            granted.config,
            vec![
                ("band".to_string(), "1.5".to_string()),
                ("max_notional".to_string(), "150000".to_string()),
                ("name".to_string(), "x".to_string()),
                ("strict".to_string(), "true".to_string()),
            ]
        );
        assert!(
            grants(&config, &manifest(DEFAULT_CONNECTOR, "connector"))
                .config
                .contains(&("seed".to_string(), "7".to_string()))
        );
    }
}

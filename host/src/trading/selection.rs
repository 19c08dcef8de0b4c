//! Which installed plugins a session uses: the connector `run.connector`
//! names, the matcher (`run.matcher`, or the only one installed, or among
//! several the venue model's own: `sim-venue` simulated, `fifo-matcher` for
//! an exchange), the
//! strategies, validators and processors `run.strategies`, `run.validators`
//! and `run.processors` name (by default every installed one), the
//! processors in dependency order. A name that is missing, refused or of
//! another kind is an error that says which, and so is a processor's
//! setting (`on_fault`) on a plugin of another kind.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{Result, bail};

use crate::config::{HostConfig, OnFault, VenueModel};
use crate::loading::{Plugin, Registry};
use crate::policy::PluginKind;

/// The plugins of one session.
pub(crate) struct Selection {
    pub(crate) connector: Arc<Plugin>,
    pub(crate) matcher: Option<Arc<Plugin>>,
    pub(crate) strategies: Vec<Arc<Plugin>>,
    pub(crate) validators: Vec<Arc<Plugin>>,
    /// Processors, each after the processors it depends on, with its fault policy.
    pub(crate) processors: Vec<(Arc<Plugin>, OnFault)>,
    /// Installed plugins the session does not use (`name@version`).
    pub(crate) unused: Vec<String>,
}

impl Selection {
    /// Pick from `registry` as `config` says.
    pub(crate) fn pick(registry: &Registry, config: &HostConfig) -> Result<Self> {
        let settings = &config.run;
        let venue = config.venue.model;
        let names = |kind| {
            registry
                .of_kind(kind)
                .map(|p| p.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let connector = match registry.get(&settings.connector) {
            Some(p) if p.kind() == PluginKind::Connector => p.clone(),
            Some(p) => bail!(
                "run.connector `{}` is a {}, not a connector",
                settings.connector,
                p.kind()
            ),
            None => match refusal(registry, &settings.connector) {
                Some(reason) => bail!("connector `{}` was refused: {reason}", settings.connector),
                None => bail!(
                    "connector `{}` is not installed (installed connectors: {})",
                    settings.connector,
                    names(PluginKind::Connector)
                ),
            },
        };
        if venue == VenueModel::Live && !connector.is_network_connector() {
            bail!(
                "[venue] model = \"live\" needs a network connector (fix-venue, for one), and \
                 run.connector `{}` is a feed's connector",
                settings.connector
            );
        }
        if connector.is_network_connector() && connector.grants().network.is_empty() {
            bail!(
                "network connector `{}` has no address to connect to: grant one with \
                 [plugins.{}] network = [\"HOST:PORT\"]",
                settings.connector,
                settings.connector
            );
        }
        let matchers: Vec<_> = registry.of_kind(PluginKind::Matcher).collect();
        let matcher = match (&settings.matcher, matchers.as_slice()) {
            // A live venue matches: no matcher is needed (one installed is
            // taken all the same, for the operator to swap or shadow).
            (None, []) if venue == VenueModel::Live => None,
            (Some(name), _) => match registry.get(name) {
                Some(p) if p.kind() == PluginKind::Matcher => Some(p.clone()),
                _ => bail!(
                    "matcher `{name}` is not installed (installed matchers: {})",
                    names(PluginKind::Matcher)
                ),
            },
            (None, [only]) => Some((*only).clone()),
            (None, []) => bail!("no matcher is installed"),
            (None, several) => {
                let own = match venue {
                    VenueModel::Simulated | VenueModel::Live => "sim-venue",
                    VenueModel::Exchange => "fifo-matcher",
                };
                match several.iter().find(|p| p.name() == own) {
                    Some(p) => Some((*p).clone()),
                    None => bail!(
                        "several matchers are installed ({}); set run.matcher",
                        names(PluginKind::Matcher)
                    ),
                }
            }
        };
        let strategies = chosen(
            registry,
            PluginKind::Strategy,
            settings.strategies.as_deref(),
        )?;
        let validators = chosen(
            registry,
            PluginKind::RiskValidator,
            settings.validators.as_deref(),
        )?;
        let processors = chosen(
            registry,
            PluginKind::Processor,
            settings.processors.as_deref(),
        )?;
        let processors = fault_policies(config, registry, dependency_order(processors))?;
        let used: BTreeSet<&str> = std::iter::once(connector.name())
            .chain(matcher.as_ref().map(|m| m.name()))
            .chain(strategies.iter().chain(&validators).map(|p| p.name()))
            .chain(processors.iter().map(|(p, _)| p.name()))
            .collect();
        let unused = registry
            .plugins()
            .iter()
            .filter(|p| !used.contains(p.name()))
            .map(|p| p.id())
            .collect();
        Ok(Self {
            connector,
            matcher,
            strategies,
            validators,
            processors,
            unused,
        })
    }

    /// Every selected plugin: connector, matcher, strategies, validators,
    /// processors.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Plugin>> {
        std::iter::once(&self.connector)
            .chain(&self.matcher)
            .chain(&self.strategies)
            .chain(&self.validators)
            .chain(self.processors.iter().map(|(p, _)| p))
    }
}

/// `processors` reordered so each comes after the processors it depends on
/// (otherwise in their order; the registry refused every cycle already).
fn dependency_order(processors: Vec<Arc<Plugin>>) -> Vec<Arc<Plugin>> {
    fn visit(
        plugin: &Arc<Plugin>,
        all: &[Arc<Plugin>],
        placed: &mut BTreeSet<String>,
        order: &mut Vec<Arc<Plugin>>,
    ) {
        if !placed.insert(plugin.name().to_string()) {
            return;
        }
        for dependency in plugin.dependencies() {
            if let Some(p) = all.iter().find(|p| p.name() == dependency.name()) {
                visit(p, all, placed, order);
            }
        }
        order.push(plugin.clone());
    }
    let mut placed = BTreeSet::new();
    let mut order = Vec::with_capacity(processors.len());
    for plugin in &processors {
        visit(plugin, &processors, &mut placed, &mut order);
    }
    order
}

/// Each processor with its `on_fault`; the setting on a plugin of another
/// kind is an error naming it.
fn fault_policies(
    config: &HostConfig,
    registry: &Registry,
    processors: Vec<Arc<Plugin>>,
) -> Result<Vec<(Arc<Plugin>, OnFault)>> {
    for (name, settings) in &config.plugins {
        if settings.on_fault.is_none() {
            continue;
        }
        if let Some(p) = registry.get(name)
            && p.kind() != PluginKind::Processor
        {
            bail!(
                "plugins.{name}.on_fault is for processors, and {name} is a {}",
                p.kind()
            );
        }
    }
    Ok(processors
        .into_iter()
        .map(|p| {
            let policy = config
                .plugins
                .get(p.name())
                .and_then(|s| s.on_fault)
                .unwrap_or_default();
            (p, policy)
        })
        .collect())
}

/// The plugins of `kind` the session uses: those named (each must be
/// installed and of that kind), or every installed one.
fn chosen(
    registry: &Registry,
    kind: PluginKind,
    names: Option<&[String]>,
) -> Result<Vec<Arc<Plugin>>> {
    let Some(names) = names else {
        return Ok(registry.of_kind(kind).cloned().collect());
    };
    let key = match kind {
        PluginKind::Strategy => "run.strategies",
        PluginKind::Processor => "run.processors",
        _ => "run.validators",
    };
    names
        .iter()
        .map(|name| match registry.get(name) {
            Some(p) if p.kind() == kind => Ok(p.clone()),
            Some(p) => bail!("{key}: `{name}` is a {}, not a {kind}", p.kind()),
            None => match refusal(registry, name) {
                Some(reason) => bail!("{key}: `{name}` was refused: {reason}"),
                None => bail!("{key}: `{name}` is not installed"),
            },
        })
        .collect()
}

/// Why the plugin called `name` was refused at load, if it was.
fn refusal(registry: &Registry, name: &str) -> Option<String> {
    let prefix = format!("{name}@");
    registry
        .rejected()
        .into_iter()
        .find(|r| r.plugin.as_deref().is_some_and(|p| p.starts_with(&prefix)))
        .map(|r| format!("{}: {}", r.file.display(), r.reason))
}

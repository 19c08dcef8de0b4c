//! A plugin as the host knows it once loaded: its name, kind, file and the
//! pre-resolved component ready to instantiate.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::{Component, types::ComponentItem};

use crate::bindings::{connector, matcher, risk_validator, strategy};
use crate::runtime::{Grants, HostState, Runtime};

/// Version of the `tradsys:plugins` WIT package this host implements.
pub const API_VERSION: &str = "1.0.0";

/// The four kinds of plugin, one per WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// Market data and orders in, order commands out.
    Strategy,
    /// Pre-trade checks on every order.
    RiskValidator,
    /// The order book that executes approved orders.
    Matcher,
    /// The source of market data (and optionally a venue).
    Connector,
}

impl PluginKind {
    /// Every kind.
    pub const ALL: [PluginKind; 4] = [
        Self::Strategy,
        Self::RiskValidator,
        Self::Matcher,
        Self::Connector,
    ];

    /// The WIT world name.
    pub fn world(self) -> &'static str {
        match self {
            Self::Strategy => "strategy",
            Self::RiskValidator => "risk-validator",
            Self::Matcher => "matcher",
            Self::Connector => "connector",
        }
    }

    /// The interface the kind's world exports, without its version.
    fn export_interface(self) -> &'static str {
        match self {
            Self::Strategy => "tradsys:plugins/strategy-api",
            Self::RiskValidator => "tradsys:plugins/risk-validator-api",
            Self::Matcher => "tradsys:plugins/matcher-api",
            Self::Connector => "tradsys:plugins/connector-api",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.world())
    }
}

/// Identify a component's kind from the interface it exports.
///
/// Exactly one `tradsys:plugins` kind interface at this host's API version
/// must be exported; anything else is an error saying what was found.
pub fn identify_kind(engine: &Engine, component: &Component) -> Result<PluginKind, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    let mut found = Vec::new();
    for name in &exports {
        let (interface, version) = name.split_once('@').unwrap_or((name.as_str(), ""));
        if let Some(kind) = PluginKind::ALL
            .into_iter()
            .find(|k| k.export_interface() == interface)
        {
            if version != API_VERSION {
                return Err(format!(
                    "exports {name} but this host implements tradsys:plugins@{API_VERSION}"
                ));
            }
            found.push(kind);
        }
    }
    match found.as_slice() {
        [kind] => Ok(*kind),
        [] if exports.is_empty() => Err("exports no interface; not a tradsys plugin".to_string()),
        [] => Err(format!(
            "exports none of the tradsys:plugins worlds (strategy, risk-validator, matcher, connector); found {}",
            exports.join(", ")
        )),
        _ => Err(format!(
            "exports more than one plugin kind: {}",
            exports.join(", ")
        )),
    }
}

/// A component resolved against the host's imports, typed by kind (internal).
#[doc(hidden)]
pub enum KindPre {
    Strategy(strategy::StrategyPre<HostState>),
    RiskValidator(risk_validator::RiskValidatorPre<HostState>),
    Matcher(matcher::MatcherPre<HostState>),
    Connector(connector::ConnectorPre<HostState>),
}

/// A verified, compiled plugin ready to instantiate.
pub struct Plugin {
    name: String,
    path: PathBuf,
    kind: PluginKind,
    grants: Grants,
    pub(crate) pre: KindPre,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Compile `bytes`, identify the kind and resolve imports. The error says
    /// what is wrong without naming the file (the caller adds that).
    pub fn load(
        runtime: &Runtime,
        name: &str,
        path: &Path,
        bytes: &[u8],
        grants: Grants,
    ) -> anyhow::Result<Self> {
        let component = runtime.compile(bytes)?;
        let kind = identify_kind(runtime.engine(), &component).map_err(anyhow::Error::msg)?;
        let pre = runtime.instantiate_pre(&component)?;
        let pre = match kind {
            PluginKind::Strategy => KindPre::Strategy(strategy::StrategyPre::new(pre)?),
            PluginKind::RiskValidator => {
                KindPre::RiskValidator(risk_validator::RiskValidatorPre::new(pre)?)
            }
            PluginKind::Matcher => KindPre::Matcher(matcher::MatcherPre::new(pre)?),
            PluginKind::Connector => KindPre::Connector(connector::ConnectorPre::new(pre)?),
        };
        Ok(Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            kind,
            grants,
            pre,
        })
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its kind.
    pub fn kind(&self) -> PluginKind {
        self.kind
    }

    /// What the host grants it.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }
}

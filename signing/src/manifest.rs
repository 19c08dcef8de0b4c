//! The plugin manifest: what a plugin declares about itself, carried in the
//! `tradsys-manifest` custom section as JSON.

use std::collections::BTreeMap;
use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Name of the custom section holding the manifest.
pub const MANIFEST_SECTION: &str = "tradsys-manifest";

/// A plugin name: 1 to 64 of `a-z`, `0-9` and `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PluginName(String);

impl PluginName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PluginName {
    type Error = String;

    fn try_from(name: String) -> std::result::Result<Self, String> {
        let ok = (1..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(name))
        } else {
            Err(format!(
                "`{name}` is not a plugin name (1 to 64 of a-z, 0-9, -, starting with a letter)"
            ))
        }
    }
}

impl From<PluginName> for String {
    fn from(name: PluginName) -> String {
        name.0
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The five plugin kinds, one per `tradsys:plugins` world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A trading strategy.
    Strategy,
    /// A pre-trade risk validator.
    RiskValidator,
    /// An order-matching engine.
    Matcher,
    /// A market-data / venue connector.
    Connector,
    /// A market-data processor: bars and signals derived for the strategies
    /// (`tradsys:plugins` 1.2.0 and later).
    Processor,
}

impl Kind {
    /// The WIT world name.
    pub fn world(self) -> &'static str {
        match self {
            Self::Strategy => "strategy",
            Self::RiskValidator => "risk-validator",
            Self::Matcher => "matcher",
            Self::Connector => "connector",
            Self::Processor => "processor",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so a report's columns (`{:<14}`) line up.
        f.pad(self.world())
    }
}

/// What the plugin asks the host to let it reach. Nothing is reachable by
/// default; the host decides what it grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capabilities {
    /// Read files in one directory the host preopens at `/data`.
    pub read_dir: bool,
    /// `host:port` pairs the plugin wants to connect to.
    pub network: Vec<String>,
    /// The plugin imports WASI interfaces it never uses (a language
    /// runtime's, such as componentize-py's Python, which imports all of
    /// WASI): the host links them with nothing behind them instead of
    /// refusing the plugin (no directory, no socket, random bytes from a
    /// fixed seed, clocks at market time). It grants nothing by itself:
    /// `read_dir` and `network` above still need the host's grant.
    pub unused_wasi: bool,
}

/// Resource limits the plugin asks for; the host grants at most its own caps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Fuel per call.
    pub fuel_per_call: Option<u64>,
    /// Wall-clock deadline per call, milliseconds.
    pub deadline_ms: Option<u64>,
    /// Linear memory, bytes.
    pub memory_bytes: Option<u64>,
}

/// A kind of market event a strategy may subscribe to (its manifest's
/// `events`, or `[plugins.NAME] events` over it). Instrument definitions and
/// status changes always reach it; signals follow its `signals` config entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// Top of book.
    Quote,
    /// A trade.
    Trade,
    /// A change to one order of a book by order.
    BookDelta,
    /// A depth snapshot of price levels.
    Depth,
    /// A bar.
    Bar,
}

/// What a plugin declares about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique plugin name.
    pub name: PluginName,
    /// The plugin's version.
    pub version: Version,
    /// Its kind.
    pub kind: Kind,
    /// The `tradsys:plugins` API versions it works with, e.g. `^1.0`.
    pub api: VersionReq,
    /// One line on what it does.
    #[serde(default)]
    pub description: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: String,
    /// What it asks to reach.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// Limits it asks for.
    #[serde(default)]
    pub limits: Limits,
    /// Other plugins it needs, by name, with the versions it accepts.
    #[serde(default)]
    pub dependencies: BTreeMap<PluginName, VersionReq>,
    /// Higher runs (and is kept in memory) first; default 0.
    #[serde(default)]
    pub priority: i32,
    /// A strategy's market event kinds: it is handed only those (every
    /// kind when absent). The host's config may set others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventKind>>,
}

impl Manifest {
    /// Parse a manifest section's payload.
    pub fn from_json(data: &[u8]) -> Result<Self> {
        let manifest: Self =
            serde_json::from_slice(data).map_err(|e| Error::MalformedManifest(e.to_string()))?;
        manifest.check().map_err(Error::MalformedManifest)?;
        Ok(manifest)
    }

    /// The payload of a manifest section.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest always serialises")
    }

    /// `name@version`, for messages.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Why it cannot be: a subscription (`events`) on a plugin other than
    /// a strategy, or one that names no kind.
    pub fn check(&self) -> std::result::Result<(), String> {
        match &self.events {
            Some(_) if self.kind != Kind::Strategy => Err(format!(
                "`events` is a strategy's subscription; {} is a {}",
                self.name, self.kind
            )),
            Some(kinds) if kinds.is_empty() => Err(format!(
                "`events` of {} names no kind (leave it out for every kind)",
                self.name
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_fills_its_column() {
        assert_eq!(format!("[{:<10}]", Kind::Matcher), "[matcher   ]");
        assert_eq!(Kind::RiskValidator.to_string(), "risk-validator");
    }

    #[test]
    fn parses_into_real_types_and_refuses_unknown_fields() {
        let m = Manifest::from_json(
            br#"{"name":"ma-crossover","version":"1.2.3","kind":"strategy","api":"^1.0",
                 "dependencies":{"fifo-matcher":"^1"},"priority":5}"#,
        )
        .unwrap();
        assert_eq!(m.version, Version::new(1, 2, 3));
        assert!(m.api.matches(&Version::new(1, 4, 0)));
        assert_eq!(m.kind, Kind::Strategy);
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);

        let err = |json: &str| {
            Manifest::from_json(json.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(r#"{"name":"a","version":"1.0.0","kind":"strategy","api":"^1","colour":"red"}"#)
                .contains("colour")
        );
        let subscribed = Manifest::from_json(
            br#"{"name":"q","version":"1.0.0","kind":"strategy","api":"^1","events":["quote","book-delta"]}"#,
        )
        .unwrap();
        assert_eq!(
            subscribed.events,
            Some(vec![EventKind::Quote, EventKind::BookDelta])
        );
        assert!(
            err(r#"{"name":"v","version":"1.0.0","kind":"risk-validator","api":"^1","events":["quote"]}"#)
                .contains("`events` is a strategy's subscription; v is a risk-validator")
        );
        assert!(
            err(
                r#"{"name":"q","version":"1.0.0","kind":"strategy","api":"^1","events":["quotes"]}"#
            )
            .contains("quotes")
        );
        assert!(
            err(r#"{"name":"q","version":"1.0.0","kind":"strategy","api":"^1","events":[]}"#)
                .contains("names no kind")
        );
        assert!(
            err(r#"{"name":"A b","version":"1.0.0","kind":"strategy","api":"^1"}"#)
                .contains("not a plugin name")
        );
        assert!(
            err(r#"{"name":"a","version":"one","kind":"strategy","api":"^1"}"#)
                .contains("manifest")
        );
        assert!(
            err(r#"{"name":"a","version":"1.0.0","kind":"robot","api":"^1"}"#).contains("robot")
        );
    }
}

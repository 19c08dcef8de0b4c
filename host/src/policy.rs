//! The bottom layer: what the host grants a plugin and how it bounds it.
//! Limits, grants, fault and memory settings, pressure levels, placement.
//!
//! Architecture invariant: this module imports nothing else of the host, so
//! every layer above (config, engine, loading, sandbox, live, trading) can
//! use these types without an import cycle. Deciding *which* limits and
//! grants a plugin gets from the config and its manifest happens in one
//! place above it, `loading::grants`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The plugin kinds, one per WIT world (the manifest's `kind`).
pub use tradsys_signing::Kind as PluginKind;

/// Resource limits of one plugin call and instance as the config states
/// them. Every field is optional; what is left out falls back to the kind's
/// default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Fuel (roughly, wasm instructions) per call; the call traps when it runs out.
    pub fuel_per_call: Option<u64>,
    /// Wall-clock deadline per call, milliseconds (epoch interruption, 1 ms ticks).
    pub deadline_ms: Option<u64>,
    /// Linear memory per instance, bytes; a grow beyond it fails inside the guest.
    pub memory_bytes: Option<u64>,
    /// Items one call may return (commands, events, reports); more is a fault.
    /// Not for a risk validator, which answers exactly one verdict per order.
    pub max_output: Option<u32>,
    /// Fuel for instantiation and `init` together (default: ten calls' worth).
    pub init_fuel: Option<u64>,
    /// Deadline for instantiation and `init`, milliseconds (default: ten calls' worth).
    pub init_deadline_ms: Option<u64>,
}

/// Limits as granted to one plugin: every field decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call.
    pub fuel_per_call: u64,
    /// Wall-clock deadline per call, milliseconds.
    pub deadline_ms: u64,
    /// Linear memory per instance, bytes.
    pub memory_bytes: u64,
    /// Items one call may return (a validator: exactly one verdict per order instead).
    pub max_output: u32,
    /// Fuel for instantiation and `init`.
    pub init_fuel: u64,
    /// Deadline for instantiation and `init`, milliseconds.
    pub init_deadline_ms: u64,
}

impl Limits {
    /// The built-in default of each kind (safe for the examples with room to spare).
    ///
    /// | kind | fuel per call | deadline | memory | output items |
    /// |---|---|---|---|---|
    /// | strategy | 100 M | 100 ms | 64 MiB | 10,000 |
    /// | risk-validator | 50 M | 50 ms | 32 MiB | (one verdict per order) |
    /// | matcher | 200 M | 100 ms | 256 MiB | 1,000,000 |
    /// | connector | 200 M | 500 ms | 256 MiB | 100,000 |
    /// | processor | 100 M | 100 ms | 64 MiB | 100,000 |
    pub fn default_for(kind: PluginKind) -> Self {
        const MIB: u64 = 1 << 20;
        let (fuel_per_call, deadline_ms, memory_bytes, max_output) = match kind {
            PluginKind::Strategy => (100_000_000, 100, 64 * MIB, 10_000),
            PluginKind::RiskValidator => (50_000_000, 50, 32 * MIB, 1_000_000),
            PluginKind::Matcher => (200_000_000, 100, 256 * MIB, 1_000_000),
            PluginKind::Connector => (200_000_000, 500, 256 * MIB, 100_000),
            PluginKind::Processor => (100_000_000, 100, 64 * MIB, 100_000),
        };
        Self {
            fuel_per_call,
            deadline_ms,
            memory_bytes,
            max_output,
            init_fuel: fuel_per_call * 10,
            init_deadline_ms: deadline_ms * 10,
        }
    }

    /// These limits with what `settings` states put over them.
    pub fn overridden(self, settings: Option<&LimitSettings>) -> Self {
        let Some(s) = settings else { return self };
        Self {
            fuel_per_call: s.fuel_per_call.unwrap_or(self.fuel_per_call),
            deadline_ms: s.deadline_ms.unwrap_or(self.deadline_ms),
            memory_bytes: s.memory_bytes.unwrap_or(self.memory_bytes),
            max_output: s.max_output.unwrap_or(self.max_output),
            init_fuel: s.init_fuel.unwrap_or(self.init_fuel),
            init_deadline_ms: s.init_deadline_ms.unwrap_or(self.init_deadline_ms),
        }
    }

    /// What a plugin gets when its manifest asks for `asked`: what it asks,
    /// but never more than the host allows.
    pub fn granting(self, asked: &tradsys_signing::Limits) -> Self {
        let least = |asked: Option<u64>, allowed: u64| asked.map_or(allowed, |a| a.min(allowed));
        Self {
            fuel_per_call: least(asked.fuel_per_call, self.fuel_per_call),
            deadline_ms: least(asked.deadline_ms, self.deadline_ms),
            memory_bytes: least(asked.memory_bytes, self.memory_bytes),
            ..self
        }
    }
}

/// A capability beyond computing: what an import needs granted in
/// `[plugins.NAME]` of the host config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// One directory, read-only, at `/data` (`wasi:filesystem`).
    ReadDir,
    /// TCP connections to listed addresses (`wasi:sockets`).
    Network,
    /// The host's randomness (`wasi:random`).
    Random,
}

impl Grant {
    /// The grant an import needs: `Ok(None)` for what every plugin may import
    /// (the tradsys host, and WASI I/O, exit, empty stdio and environment,
    /// clocks that read market time, and a constant hash-map seed),
    /// `Ok(Some(grant))` for a capability, and `Err(())` for an interface
    /// this host does not provide.
    #[allow(clippy::result_unit_err)]
    pub fn required_by(import: &str) -> Result<Option<Self>, ()> {
        let interface = import.split_once('@').map_or(import, |(i, _)| i);
        if interface == "wasi:random/insecure-seed" {
            // Hash-map seeding (every Rust `HashMap` asks for it): answered
            // with a constant, so it carries no entropy and needs no grant.
            return Ok(None);
        }
        match interface
            .split_once('/')
            .map_or(interface, |(package, _)| package)
        {
            "tradsys:plugins" | "wasi:io" | "wasi:cli" | "wasi:clocks" => Ok(None),
            "wasi:filesystem" => Ok(Some(Self::ReadDir)),
            "wasi:sockets" => Ok(Some(Self::Network)),
            "wasi:random" => Ok(Some(Self::Random)),
            _ => Err(()),
        }
    }

    /// Its key in a `[plugins.NAME]` table.
    pub fn config_key(self) -> &'static str {
        match self {
            Self::ReadDir => "read_dir",
            Self::Network => "network",
            Self::Random => "random",
        }
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.config_key())
    }
}

/// A kind of market event a strategy may subscribe to (its manifest's
/// `events`, or `[plugins.NAME] events`).
pub use tradsys_signing::EventKind;

/// TLS on a network connector's connection (`[plugins.NAME] tls`): the host
/// speaks TLS (rustls) to the venue and the connector sees plain bytes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsGrant {
    /// The name the venue's certificate must carry.
    pub server_name: String,
    /// A PEM file of the certificates trusted to sign it (no system roots).
    pub ca: PathBuf,
    /// The host's own certificate chain (PEM), for a venue that asks for
    /// one (client authentication); with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// The private key of `cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

/// What the host grants one plugin: its config entries, the capabilities
/// it may use, its limits and its circuit breaker.
#[derive(Debug, Clone)]
pub struct Grants {
    /// Entries passed to `init` and answered by `config-get`.
    pub config: Vec<(String, String)>,
    /// Directory preopened read-only as `/data`, if any.
    pub read_dir: Option<PathBuf>,
    /// `host:port` addresses it may connect to (resolved when granted).
    pub network: Vec<std::net::SocketAddr>,
    /// Whether it may read the host's randomness.
    pub random: bool,
    /// TLS over its granted connection (a network connector's), if asked.
    pub tls: Option<TlsGrant>,
    /// The market event kinds a strategy is handed (all when `None`):
    /// `[plugins.NAME] events`, else its manifest's.
    pub events: Option<Vec<EventKind>>,
    /// The instruments (symbols) a strategy is handed (all when `None`).
    pub instruments: Option<Vec<String>>,
    /// CPU, memory and output limits.
    pub limits: Limits,
    /// When repeated faults quarantine it.
    pub faults: FaultSettings,
}

impl Grants {
    /// These grants with `overlay`'s config entries over their own (a key
    /// of theirs takes the new value; a new key is added).
    pub fn overlaid(&self, overlay: Option<&[(String, String)]>) -> std::borrow::Cow<'_, Self> {
        let Some(overlay) = overlay else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut grants = self.clone();
        for (key, value) in overlay {
            match grants.config.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1.clone_from(value),
                None => grants.config.push((key.clone(), value.clone())),
            }
        }
        std::borrow::Cow::Owned(grants)
    }

    /// Whether `grant` is given.
    pub fn allows(&self, grant: Grant) -> bool {
        match grant {
            Grant::ReadDir => self.read_dir.is_some(),
            Grant::Network => !self.network.is_empty(),
            Grant::Random => self.random,
        }
    }
}

impl Default for Grants {
    /// Nothing granted, a strategy's default limits.
    fn default() -> Self {
        Self {
            config: Vec::new(),
            read_dir: None,
            network: Vec::new(),
            random: false,
            tls: None,
            events: None,
            instruments: None,
            limits: Limits::default_for(PluginKind::Strategy),
            faults: FaultSettings::default(),
        }
    }
}

/// The `[faults]` table: the circuit breaker.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSettings {
    /// Faults within `window_ms` of host time after which a plugin is
    /// quarantined (no more calls) for the rest of the session.
    pub quarantine_after: u32,
    /// The window, milliseconds of host (market event) time.
    pub window_ms: u64,
    /// Save a strategy's state every this many successful calls; after a
    /// trap the fresh instance starts from the last save (0: never).
    pub snapshot_every: u32,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            quarantine_after: 5,
            window_ms: 60_000,
            snapshot_every: 64,
        }
    }
}

/// The `[memory]` table: one budget for the linear memory of every plugin
/// instance, pressure levels as fractions of it, and when idle instances are
/// evicted (they save their state first and get it back when re-made).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySettings {
    /// The budget, bytes.
    pub budget_bytes: u64,
    /// Fraction of the budget at which pressure is medium: idle instances are
    /// evicted, lowest priority first, until usage is back below it.
    pub medium: f64,
    /// Fraction at which pressure is high: as medium, without waiting for
    /// `min_idle_ms`.
    pub high: f64,
    /// Fraction at which pressure is critical: as high, and plugins below
    /// `reserved_priority` may not instantiate.
    pub critical: f64,
    /// An instance idle this long is evicted whatever the pressure (0: after
    /// every batch, which is only useful for testing).
    pub idle_evict_ms: u64,
    /// Under medium pressure, only instances idle this long are evicted.
    pub min_idle_ms: u64,
    /// At critical pressure, plugins with a lower priority fail to instantiate.
    pub reserved_priority: i32,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            budget_bytes: 1 << 30,
            medium: 0.5,
            high: 0.75,
            critical: 0.9,
            idle_evict_ms: 60_000,
            min_idle_ms: 1_000,
            reserved_priority: 1,
        }
    }
}

/// The `[logs]` table: how much a plugin may log. Each message is cut at
/// `max_message_bytes`; each plugin may log `lines_per_second`, with bursts
/// of `burst`; the rest is dropped and counted.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Longest message, bytes; longer ones are cut with a marker.
    pub max_message_bytes: usize,
    /// Sustained lines per second per plugin.
    pub lines_per_second: u32,
    /// Lines a plugin may log at once before the rate applies.
    pub burst: u32,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 1024,
            lines_per_second: 100,
            burst: 1000,
        }
    }
}

/// How full the memory budget is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pressure {
    /// Below `medium`.
    Low,
    /// From `medium`.
    Medium,
    /// From `high`.
    High,
    /// From `critical`.
    Critical,
}

impl MemorySettings {
    /// The pressure when `used` bytes are in use.
    pub fn pressure(&self, used: u64) -> Pressure {
        let fraction = used as f64 / self.budget_bytes.max(1) as f64;
        if fraction >= self.critical {
            Pressure::Critical
        } else if fraction >= self.high {
            Pressure::High
        } else if fraction >= self.medium {
            Pressure::Medium
        } else {
            Pressure::Low
        }
    }

    /// Bytes below which pressure is low.
    pub fn low_mark(&self) -> u64 {
        (self.budget_bytes as f64 * self.medium) as u64
    }
}

/// How the operator placed a plugin in the start-up order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    /// Higher goes first when preloading and is evicted last under memory
    /// pressure (the manifest's `priority` unless the host config sets one).
    pub priority: i32,
    /// Compile in the background at start-up rather than on first use.
    pub preload: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_need_exactly_their_grant() {
        assert_eq!(Grant::required_by("tradsys:plugins/host@1.0.0"), Ok(None));
        assert_eq!(Grant::required_by("wasi:clocks/wall-clock@0.2.0"), Ok(None));
        assert_eq!(
            Grant::required_by("wasi:filesystem/types@0.2.0"),
            Ok(Some(Grant::ReadDir))
        );
        assert_eq!(
            Grant::required_by("wasi:sockets/tcp@0.2.0"),
            Ok(Some(Grant::Network))
        );
        assert_eq!(Grant::required_by("wasi:http/types@0.2.0"), Err(()));
        let grants = Grants::default();
        assert!(!grants.allows(Grant::ReadDir) && !grants.allows(Grant::Random));
    }

    #[test]
    fn pressure_levels_follow_the_fractions() {
        const MIB: u64 = 1 << 20;
        let s = MemorySettings {
            budget_bytes: 10 * MIB,
            ..MemorySettings::default()
        };
        assert_eq!(s.pressure(0), Pressure::Low);
        assert_eq!(s.pressure(5 * MIB), Pressure::Medium);
        assert_eq!(s.pressure(15 * MIB / 2), Pressure::High);
        assert_eq!(s.pressure(9 * MIB), Pressure::Critical);
    }
}

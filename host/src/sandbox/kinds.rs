//! The plugin kinds as the sandbox drives them: [`KindBindings`] ties each
//! kind's generated bindings to its world's exports and says when its state
//! is saved.

use wasmtime::Store;

use crate::bindings::{connector, matcher, risk_validator, strategy, types};
use crate::engine::{HostState, KindPre};
use crate::policy::PluginKind;

/// When a kind's state is saved, besides eviction and swaps (which always
/// save it first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// Only when asked (validators, the matcher).
    OnDemand,
    /// Every `[faults] snapshot_every` calls, restored into the fresh
    /// instance after a trap (strategies).
    Periodic,
    /// Before every call but the first of an instance (once the previous
    /// call's answer was taken), so the instance that replaces a failed one
    /// carries on exactly after the last good call (connectors: no event is
    /// repeated or lost).
    EveryCall,
}

/// Typed bindings of one plugin kind.
pub trait KindBindings: Sized {
    /// The kind these bindings drive.
    const KIND: PluginKind;

    /// When the plugin's state is saved.
    const SNAPSHOTS: Snapshots;

    #[doc(hidden)]
    fn instantiate(pre: &KindPre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;

    #[doc(hidden)]
    fn init(
        &self,
        store: &mut Store<HostState>,
        config: &types::Config,
    ) -> wasmtime::Result<Result<(), String>>;

    /// The plugin's `save-state`.
    #[doc(hidden)]
    fn snapshot(&self, store: &mut Store<HostState>) -> wasmtime::Result<Vec<u8>>;

    /// The plugin's `load-state`.
    #[doc(hidden)]
    fn restore(
        &self,
        store: &mut Store<HostState>,
        state: &[u8],
    ) -> wasmtime::Result<Result<(), String>>;
}

macro_rules! kind_bindings {
    ($bindings:ty, $kind:ident, $exports:ident, $snapshots:ident) => {
        impl KindBindings for $bindings {
            const KIND: PluginKind = PluginKind::$kind;
            const SNAPSHOTS: Snapshots = Snapshots::$snapshots;

            fn instantiate(pre: &KindPre, store: &mut Store<HostState>) -> wasmtime::Result<Self> {
                match pre {
                    KindPre::$kind(pre) => pre.instantiate(store),
                    _ => wasmtime::bail!("plugin is not a {}", Self::KIND),
                }
            }

            fn init(
                &self,
                store: &mut Store<HostState>,
                config: &types::Config,
            ) -> wasmtime::Result<Result<(), String>> {
                self.$exports().call_init(store, config)
            }

            fn snapshot(&self, store: &mut Store<HostState>) -> wasmtime::Result<Vec<u8>> {
                self.$exports().call_save_state(store)
            }

            fn restore(
                &self,
                store: &mut Store<HostState>,
                state: &[u8],
            ) -> wasmtime::Result<Result<(), String>> {
                self.$exports().call_load_state(store, state)
            }
        }
    };
}

kind_bindings!(
    strategy::Strategy,
    Strategy,
    tradsys_plugins_strategy_api,
    Periodic
);
kind_bindings!(
    risk_validator::RiskValidator,
    RiskValidator,
    tradsys_plugins_risk_validator_api,
    OnDemand
);
kind_bindings!(
    matcher::Matcher,
    Matcher,
    tradsys_plugins_matcher_api,
    OnDemand
);
kind_bindings!(
    connector::Connector,
    Connector,
    tradsys_plugins_connector_api,
    EveryCall
);

//! The plugin kinds as the sandbox drives them: one type per kind
//! ([`Strategy`], [`RiskValidator`], [`Matcher`], [`Connector`],
//! [`Processor`]) over the bindings of the `tradsys:plugins` version the
//! plugin was built against, with the kind's exports as methods in the
//! host's types (an older plugin's records convert in `bindings::compat`). [`KindBindings`] ties each kind
//! to its world and says when its state is saved.

use wasmtime::Store;

use crate::bindings::compat::{self, all};
use crate::bindings::{current, types, v1_0, v1_1, v1_2};
use crate::engine::{HostState, KindPre, ProcessorVersions, Versioned};
use crate::policy::PluginKind;

/// When a kind's state is saved, besides eviction and swaps (which always
/// save it first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// Only when asked (validators, the matcher).
    OnDemand,
    /// Every `[faults] snapshot_every` calls, restored into the fresh
    /// instance after a trap (strategies, processors).
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

type Out<T> = wasmtime::Result<T>;

macro_rules! kind {
    ($(#[$doc:meta])* $name:ident, $module:ident, $kind:ident, $exports:ident, $snapshots:ident,
     $versions:ident $(, $old:ident: $old_module:ident)*
     $(; $extra:ident: $extra_pre:ident => $extra_ty:ty, $extra_exports:ident)?) => {
        $(#[$doc])*
        pub enum $name {
            /// Built against 1.4.0 or 1.3.0 (the same exports).
            Current(current::$module::$name),
            $(
                /// Built against an earlier minor.
                $old($old_module::$module::$name),
            )*
            $(
                /// The other world of the kind.
                $extra($extra_ty),
            )?
        }

        impl KindBindings for $name {
            const KIND: PluginKind = PluginKind::$kind;
            const SNAPSHOTS: Snapshots = Snapshots::$snapshots;

            fn instantiate(pre: &KindPre, store: &mut Store<HostState>) -> Out<Self> {
                match pre {
                    KindPre::$kind(pre) => match pre {
                        $versions::Current(pre) => Ok(Self::Current(pre.instantiate(store)?)),
                        $($versions::$old(pre) => Ok(Self::$old(pre.instantiate(store)?)),)*
                    },
                    $(KindPre::$extra_pre(pre) => Ok(Self::$extra(pre.instantiate(store)?)),)?
                    _ => wasmtime::bail!("plugin is not a {}", Self::KIND),
                }
            }

            fn init(
                &self,
                store: &mut Store<HostState>,
                config: &types::Config,
            ) -> Out<Result<(), String>> {
                match self {
                    Self::Current(b) => b.$exports().call_init(store, config),
                    $(Self::$old(b) => b.$exports().call_init(store, config),)*
                    $(Self::$extra(b) => b.$extra_exports().call_init(store, config),)?
                }
            }

            fn snapshot(&self, store: &mut Store<HostState>) -> Out<Vec<u8>> {
                match self {
                    Self::Current(b) => b.$exports().call_save_state(store),
                    $(Self::$old(b) => b.$exports().call_save_state(store),)*
                    $(Self::$extra(b) => b.$extra_exports().call_save_state(store),)?
                }
            }

            fn restore(
                &self,
                store: &mut Store<HostState>,
                state: &[u8],
            ) -> Out<Result<(), String>> {
                match self {
                    Self::Current(b) => b.$exports().call_load_state(store, state),
                    $(Self::$old(b) => b.$exports().call_load_state(store, state),)*
                    $(Self::$extra(b) => b.$extra_exports().call_load_state(store, state),)?
                }
            }
        }
    };
}

kind!(
    /// A strategy's exports.
    Strategy, strategy, Strategy, tradsys_plugins_strategy_api, Periodic, Versioned,
    V1_2: v1_2, V1_1: v1_1, V1_0: v1_0
);
kind!(
    /// A risk validator's exports.
    RiskValidator, risk_validator, RiskValidator, tradsys_plugins_risk_validator_api, OnDemand,
    Versioned, V1_2: v1_2, V1_1: v1_1, V1_0: v1_0
);
kind!(
    /// A matcher's exports.
    Matcher, matcher, Matcher, tradsys_plugins_matcher_api, OnDemand, Versioned,
    V1_2: v1_2, V1_1: v1_1, V1_0: v1_0
);
kind!(
    /// A connector's exports: a feed's (`connector`), or a network
    /// connector's (1.3.0: a venue's protocol over a connection the host owns).
    Connector, connector, Connector, tradsys_plugins_connector_api, EveryCall, Versioned,
    V1_2: v1_2, V1_1: v1_1, V1_0: v1_0;
    Network: NetworkConnector => current::network_connector::NetworkConnector,
    tradsys_plugins_network_connector_api
);
kind!(
    /// A processor's exports (a kind since 1.2.0).
    Processor, processor, Processor, tradsys_plugins_processor_api, Periodic,
    ProcessorVersions, V1_2: v1_2
);

impl Strategy {
    /// `on-market`: the commands a batch of market events causes.
    pub fn on_market(
        &self,
        store: &mut Store<HostState>,
        events: &[types::MarketEvent],
    ) -> Out<Vec<types::OrderCommand>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_market(store, events),
            Self::V1_2(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_market(store, &compat::market_events_to_v1_2(events)),
            Self::V1_1(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_market(store, &compat::market_events_to_v1_1(events)),
            Self::V1_0(b) => {
                let events = compat::market_events_to_v1_0(events);
                let out = b
                    .tradsys_plugins_strategy_api()
                    .call_on_market(store, &events)?;
                Ok(all(&out))
            }
        }
    }

    /// `on-order-events`: the commands the strategy's execution reports cause.
    pub fn on_order_events(
        &self,
        store: &mut Store<HostState>,
        events: &[types::OrderEvent],
    ) -> Out<Vec<types::OrderCommand>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_order_events(store, events),
            Self::V1_2(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_order_events(store, events),
            Self::V1_1(b) => b
                .tradsys_plugins_strategy_api()
                .call_on_order_events(store, events),
            Self::V1_0(b) => {
                let out = b
                    .tradsys_plugins_strategy_api()
                    .call_on_order_events(store, &all(events))?;
                Ok(all(&out))
            }
        }
    }
}

impl RiskValidator {
    /// `validate`: one verdict per command (a count that differs is the
    /// caller's to refuse).
    pub fn validate(
        &self,
        store: &mut Store<HostState>,
        context: &types::RiskContext,
        orders: &[types::OrderCommand],
    ) -> Out<Vec<types::Verdict>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_risk_validator_api()
                .call_validate(store, context, orders),
            Self::V1_2(b) => b
                .tradsys_plugins_risk_validator_api()
                .call_validate(store, context, orders),
            Self::V1_1(b) => b
                .tradsys_plugins_risk_validator_api()
                .call_validate(store, context, orders),
            Self::V1_0(b) => {
                let out = b.tradsys_plugins_risk_validator_api().call_validate(
                    store,
                    &context.into(),
                    &all(orders),
                )?;
                Ok(all(&out))
            }
        }
    }
}

impl Matcher {
    /// `execute`: every report the commands caused.
    pub fn execute(
        &self,
        store: &mut Store<HostState>,
        commands: &[types::OrderCommand],
    ) -> Out<Vec<types::OrderEvent>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_matcher_api()
                .call_execute(store, commands),
            Self::V1_2(b) => b
                .tradsys_plugins_matcher_api()
                .call_execute(store, commands),
            Self::V1_1(b) => b
                .tradsys_plugins_matcher_api()
                .call_execute(store, commands),
            Self::V1_0(b) => {
                let out = b
                    .tradsys_plugins_matcher_api()
                    .call_execute(store, &all(commands))?;
                Ok(all(&out))
            }
        }
    }

    /// `on-market`: the reports of resting orders the feed's events reached
    /// (simulated venue); a 1.0.0 matcher has no such export and reports none.
    pub fn on_market(
        &self,
        store: &mut Store<HostState>,
        events: &[types::MarketEvent],
    ) -> Out<Vec<types::OrderEvent>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_matcher_api()
                .call_on_market(store, events),
            Self::V1_2(b) => b
                .tradsys_plugins_matcher_api()
                .call_on_market(store, &compat::market_events_to_v1_2(events)),
            Self::V1_1(b) => b
                .tradsys_plugins_matcher_api()
                .call_on_market(store, &compat::market_events_to_v1_1(events)),
            Self::V1_0(_) => Ok(Vec::new()),
        }
    }

    /// `depth`: the best `levels` of an instrument's book in the matcher.
    pub fn depth(
        &self,
        store: &mut Store<HostState>,
        instrument: u32,
        levels: u32,
    ) -> Out<types::BookDepth> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_matcher_api()
                .call_depth(store, instrument, levels),
            Self::V1_2(b) => b
                .tradsys_plugins_matcher_api()
                .call_depth(store, instrument, levels),
            Self::V1_1(b) => b
                .tradsys_plugins_matcher_api()
                .call_depth(store, instrument, levels),
            Self::V1_0(b) => Ok((&b
                .tradsys_plugins_matcher_api()
                .call_depth(store, instrument, levels)?)
                .into()),
        }
    }
}

/// What a network connector may be told.
#[derive(Debug, Clone, Copy)]
pub enum NetworkCall<'a> {
    /// The connection is open.
    Connected,
    /// Bytes arrived.
    Received(&'a [u8]),
    /// The connection closed, for this reason.
    Disconnected(&'a str),
    /// Time passed.
    Tick,
    /// Orders to send.
    Submit(&'a [types::OrderCommand]),
    /// The host is stopping.
    Stop,
}

impl Connector {
    /// Whether its trades carry flags (1.3.0 on), so that a trade may open
    /// an exchange event (`trading::market::WholeGroups`).
    pub fn flags_trades(&self) -> bool {
        matches!(self, Self::Current(_) | Self::Network(_))
    }

    /// Whether it is a network connector (its market comes over the
    /// connection the host owns, not from `next-batch`).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Network(_))
    }

    /// A network connector's export for `call` at host time `now`.
    pub fn network(
        &self,
        store: &mut Store<HostState>,
        call: NetworkCall<'_>,
        now: u64,
    ) -> Out<crate::bindings::NetworkOutput> {
        let Self::Network(b) = self else {
            wasmtime::bail!("not a network connector");
        };
        let api = b.tradsys_plugins_network_connector_api();
        match call {
            NetworkCall::Connected => api.call_connected(store, now),
            NetworkCall::Received(bytes) => api.call_received(store, bytes, now),
            NetworkCall::Disconnected(reason) => api.call_disconnected(store, reason, now),
            NetworkCall::Tick => api.call_tick(store, now),
            NetworkCall::Submit(orders) => api.call_submit_orders(store, orders, now),
            NetworkCall::Stop => api.call_stop(store, now),
        }
    }

    /// `next-batch`: up to `max` market events; `None` at the end; the
    /// connector's reason when its stream cannot go on (1.0.0 has none).
    pub fn next_batch(
        &self,
        store: &mut Store<HostState>,
        max: u32,
    ) -> Out<Result<Option<Vec<types::MarketEvent>>, String>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_connector_api()
                .call_next_batch(store, max),
            Self::V1_2(b) => Ok(b
                .tradsys_plugins_connector_api()
                .call_next_batch(store, max)?
                .map(|batch| batch.map(compat::market_events_from_v1_2))),
            Self::V1_1(b) => Ok(b
                .tradsys_plugins_connector_api()
                .call_next_batch(store, max)?
                .map(|batch| batch.map(compat::market_events_from_v1_1))),
            Self::V1_0(b) => Ok(Ok(b
                .tradsys_plugins_connector_api()
                .call_next_batch(store, max)?
                .map(|events| compat::market_events_from_v1_0(&events)))),
            Self::Network(_) => Ok(Err(
                "a network connector has no batches: its market comes over the connection \
                 the host owns"
                    .to_string(),
            )),
        }
    }
}

impl Processor {
    /// `process`: the events it derives from a batch (checked by the caller).
    pub fn process(
        &self,
        store: &mut Store<HostState>,
        events: &[types::MarketEvent],
    ) -> Out<Vec<types::MarketEvent>> {
        match self {
            Self::Current(b) => b
                .tradsys_plugins_processor_api()
                .call_process(store, events),
            Self::V1_2(b) => Ok(compat::market_events_from_v1_2(
                b.tradsys_plugins_processor_api()
                    .call_process(store, &compat::market_events_to_v1_2(events))?,
            )),
        }
    }
}

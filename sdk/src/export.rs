//! The export macros: one per kind, each turning a type that implements the
//! kind's trait into the component's exports.

#[doc(hidden)]
pub use std::cell::RefCell;

/// Run `f` on the plugin instance created by `init`.
///
/// A call before `init` is a host bug; it panics, which traps the instance.
#[doc(hidden)]
pub fn with_plugin<T: 'static, R>(
    slot: &'static std::thread::LocalKey<RefCell<Option<T>>>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    slot.with(|cell| {
        let mut plugin = cell.borrow_mut();
        f(plugin
            .as_mut()
            .expect("tradsys plugin export called before init"))
    })
}

/// Export a [`Strategy`](crate::Strategy) implementation as this component's strategy.
#[macro_export]
macro_rules! export_strategy {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            impl $crate::__bindings::strategy::exports::tradsys::plugins::strategy_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::Strategy>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn on_market(events: ::std::vec::Vec<$crate::MarketEvent>) -> ::std::vec::Vec<$crate::OrderCommand> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut orders = ::std::vec::Vec::new();
                        $crate::Strategy::on_market(plugin, &events, &mut orders);
                        orders
                    })
                }
                fn on_order_events(events: ::std::vec::Vec<$crate::OrderEvent>) -> ::std::vec::Vec<$crate::OrderCommand> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut orders = ::std::vec::Vec::new();
                        $crate::Strategy::on_order_events(plugin, &events, &mut orders);
                        orders
                    })
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Strategy::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Strategy::load_state(plugin, &state))
                }
            }
            $crate::__bindings::strategy::__export_strategy!(Adapter with_types_in $crate::__bindings::strategy);
        };
    };
}

/// Export a [`RiskValidator`](crate::RiskValidator) implementation as this component's validator.
#[macro_export]
macro_rules! export_risk_validator {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            impl $crate::__bindings::risk_validator::exports::tradsys::plugins::risk_validator_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::RiskValidator>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn validate(
                    context: $crate::RiskContext,
                    orders: ::std::vec::Vec<$crate::OrderCommand>,
                ) -> ::std::vec::Vec<$crate::Verdict> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut verdicts = ::std::vec::Vec::with_capacity(orders.len());
                        $crate::RiskValidator::validate(plugin, &context, &orders, &mut verdicts);
                        verdicts
                    })
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::RiskValidator::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::RiskValidator::load_state(plugin, &state))
                }
            }
            $crate::__bindings::risk_validator::__export_risk_validator!(Adapter with_types_in $crate::__bindings::risk_validator);
        };
    };
}

/// Export a [`Matcher`](crate::Matcher) implementation as this component's matcher.
#[macro_export]
macro_rules! export_matcher {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            impl $crate::__bindings::matcher::exports::tradsys::plugins::matcher_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::Matcher>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn execute(commands: ::std::vec::Vec<$crate::OrderCommand>) -> ::std::vec::Vec<$crate::OrderEvent> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut reports = ::std::vec::Vec::new();
                        $crate::Matcher::execute(plugin, &commands, &mut reports);
                        reports
                    })
                }
                fn on_market(events: ::std::vec::Vec<$crate::MarketEvent>) -> ::std::vec::Vec<$crate::OrderEvent> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut reports = ::std::vec::Vec::new();
                        $crate::Matcher::on_market(plugin, &events, &mut reports);
                        reports
                    })
                }
                fn depth(instrument: u32, levels: u32) -> $crate::BookDepth {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Matcher::depth(plugin, instrument, levels))
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Matcher::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Matcher::load_state(plugin, &state))
                }
            }
            $crate::__bindings::matcher::__export_matcher!(Adapter with_types_in $crate::__bindings::matcher);
        };
    };
}

/// Export a [`Connector`](crate::Connector) implementation as this component's connector.
#[macro_export]
macro_rules! export_connector {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            impl $crate::__bindings::connector::exports::tradsys::plugins::connector_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::Connector>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn next_batch(max: u32) -> ::core::result::Result<::core::option::Option<::std::vec::Vec<$crate::MarketEvent>>, ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Connector::next_batch(plugin, max as usize))
                }
                fn submit_orders(orders: ::std::vec::Vec<$crate::OrderCommand>) -> ::std::vec::Vec<$crate::OrderEvent> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Connector::submit_orders(plugin, &orders))
                }
                fn poll_reports() -> ::std::vec::Vec<$crate::OrderEvent> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Connector::poll_reports(plugin))
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Connector::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Connector::load_state(plugin, &state))
                }
            }
            $crate::__bindings::connector::__export_connector!(Adapter with_types_in $crate::__bindings::connector);
        };
    };
}

/// Export a [`NetworkConnector`](crate::NetworkConnector) implementation as
/// this component's network connector.
#[macro_export]
macro_rules! export_network_connector {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            fn out(f: impl FnOnce(&mut $plugin, &mut $crate::NetworkOutput)) -> $crate::NetworkOutput {
                $crate::__export::with_plugin(&PLUGIN, |plugin| {
                    let mut output = $crate::NetworkOutput::default();
                    f(plugin, &mut output);
                    output
                })
            }
            impl $crate::__bindings::network_connector::exports::tradsys::plugins::network_connector_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::NetworkConnector>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn connected(now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::connected(p, now, o))
                }
                fn received(bytes: ::std::vec::Vec<u8>, now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::received(p, &bytes, now, o))
                }
                fn disconnected(reason: ::std::string::String, now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::disconnected(p, &reason, now, o))
                }
                fn tick(now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::tick(p, now, o))
                }
                fn submit_orders(orders: ::std::vec::Vec<$crate::OrderCommand>, now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::submit_orders(p, &orders, now, o))
                }
                fn stop(now: u64) -> $crate::NetworkOutput {
                    out(|p, o| $crate::NetworkConnector::stop(p, now, o))
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::NetworkConnector::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::NetworkConnector::load_state(plugin, &state))
                }
            }
            $crate::__bindings::network_connector::__export_network_connector!(Adapter with_types_in $crate::__bindings::network_connector);
        };
    };
}

/// Export a [`Processor`](crate::Processor) implementation as this component's processor.
#[macro_export]
macro_rules! export_processor {
    ($plugin:ty) => {
        // Exports exist only in the component; a native build (the plugin's
        // own unit tests) links without them.
        #[cfg(target_family = "wasm")]
        const _: () = {
            ::std::thread_local! {
                static PLUGIN: $crate::__export::RefCell<::core::option::Option<$plugin>> =
                    const { $crate::__export::RefCell::new(::core::option::Option::None) };
            }
            struct Adapter;
            impl $crate::__bindings::processor::exports::tradsys::plugins::processor_api::Guest for Adapter {
                fn init(config: $crate::__export::ConfigEntries) -> ::core::result::Result<(), ::std::string::String> {
                    let plugin = <$plugin as $crate::Processor>::new(&$crate::Config::new(config))?;
                    PLUGIN.with(|cell| *cell.borrow_mut() = ::core::option::Option::Some(plugin));
                    ::core::result::Result::Ok(())
                }
                fn process(events: ::std::vec::Vec<$crate::MarketEvent>) -> ::std::vec::Vec<$crate::MarketEvent> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| {
                        let mut derived = ::std::vec::Vec::new();
                        $crate::Processor::process(plugin, &events, &mut derived);
                        derived
                    })
                }
                fn save_state() -> ::std::vec::Vec<u8> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Processor::save_state(plugin))
                }
                fn load_state(state: ::std::vec::Vec<u8>) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::with_plugin(&PLUGIN, |plugin| $crate::Processor::load_state(plugin, &state))
                }
            }
            $crate::__bindings::processor::__export_processor!(Adapter with_types_in $crate::__bindings::processor);
        };
    };
}

/// The `init` argument as wit-bindgen gives it.
#[doc(hidden)]
pub type ConfigEntries = Vec<(String, String)>;

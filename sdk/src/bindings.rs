//! wit-bindgen output, one module per world. Plugin code never names these
//! modules: the SDK re-exports the records and drives the exports through its
//! traits. The `types` and `host` interfaces are generated once (in
//! `strategy`) and shared by the other worlds so that every kind uses the same
//! Rust types (`market` and `signals` too).

#![allow(missing_docs, unsafe_code, clippy::all)]

pub mod strategy {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/strategy",
        pub_export_macro: true,
        export_macro_name: "__export_strategy",
        default_bindings_module: "tradsys_sdk::__bindings::strategy",
        generate_all,
    });
}

pub mod risk_validator {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/risk-validator",
        pub_export_macro: true,
        export_macro_name: "__export_risk_validator",
        default_bindings_module: "tradsys_sdk::__bindings::risk_validator",
        with: {
            "tradsys:plugins/types@1.4.0": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host@1.4.0": crate::bindings::strategy::tradsys::plugins::host,
            "tradsys:plugins/market@1.4.0": crate::bindings::strategy::tradsys::plugins::market,
        },
    });
}

pub mod matcher {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/matcher",
        pub_export_macro: true,
        export_macro_name: "__export_matcher",
        default_bindings_module: "tradsys_sdk::__bindings::matcher",
        with: {
            "tradsys:plugins/types@1.4.0": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host@1.4.0": crate::bindings::strategy::tradsys::plugins::host,
            "tradsys:plugins/market@1.4.0": crate::bindings::strategy::tradsys::plugins::market,
        },
    });
}

pub mod connector {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/connector",
        pub_export_macro: true,
        export_macro_name: "__export_connector",
        default_bindings_module: "tradsys_sdk::__bindings::connector",
        with: {
            "tradsys:plugins/types@1.4.0": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host@1.4.0": crate::bindings::strategy::tradsys::plugins::host,
        },
    });
}

pub mod network_connector {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/network-connector",
        pub_export_macro: true,
        export_macro_name: "__export_network_connector",
        default_bindings_module: "tradsys_sdk::__bindings::network_connector",
        with: {
            "tradsys:plugins/types@1.4.0": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host@1.4.0": crate::bindings::strategy::tradsys::plugins::host,
        },
    });
}

pub mod processor {
    wit_bindgen::generate!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/processor",
        pub_export_macro: true,
        export_macro_name: "__export_processor",
        default_bindings_module: "tradsys_sdk::__bindings::processor",
        with: {
            "tradsys:plugins/types@1.4.0": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host@1.4.0": crate::bindings::strategy::tradsys::plugins::host,
            "tradsys:plugins/market@1.4.0": crate::bindings::strategy::tradsys::plugins::market,
            "tradsys:plugins/signals@1.4.0": crate::bindings::strategy::tradsys::plugins::signals,
        },
    });
}

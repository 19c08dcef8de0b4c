//! `tradsys:plugins@1.4.0`, the version the host speaks: one module per
//! world; `types`, `host`, `market` and `signals` are generated once (under
//! `strategy`) and shared, so every kind speaks the same Rust types
//! (`orders` and `venue-feed`, the matcher's alone, are generated under
//! `matcher`). 1.4.0 added imports only: a 1.3.0 plugin's exports are these
//! (wasmtime finds an export by a semver-compatible name), so these bindings
//! drive it too.

#![allow(missing_docs, clippy::all)]

pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/strategy",
    });
}

pub mod risk_validator {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/risk-validator",
        with: {
            "tradsys:plugins/types": crate::bindings::current::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
        },
    });
}

pub mod matcher {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/matcher",
        with: {
            "tradsys:plugins/types": crate::bindings::current::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
        },
    });
}

pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/connector",
        with: {
            "tradsys:plugins/types": crate::bindings::current::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
        },
    });
}

pub mod network_connector {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/network-connector",
        with: {
            "tradsys:plugins/types": crate::bindings::current::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
        },
    });
}

pub mod processor {
    wasmtime::component::bindgen!({
        path: "../wit/v1.4.0",
        world: "tradsys:plugins/processor",
        with: {
            "tradsys:plugins/types": crate::bindings::current::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
            "tradsys:plugins/signals": crate::bindings::current::strategy::tradsys::plugins::signals,
        },
    });
}

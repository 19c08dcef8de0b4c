//! The only `bindgen!` calls in the host: one per plugin world. The `types`
//! and `host` interfaces are generated once (under `strategy`) and shared, so
//! every kind speaks the same Rust types.

#![allow(missing_docs, clippy::all)]

pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tradsys:plugins/strategy",
    });
}

pub mod risk_validator {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tradsys:plugins/risk-validator",
        with: {
            "tradsys:plugins/types": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::strategy::tradsys::plugins::host,
        },
    });
}

pub mod matcher {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tradsys:plugins/matcher",
        with: {
            "tradsys:plugins/types": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::strategy::tradsys::plugins::host,
        },
    });
}

pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "tradsys:plugins/connector",
        with: {
            "tradsys:plugins/types": crate::bindings::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::strategy::tradsys::plugins::host,
        },
    });
}

pub use strategy::tradsys::plugins::host::{Host as HostImports, LogLevel};
pub use strategy::tradsys::plugins::types;

//! `tradsys:plugins@1.0.0`, frozen: the bindings that drive plugins built
//! against it. Their records convert to and from [`super::current`] in
//! [`super::compat`].

#![allow(missing_docs, clippy::all)]

pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit/v1.0.0",
        world: "tradsys:plugins/strategy",
    });
}

pub mod risk_validator {
    wasmtime::component::bindgen!({
        path: "../wit/v1.0.0",
        world: "tradsys:plugins/risk-validator",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_0::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::v1_0::strategy::tradsys::plugins::host,
        },
    });
}

pub mod matcher {
    wasmtime::component::bindgen!({
        path: "../wit/v1.0.0",
        world: "tradsys:plugins/matcher",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_0::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::v1_0::strategy::tradsys::plugins::host,
        },
    });
}

pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit/v1.0.0",
        world: "tradsys:plugins/connector",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_0::strategy::tradsys::plugins::types,
            "tradsys:plugins/host": crate::bindings::v1_0::strategy::tradsys::plugins::host,
        },
    });
}

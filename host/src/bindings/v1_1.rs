//! `tradsys:plugins@1.1.0`, frozen: the bindings that drive plugins built
//! against it. Every 1.1.0 record is a 1.2.0 record of the same shape (see
//! [`super::v1_2`]: the host's own types but 1.2.0's trade), so these
//! bindings use those for all of them but the one 1.2.0 grew:
//! [`types::MarketEvent`] (1.2.0 added `signal`), which converts in
//! [`super::compat`]. The 1.1.0 imports (`host`, `market`, `orders`) are the
//! 1.3.0 ones unchanged; the linker answers them with the 1.3.0 definitions
//! (a semver-compatible match, checked by shape when a plugin is prepared).

#![allow(missing_docs, clippy::all)]

/// 1.1.0's `types`: 1.2.0's records, and 1.1.0's market event.
pub mod types {
    pub use crate::bindings::v1_2::types::*;

    use wasmtime::component::{ComponentType, Lift, Lower};

    /// One market-data event of 1.1.0: 1.2.0's without `signal`.
    #[derive(ComponentType, Lift, Lower, Clone, Debug)]
    #[component(variant)]
    pub enum MarketEvent {
        #[component(name = "instrument")]
        Instrument(InstrumentDefinition),
        #[component(name = "quote")]
        Quote(Quote),
        #[component(name = "trade")]
        Trade(Trade),
        #[component(name = "bar")]
        Bar(Bar),
        #[component(name = "book-delta")]
        BookDelta(BookDelta),
        #[component(name = "depth")]
        Depth(DepthSnapshot),
        #[component(name = "status")]
        Status(StatusChange),
    }
}

pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit/v1.1.0",
        world: "tradsys:plugins/strategy",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_1::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
        },
    });
}

pub mod risk_validator {
    wasmtime::component::bindgen!({
        path: "../wit/v1.1.0",
        world: "tradsys:plugins/risk-validator",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_1::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
        },
    });
}

pub mod matcher {
    wasmtime::component::bindgen!({
        path: "../wit/v1.1.0",
        world: "tradsys:plugins/matcher",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_1::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/orders": crate::bindings::current::matcher::tradsys::plugins::orders,
        },
    });
}

pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit/v1.1.0",
        world: "tradsys:plugins/connector",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_1::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
        },
    });
}

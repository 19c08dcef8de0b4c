//! `tradsys:plugins@1.2.0`, frozen: the bindings that drive plugins built
//! against it. Every 1.2.0 record is a 1.3.0 record of the same shape but
//! the one 1.3.0 grew, [`types::Trade`] (1.3.0 added `flags`), and so the
//! market event that holds it; both convert in [`super::compat`]. The 1.2.0
//! imports (`host`, `market`, `signals`, `orders`) are the 1.3.0 ones
//! unchanged; the linker answers them with the 1.3.0 definitions (a
//! semver-compatible match, checked by shape when a plugin is prepared).

#![allow(missing_docs, clippy::all)]

/// 1.2.0's `types`: the host's records, and 1.2.0's trade and market event.
pub mod types {
    pub use crate::bindings::current::strategy::tradsys::plugins::types::*;

    use wasmtime::component::{ComponentType, Lift, Lower};

    /// A trade of 1.2.0: 1.3.0's without `flags`.
    #[derive(ComponentType, Lift, Lower, Clone, Copy, Debug)]
    #[component(record)]
    pub struct Trade {
        #[component(name = "instrument")]
        pub instrument: u32,
        #[component(name = "ts")]
        pub ts: u64,
        #[component(name = "price")]
        pub price: i64,
        #[component(name = "size")]
        pub size: i64,
        #[component(name = "aggressor")]
        pub aggressor: Option<Side>,
    }

    /// One market-data event of 1.2.0: 1.3.0's with 1.2.0's trade.
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
        #[component(name = "signal")]
        Signal(Signal),
    }
}

pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "tradsys:plugins/strategy",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_2::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
            "tradsys:plugins/signals": crate::bindings::current::strategy::tradsys::plugins::signals,
        },
    });
}

pub mod risk_validator {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "tradsys:plugins/risk-validator",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_2::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
        },
    });
}

pub mod matcher {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "tradsys:plugins/matcher",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_2::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/orders": crate::bindings::current::matcher::tradsys::plugins::orders,
        },
    });
}

pub mod connector {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "tradsys:plugins/connector",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_2::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
        },
    });
}

pub mod processor {
    wasmtime::component::bindgen!({
        path: "../wit/v1.2.0",
        world: "tradsys:plugins/processor",
        with: {
            "tradsys:plugins/types": crate::bindings::v1_2::types,
            "tradsys:plugins/host": crate::bindings::current::strategy::tradsys::plugins::host,
            "tradsys:plugins/market": crate::bindings::current::strategy::tradsys::plugins::market,
            "tradsys:plugins/signals": crate::bindings::current::strategy::tradsys::plugins::signals,
        },
    });
}

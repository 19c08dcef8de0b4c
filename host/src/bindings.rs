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

// The host's one copy of the id accessors of the order records (a plugin
// author has the SDK's).
impl types::OrderCommand {
    /// The order the command is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Submit(o) => o.id,
            Self::Cancel(c) => c.id,
            Self::Modify(m) => m.id,
        }
    }

    /// The instrument the command is about.
    pub fn instrument(&self) -> u32 {
        match self {
            Self::Submit(o) => o.instrument,
            Self::Cancel(c) => c.instrument,
            Self::Modify(m) => m.instrument,
        }
    }
}

impl types::OrderEvent {
    /// The order the report is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Accepted(e) => e.id,
            Self::Rejected(e) => e.id,
            Self::Filled(e) => e.id,
            Self::Canceled(e) => e.id,
            Self::Modified(e) => e.id,
        }
    }

    /// Renumber the report to `id`.
    pub fn set_id(&mut self, id: u64) {
        match self {
            Self::Accepted(e) => e.id = id,
            Self::Rejected(e) => e.id = id,
            Self::Filled(e) => e.id = id,
            Self::Canceled(e) => e.id = id,
            Self::Modified(e) => e.id = id,
        }
    }
}

impl types::RejectReason {
    /// Its WIT name (`notional-limit`, ...), as the report spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotionalLimit => "notional-limit",
            Self::QuantityLimit => "quantity-limit",
            Self::PriceCollar => "price-collar",
            Self::PositionLimit => "position-limit",
            Self::RateLimit => "rate-limit",
            Self::InvalidOrder => "invalid-order",
            Self::UnknownOrder => "unknown-order",
            Self::FillOrKillUnfilled => "fill-or-kill-unfilled",
            Self::NoLiquidity => "no-liquidity",
            Self::ValidatorFault => "validator-fault",
            Self::InstrumentHalted => "instrument-halted",
            Self::Other => "other",
        }
    }
}

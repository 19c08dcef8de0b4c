//! Plugins running under limits: the one place an instance is created and a
//! call is made (fuel, deadline, memory cap, output limit, faults told
//! apart, circuit breaker), eviction under the memory budget, and the slots
//! of a session.

pub mod any;
pub mod eviction;
pub mod fault;
pub mod instance;
pub mod kinds;
pub mod latency;
pub mod slots;
pub mod texts;

pub use any::AnyInstance;
pub use fault::Fault;
pub use instance::{CallStats, LifeState, PluginInstance, PluginStatus};
pub use kinds::{Connector, KindBindings, Matcher, Processor, RiskValidator, Strategy};
pub use slots::Slots;

//! Why a call into a plugin did not produce a result, told apart by kind
//! (traps by their `Trap` code, never by message text).

use wasmtime::Trap;

/// Why a call into a plugin did not produce a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Fault {
    /// The component could not be compiled (or a dependency could not).
    #[error("plugin {plugin} could not be loaded: {reason}")]
    Load {
        /// Plugin name.
        plugin: String,
        /// What went wrong.
        reason: String,
    },
    /// The memory budget is at its critical level and the plugin's priority
    /// is below the reserved one: no new instance for it now.
    #[error("plugin {plugin} was not instantiated: {reason}")]
    Memory {
        /// Plugin name.
        plugin: String,
        /// The pressure and the figures.
        reason: String,
    },
    /// The component could not be instantiated.
    #[error("plugin {plugin} could not be instantiated: {reason}")]
    Instantiate {
        /// Plugin name.
        plugin: String,
        /// What went wrong.
        reason: String,
    },
    /// `init` returned an error, trapped or ran out of time or fuel.
    #[error("plugin {plugin} failed to initialise: {reason}")]
    Init {
        /// Plugin name.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The plugin trapped (panicked, ran out of bounds, ...). Its instance was discarded.
    #[error("plugin {plugin} trapped: {trap}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// The trap, told apart by code, not by message.
        trap: Trap,
    },
    /// The plugin's answer broke the contract (for example a verdict count that
    /// does not match the orders).
    #[error("plugin {plugin} broke the contract: {reason}")]
    Contract {
        /// Plugin name.
        plugin: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// A call returned more items than the plugin's limit allows; nothing of it is used.
    #[error("plugin {plugin} returned {items} items, above its limit of {limit}")]
    OutputLimit {
        /// Plugin name.
        plugin: String,
        /// Items returned.
        items: usize,
        /// The limit.
        limit: u32,
    },
    /// The plugin faulted too often and gets no more calls this session.
    #[error("plugin {plugin} is quarantined: {reason}")]
    Quarantined {
        /// Plugin name.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// Any other failure inside the runtime.
    #[error("plugin {plugin} failed: {reason}")]
    Other {
        /// Plugin name.
        plugin: String,
        /// The runtime's error.
        reason: String,
    },
}

impl Fault {
    /// Short label used to count faults by kind (`trap:unreachable`, `init`, ...).
    pub fn label(&self) -> String {
        match self {
            Self::Load { .. } => "load".into(),
            Self::Memory { .. } => "memory-budget".into(),
            Self::Instantiate { .. } => "instantiate".into(),
            Self::Init { .. } => "init".into(),
            Self::Trap { trap, .. } => format!("trap:{}", trap_label(*trap)),
            Self::Contract { .. } => "contract".into(),
            Self::OutputLimit { .. } => "output-limit".into(),
            Self::Quarantined { .. } => "quarantined".into(),
            Self::Other { .. } => "other".into(),
        }
    }
}

fn trap_label(trap: Trap) -> &'static str {
    match trap {
        Trap::StackOverflow => "stack-overflow",
        Trap::MemoryOutOfBounds => "memory-out-of-bounds",
        Trap::UnreachableCodeReached => "unreachable",
        Trap::OutOfFuel => "out-of-fuel",
        Trap::Interrupt => "interrupt",
        Trap::IntegerDivisionByZero => "division-by-zero",
        Trap::IntegerOverflow => "integer-overflow",
        Trap::TableOutOfBounds => "table-out-of-bounds",
        Trap::IndirectCallToNull => "indirect-call-to-null",
        Trap::BadSignature => "bad-signature",
        _ => "other",
    }
}

pub(crate) fn to_fault(plugin: &str, error: wasmtime::Error) -> Fault {
    match error.downcast_ref::<Trap>() {
        Some(trap) => Fault::Trap {
            plugin: plugin.to_string(),
            trap: *trap,
        },
        None => Fault::Other {
            plugin: plugin.to_string(),
            reason: format!("{error:#}"),
        },
    }
}

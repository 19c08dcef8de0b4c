//! The order journal: every order, verdict and report of a session, and
//! every swap, shadow, fault, quarantine and halt, one JSON record per line
//! (`entry.rs`), written off the data path (`writer.rs`), read back
//! (`read.rs`), shown (`show.rs`) and added up as the report does
//! (`summary.rs`). `decimal.rs`: the fixed-point amounts as text.
//! `states.rs`: how a swap, a session and its trading ended.

pub(crate) mod decimal;
pub(crate) mod entry;
pub(crate) mod read;
pub(crate) mod show;
pub(crate) mod states;
pub(crate) mod summary;
pub(crate) mod writer;

pub use entry::{
    EndEntry, Entry, FaultEntry, HaltEntry, Judged, LatencyEntry, MembershipEntry, OrderEntry,
    PluginEntry, QuarantineEntry, ReconcileEntry, Record, RejectionEntry, ReportEntry,
    SessionEntry, ShadowEntry, StrategyAudit, SwapEntry, VerdictEntry, WireEntry, WireEvent,
};
pub use read::Reader;
pub use show::{Filter, line};
pub use states::{Halt, Stop, SwapOutcome};
pub use summary::Summary;
pub use writer::{Journal, JournalReport, JournalWriter};

//! Which plugins take part in a running session, and how that changes
//! while it trades: a strategy, validator or processor put into a watched
//! directory joins between two batches; a strategy whose file is removed
//! leaves (its working orders are cancelled; its account stays in the
//! report); a validator or processor whose file is removed keeps running
//! until the operator confirms with `tradsys plugin remove NAME` (a risk
//! check never disappears by accident); `tradsys plugin disable NAME` and
//! `enable NAME` do the same by command.
//!
//! The connector and the matcher never leave: a session needs both (a new
//! version of either is swapped in instead).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::live::error::ControlError;
use crate::live::recent::Recent;
use crate::policy::PluginKind;
use crate::sandbox::AnyInstance;

/// Where a plugin of the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// Called as usual.
    Active,
    /// A strategy whose file was removed: no longer called, its orders
    /// cancelled. It rejoins when its file is back.
    Left,
    /// Disabled by the operator (`tradsys plugin disable`): no longer
    /// called until `enable`.
    Disabled,
    /// A validator or processor whose file was removed: still running until
    /// the operator confirms with `tradsys plugin remove`.
    RemovalPending,
    /// Removed by the operator (`tradsys plugin remove`): no longer called.
    Removed,
}

impl Presence {
    /// Whether the session calls it.
    pub fn active(self) -> bool {
        matches!(self, Self::Active | Self::RemovalPending)
    }
}

/// A change asked of a plugin of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `tradsys plugin disable`.
    Disable,
    /// `tradsys plugin enable`, or a strategy's file back in the directory.
    Enable,
    /// `tradsys plugin remove`.
    Remove,
    /// Its file left the watched directory.
    FileRemoved,
}

/// What the session is asked to do between two batches.
pub enum MembershipCommand {
    /// A plugin new to the session, prepared off the data path (verified,
    /// compiled, instantiated, `init` run).
    Join {
        /// The prepared instance.
        instance: Box<AnyInstance>,
        /// What brought it (its file).
        cause: String,
    },
    /// A change of a plugin the session has.
    Change {
        /// The plugin's name.
        name: String,
        /// What to do.
        change: Change,
        /// Who asked.
        cause: String,
        /// Where the answer goes, if anyone waits for it.
        reply: Option<Sender<Result<String, ControlError>>>,
    },
}

/// One change of the session's plugins, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipRecord {
    /// Market events processed when it happened.
    pub after_event: u64,
    /// `name@version`.
    pub plugin: String,
    /// Its kind.
    pub kind: PluginKind,
    /// `joined`, `left`, `disabled`, `enabled`, `removal-pending` or `removed`.
    pub change: String,
    /// Its presence before and after.
    pub from: Option<Presence>,
    /// Its presence now.
    pub to: Presence,
    /// What asked for it.
    pub cause: String,
    /// Working orders the host cancelled (a strategy that left or was disabled).
    pub canceled_orders: u64,
}

/// Membership records a session keeps (the oldest go first).
pub const MEMBERSHIP_LOG_LENGTH: usize = 1000;

/// The session's membership changes so far, readable while it runs.
pub type MembershipLog = Arc<Mutex<Recent<MembershipRecord, MEMBERSHIP_LOG_LENGTH>>>;

/// The presence of every plugin of the session by name (with its kind), as
/// the watcher and the admin endpoint read it.
pub type Roll = Arc<Mutex<std::collections::BTreeMap<String, (PluginKind, Presence)>>>;

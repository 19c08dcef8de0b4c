//! Why the control facade ([`Control`](crate::live::Control)) could not do
//! what was asked. The admin endpoint maps each to an HTTP status in one
//! place (`ops/server.rs`), and the CLI prints the same sentence.

/// Why a request to the running session was not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The session has ended: nothing receives requests any more.
    #[error("the session has ended")]
    Ended,
    /// The session did not answer in time.
    #[error("the session did not answer (has it ended?)")]
    NoAnswer,
    /// No plugin of that name runs in the session.
    #[error(
        "{0} is not in this session (a new plugin joins when its file is put into the directory \
         of a host run with --watch)"
    )]
    UnknownPlugin(String),
    /// The plugin runs, but has no earlier version kept to roll back to.
    #[error("{0} has no earlier version kept to roll back to")]
    NoEarlierVersion(String),
    /// The plugin runs, but has no shadow (to promote or discard).
    #[error("{0} has no shadow")]
    NoShadow(String),
    /// A rollback would go below the plugin's rollback-protection floor,
    /// and the operator did not pin it.
    #[error(
        "rolling {name} back to {target} goes below its rollback-protection floor {floor}; \
         pass --pin to do it anyway (the operator's explicit pin; pin the version in \
         [plugins.{name}] to keep it across restarts)"
    )]
    BelowFloor {
        /// The plugin.
        name: String,
        /// The version it would roll back to.
        target: String,
        /// Its floor.
        floor: String,
    },
    /// The request itself cannot be done as asked (nothing to configure, a
    /// kind that does not run in shadow, a config file that does not load).
    #[error("{0}")]
    Invalid(String),
    /// Refused by the session or the plugin, which go on as they were: a
    /// swap refused, an `init` that refuses the new config, a file that
    /// does not verify, a plugin already in the state asked for.
    #[error("{0}")]
    Refused(String),
    /// Done in the running session, but the host could not read or write
    /// its files (the state file, the plugin directory): a restart would
    /// not keep it.
    #[error("{0}")]
    NotKept(String),
}

/// How a rollback treats the plugin's rollback-protection floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackMode {
    /// Refused below the floor ([`ControlError::BelowFloor`]).
    AboveFloor,
    /// The operator's explicit pin: allowed below the floor, and the
    /// version is pinned.
    Pin,
}

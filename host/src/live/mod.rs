//! Operations on a running host: hot swap, shadow runs, the directory
//! watcher, and the control plane they (and the HTTP server) all go through.
//! Everything here prepares new versions off the data path; the session
//! installs them between two batches.

pub mod config_change;
pub mod control;
pub mod error;
pub mod membership;
pub mod recent;
pub mod reconfigure;
pub mod shadow;
pub mod swap;
pub mod watch;

pub use config_change::{ConfigChange, Difference};
pub use control::{Control, Status};
pub use error::{ControlError, RollbackMode};
pub use membership::{Change, MembershipRecord, Presence};
pub use shadow::{ShadowReport, ShadowState, StartedFrom};
pub use swap::{SwapOutcome, SwapRecord};

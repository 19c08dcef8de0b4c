//! Plugins from files: which files of a directory may run (trust, API
//! compatibility, pins, the rollback floor, dependencies), what each is
//! granted, and compiling one on first use. Nothing here instantiates or
//! calls a plugin.

pub mod files;
pub mod grants;
pub mod interface;
pub mod plugin;
pub mod registry;
pub mod rollback;
pub mod trust;

pub use files::{cache_path, is_plugin_file, plugin_files, state_path};
pub use interface::{
    API_VERSION, Interface, NOT_GRANTED, api_version, export_fits, read_interface,
};
pub use plugin::{Plugin, Readiness};
pub use registry::{FileState, PluginFile, Registry, RejectedFile};
pub use rollback::RollbackState;
pub use trust::{TrustMode, TrustPolicy, Verified};

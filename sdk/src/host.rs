//! The functions the host offers a plugin: log, clock and config.
//!
//! Inside a component these call the host. Compiled natively (a plugin's own
//! unit tests) they use a per-thread stand-in: [`set_now`] sets the clock,
//! log lines go to stderr and `config_get` answers from [`set_config`].

pub use crate::bindings::strategy::tradsys::plugins::host::LogLevel;

#[cfg(target_family = "wasm")]
mod imp {
    use crate::bindings::strategy::tradsys::plugins::host;

    pub fn log(level: super::LogLevel, message: &str) {
        host::log(level, message)
    }

    pub fn now() -> u64 {
        host::now()
    }

    pub fn config_get(key: &str) -> Option<String> {
        host::config_get(key)
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::cell::{Cell, RefCell};

    thread_local! {
        pub static NOW: Cell<u64> = const { Cell::new(0) };
        pub static CONFIG: RefCell<crate::Config> = RefCell::new(crate::Config::default());
    }

    pub fn log(level: super::LogLevel, message: &str) {
        eprintln!("[{level:?}] {message}");
    }

    pub fn now() -> u64 {
        NOW.with(Cell::get)
    }

    pub fn config_get(key: &str) -> Option<String> {
        CONFIG.with(|c| c.borrow().get(key).map(str::to_owned))
    }
}

/// Write a line to the host log.
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// The host clock, nanoseconds since the Unix epoch (replayed time in a replay).
pub fn now() -> u64 {
    imp::now()
}

/// One of this plugin's configuration values.
pub fn config_get(key: &str) -> Option<String> {
    imp::config_get(key)
}

/// Native tests only: set the clock that [`now`] returns on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_now(ts: u64) {
    imp::NOW.with(|n| n.set(ts));
}

/// Native tests only: set the values that [`config_get`] returns on this thread.
#[cfg(not(target_family = "wasm"))]
pub fn set_config(config: crate::Config) {
    imp::CONFIG.with(|c| *c.borrow_mut() = config);
}

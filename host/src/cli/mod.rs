//! The `tradsys` subcommands beside `run`.

pub(crate) mod data;
pub(crate) mod journal;
pub(crate) mod new;
pub(crate) mod plugin;
pub(crate) mod status;
pub(crate) mod template;

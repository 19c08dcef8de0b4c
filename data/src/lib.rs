//! Recorded market-data files: Databento DBN opened with pure-Rust zstd
//! (so the same code runs natively and inside a wasm connector), and a
//! file's summary for `tradsys inspect-data`.

#![deny(missing_docs)]

pub mod inspect;
pub mod read;

pub use dbn;

//! End-to-end tests over the real example plugins of `plugins/`, built by
//! `cargo xtask build-plugins` into `target/plugins/` (`cargo xtask test`
//! does that first).

mod authoring;
mod cache;
mod catalog;
mod common;
mod configs;
mod conformance;
mod contract;
mod dashboard;
mod dbn;
mod durable;
mod files;
mod fills;
mod gateway;
mod gateway_fix;
mod journal;
mod lifecycle;
mod live;
mod live_faults;
mod live_reconcile;
mod live_tls;
mod logs;
mod matching;
mod membership;
mod operations;
mod processors;
mod python;
mod reconfigure;
mod replay;
mod sandbox;
mod session;
mod signing;
mod strategies;
mod swap;
mod tidy;
mod validation;
mod venue;
mod versions;

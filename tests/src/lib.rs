//! End-to-end tests live in `tests/all`; this library holds what they share
//! with the benchmarks: `venue_market`, the QuickFIX venue's market data.

pub mod venue_market;

//! End-to-end tests live in `tests/all`; this library holds what they share
//! with the benchmarks: `venue_market`, the QuickFIX venue's market data,
//! and the plugins of the benchmarks' reference session.

pub mod venue_market;

/// The strategies of the replay benchmark's session ("3+4").
pub const THREE_STRATEGIES: [&str; 3] = ["ma-crossover", "momentum", "mean-reversion"];

/// Its validators.
pub const FOUR_VALIDATORS: [&str; 4] = [
    "max-notional",
    "price-collar",
    "position-limit",
    "order-throttle",
];

/// Names as a TOML array of strings (`["a", "b"]` without the brackets).
pub fn toml_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

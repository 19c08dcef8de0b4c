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

/// `body` (fields separated by `|`) framed as FIX 4.4: BodyLength and
/// CheckSum computed here, by the tests, not by the code under test.
pub fn fix_frame(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\u{1}");
    let mut out = format!("8=FIX.4.4\u{1}9={}\u{1}{body}", body.len()).into_bytes();
    let sum = out.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    out.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
    out
}

//! The matching conformance suite: scenarios as data files
//! (`tests/conformance/*.toml`: commands in; fills, cancels, rejections and
//! the book out), run through the host against every matcher plugin that
//! declares an algorithm the scenario holds for (`matchers.toml`).
//!
//! A scenario file:
//! ```toml
//! algorithms = ["fifo", "pro-rata", "allocation"]
//! config = { self_trade = "cancel-resting" }   # optional, for every matcher
//! owners = { 1 = 7, 2 = 7 }                    # optional: order id → owner
//! [[step]]
//! commands = ["sell 1 gtc 10 @ 100", "buy 2 ioc 15 @ 100", "cancel 1", "modify 1 12 @ 99"]
//! filled = { 1 = "10", 2 = "10" }              # total filled per order in this step
//! canceled = { 2 = "5" }
//! rejected = { 3 = "unknown-order" }
//! bids = ["99 x 12 (1)"]                       # the book after the step, best first
//! asks = []
//! ```
//! Quantities and prices are decimals; `market` in place of `gtc @ PRICE`
//! sends a market order. Unlisted kinds of report must not occur.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use tradsys_host::testing::Matcher;
use tradsys_host::testing::types::{
    CancelOrder, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType, Side, TimeInForce,
};

use crate::common::{U, instance, workspace_root};

#[derive(Deserialize)]
struct Matchers {
    matcher: Vec<Declared>,
}

#[derive(Deserialize)]
struct Declared {
    plugin: String,
    algorithm: String,
    #[serde(default)]
    config: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    algorithms: Vec<String>,
    #[serde(default)]
    config: BTreeMap<String, String>,
    #[serde(default)]
    owners: BTreeMap<u64, u32>,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    commands: Vec<String>,
    #[serde(default)]
    filled: BTreeMap<u64, String>,
    #[serde(default)]
    canceled: BTreeMap<u64, String>,
    #[serde(default)]
    rejected: BTreeMap<u64, String>,
    #[serde(default)]
    bids: Vec<String>,
    #[serde(default)]
    asks: Vec<String>,
}

fn decimal(text: &str) -> i64 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let whole: i64 = whole
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal: {text}"));
    let frac = format!("{frac:0<9}");
    whole * U + frac[..9].parse::<i64>().unwrap()
}

fn show(value: i64) -> String {
    let text = format!("{}.{:09}", value / U, (value % U).abs());
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

/// `sell 1 gtc 10 @ 100`, `buy 2 market 5`, `cancel 1`, `modify 1 12 @ 99`.
fn command(text: &str) -> OrderCommand {
    let words: Vec<&str> = text.split_whitespace().collect();
    let id = words[1].parse().unwrap();
    match words.as_slice() {
        ["cancel", _] => OrderCommand::Cancel(CancelOrder { id, instrument: 0 }),
        ["modify", _, quantity, "@", price] => OrderCommand::Modify(ModifyOrder {
            id,
            instrument: 0,
            price: decimal(price),
            quantity: decimal(quantity),
        }),
        [side, _, tif, quantity, rest @ ..] => {
            let side = match *side {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => panic!("side {other} in `{text}`"),
            };
            let (order_type, time_in_force, price) = match (*tif, rest) {
                ("market", []) => (OrderType::Market, TimeInForce::Ioc, 0),
                (tif, ["@", price]) => {
                    let tif = match tif {
                        "gtc" => TimeInForce::Gtc,
                        "ioc" => TimeInForce::Ioc,
                        "fok" => TimeInForce::Fok,
                        other => panic!("time in force {other} in `{text}`"),
                    };
                    (OrderType::Limit, tif, decimal(price))
                }
                _ => panic!("cannot read `{text}`"),
            };
            let quantity = decimal(quantity);
            OrderCommand::Submit(NewOrder {
                id,
                instrument: 0,
                side,
                order_type,
                time_in_force,
                price,
                quantity,
            })
        }
        _ => panic!("cannot read `{text}`"),
    }
}

fn run(file: &Path, declared: &Declared, scenario: &Scenario) {
    let name = &declared.plugin;
    let config: BTreeMap<&String, &String> =
        declared.config.iter().chain(&scenario.config).collect();
    let entries: Vec<String> = config.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
    let toml = format!("[plugins.{name}]\nconfig = {{ {} }}\n", entries.join(", "));
    let (runtime, mut matcher) = instance::<Matcher>(name, &toml);
    for (id, owner) in &scenario.owners {
        runtime.owners().insert(*id, *owner);
    }
    let what = format!("{} on {name} ({})", file.display(), declared.algorithm);
    for (n, step) in scenario.step.iter().enumerate() {
        let commands: Vec<OrderCommand> = step.commands.iter().map(|c| command(c)).collect();
        let reports = matcher.call(|b, s| b.execute(s, &commands)).unwrap();
        let mut filled = BTreeMap::new();
        let mut canceled = BTreeMap::new();
        let mut rejected = BTreeMap::new();
        for report in &reports {
            match report {
                OrderEvent::Filled(f) => *filled.entry(f.id).or_insert(0) += f.quantity,
                OrderEvent::Canceled(c) => {
                    *canceled.entry(c.id).or_insert(0) += c.canceled_quantity
                }
                OrderEvent::Rejected(r) => {
                    rejected.insert(r.id, r.rejection.reason.name().to_string());
                }
                OrderEvent::Accepted(_) | OrderEvent::Modified(_) => {}
            }
        }
        let shown = |m: BTreeMap<u64, i64>| -> BTreeMap<u64, String> {
            m.into_iter().map(|(id, q)| (id, show(q))).collect()
        };
        let normal = |m: &BTreeMap<u64, String>| -> BTreeMap<u64, String> {
            m.iter().map(|(id, q)| (*id, show(decimal(q)))).collect()
        };
        let step_no = n + 1;
        assert_eq!(
            shown(filled),
            normal(&step.filled),
            "{what}, step {step_no}: filled; {reports:?}"
        );
        assert_eq!(
            shown(canceled),
            normal(&step.canceled),
            "{what}, step {step_no}: canceled"
        );
        assert_eq!(rejected, step.rejected, "{what}, step {step_no}: rejected");
        let depth = matcher.call(|b, s| b.depth(s, 0, 10)).unwrap();
        let levels = |levels: &[tradsys_host::testing::types::DepthLevel]| -> Vec<String> {
            levels
                .iter()
                .map(|l| format!("{} x {} ({})", show(l.price), show(l.quantity), l.orders))
                .collect()
        };
        assert_eq!(
            levels(&depth.bids),
            step.bids,
            "{what}, step {step_no}: bids"
        );
        assert_eq!(
            levels(&depth.asks),
            step.asks,
            "{what}, step {step_no}: asks"
        );
    }
}

#[test]
fn every_matcher_passes_the_scenarios_of_its_algorithm() {
    let dir = workspace_root().join("tests/conformance");
    let matchers: Matchers =
        toml::from_str(&std::fs::read_to_string(dir.join("matchers.toml")).unwrap()).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.ends_with("matchers.toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "scenarios in {}", dir.display());
    let mut runs = BTreeMap::<String, u32>::new();
    for file in &files {
        let scenario: Scenario = toml::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for declared in &matchers.matcher {
            if scenario.algorithms.contains(&declared.algorithm) {
                run(file, declared, &scenario);
                *runs.entry(declared.algorithm.clone()).or_default() += 1;
            }
        }
    }
    // Every declared algorithm met some scenario.
    for declared in &matchers.matcher {
        assert!(
            runs.contains_key(&declared.algorithm),
            "no scenario for {}",
            declared.algorithm
        );
    }
}

//! The host config's unit tests: parsing, the documented example, and the
//! checks that name what is wrong.

use super::*;

#[test]
fn fees_are_exact_decimals() {
    assert_eq!(parse_fixed("0.85"), Some(850_000_000));
    assert_eq!(parse_fixed("-1.5"), Some(-1_500_000_000));
    assert_eq!(parse_fixed("2"), Some(2_000_000_000));
    assert_eq!(parse_fixed("0.0000000001"), None, "ten decimals");
    assert_eq!(parse_fixed("1e3"), None);
    let config: HostConfig =
        toml::from_str("[venue.fees.ESH4]\ntaker_per_unit = 0.85\nmaker_bps = \"-0.2\"\n").unwrap();
    let fees = config.venue.fees["ESH4"];
    assert_eq!(
        (fees.taker_per_unit, fees.maker_bps),
        (850_000_000, -200_000_000)
    );
    let bad = toml::from_str::<HostConfig>("[venue.fees.X]\ntaker_bps = \"lots\"\n");
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("`lots` is not a decimal number")
    );
}

#[test]
fn latency_is_per_instrument_over_the_default_and_bounded() {
    let config: HostConfig = toml::from_str(
        "[venue.latency]\norder_ns = 100000\n[venue.latency.instruments.ESH4]\nfeed_ns = 5\n",
    )
    .unwrap();
    assert!(config.check().is_ok());
    let latency = &config.venue.latency;
    assert_eq!((latency.order_ns, latency.feed_ns), (100_000, 0));
    assert_eq!(latency.instruments["ESH4"].feed_ns, Some(5));
    assert!(!latency.is_zero());
    let long: HostConfig =
        toml::from_str("[venue.latency.instruments.ESH4]\norder_ns = 3600000000001\n").unwrap();
    let err = long.check().unwrap_err().to_string();
    assert!(
        err.contains("venue.latency.instruments.ESH4.order_ns") && err.contains("an hour"),
        "{err}"
    );
    let exchange: HostConfig =
        toml::from_str("[venue]\nmodel = \"exchange\"\n[venue.latency]\norder_ns = 1\n").unwrap();
    let err = exchange.check().unwrap_err().to_string();
    assert!(err.contains("simulated venue only"), "{err}");
    assert!(toml::from_str::<HostConfig>("[venue.latency]\norder_us = 1\n").is_err());
}

#[test]
fn the_documented_example_parses() {
    let example = include_str!("../config.example.toml");
    let config: HostConfig = toml::from_str(example).unwrap();
    assert_eq!(config.run.events, DEFAULT_EVENTS);
    assert!(config.check().is_ok());
}

#[test]
fn refuses_unknown_keys_naming_them() {
    let err = toml::from_str::<HostConfig>("[run]\nevnts = 5\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("evnts"), "{err}");
    let err = toml::from_str::<HostConfig>("[plugins.a]\nconfg = {}\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("confg"), "{err}");
    assert!(toml::from_str::<HostConfig>("[limits.robot]\nfuel_per_call = 1\n").is_err());
}

#[test]
fn adopting_unknown_orders_needs_a_strategy_and_a_live_venue() {
    let check = |text: &str| {
        toml::from_str::<HostConfig>(text)
            .unwrap()
            .check()
            .map_err(|e| e.to_string())
    };
    let live = "[venue]\nmodel = \"live\"\n";
    assert!(check(&format!("{live}unknown_orders = \"keep\"\n")).is_ok());
    let adopt = format!("{live}unknown_orders = \"adopt\"\n");
    let err = check(&adopt).unwrap_err();
    assert!(err.contains("needs venue.adopt_into"), "{err}");
    assert!(check(&format!("{adopt}adopt_into = \"momentum\"\n")).is_ok());
    let listed =
        format!("[run]\nstrategies = [\"mean-reversion\"]\n{adopt}adopt_into = \"momentum\"\n");
    let err = check(&listed).unwrap_err();
    assert!(
        err.contains("`momentum` is not one of run.strategies"),
        "{err}"
    );
    let err =
        check("[venue]\nunknown_orders = \"adopt\"\nadopt_into = \"momentum\"\n").unwrap_err();
    assert!(err.contains("model = \"live\""), "{err}");
    let err = check(&format!("{live}adopt_into = \"momentum\"\n")).unwrap_err();
    assert!(
        err.contains("is for venue.unknown_orders = \"adopt\""),
        "{err}"
    );
    assert!(toml::from_str::<HostConfig>("[venue]\nunknown_orders = \"adpot\"\n").is_err());
}

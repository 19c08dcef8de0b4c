//! `tradsys inspect-data FILE --config-template`: a host config sized for
//! the file. The example strategies' quantities and the example validators'
//! limits default to a market near 100 with moves of many basis points
//! (the synthetic market); a file of BTC near 40,000 or EUR/USD near 1.12
//! needs other numbers, and these come from the file itself: its typical
//! price, its price step and how far its price moves from one record to the
//! next.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

/// One order of a template's strategies is about this much notional.
const ORDER_NOTIONAL: f64 = 10_000.0;

/// A file's prices for one instrument, as read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prices {
    pub(crate) symbol: String,
    /// What the prices are (`trades`, `bar closes`, `quote mids`).
    pub(crate) what: &'static str,
    /// Every price of the file as an integer of `1 / 10^decimals` units,
    /// for the price step.
    pub(crate) steps: Vec<i64>,
    pub(crate) decimals: u32,
    /// The price series, in price units, file order.
    pub(crate) series: Vec<f64>,
    /// Traded sizes, in units (empty when the file has none).
    pub(crate) sizes: Vec<f64>,
    /// The instrument's lot and contract multiplier.
    pub(crate) lot: f64,
    pub(crate) multiplier: f64,
}

/// What a file's prices say about its instrument.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sizing {
    /// The median price.
    pub(crate) price: f64,
    /// The largest step every price lies on.
    pub(crate) step: f64,
    /// The median absolute move between consecutive different prices, bps.
    pub(crate) move_bps: f64,
    /// The median traded size, when the file has sizes.
    pub(crate) size: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// The sizing of `prices`.
pub(crate) fn sizing(prices: &Prices) -> Result<Sizing> {
    if prices.series.len() < 2 {
        bail!(
            "{}: fewer than two {} to size a config from",
            prices.symbol,
            prices.what
        );
    }
    let gcd = |mut a: i64, mut b: i64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a.abs()
    };
    let step = prices.steps.iter().fold(0, |g, p| gcd(g, *p));
    let moves: Vec<f64> = prices
        .series
        .windows(2)
        .filter(|w| w[1] != w[0] && w[0] > 0.0)
        .map(|w| (w[1] - w[0]).abs() / w[0] * 10_000.0)
        .collect();
    let price = median(prices.series.clone()).unwrap_or(0.0);
    if price <= 0.0 {
        bail!(
            "{}: the median price {price} is not positive",
            prices.symbol
        );
    }
    let scale = 10f64.powi(prices.decimals as i32);
    Ok(Sizing {
        price,
        step: if step == 0 {
            1.0 / scale
        } else {
            step as f64 / scale
        },
        move_bps: median(moves).unwrap_or(0.0),
        size: median(prices.sizes.clone()),
    })
}

/// `x` rounded to one or two significant digits (a number a person would
/// write in a config), at least `floor`.
fn nice(x: f64, floor: f64) -> f64 {
    if x <= floor {
        return floor;
    }
    let magnitude = 10f64.powf(x.log10().floor() - 1.0);
    (x / magnitude).round() * magnitude
}

/// A number as a TOML string value (fixed-point keys take text), without
/// trailing zeros.
fn text(x: f64) -> String {
    format!("\"{}\"", plain(x))
}

/// A number without float noise or trailing zeros (`1.121935`).
fn plain(x: f64) -> String {
    let s = format!("{x:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The quantity of one order: about [`ORDER_NOTIONAL`], in whole lots, at
/// least one lot and at most the median traded size.
fn order_quantity(p: &Prices, s: &Sizing) -> f64 {
    let lots = (ORDER_NOTIONAL / (s.price * p.multiplier) / p.lot).max(1.0);
    let mut q = nice(lots, 1.0).round() * p.lot;
    if let Some(size) = s.size.filter(|size| *size > 0.0) {
        q = q.min((size / p.lot).floor().max(1.0) * p.lot);
    }
    q
}

/// The template: a comment on where its numbers come from, `[run]`, the
/// connector's table, then the strategies' and the validators' tables.
pub(crate) fn template(p: &Prices, s: &Sizing, source: &str, connector: &str) -> String {
    let q = order_quantity(p, s);
    let notional = q * s.price * p.multiplier;
    let moves = s.move_bps.max(0.01);
    let size = s
        .size
        .map(|size| format!(", a median traded size of {size}"))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A host config for {source}, sized from its {} {} of {} by `tradsys inspect-data --config-template`:\n\
         # a median price of {}, prices on a step of {}, a median move of {:.3} bps from one price to the next{size}.\n\
         #   tradsys run --config THIS_FILE --replay {source}\n",
        p.series.len(),
        p.what,
        p.symbol,
        plain(s.price),
        plain(s.step),
        moves
    );
    let _ = writeln!(
        out,
        "[run]\nevents = 0   # the whole file\n\
         strategies = [\"ma-crossover\", \"momentum\", \"mean-reversion\"]\n\
         validators = [\"max-notional\", \"price-collar\", \"position-limit\", \"order-throttle\"]\n\
         processors = []\n"
    );
    let step = text(s.step);
    let connector_config = match connector {
        "csv-replay" => format!("config = {{ tick = {step} }}   # the price step of the file"),
        _ => format!(
            "config = {{ multiplier = {} }}   # the contract multiplier: the notional limits below assume it \
             (a file without definition records does not say; ES is 50)",
            p.multiplier
        ),
    };
    let _ = writeln!(out, "[plugins.{connector}]\n{connector_config}\n");
    let qt = text(q);
    let _ = writeln!(
        out,
        "# One order of a strategy: {} units, about {notional:.0} of notional at the median price.\n",
        plain(q)
    );
    let _ = writeln!(
        out,
        "[plugins.ma-crossover]   # a cross counts past `band_bps` between the averages; each further `scale_bps` adds `quantity`\n\
         config = {{ quantity = {qt}, max_position = {}, band_bps = {}, scale_bps = {} }}\n",
        text(q * 4.0),
        text(nice(moves * 0.4, 0.01)),
        text(nice(moves, 0.01))
    );
    let _ = writeln!(
        out,
        "[plugins.momentum]       # trades a return of `threshold_bps` over its lookback\n\
         config = {{ quantity = {qt}, max_position = {}, threshold_bps = {} }}\n",
        text(q * 5.0),
        text(nice(moves, 0.01))
    );
    let _ = writeln!(
        out,
        "[plugins.mean-reversion]\nconfig = {{ quantity = {qt} }}\n"
    );
    let _ = writeln!(
        out,
        "[plugins.max-notional]   # one order: at most 10 strategy orders' notional, 20 orders' quantity\n\
         config = {{ max_notional = {}, max_quantity = {} }}\n",
        text(nice(notional * 10.0, 1.0)),
        text(q * 20.0)
    );
    let _ = writeln!(
        out,
        "[plugins.position-limit] # a strategy's position with its working orders: at most 10 orders' quantity\n\
         config = {{ max_position = {} }}\n",
        text(q * 10.0)
    );
    let _ = writeln!(
        out,
        "[plugins.price-collar]   # a limit price within this many bps of the last price (20 median moves, at least 20)\n\
         config = {{ band_bps = {} }}",
        text(nice((moves * 20.0).max(20.0), 20.0))
    );
    out
}

/// Scale decimal `text` to an integer of `1 / 10^decimals` units.
fn scaled(text: &str, decimals: u32) -> Option<i64> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() > decimals as usize {
        return None;
    }
    let digits = format!("{whole}{fraction:0<width$}", width = decimals as usize);
    digits.parse().ok()
}

/// The prices of a CSV file of quotes (mids; steps from bids and asks) or
/// bars (closes), as `csv-replay` reads it.
pub(crate) fn csv_prices(path: &Path, shown: &str) -> Result<Prices> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {shown}"))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    let bars = lines
        .peek()
        .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
    if bars {
        lines.next();
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let columns: &[usize] = if bars { &[4] } else { &[1, 2] };
    fn field<'a>(row: &[&'a str], c: usize, line: usize, shown: &str) -> Result<&'a str> {
        row.get(c)
            .copied()
            .with_context(|| format!("{shown} line {line}: fewer than {} fields", c + 1))
    }
    let line = |n: usize| n + 1 + usize::from(bars);
    let mut decimals = 0;
    for (n, row) in rows.iter().enumerate() {
        for &c in columns {
            let f = field(row, c, line(n), shown)?;
            decimals = decimals.max(f.split_once('.').map_or(0, |(_, d)| d.len() as u32));
        }
    }
    let decimals = decimals.min(9);
    let mut prices = Prices {
        symbol: path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(shown)
            .trim_end_matches(".csv")
            .to_string(),
        what: if bars { "bar closes" } else { "quote mids" },
        decimals,
        lot: 1.0,
        multiplier: 1.0,
        ..Prices::default()
    };
    for (n, row) in rows.iter().enumerate() {
        let mut values = Vec::new();
        for &c in columns {
            let f = field(row, c, line(n), shown)?;
            let v = scaled(f, decimals).with_context(|| {
                format!(
                    "{shown} line {}: bad price `{f}`",
                    n + 1 + usize::from(bars)
                )
            })?;
            prices.steps.push(v);
            values.push(v as f64 / 10f64.powi(decimals as i32));
        }
        prices
            .series
            .push(values.iter().sum::<f64>() / values.len() as f64);
    }
    Ok(prices)
}

/// The trades (or bar closes) of a DBN file's most traded instrument.
pub(crate) fn dbn_prices(path: &Path, shown: &str) -> Result<Prices> {
    let summary = tradsys_data::inspect::inspect(path, shown).map_err(anyhow::Error::msg)?;
    let (id, samples) = summary
        .samples
        .iter()
        .max_by_key(|(_, s)| s.trades.len().max(s.closes.len()))
        .with_context(|| format!("{shown}: no records"))?;
    let (what, list) = if samples.trades.len() >= samples.closes.len() {
        ("trades", &samples.trades)
    } else {
        ("bar closes", &samples.closes)
    };
    let symbol = summary
        .instruments
        .get(id)
        .and_then(|(symbol, _)| symbol.clone())
        .unwrap_or_else(|| id.to_string());
    Ok(Prices {
        symbol,
        what,
        steps: list.iter().map(|(p, _)| *p).collect(),
        decimals: 9,
        series: list.iter().map(|(p, _)| *p as f64 / 1e9).collect(),
        sizes: if what == "trades" {
            list.iter().map(|(_, size)| *size as f64).collect()
        } else {
            Vec::new()
        },
        lot: 1.0,
        multiplier: 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(texts: &[&str]) -> Prices {
        Prices {
            symbol: "X".into(),
            what: "trades",
            steps: texts.iter().map(|t| scaled(t, 2).unwrap()).collect(),
            decimals: 2,
            series: texts.iter().map(|t| t.parse().unwrap()).collect(),
            sizes: Vec::new(),
            lot: 1.0,
            multiplier: 1.0,
        }
    }

    #[test]
    fn sizes_from_the_median_the_step_and_the_moves() {
        let s = sizing(&prices(&["100.00", "100.25", "100.50", "100.25", "101.00"])).unwrap();
        assert_eq!((s.price, s.step), (100.25, 0.25));
        // Moves of 0.25, 0.25, 0.25 and 0.75 from about 100: near 25 bps.
        assert!((s.move_bps - 24.94).abs() < 0.1, "{}", s.move_bps);
        assert_eq!(scaled("1.5", 3), Some(1500));
        assert_eq!(scaled("1.2345", 3), None);
    }

    #[test]
    fn a_price_near_40000_gets_one_unit_and_limits_that_fit_it() {
        let p = prices(&["41000.00", "41000.50"]);
        let s = Sizing {
            price: 41_000.0,
            step: 0.5,
            move_bps: 4.0,
            size: None,
        };
        let t = template(&p, &s, "btc.csv", "csv-replay");
        assert!(t.contains("config = { tick = \"0.5\" }"), "{t}");
        assert!(
            t.contains("config = { quantity = \"1\", max_position = \"4\""),
            "{t}"
        );
        assert!(t.contains("max_notional = \"410000\""), "{t}");
        assert!(t.contains("band_bps = \"80\""), "{t}");
        // A price near 1.12: about 10,000 of notional is 8,900 units.
        let s = Sizing { price: 1.12, ..s };
        let t = template(&p, &s, "eurusd.csv", "csv-replay");
        assert!(t.contains("quantity = \"8900\""), "{t}");
        // At most the median traded size.
        let s = Sizing {
            price: 4800.0,
            size: Some(1.0),
            ..s
        };
        let t = template(&p, &s, "es.dbn", "dbn-replay");
        assert!(t.contains("quantity = \"1\""), "{t}");
    }
}

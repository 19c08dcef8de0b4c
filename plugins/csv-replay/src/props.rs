//! Property tests of the connector's parsers of untrusted text: the CSV
//! file ([`parse::parse_events`], through [`CsvReplay::from_content`] with
//! its config too) and the saved state `load_state` reads. Each gets
//! arbitrary input, generated valid files, and valid files with bytes
//! flipped, set, inserted, deleted or cut.
//!
//! None panics, each returns within a bounded time without growing the heap
//! past a cap, every error names the file (and the line) and what was wrong,
//! and what parses keeps the layout's promises: time never goes back, a
//! quote's bid is below its ask, a bar's quote is one tick wide at its close.
//! `PROPTEST_CASES` sets the number of cases; `cargo xtask fuzz` runs many.

use proptest::prelude::*;
use tradsys_props::{HEAP_LIMIT, bounded, mutated_text};
use tradsys_sdk::{Config, Connector as _, MarketEvent, fixed};

use crate::CsvReplay;
use crate::parse::{self, BAR_HEADER, Format, Options};

// Mutations of a valid input.

/// The bytes of the layouts, which edits set and insert most often.
const LAYOUT_BYTES: &[u8] = b",.:- T\n\r09Z";

/// `valid` with one to six edits, as text (a stray byte becomes U+FFFD, as
/// a file read as UTF-8 would be refused before parsing anyway).
fn mutated(valid: String) -> impl Strategy<Value = String> {
    mutated_text(valid.into_bytes(), LAYOUT_BYTES)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

// Valid inputs.

/// Options the connector's config can state (it refuses the others). A
/// quote needs two ticks below `i64::MAX`, a bar's quote one.
fn options() -> impl Strategy<Value = Options> {
    let format = prop_oneof![Just(Format::Quotes), Just(Format::Bars)];
    format.prop_flat_map(|format| {
        let largest = match format {
            Format::Quotes => i64::MAX / 2,
            Format::Bars => i64::MAX,
        };
        let tick = prop_oneof![
            Just(10_000i64),
            Just(fixed::SCALE / 2),
            Just(fixed::SCALE / 4),
            1..=largest,
        ];
        (
            tick,
            1..=i64::MAX,
            prop_oneof![Just(0u64), Just(60), 0..=366 * 86_400u64],
            -1440i64..=1440,
        )
            .prop_map(
                move |(tick, quote_size, bar_seconds, utc_offset_minutes)| Options {
                    format,
                    instrument: 0,
                    tick,
                    quote_size,
                    bar_seconds,
                    utc_offset_minutes,
                },
            )
    })
}

/// A timestamp's fields: year, month, day, hour, minute, second, fraction.
/// From 1971: a time of 1970-01-01 with an offset east of UTC is before the
/// epoch, which a file may not hold (the parser refuses it, rightly).
fn when() -> impl Strategy<Value = (u32, u32, u32, u32, u32, u32, String)> {
    (
        1971u32..2200,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        "[0-9]{0,9}",
    )
}

/// A positive price as the files write it, up to the largest there is.
fn price() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..=1_000_000 * fixed::SCALE, 1..=i64::MAX]
}

/// A quotes file of rising times, prices on `tick` (at most `i64::MAX / 2`),
/// bid below ask.
fn quotes_file(tick: i64) -> impl Strategy<Value = String> {
    // Prices as numbers of ticks: the bid's, and how many more the ask's.
    let ticks = (i64::MAX / tick) as u64;
    let spread =
        (1..ticks, any::<u64>()).prop_map(move |(bid, up)| (bid, bid + 1 + up % (ticks - bid)));
    prop::collection::vec((when(), spread), 1..6).prop_map(move |lines| {
        let mut lines: Vec<_> = lines
            .into_iter()
            .map(|((y, mo, d, h, mi, s, frac), (bid, ask))| {
                let price = |n: u64| fixed::format_exact(i128::from(n) * i128::from(tick), 0);
                let frac = if frac.len() < 3 {
                    "000".to_owned()
                } else {
                    frac
                };
                (
                    format!("{y:04}{mo:02}{d:02} {h:02}{mi:02}{s:02}{frac}"),
                    format!("{},{},0", price(bid), price(ask)),
                )
            })
            .collect();
        lines.sort();
        lines
            .iter()
            .map(|(ts, rest)| format!("{ts},{rest}\n"))
            .collect()
    })
}

/// A bars file of rising times and consistent bars.
fn bars_file() -> impl Strategy<Value = String> {
    let bar = (
        when(),
        [price(), price(), price(), price()],
        0i64..=i64::MAX,
    );
    prop::collection::vec(bar, 1..6).prop_map(|bars| {
        let mut lines: Vec<_> = bars
            .into_iter()
            .map(|((y, mo, d, h, mi, s, frac), mut p, volume)| {
                p.sort_unstable();
                let dot = if frac.is_empty() { "" } else { "." };
                let [low, open, close, high] = p.map(|v| fixed::format_exact(i128::from(v), 0));
                (
                    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{dot}{frac}"),
                    format!(
                        "{open},{high},{low},{close},{}",
                        fixed::format_exact(i128::from(volume), 0)
                    ),
                )
            })
            .collect();
        lines.sort();
        let body: String = lines
            .iter()
            .map(|(ts, rest)| format!("{ts},{rest}\n"))
            .collect();
        format!("{BAR_HEADER}\n{body}")
    })
}

/// Options, and a file valid for them.
fn valid_case() -> impl Strategy<Value = (Options, String)> {
    options().prop_flat_map(|options| {
        let file = match options.format {
            Format::Quotes => quotes_file(options.tick).boxed(),
            Format::Bars => bars_file().boxed(),
        };
        (Just(options), file)
    })
}

/// The first lines of the shared recordings, when they are there.
fn shared_heads() -> Vec<(Format, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let head = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        Some(text.lines().take(12).map(|l| format!("{l}\n")).collect())
    };
    match (
        head("eurusd-quotes-2020-01.csv"),
        head("btc-perp-2022-01-1m.csv"),
    ) {
        (Some(quotes), Some(bars)) => vec![(Format::Quotes, quotes), (Format::Bars, bars)],
        _ => {
            eprintln!(
                "skipped: {} (the recorded market data) is absent",
                dir.display()
            );
            Vec::new()
        }
    }
}

// What is checked.

const NAME: &str = "case.csv";

/// `content` parsed with `options`, within the bounds, and checked.
fn check(options: Options, content: String) -> Result<(), TestCaseError> {
    let (options, content, parsed) = bounded(HEAP_LIMIT, move || {
        let parsed = parse::parse_events(NAME, &content, &options);
        (options, content, parsed)
    });
    match parsed {
        Ok(events) => kept_promises(&options, &events),
        Err(error) => named(&error, content.lines().count()),
    }
}

/// An error names the file, the line (one that exists) and what was wrong.
fn named(error: &str, lines: usize) -> Result<(), TestCaseError> {
    if error == format!("{NAME}: no data lines") {
        return Ok(());
    }
    let rest = error.strip_prefix(&format!("{NAME} line "));
    prop_assert!(rest.is_some(), "`{error}` names no file and line");
    let (line, why) = rest.unwrap().split_once(": ").unwrap_or(("", ""));
    let line: usize = line.parse().unwrap_or(0);
    prop_assert!((1..=lines).contains(&line), "`{error}`: no such line");
    prop_assert!(!why.trim().is_empty(), "`{error}` gives no reason");
    Ok(())
}

/// What a parsed file promises.
fn kept_promises(options: &Options, events: &[MarketEvent]) -> Result<(), TestCaseError> {
    prop_assert!(!events.is_empty());
    let mut last = 0;
    for (i, event) in events.iter().enumerate() {
        let ts = event.ts().expect("a timed event");
        prop_assert!(ts >= last, "time went back at event {i}");
        last = ts;
        match (options.format, event) {
            (Format::Quotes, MarketEvent::Quote(q)) => {
                prop_assert!(0 < q.bid_price && q.bid_price < q.ask_price, "{q:?}");
                prop_assert!(q.bid_price % options.tick == 0 && q.ask_price % options.tick == 0);
                prop_assert_eq!(
                    (q.bid_size, q.ask_size),
                    (options.quote_size, options.quote_size)
                );
            }
            (Format::Bars, MarketEvent::Bar(b)) => {
                prop_assert!(b.low <= b.open.min(b.close) && b.open.max(b.close) <= b.high);
                prop_assert!(b.low > 0 && b.volume >= 0, "{b:?}");
                let Some(MarketEvent::Quote(q)) = events.get(i + 1) else {
                    return Err(TestCaseError::fail(format!("no quote after {b:?}")));
                };
                prop_assert_eq!(q.ts, b.ts);
                prop_assert!(
                    q.bid_price <= b.close && b.close < q.ask_price,
                    "{q:?} {b:?}"
                );
                prop_assert_eq!(q.ask_price - q.bid_price, options.tick, "one tick wide");
            }
            (Format::Bars, MarketEvent::Quote(_)) => {}
            (_, other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
    Ok(())
}

/// Config values as a host config might state them, right or wrong.
fn config() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        4 => "[0-9]{1,4}",
        1 => "-?[0-9]{1,20}(\\.[0-9]{0,10})?",
        1 => Just("-9223372036854775808".to_owned()),
        1 => Just("9223372036854775807".to_owned()),
        1 => "[ -~]{0,8}",
    ];
    let key = prop::sample::select(vec![
        "format",
        "symbol",
        "tick",
        "lot",
        "quote_size",
        "bar_seconds",
        "utc_offset_minutes",
    ]);
    prop::collection::vec(
        (
            key,
            prop_oneof![value, Just("bars".to_owned()), Just("quotes".to_owned())],
        ),
        0..5,
    )
    .prop_map(|entries| {
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    })
}

proptest! {
    #[test]
    fn arbitrary_text_is_refused_with_the_line_and_a_reason_never_a_panic(
        options in options(),
        content in prop_oneof![
            any::<String>(),
            "([0-9 ,.:\\-TZ]{0,40}\n){0,6}",
        ],
    ) {
        check(options, content)?;
    }

    #[test]
    fn a_generated_valid_file_parses_and_keeps_its_promises(case in valid_case()) {
        let (options, content) = case;
        let (options, parsed) = bounded(HEAP_LIMIT, move || {
            let parsed = parse::parse_events(NAME, &content, &options);
            (options, parsed)
        });
        match parsed {
            Ok(events) => kept_promises(&options, &events)?,
            // The one refusal a valid file may get: a bar whose quote one
            // tick above its close does not fit.
            Err(e) => prop_assert!(e.contains("too large for a quote"), "{e}"),
        }
    }

    #[test]
    fn a_mutated_csv_file_parses_or_is_refused_with_the_line_and_a_reason(
        case in valid_case().prop_flat_map(|(options, content)| (Just(options), mutated(content))),
    ) {
        let (options, content) = case;
        check(options, content)?;
    }

    #[test]
    fn arbitrary_config_is_refused_with_the_key_never_a_panic(
        entries in config(),
        content in prop_oneof![quotes_file(10_000), bars_file()],
    ) {
        let result = bounded(HEAP_LIMIT, move || {
            CsvReplay::from_content(NAME, &content, &Config::new(entries)).map(|_| ())
        });
        if let Err(e) = result {
            prop_assert!(
                e.starts_with("config `") || e.starts_with(NAME),
                "`{e}` names neither a config key nor the file"
            );
        }
    }

    #[test]
    fn an_arbitrary_saved_state_is_refused_with_a_reason_never_a_panic(
        state in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let result = bounded(HEAP_LIMIT, move || {
            let content = "20200101 170000065,1.121200,1.121720,0\n";
            let mut replay = CsvReplay::from_content(NAME, content, &Config::default())
                .expect("a valid file");
            replay.load_state(&state).map(|()| replay.next_events(10).map(|e| e.len()))
        });
        if let Err(e) = result {
            prop_assert!(!e.trim().is_empty());
            prop_assert!(e.contains("state") || e.contains("saved position"), "{e}");
        }
    }
}

/// Mutations of the first lines of both recordings.
#[test]
fn a_mutated_recording_parses_or_is_refused_with_the_line_and_a_reason() {
    for (format, head) in shared_heads() {
        let options = Options {
            format,
            instrument: 0,
            tick: if format == Format::Quotes {
                10_000
            } else {
                fixed::SCALE / 2
            },
            quote_size: fixed::from_units(100),
            bar_seconds: 60,
            utc_offset_minutes: 0,
        };
        check(options.clone(), head.clone()).expect("the recording parses");
        proptest!(|(content in mutated(head))| {
            check(options.clone(), content)?;
        });
    }
}

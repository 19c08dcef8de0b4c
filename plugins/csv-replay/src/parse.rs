//! Parsing of the two CSV layouts into market events, with no file system
//! involved (the connector reads the file; everything here works on `&str`).

use tradsys_sdk::{Bar, MarketEvent, Quote, fixed};

/// Nanoseconds per second and per day.
const SECOND_NS: i128 = 1_000_000_000;
const DAY_NS: i128 = 86_400 * SECOND_NS;

/// The columns a bars file's header must name, in this order.
pub const BAR_HEADER: &str = "timestamp,open,high,low,close,volume";

/// Which layout a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `YYYYMMDD HHMMSSmmm,bid,ask,volume` per line, no header.
    Quotes,
    /// Header `timestamp,open,high,low,close,volume`, then one bar per line with
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` timestamps.
    Bars,
}

/// How to turn lines into events.
#[derive(Debug, Clone)]
pub struct Options {
    /// Layout of the file.
    pub format: Format,
    /// Instrument id to put on every event.
    pub instrument: u32,
    /// Price increment: quote prices must lie on it; bar quotes are snapped to it.
    pub tick: i64,
    /// Size for both sides of every quote (the files carry none).
    pub quote_size: i64,
    /// Added to a bar's timestamp to get its close time (the file labels bars by
    /// their open); 0 when the file labels bars by their close.
    pub bar_seconds: u64,
    /// The file's clock minus UTC, in minutes (0: the file is in UTC).
    pub utc_offset_minutes: i64,
}

/// The format a file most likely has: bars when its first non-blank line is a
/// header (starts with a letter), quotes otherwise.
pub fn detect_format(content: &str) -> Format {
    match content.lines().find(|l| !l.trim().is_empty()) {
        Some(line)
            if line
                .trim_start()
                .starts_with(|c: char| c.is_ascii_alphabetic()) =>
        {
            Format::Bars
        }
        _ => Format::Quotes,
    }
}

/// Parse a whole file's `content` into events in file order. Errors name `name`
/// and the 1-based line number, e.g. "eurusd.csv line 17: bad bid `x`".
///
/// Quote lines give one `Quote` each. Bar lines give a `Bar` stamped with its
/// close time followed by a `Quote` at the same time with a one-tick spread at the
/// close (bid = close rounded down to the tick, ask = bid + tick), so a matcher
/// has liquidity. Blank lines are skipped; a header line is skipped (for bars it
/// must name [`BAR_HEADER`]'s columns). Timestamps must not go back in time.
pub fn parse_events(
    name: &str,
    content: &str,
    options: &Options,
) -> Result<Vec<MarketEvent>, String> {
    let mut events = Vec::new();
    let mut last_ts = 0u64;
    let mut seen_line = false;
    for (index, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let first = !std::mem::replace(&mut seen_line, true);
        let at = |message: String| format!("{name} line {}: {message}", index + 1);
        if first && line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let header: Vec<String> = line
                .split(',')
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
            if options.format == Format::Bars && header.join(",") != BAR_HEADER {
                return Err(at(format!(
                    "unexpected header `{line}`, expected `{BAR_HEADER}`"
                )));
            }
            continue;
        }
        let ts = match options.format {
            Format::Quotes => parse_quote(line, options, &mut events),
            Format::Bars => parse_bar(line, options, &mut events),
        }
        .map_err(at)?;
        if ts < last_ts {
            return Err(at("timestamp is earlier than the line before".to_string()));
        }
        last_ts = ts;
    }
    if events.is_empty() {
        return Err(format!("{name}: no data lines"));
    }
    Ok(events)
}

/// Split a line into exactly `n` comma-separated fields.
fn fields<'a>(line: &'a str, n: usize, layout: &str) -> Result<Vec<&'a str>, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() == n {
        Ok(fields)
    } else {
        Err(format!(
            "expected {n} fields `{layout}`, found {}",
            fields.len()
        ))
    }
}

/// A positive price (exact decimal), named `what` in errors.
fn price(text: &str, what: &str) -> Result<i64, String> {
    match fixed::parse(text) {
        Some(p) if p > 0 => Ok(p),
        _ => Err(format!("bad {what} `{text}`")),
    }
}

/// A non-negative decimal quantity. Digits beyond the ninth decimal (float
/// residue in some exports, as in `203889.11713750003`) are dropped.
fn volume(text: &str) -> Result<i64, String> {
    let bad = || format!("bad volume `{text}`");
    let truncated = match text.split_once('.') {
        // Checked to be ASCII digits first, so slicing at byte 9 is safe.
        Some((whole, frac)) if frac.len() > 9 => {
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            format!("{whole}.{}", &frac[..9])
        }
        _ => text.to_string(),
    };
    match fixed::parse(&truncated) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(bad()),
    }
}

/// One `YYYYMMDD HHMMSSmmm,bid,ask,volume` line; returns its timestamp.
fn parse_quote(
    line: &str,
    options: &Options,
    events: &mut Vec<MarketEvent>,
) -> Result<u64, String> {
    let f = fields(line, 4, "timestamp,bid,ask,volume")?;
    let ts = timestamp(f[0], options)?;
    let (bid, ask) = (price(f[1], "bid")?, price(f[2], "ask")?);
    volume(f[3])?; // the files carry no sizes here (always 0); checked, then ignored
    for (p, what, text) in [(bid, "bid", f[1]), (ask, "ask", f[2])] {
        if p % options.tick != 0 {
            return Err(format!(
                "{what} `{text}` is not on tick {}",
                fixed::format_exact(i128::from(options.tick), 0)
            ));
        }
    }
    if bid >= ask {
        return Err(format!(
            "crossed quote: bid `{}` is not below ask `{}`",
            f[1], f[2]
        ));
    }
    events.push(MarketEvent::Quote(Quote {
        instrument: options.instrument,
        ts,
        bid_price: bid,
        bid_size: options.quote_size,
        ask_price: ask,
        ask_size: options.quote_size,
    }));
    Ok(ts)
}

/// One `timestamp,open,high,low,close,volume` line; returns the bar's close time.
fn parse_bar(line: &str, options: &Options, events: &mut Vec<MarketEvent>) -> Result<u64, String> {
    let f = fields(line, 6, BAR_HEADER)?;
    let open_ts = timestamp(f[0], options)?;
    let ts = open_ts
        .checked_add(options.bar_seconds.saturating_mul(1_000_000_000))
        .ok_or_else(|| format!("bad timestamp `{}`", f[0]))?;
    let open = price(f[1], "open")?;
    let high = price(f[2], "high")?;
    let low = price(f[3], "low")?;
    let close = price(f[4], "close")?;
    let volume = volume(f[5])?;
    if low > open.min(close) || high < open.max(close) {
        return Err(format!(
            "inconsistent bar: low `{}` and high `{}` do not contain open `{}` and close `{}`",
            f[3], f[2], f[1], f[4]
        ));
    }
    let bid = fixed::floor_to_tick(close, options.tick);
    let ask = bid.checked_add(options.tick).ok_or_else(|| {
        format!(
            "close `{}` is too large for a quote one tick above it",
            f[4]
        )
    })?;
    let instrument = options.instrument;
    events.push(MarketEvent::Bar(Bar {
        instrument,
        ts,
        open,
        high,
        low,
        close,
        volume,
    }));
    events.push(MarketEvent::Quote(Quote {
        instrument,
        ts,
        bid_price: bid,
        bid_size: options.quote_size,
        ask_price: ask,
        ask_size: options.quote_size,
    }));
    Ok(ts)
}

/// A timestamp in either layout, converted to nanoseconds since the Unix epoch.
fn timestamp(text: &str, options: &Options) -> Result<u64, String> {
    let parsed = match options.format {
        Format::Quotes => split_compact(text),
        Format::Bars => split_iso(text),
    };
    parsed
        .and_then(|(date, time)| to_epoch_ns(date, time, options.utc_offset_minutes))
        .ok_or_else(|| format!("bad timestamp `{text}`"))
}

/// Calendar date and time of day (hour, minute, second, nanosecond).
type Date = (i64, i64, i64);
type Time = (i64, i64, i64, i64);

/// `YYYYMMDD HHMMSS[fff…]`: the digits after the seconds are a fraction.
fn split_compact(text: &str) -> Option<(Date, Time)> {
    let (date, time) = text.split_once(' ')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    // All ASCII digits, so the byte slices below fall on character boundaries.
    if date.len() != 8 || !(6..=15).contains(&time.len()) || !digits(date) || !digits(time) {
        return None;
    }
    let date = (
        number(&date[..4])?,
        number(&date[4..6])?,
        number(&date[6..])?,
    );
    let time = (
        number(&time[..2])?,
        number(&time[2..4])?,
        number(&time[4..6])?,
        fraction_ns(&time[6..])?,
    );
    Some((date, time))
}

/// `YYYY-MM-DD HH:MM:SS[.fff…]`, also with `T` between date and time and a
/// trailing `Z`.
fn split_iso(text: &str) -> Option<(Date, Time)> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let date = (number(d.next()?)?, number(d.next()?)?, number(d.next()?)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    if d.next().is_some() || date.0 < 1000 || hms.len() != 8 {
        return None;
    }
    let mut t = hms.split(':');
    let time = (
        number(t.next()?)?,
        number(t.next()?)?,
        number(t.next()?)?,
        fraction_ns(frac)?,
    );
    Some((date, time))
}

/// A run of ASCII digits (at most 4) as a number.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Fractional-second digits (at most nine) as nanoseconds: "065" is 65 ms.
fn fraction_ns(digits: &str) -> Option<i64> {
    if digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some(value * 10i64.pow(9 - digits.len() as u32))
}

/// Validate a civil date and time and convert it, read on a clock that is
/// `offset_minutes` ahead of UTC, to nanoseconds since 1970-01-01T00:00:00Z.
fn to_epoch_ns((y, m, d): Date, (hh, mm, ss, ns): Time, offset_minutes: i64) -> Option<u64> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let seconds = i128::from(hh * 3600 + mm * 60 + ss - offset_minutes * 60);
    let total =
        i128::from(days_from_civil(y, m, d)) * DAY_NS + seconds * SECOND_NS + i128::from(ns);
    u64::try_from(total).ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date `y-m-d` (negative
/// before it). Howard Hinnant's `days_from_civil`: count in 400-year eras
/// starting in March, so the leap day is the last day of the shifted year.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let month_from_march = (m + 9) % 12; // March = 0 … February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> i64 {
        fixed::parse(text).unwrap()
    }

    fn quotes() -> Options {
        Options {
            format: Format::Quotes,
            instrument: 0,
            tick: p("0.00001"),
            quote_size: fixed::from_units(1_000_000),
            bar_seconds: 60,
            utc_offset_minutes: 0,
        }
    }

    fn bars() -> Options {
        Options {
            format: Format::Bars,
            tick: p("0.5"),
            quote_size: fixed::from_units(100),
            ..quotes()
        }
    }

    #[test]
    fn days_from_civil_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2020, 1, 1), 18_262);
        assert_eq!(days_from_civil(2024, 1, 2), 19_724);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
        assert_eq!(
            days_from_civil(2100, 2, 28) + 1,
            days_from_civil(2100, 3, 1)
        );
        // Every day of 1970..2101 follows the one before.
        let mut expected = 0;
        for y in 1970..2101 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(days_from_civil(y, m, d), expected, "{y}-{m}-{d}");
                    expected += 1;
                }
            }
        }
    }

    #[test]
    fn converts_timestamps_of_both_layouts() {
        // 2024-01-02T14:30:00Z, the synthetic market's default start.
        let q = quotes();
        assert_eq!(
            timestamp("20240102 143000000", &q),
            Ok(1_704_205_800_000_000_000)
        );
        assert_eq!(
            timestamp("20200101 170000065", &q),
            Ok(1_577_898_000_065_000_000)
        );
        let b = bars();
        assert_eq!(
            timestamp("2021-12-31 23:01:00.000000", &b),
            Ok(1_640_991_660_000_000_000)
        );
        assert_eq!(
            timestamp("2021-12-31T23:01:00.5Z", &b),
            Ok(1_640_991_660_500_000_000)
        );
        assert_eq!(
            timestamp("2021-12-31 23:01:00", &b),
            Ok(1_640_991_660_000_000_000)
        );
        // A file on New York standard time (UTC-5) is five hours behind UTC.
        let ny = Options {
            utc_offset_minutes: -300,
            ..quotes()
        };
        assert_eq!(
            timestamp("20200101 170000065", &ny),
            Ok(1_577_916_000_065_000_000)
        );
        for bad in [
            "20200132 170000065",
            "20200101 246000000",
            "2020010 170000065",
            "x",
            "",
        ] {
            assert_eq!(timestamp(bad, &q), Err(format!("bad timestamp `{bad}`")));
        }
        for bad in [
            "2021-02-29 00:00:00",
            "2021-12-31 23:61:00",
            "2021-12-31",
            "1969-12-31 23:59:59",
        ] {
            assert_eq!(timestamp(bad, &b), Err(format!("bad timestamp `{bad}`")));
        }
    }

    #[test]
    fn parses_quote_lines_exactly() {
        let content =
            "20200101 170000065,1.121200,1.121720,0\n20200101 170010447,1.121200,1.121920,0\n";
        let events = parse_events("eurusd.csv", content, &quotes()).unwrap();
        assert_eq!(events.len(), 2);
        let MarketEvent::Quote(q) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(q.ts, 1_577_898_010_447_000_000);
        assert_eq!((q.bid_price, q.ask_price), (1_121_200_000, 1_121_920_000));
        assert_eq!(
            (q.bid_size, q.ask_size),
            (fixed::from_units(1_000_000), fixed::from_units(1_000_000))
        );
        assert_eq!(q.instrument, 0);
    }

    #[test]
    fn parses_bar_lines_exactly() {
        let content = "timestamp,open,high,low,close,volume\n\
            2021-12-31 23:01:00.000000,46319.0,46385.0,46319.0,46377.0,2300413.7295\n\
            2022-01-01 03:09:00.000000,46814.25,46827.5,46797.0,46797.25,203889.11713750003\n";
        let events = parse_events("btc.csv", content, &bars()).unwrap();
        assert_eq!(events.len(), 4);
        let MarketEvent::Bar(b) = &events[0] else {
            panic!("{events:?}")
        };
        // Labelled by its open, stamped with its close a minute later.
        assert_eq!(b.ts, 1_640_991_720_000_000_000);
        assert_eq!(
            (b.open, b.high, b.low, b.close),
            (p("46319"), p("46385"), p("46319"), p("46377"))
        );
        assert_eq!(b.volume, 2_300_413_729_500_000);
        let MarketEvent::Quote(q) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(
            (q.ts, q.bid_price, q.ask_price),
            (b.ts, p("46377"), p("46377.5"))
        );
        assert_eq!(q.bid_size, fixed::from_units(100));
        // Off-tick prices pass through in the bar; the quote straddles the close.
        let MarketEvent::Bar(b) = &events[2] else {
            panic!("{events:?}")
        };
        assert_eq!((b.open, b.close), (46_814_250_000_000, 46_797_250_000_000));
        assert_eq!(b.volume, 203_889_117_137_500);
        let MarketEvent::Quote(q) = &events[3] else {
            panic!("{events:?}")
        };
        assert_eq!((q.bid_price, q.ask_price), (p("46797"), p("46797.5")));
        // Bars labelled by their close keep their timestamp.
        let close = Options {
            bar_seconds: 0,
            ..bars()
        };
        let MarketEvent::Bar(b) = &parse_events("btc.csv", content, &close).unwrap()[0] else {
            panic!()
        };
        assert_eq!(b.ts, 1_640_991_660_000_000_000);
    }

    #[test]
    fn bad_lines_name_their_line_number() {
        let good = "20200101 170000065,1.121200,1.121720,0\n";
        let cases = [
            ("20200101 170000065,x,1.121720,0", "bad bid `x`"),
            ("20200101 170000065,1.121200,-1,0", "bad ask `-1`"),
            (
                "20200101 170000065,1.121205,1.121720,0",
                "bid `1.121205` is not on tick 0.00001",
            ),
            (
                "20200101 170000065,1.121720,1.121720,0",
                "crossed quote: bid `1.121720` is not below ask `1.121720`",
            ),
            (
                "20200101 170000065,1.121200,1.121720",
                "expected 4 fields `timestamp,bid,ask,volume`, found 3",
            ),
            (
                "2020-01-01 17:00:00,1.121200,1.121720,0",
                "bad timestamp `2020-01-01 17:00:00`",
            ),
            (
                "20200101 170000064,1.121200,1.121720,0",
                "timestamp is earlier than the line before",
            ),
        ];
        for (line, message) in cases {
            // The bad line is line 3, after a good line and a blank one.
            let content = format!("{good}\n{line}\n{good}");
            assert_eq!(
                parse_events("eurusd.csv", &content, &quotes()).unwrap_err(),
                format!("eurusd.csv line 3: {message}")
            );
        }
        let bar = |line: &str| {
            parse_events("btc.csv", &format!("{BAR_HEADER}\n{line}"), &bars()).unwrap_err()
        };
        assert_eq!(
            bar("2022-01-01 00:00:00,10,9,8,9.5,1"),
            "btc.csv line 2: inconsistent bar: \
             low `8` and high `9` do not contain open `10` and close `9.5`"
        );
        assert_eq!(
            bar("2022-01-01 00:00:00,10,11,8,9.5,-1"),
            "btc.csv line 2: bad volume `-1`"
        );
        // The largest price there is: no quote fits one tick above it.
        let max = fixed::format_exact(i128::from(i64::MAX), 0);
        assert_eq!(
            bar(&format!("2022-01-01 00:00:00,{max},{max},{max},{max},1")),
            format!("btc.csv line 2: close `{max}` is too large for a quote one tick above it")
        );
        assert_eq!(
            bar("2022-01-01 00:00:00,10,11,8,9.5,1.2x"),
            "btc.csv line 2: bad volume `1.2x`"
        );
        assert_eq!(
            parse_events("btc.csv", "time,o,h,l,c,v\n", &bars()).unwrap_err(),
            format!("btc.csv line 1: unexpected header `time,o,h,l,c,v`, expected `{BAR_HEADER}`")
        );
        assert_eq!(
            parse_events("e.csv", "\n\n", &quotes()).unwrap_err(),
            "e.csv: no data lines"
        );
    }

    #[test]
    fn blank_lines_and_crlf_are_fine() {
        let content = "20200101 170000065,1.121200,1.121720,0\r\n\
            20200101 170010447,1.121200,1.121920,0\r\n\r\n";
        assert_eq!(parse_events("e.csv", content, &quotes()).unwrap().len(), 2);
        let no_newline = "20200101 170000065,1.121200,1.121720,0";
        assert_eq!(
            parse_events("e.csv", no_newline, &quotes()).unwrap().len(),
            1
        );
    }

    #[test]
    fn detects_the_format() {
        assert_eq!(
            detect_format("\ntimestamp,open,high,low,close,volume\n"),
            Format::Bars
        );
        assert_eq!(
            detect_format("20200101 170000065,1.121200,1.121720,0\n"),
            Format::Quotes
        );
        assert_eq!(detect_format(""), Format::Quotes);
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        for line in [
            "20200101 17é000065,1,2,0",
            "20200101 170000065,1,2,0.12345678é9",
            "é,,,",
            ",,,",
        ] {
            assert!(parse_events("e.csv", line, &quotes()).is_err(), "{line}");
        }
        let odd = "2022-01-01 00:00:00,1,2,1,2,1.1234567890é";
        assert!(parse_events("b.csv", odd, &bars()).is_err());
    }
}

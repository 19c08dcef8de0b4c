//! FIX UTCTimestamp (`YYYYMMDD-HH:MM:SS[.fff...]`) to and from nanoseconds
//! since the Unix epoch.

const NS: u64 = 1_000_000_000;

/// `ns` as a UTCTimestamp with milliseconds.
pub fn format(ns: u64) -> String {
    let secs = ns / NS;
    let millis = (ns % NS) / 1_000_000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{millis:03}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// A UTCTimestamp as nanoseconds; `None` when it is not one.
pub fn parse(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 17 || b[8] != b'-' || b[11] != b':' || b[14] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, min, s) = (num(9..11)?, num(12..14)?, num(15..17)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let mut frac = 0u64;
    if b.len() > 17 {
        let digits = text.get(18..)?;
        if b[17] != b'.' || digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac = digits.parse().ok()?;
        frac *= 10u64.pow(9 - digits.len() as u32);
    }
    let days = days_from_civil(y as i64, m as u32, d as u32);
    let days = u64::try_from(days).ok()?;
    Some((days * 86_400 + h * 3600 + min * 60 + s) * NS + frac)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_timestamp_has_milliseconds_and_reads_back() {
        let ns = 1_703_514_600_123_456_789;
        assert_eq!(super::format(ns), "20231225-14:30:00.123");
        assert_eq!(
            super::parse("20231225-14:30:00.123"),
            Some(1_703_514_600_123_000_000)
        );
        assert_eq!(
            super::format(1_703_514_600_000_000_000),
            "20231225-14:30:00.000"
        );
    }
}

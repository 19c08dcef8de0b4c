//! Fixed-point amounts (1e-9 units) as decimal text and back: the journal's
//! numbers are exact decimals in strings (`"4810.25"`), and the report
//! prints with it too.

/// Fixed-point units per whole unit.
pub const SCALE: i128 = 1_000_000_000;

/// A fixed-point amount as a decimal with `decimals` places (truncated).
pub fn decimal(value: i128, decimals: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let whole = abs / SCALE as u128;
    if decimals == 0 {
        return format!("{sign}{whole}");
    }
    let frac = (abs % SCALE as u128) / 10u128.pow(9 - decimals.min(9));
    format!(
        "{sign}{whole}.{frac:0width$}",
        width = decimals.min(9) as usize
    )
}

/// A fixed-point amount exactly, without trailing zeros (`4810.25`, `2`).
pub fn exact(value: i128) -> String {
    let text = decimal(value, 9);
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_string()
}

/// A decimal amount's text as a float, for charts and gauges (0 when it
/// does not parse).
pub fn approx(text: &str) -> f64 {
    parse(text).map_or(0.0, |v| v as f64 / SCALE as f64)
}

/// Read back what [`exact`] or [`decimal`] wrote: an optional `-`, digits,
/// and at most nine decimals.
pub fn parse(text: &str) -> Result<i128, String> {
    let bad = || format!("`{text}` is not a decimal amount");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 27 || !all_digits(whole) || !all_digits(frac) {
        return Err(bad());
    }
    if frac.len() > 9 || (digits.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    let whole: i128 = whole.parse().map_err(|_| bad())?;
    let frac: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i128>().map_err(|_| bad())? * 10i128.pow(9 - frac.len() as u32)
    };
    let value = whole
        .checked_mul(SCALE)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_print_truncated_or_exact_and_read_back() {
        assert_eq!(decimal(-1_234_560_000_000, 2), "-1234.56");
        assert_eq!(decimal(5_000_000_000, 0), "5");
        assert_eq!(decimal(0, 2), "0.00");
        assert_eq!(exact(4_810_250_000_000), "4810.25");
        assert_eq!(exact(2 * SCALE), "2");
        assert_eq!(exact(-500_000_000), "-0.5");
        assert_eq!(exact(1), "0.000000001");
        for value in [
            0,
            1,
            -1,
            4_810_250_000_000,
            -500_000_000,
            i128::from(i64::MAX),
        ] {
            assert_eq!(parse(&exact(value)), Ok(value), "{value}");
        }
        assert_eq!(parse("-1234.56"), Ok(-1_234_560_000_000));
        for bad in [
            "",
            "-",
            "1.",
            ".5",
            "1.2.3",
            "1e9",
            "1.0000000001",
            " 1",
            "+1",
        ] {
            assert!(parse(bad).unwrap_err().contains(bad), "{bad:?}");
        }
    }
}

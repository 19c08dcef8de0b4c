//! Fixed-point helpers for prices and quantities.
//!
//! Every price and quantity on the wire is an `i64` in units of 1e-9
//! ([`SCALE`] per whole unit), so `4810.25` is `4_810_250_000_000`.

/// Raw units per whole unit.
pub const SCALE: i64 = 1_000_000_000;

/// A whole number of units as fixed-point (`from_units(3) == 3 * SCALE`).
pub const fn from_units(units: i64) -> i64 {
    units * SCALE
}

/// Parse a decimal string such as `"4810.25"` or `"-0.000001"` exactly.
///
/// Returns `None` for anything that is not a plain decimal number with at
/// most nine fractional digits, or that does not fit.
pub fn parse(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > 9
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        frac_value *= 10;
    }
    let value = whole.checked_mul(SCALE)?.checked_add(frac_value)?;
    Some(if negative { -value } else { value })
}

/// Format with `decimals` fractional digits (truncating, at most nine).
pub fn format(value: i64, decimals: u8) -> String {
    let decimals = u32::from(decimals.min(9));
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let whole = abs / SCALE as u64;
    if decimals == 0 {
        return format!("{sign}{whole}");
    }
    let frac = (abs % SCALE as u64) / 10u64.pow(9 - decimals);
    format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
}

/// Exact decimal text with at least `min_decimals` fractional digits, and
/// more when the value needs them, so nothing is hidden by rounding:
/// `format_exact(1_500_000_000, 0) == "1.5"`, `format_exact(7 * SCALE, 2) == "7.00"`.
/// Takes `i128` so notionals (`notional`) print too.
pub fn format_exact(value: i128, min_decimals: u8) -> String {
    let scale = SCALE as u128;
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let mut frac = format!("{:09}", abs % scale);
    while frac.len() > usize::from(min_decimals.min(9)) && frac.ends_with('0') {
        frac.pop();
    }
    let whole = abs / scale;
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// Approximate value as a float, for signals and display only (never money).
pub fn to_f64(value: i64) -> f64 {
    value as f64 / SCALE as f64
}

/// Nearest fixed-point value of a float, for signals (never money).
pub fn from_f64(value: f64) -> i64 {
    (value * SCALE as f64).round() as i64
}

/// `price * quantity` in fixed-point, computed without overflow.
pub fn notional(price: i64, quantity: i64) -> i128 {
    i128::from(price) * i128::from(quantity) / i128::from(SCALE)
}

/// Round `price` down to a multiple of `tick` (tick > 0).
pub fn floor_to_tick(price: i64, tick: i64) -> i64 {
    price.div_euclid(tick) * tick
}

/// Round `price` up to a multiple of `tick` (tick > 0).
pub fn ceil_to_tick(price: i64, tick: i64) -> i64 {
    -((-price).div_euclid(tick) * tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(parse("4810.25"), Some(4_810_250_000_000));
        assert_eq!(parse("-0.000000001"), Some(-1));
        assert_eq!(parse("12"), Some(12 * SCALE));
        assert_eq!(parse(".5"), Some(SCALE / 2));
        assert_eq!(parse("1.0000000001"), None);
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("-"), None);
        assert_eq!(format(4_810_250_000_000, 2), "4810.25");
        assert_eq!(format(-1_500_000_000, 3), "-1.500");
        assert_eq!(format(7 * SCALE, 0), "7");
        assert_eq!(format_exact(7 * i128::from(SCALE), 2), "7.00");
        assert_eq!(format_exact(1_500_000_000, 0), "1.5");
        assert_eq!(format_exact(-125_000_000, 2), "-0.125");
        assert_eq!(format_exact(10_000, 0), "0.00001");
    }

    #[test]
    fn ticks_and_notional() {
        let tick = parse("0.25").unwrap();
        assert_eq!(
            floor_to_tick(parse("4810.30").unwrap(), tick),
            parse("4810.25").unwrap()
        );
        assert_eq!(
            ceil_to_tick(parse("4810.30").unwrap(), tick),
            parse("4810.50").unwrap()
        );
        assert_eq!(
            ceil_to_tick(parse("4810.25").unwrap(), tick),
            parse("4810.25").unwrap()
        );
        assert_eq!(
            notional(parse("100.5").unwrap(), from_units(3)),
            i128::from(parse("301.5").unwrap())
        );
    }
}

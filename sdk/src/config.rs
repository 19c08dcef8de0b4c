//! The plugin's configuration entries, as handed to `init`.

use std::str::FromStr;

/// Key/value configuration from the host config's `[plugins.NAME.config]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    entries: Vec<(String, String)>,
}

impl Config {
    /// Build from key/value pairs (the host's `init` argument, or a test's).
    pub fn new<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as `T`, or `default` when absent; an unparsable value is an
    /// error naming the key and the value.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| format!("config `{key}`: cannot parse `{raw}`")),
        }
    }

    /// `key` as a fixed-point decimal (see [`crate::fixed::parse`]), or `default`.
    pub fn fixed_or(&self, key: &str, default: i64) -> Result<i64, String> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => crate::fixed::parse(raw)
                .ok_or_else(|| format!("config `{key}`: `{raw}` is not a decimal number")),
        }
    }

    /// `key` as a list: its items separated by commas or spaces (`"a, b c"`
    /// is `a`, `b`, `c`); `None` when absent.
    pub fn list(&self, key: &str) -> Option<Vec<&str>> {
        self.get(key)
            .map(|raw| raw.split([',', ' ']).filter(|s| !s.is_empty()).collect())
    }

    /// The raw value of `key` for the instrument `symbol`: the entry
    /// `key.SYMBOL` when set (for example `ema.ESH4`), else `key`.
    pub fn for_instrument(&self, key: &str, symbol: &str) -> Option<&str> {
        self.get(&format!("{key}.{symbol}"))
            .or_else(|| self.get(key))
    }

    /// Every entry, in the order given.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_and_names_bad_ones() {
        let config = Config::new([("fast", "5"), ("max", "12.5"), ("bad", "x")]);
        assert_eq!(config.parse_or("fast", 1usize), Ok(5));
        assert_eq!(config.parse_or("missing", 7u32), Ok(7));
        assert_eq!(config.fixed_or("max", 0), Ok(12_500_000_000));
        assert_eq!(
            config.parse_or("bad", 0u32),
            Err("config `bad`: cannot parse `x`".to_string())
        );
    }

    #[test]
    fn an_instrument_entry_overrides_the_general_one() {
        let config = Config::new([("ema", "10"), ("ema.ESH4", "20")]);
        assert_eq!(config.for_instrument("ema", "ESH4"), Some("20"));
        assert_eq!(config.for_instrument("ema", "NQH4"), Some("10"));
        assert_eq!(config.for_instrument("vwap", "ESH4"), None);
        let config = Config::new([("instruments", "ESH4, NQH4 ,, YMH4")]);
        assert_eq!(
            config.list("instruments"),
            Some(vec!["ESH4", "NQH4", "YMH4"])
        );
        assert_eq!(config.list("other"), None);
    }
}

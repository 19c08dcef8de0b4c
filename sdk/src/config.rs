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

    /// Every per-instrument entry of `key` (`key.SYMBOL`, as `only` allows
    /// with `key.*`), by symbol, each value read by `read` from its entry's
    /// full key (`read("max_pct.ESH4")`, so its errors name the entry). A
    /// `key.` naming no symbol is an error.
    ///
    /// ```
    /// # use tradsys_sdk::Config;
    /// let config = Config::new([("max_pct", "1"), ("max_pct.ESH4", "0.5"), ("max_pct.NQH4", "2")]);
    /// let limits = config.per_symbol("max_pct", |key| config.fixed_or(key, 0)).unwrap();
    /// assert_eq!(limits.keys().collect::<Vec<_>>(), ["ESH4", "NQH4"]);
    /// let bad = Config::new([("max_pct.", "1")]);
    /// assert_eq!(
    ///     bad.per_symbol("max_pct", |key| bad.fixed_or(key, 0)).unwrap_err(),
    ///     "config `max_pct.`: no symbol after the dot (write `max_pct.SYMBOL`)"
    /// );
    /// ```
    pub fn per_symbol<T>(
        &self,
        key: &str,
        read: impl Fn(&str) -> Result<T, String>,
    ) -> Result<std::collections::BTreeMap<String, T>, String> {
        let mut values = std::collections::BTreeMap::new();
        for (entry, _) in &self.entries {
            let Some(symbol) = entry.strip_prefix(key).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            if symbol.is_empty() {
                return Err(format!(
                    "config `{entry}`: no symbol after the dot (write `{key}.SYMBOL`)"
                ));
            }
            values.insert(symbol.to_string(), read(entry)?);
        }
        Ok(values)
    }

    /// Every entry, in the order given.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Refuse every key that is not in `known`, so that a typo never leaves
    /// a default in force without a word (a risk limit included). An entry
    /// `name` of `known` allows the key `name`; an entry `name.*` allows
    /// `name.SYMBOL` for any symbol (the per-instrument form). The error
    /// names the unknown key and the known ones:
    ///
    /// ```
    /// # use tradsys_sdk::Config;
    /// let config = Config::new([("max_notinal", "5000")]);
    /// let err = config.only(&["max_notional", "max_quantity"]).unwrap_err();
    /// assert_eq!(
    ///     err,
    ///     "config `max_notinal`: unknown key (the keys are `max_notional`, `max_quantity`)"
    /// );
    /// ```
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        let allowed = |key: &str| {
            known.iter().any(|k| match k.strip_suffix(".*") {
                Some(prefix) => key
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|symbol| !symbol.is_empty()),
                None => *k == key,
            })
        };
        match self.entries.iter().find(|(key, _)| !allowed(key)) {
            None => Ok(()),
            Some((key, _)) => {
                let names: Vec<String> = known
                    .iter()
                    .map(|k| format!("`{}`", k.replace(".*", ".SYMBOL")))
                    .collect();
                let keys = match names.len() {
                    0 => "it takes none".to_string(),
                    1 => format!("the only key is {}", names[0]),
                    _ => format!("the keys are {}", names.join(", ")),
                };
                Err(format!("config `{key}`: unknown key ({keys})"))
            }
        }
    }
}

/// A plugin's tunables read from its config table in one call, every key
/// known (a typo is refused, naming the known keys) and every value
/// checked, each error naming its key. Derive it:
///
/// ```
/// use tradsys_sdk::{Config, Params};
///
/// #[derive(Debug, Params)]
/// #[params(also = "signals", check = Self::check)]
/// struct Tunables {
///     /// Quotes in the fast average.
///     #[param(default = 10, min = 1)]
///     fast: usize,
///     /// A bound may name an earlier field.
///     #[param(default = 40, min = fast + 1, max = 100_000)]
///     slow: usize,
///     /// Units per order, a decimal.
///     #[param(decimal = "100", positive)]
///     quantity: i64,
///     #[param(decimal = "400", min = quantity)]
///     max_position: i64,
///     #[param(default = 1.5, min = 0.0)]
///     band_bps: f64,
///     /// Absent: no cap.
///     #[param(decimal)]
///     cap: Option<i64>,
/// }
///
/// impl Tunables {
///     fn check(&self) -> Result<(), String> {
///         match self.band_bps < 100.0 || self.cap.is_none() {
///             true => Ok(()),
///             false => Err("config `band_bps`: at most 100 with a `cap`".into()),
///         }
///     }
/// }
///
/// let p = Tunables::from_config(&Config::new([("fast", "5"), ("cap", "2.5")])).unwrap();
/// assert_eq!((p.fast, p.slow, p.quantity, p.cap), (5, 40, 100_000_000_000, Some(2_500_000_000)));
/// let err = |entries: &[(&str, &str)]| Tunables::from_config(&Config::new(entries.to_vec())).unwrap_err();
/// assert_eq!(err(&[("fast", "0")]), "config `fast`: must be at least 1");
/// assert_eq!(err(&[("quantity", "-1")]), "config `quantity`: must be positive");
/// assert_eq!(err(&[("band_bps", "NaN")]), "config `band_bps`: must be a finite number");
/// assert_eq!(err(&[("fast", "50")]), "config `slow`: must be at least fast + 1 (51)");
/// assert_eq!(err(&[("max_position", "99.5")]), "config `max_position`: must be at least quantity (100)");
/// assert_eq!(err(&[("band_bps", "200"), ("cap", "1")]), "config `band_bps`: at most 100 with a `cap`");
/// assert!(err(&[("fsat", "5")]).starts_with("config `fsat`: unknown key (the keys are `fast`"));
/// assert_eq!(Tunables::KEYS, ["fast", "slow", "quantity", "max_position", "band_bps", "cap", "signals"]);
/// ```
///
/// A field's `#[param(..)]`: `default = EXPR` (its value when absent),
/// `decimal = "1.5"` (a fixed-point decimal, see [`crate::fixed`], and its
/// default), `decimal` alone on an `Option<i64>`, `min = ..` and
/// `max = ..` (inclusive; a decimal field's literal bounds as strings; a
/// bound may name the fields before it), `positive`, and
/// `key = "name"` for a key that is not the field's name. An `Option` field
/// is `None` when absent; an `f32`/`f64` must be finite. The struct's
/// `#[params(also = "key")]` accepts a key read elsewhere (by
/// [`crate::signals::Subscriptions`], say; `"name.*"` for per-instrument
/// keys), and `check = path` runs `fn(&Self) -> Result<(), String>` last,
/// for rules between fields.
pub trait Params: Sized {
    /// Every key it accepts.
    const KEYS: &'static [&'static str];
    /// Read and check `config`.
    fn from_config(config: &Config) -> Result<Self, String>;
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
    fn only_the_known_keys_pass_and_an_unknown_one_is_named() {
        let known = ["band_bps", "band_bps.*", "max"];
        let ok = Config::new([("band_bps", "5"), ("band_bps.ESH4", "2"), ("max", "1")]);
        assert_eq!(ok.only(&known), Ok(()));
        let typo = Config::new([("band_bps", "5"), ("bnad_bps", "2")]);
        assert_eq!(
            typo.only(&known),
            Err(
                "config `bnad_bps`: unknown key (the keys are `band_bps`, `band_bps.SYMBOL`, `max`)"
                    .to_string()
            )
        );
        // `max.ESH4` is not a per-instrument key of `max`; `band_bps.` names no symbol.
        assert!(Config::new([("max.ESH4", "1")]).only(&known).is_err());
        assert!(Config::new([("band_bps.", "1")]).only(&known).is_err());
        assert_eq!(
            Config::new([("x", "1")]).only(&[]),
            Err("config `x`: unknown key (it takes none)".to_string())
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

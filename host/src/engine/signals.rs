//! Signal names, interned once per host like instruments: the `signals`
//! import hands processors and strategies an id per name (in their `init`),
//! so the hot path carries only ids; the session reads a strategy's
//! subscriptions and the report the names.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The most signal names one host interns.
pub const MAX_SIGNALS: usize = 10_000;

/// The longest signal name, bytes.
pub const MAX_NAME_BYTES: usize = 64;

#[derive(Debug, Default)]
struct Table {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

/// The host's signal names, shared by every store and the session.
#[derive(Debug, Clone, Default)]
pub struct SignalNames(Arc<RwLock<Table>>);

impl SignalNames {
    /// The id of `name`, interned on first use; why not when the name is
    /// malformed or the table is full.
    pub fn intern(&self, name: &str) -> Result<u32, String> {
        if let Some(id) = self.get(name) {
            return Ok(id);
        }
        check_name(name)?;
        let mut table = self.0.write().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = table.ids.get(name) {
            return Ok(*id);
        }
        if table.names.len() >= MAX_SIGNALS {
            return Err(format!(
                "the host's {MAX_SIGNALS} signal names are all taken; `{name}` is not one of them"
            ));
        }
        let id = table.names.len() as u32;
        let name: Arc<str> = name.into();
        table.names.push(name.clone());
        table.ids.insert(name, id);
        Ok(id)
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<u32> {
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        table.ids.get(name).copied()
    }

    /// The name of signal `id`, if it is one.
    pub fn name(&self, id: u32) -> Option<Arc<str>> {
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        table.names.get(id as usize).cloned()
    }

    /// How many names are interned: the ids below it name signals (they
    /// are dense and never removed).
    pub fn len(&self) -> u32 {
        let table = self.0.read().unwrap_or_else(|e| e.into_inner());
        table.names.len() as u32
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why `name` cannot be a signal name, if it cannot.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "a signal name is 1 to {MAX_NAME_BYTES} characters, not {}",
            name.len()
        ));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')))
    {
        Some(c) => Err(format!(
            "signal name `{}` has {c:?}: use letters, digits and . _ - :",
            name.escape_debug()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_intern_to_dense_ids_once() {
        let names = SignalNames::default();
        assert_eq!(names.intern("ema:20").unwrap(), 0);
        assert_eq!(names.intern("vwap").unwrap(), 1);
        assert_eq!(names.intern("ema:20").unwrap(), 0);
        assert_eq!(names.name(1).as_deref(), Some("vwap"));
        assert_eq!(names.get("nope"), None);
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn a_malformed_name_is_refused_with_what_is_wrong() {
        let names = SignalNames::default();
        assert!(names.intern("").unwrap_err().contains("1 to 64"));
        assert!(
            names
                .intern(&"x".repeat(65))
                .unwrap_err()
                .contains("not 65")
        );
        assert!(names.intern("ema 20").unwrap_err().contains("' '"));
        assert!(names.is_empty(), "nothing was interned");
    }

    #[test]
    fn the_table_is_bounded() {
        let names = SignalNames::default();
        for i in 0..MAX_SIGNALS {
            names.intern(&format!("s{i}")).unwrap();
        }
        assert!(names.intern("one-more").unwrap_err().contains("all taken"));
        assert_eq!(names.intern("s7").unwrap(), 7, "known names still resolve");
    }
}

//! The venue's client accounts (`[gateway] accounts`, a TOML file of one
//! table per account). An account's API key is stored as its BLAKE3 hash
//! only: the keys are 256 random bits made by `tradsys gateway key`, so a
//! fast hash cannot be searched back to a key (a password hash's
//! stretching protects weak, chosen passwords, which these are not).
//!
//! ```toml
//! [alice]
//! key_hash = "blake3:0a1b..."   # `tradsys gateway key` prints a key and this line
//! fix_sender = "ALICE"          # the FIX SenderCompID of its sessions
//! drop_copy = false             # true: a copy of every execution at the venue
//! [alice.validators.max-notional]  # this account's config for a validator, over its own
//! max_notional = "500"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

/// The prefix of a stored key hash.
const HASH_PREFIX: &str = "blake3:";

/// The prefix of a key `tradsys gateway key` makes.
const KEY_PREFIX: &str = "tsk_";

/// Accounts at most in one file.
const MAX_ACCOUNTS: usize = 10_000;

/// One account as its file states it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    key_hash: String,
    #[serde(default)]
    fix_sender: Option<String>,
    #[serde(default)]
    drop_copy: bool,
    /// Per validator, config entries over its own for this account.
    #[serde(default)]
    validators: BTreeMap<String, BTreeMap<String, crate::config::ConfigValue>>,
}

/// One client account.
#[derive(Debug, Clone)]
pub struct ClientAccount {
    /// Its name (the file's table name).
    pub name: String,
    /// The hash of its API key.
    key: blake3::Hash,
    /// The SenderCompID of its FIX sessions.
    pub fix_sender: Option<String>,
    /// Its connections get a copy of every execution at the venue (an
    /// operator's account).
    pub drop_copy: bool,
    /// Per validator (by name), config entries over the validator's own
    /// that hold for this account's orders.
    pub validators: BTreeMap<String, Vec<(String, String)>>,
}

/// Every client account, by name (an account's index is its number in
/// the session).
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    list: Vec<ClientAccount>,
}

impl Accounts {
    /// Read `path`; an error names the file and the account.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the accounts file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("accounts file {}", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        let entries: toml::Table = toml::from_str(text).context("not valid TOML")?;
        anyhow::ensure!(!entries.is_empty(), "it names no account");
        anyhow::ensure!(
            entries.len() <= MAX_ACCOUNTS,
            "{} accounts, more than {MAX_ACCOUNTS}",
            entries.len()
        );
        let mut list = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            anyhow::ensure!(
                valid_name,
                "account `{name}`: a name is 1 to 64 letters, digits, `-` or `_`"
            );
            let entry: AccountEntry = value
                .try_into()
                .with_context(|| format!("account `{name}`"))?;
            let key = parse_hash(&entry.key_hash).with_context(|| format!("account `{name}`"))?;
            if let Some(sender) = &entry.fix_sender {
                anyhow::ensure!(
                    !sender.is_empty() && sender.bytes().all(|b| b.is_ascii_graphic()),
                    "account `{name}`: fix_sender must be printable ASCII without spaces"
                );
                if let Some(other) = list
                    .iter()
                    .find(|a: &&ClientAccount| a.fix_sender.as_ref() == Some(sender))
                {
                    anyhow::bail!(
                        "account `{name}`: fix_sender `{sender}` is account `{}`'s too",
                        other.name
                    );
                }
            }
            list.push(ClientAccount {
                name,
                key,
                fix_sender: entry.fix_sender,
                drop_copy: entry.drop_copy,
                validators: entry
                    .validators
                    .into_iter()
                    .map(|(validator, config)| {
                        let entries = config.iter().map(|(k, v)| (k.clone(), v.to_text()));
                        (validator, entries.collect())
                    })
                    .collect(),
            });
        }
        Ok(Self { list })
    }

    /// The account `name` if `key` is its key (compared in constant time).
    pub fn authenticate(&self, name: &str, key: &str) -> Option<usize> {
        let index = self.list.iter().position(|a| a.name == name)?;
        // `blake3::Hash`'s equality is constant-time.
        (blake3::hash(key.as_bytes()) == self.list[index].key).then_some(index)
    }

    /// The account whose FIX SenderCompID is `sender`, if `key` is its key.
    pub fn authenticate_fix(&self, sender: &str, key: &str) -> Option<usize> {
        let index = self
            .list
            .iter()
            .position(|a| a.fix_sender.as_deref() == Some(sender))?;
        (blake3::hash(key.as_bytes()) == self.list[index].key).then_some(index)
    }

    /// Account `index`.
    pub fn get(&self, index: usize) -> Option<&ClientAccount> {
        self.list.get(index)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every account, by index.
    pub fn iter(&self) -> impl Iterator<Item = &ClientAccount> {
        self.list.iter()
    }
}

fn parse_hash(text: &str) -> Result<blake3::Hash> {
    let hex = text.strip_prefix(HASH_PREFIX).with_context(|| {
        format!("key_hash must start with `{HASH_PREFIX}` (`tradsys gateway key` prints one)")
    })?;
    blake3::Hash::from_hex(hex).map_err(|_| {
        anyhow::anyhow!("key_hash: `{hex}` is not 64 hexadecimal digits of a BLAKE3 hash")
    })
}

/// A new API key: 256 random bits, as text.
pub fn new_key() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{KEY_PREFIX}{hex}"))
}

/// What the accounts file stores of `key`.
pub fn hash_key(key: &str) -> String {
    format!("{HASH_PREFIX}{}", blake3::hash(key.as_bytes()).to_hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_logs_on_to_its_account_only() {
        let (a, b) = (new_key().unwrap(), new_key().unwrap());
        assert_ne!(a, b);
        let text = format!(
            "[alice]\nkey_hash = \"{}\"\nfix_sender = \"ALICE\"\n[bob]\nkey_hash = \"{}\"\n",
            hash_key(&a),
            hash_key(&b)
        );
        let accounts = Accounts::parse(&text).unwrap();
        assert_eq!(accounts.authenticate("alice", &a), Some(0));
        assert_eq!(accounts.authenticate("bob", &b), Some(1));
        assert_eq!(accounts.authenticate("alice", &b), None);
        assert_eq!(accounts.authenticate("carol", &a), None);
        assert_eq!(
            accounts.get(0).unwrap().fix_sender.as_deref(),
            Some("ALICE")
        );
        // The file holds no key.
        assert!(!text.contains(&a[KEY_PREFIX.len()..]));
    }

    #[test]
    fn a_wrong_file_is_refused_naming_the_account() {
        let error = |text: &str| format!("{:#}", Accounts::parse(text).unwrap_err());
        assert!(error("[alice]\nkey_hash = \"sha1:00\"\n").contains("account `alice`"));
        assert!(error("[alice]\nkey_hash = \"blake3:zz\"\n").contains("not 64 hexadecimal"));
        let hash = hash_key("k");
        assert!(
            error(&format!("[alice]\nkey_hash = \"{hash}\"\nlimit = 3\n"))
                .contains("unknown field")
        );
        assert!(error(&format!("[\"a b\"]\nkey_hash = \"{hash}\"\n")).contains("a name is"));
        let twice = format!(
            "[a]\nkey_hash = \"{hash}\"\nfix_sender = \"X\"\n[b]\nkey_hash = \"{hash}\"\nfix_sender = \"X\"\n"
        );
        assert!(error(&twice).contains("is account `a`'s too"));
        assert!(error("").contains("names no account"));
    }
}

//! The host's trust store: a directory of `*.pub` files and an optional
//! `revoked` file listing key ids (one per line, `#` starts a comment).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{Error, KeyId, PublicKey, Result};

/// Keys the host trusts, and the ids it has revoked.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: BTreeMap<KeyId, PublicKey>,
    revoked: BTreeSet<KeyId>,
}

/// The name of the revocation list inside a trust directory.
pub const REVOKED_FILE: &str = "revoked";

impl TrustStore {
    /// Load every `*.pub` file of `dir` and its `revoked` list. A key file
    /// that cannot be read is an error naming it: a trust store is all or nothing.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut store = Self::default();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
        {
            store.add(PublicKey::read(path)?);
        }
        let revoked = dir.join(REVOKED_FILE);
        if revoked.exists() {
            let text = std::fs::read_to_string(&revoked).map_err(|e| Error::io(&revoked, e))?;
            for (n, line) in text.lines().enumerate() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let id = KeyId::parse(line).ok_or_else(|| Error::BadKeyFile {
                    path: revoked.clone(),
                    reason: format!("line {}: `{line}` is not a key id (16 hex digits)", n + 1),
                })?;
                store.revoked.insert(id);
            }
        }
        Ok(store)
    }

    /// Trust `key`.
    pub fn add(&mut self, key: PublicKey) {
        self.keys.insert(key.id(), key);
    }

    /// Revoke the key with `id`.
    pub fn revoke(&mut self, id: KeyId) {
        self.revoked.insert(id);
    }

    /// The trusted key with `id`, if any (revoked or not).
    pub fn key(&self, id: &KeyId) -> Option<&PublicKey> {
        self.keys.get(id)
    }

    /// Whether `id` is revoked.
    pub fn is_revoked(&self, id: &KeyId) -> bool {
        self.revoked.contains(id)
    }

    /// Every trusted key.
    pub fn keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.values()
    }
}

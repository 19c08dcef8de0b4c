//! Which plugin files may run: the trust policy over the trust store, and
//! what it established about a file ([`Verified`]).

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};
use tradsys_signing::{Error as SigningError, KeyId, Manifest, TrustStore, read_manifest, verify};

use crate::config::TrustSettings;

/// What the trust policy established about a plugin file.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its manifest.
    pub manifest: Manifest,
    /// Keys whose signatures verified (empty when run unsigned).
    pub signers: Vec<KeyId>,
    /// SHA-256 of the file without its signatures.
    pub digest: [u8; 32],
}

/// How plugins are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustMode {
    /// Only files signed by a trusted, unrevoked key run.
    Verified,
    /// Development mode: files without a valid signature run too.
    UnsignedAllowed,
}

/// How signatures are checked.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    store: Option<TrustStore>,
    allow_unsigned: bool,
}

impl TrustPolicy {
    /// The policy of the `[trust]` settings. Without a trust store and without
    /// the development flag nothing could run, so that is an error.
    pub fn from_settings(settings: &TrustSettings) -> Result<Self> {
        let store = match &settings.dir {
            Some(dir) => Some(
                TrustStore::load(dir)
                    .with_context(|| format!("loading trust store {}", dir.display()))?,
            ),
            None => None,
        };
        if store.is_none() && !settings.allow_unsigned {
            bail!(
                "no trust store: pass --trust DIR or set [trust] dir (or --allow-unsigned, for development only)"
            );
        }
        if settings.allow_unsigned {
            tracing::warn!(
                "UNSIGNED PLUGINS ALLOWED: development mode, plugins run without a trusted signature"
            );
        }
        Ok(Self {
            store,
            allow_unsigned: settings.allow_unsigned,
        })
    }

    /// A policy trusting exactly `store`.
    pub fn trusting(store: TrustStore) -> Self {
        Self {
            store: Some(store),
            allow_unsigned: false,
        }
    }

    /// Whether unsigned plugins may run (development mode).
    pub fn mode(&self) -> TrustMode {
        if self.allow_unsigned {
            TrustMode::UnsignedAllowed
        } else {
            TrustMode::Verified
        }
    }

    /// Ids of the trusted keys.
    pub fn trusted_keys(&self) -> Vec<KeyId> {
        self.store
            .iter()
            .flat_map(|s| s.keys().map(|k| k.id()))
            .collect()
    }

    /// The manifest and verified signers of a file, or why it may not run.
    ///
    /// In development mode a file with no signature, or signed only by keys
    /// outside the trust store, runs unsigned; a signature that does not
    /// match (tampering) or a revoked key is refused in every mode.
    pub fn check(&self, bytes: &[u8]) -> Result<Verified, SigningError> {
        let verified = match &self.store {
            Some(store) => verify(bytes, store).map(|v| Verified {
                manifest: v.manifest,
                signers: v.signers,
                digest: v.digest,
            }),
            None => Err(SigningError::MissingSignature),
        };
        match verified {
            Err(SigningError::MissingSignature | SigningError::UnknownKey { .. })
                if self.allow_unsigned =>
            {
                Ok(Verified {
                    manifest: read_manifest(bytes)?,
                    signers: Vec::new(),
                    digest: tradsys_signing::digest(bytes)?,
                })
            }
            other => other,
        }
    }
}

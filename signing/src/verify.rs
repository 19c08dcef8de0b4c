//! Verifying a plugin file against a trust store.

use crate::sections::{custom_sections, sections};
use crate::signature::{digest, signatures, verify_block};
use crate::{Error, KeyId, MANIFEST_SECTION, Manifest, Result, TrustStore};

/// A file that passed verification.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its manifest.
    pub manifest: Manifest,
    /// Keys whose signatures verified, in file order.
    pub signers: Vec<KeyId>,
    /// SHA-256 of the file without its signature sections.
    pub digest: [u8; 32],
}

/// What one signature section says, as checked against a trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStatus {
    /// A trusted, unrevoked key signed exactly this file.
    Valid,
    /// A trusted key's signature does not match the file.
    Bad,
    /// The key is not in the trust store.
    UnknownKey,
    /// The key is trusted but revoked.
    Revoked,
}

/// Check `bytes`: at least one signature by a trusted, unrevoked key over
/// everything but the signature sections, then one well-formed manifest.
///
/// When no signature is good the error names the most telling one: a bad
/// signature by a trusted key, else a revoked key, else an unknown key.
pub fn verify(bytes: &[u8], trust: &TrustStore) -> Result<Verified> {
    let blocks = signatures(bytes)?;
    if blocks.is_empty() {
        return Err(Error::MissingSignature);
    }
    let digest = digest(bytes)?;
    let statuses: Vec<(KeyId, SignatureStatus)> = blocks
        .iter()
        .map(|b| (b.key_id, status(trust, &digest, b)))
        .collect();
    let signers: Vec<KeyId> = statuses
        .iter()
        .filter(|(_, s)| *s == SignatureStatus::Valid)
        .map(|(id, _)| *id)
        .collect();
    if signers.is_empty() {
        let first = |wanted| {
            statuses
                .iter()
                .find(|(_, s)| *s == wanted)
                .map(|(id, _)| *id)
        };
        return Err(if let Some(key_id) = first(SignatureStatus::Bad) {
            Error::BadSignature { key_id }
        } else if let Some(key_id) = first(SignatureStatus::Revoked) {
            Error::RevokedKey { key_id }
        } else {
            Error::UnknownKey {
                key_id: statuses[0].0,
            }
        });
    }
    Ok(Verified {
        manifest: read_manifest(bytes)?,
        signers,
        digest,
    })
}

fn status(trust: &TrustStore, digest: &[u8; 32], block: &crate::SignatureBlock) -> SignatureStatus {
    match trust.key(&block.key_id) {
        None => SignatureStatus::UnknownKey,
        Some(_) if trust.is_revoked(&block.key_id) => SignatureStatus::Revoked,
        Some(key) if verify_block(&key.key, digest, block) => SignatureStatus::Valid,
        Some(_) => SignatureStatus::Bad,
    }
}

/// The manifest of `bytes`, without checking any signature (for unsigned
/// development plugins and for inspection).
pub fn read_manifest(bytes: &[u8]) -> Result<Manifest> {
    let s = sections(bytes)?;
    match custom_sections(bytes, &s, MANIFEST_SECTION).as_slice() {
        [] => Err(Error::MissingManifest),
        [data] => Manifest::from_json(data),
        many => Err(Error::MalformedManifest(format!(
            "{} manifest sections; a plugin has one",
            many.len()
        ))),
    }
}

/// Every signature of `bytes` with its status against `trust`.
pub fn signature_statuses(
    bytes: &[u8],
    trust: &TrustStore,
) -> Result<Vec<(KeyId, SignatureStatus)>> {
    let digest = digest(bytes)?;
    Ok(signatures(bytes)?
        .iter()
        .map(|b| (b.key_id, status(trust, &digest, b)))
        .collect())
}

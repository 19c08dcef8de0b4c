//! Plugin manifests, signatures and trust for tradsys plugin files.
//!
//! A plugin file is one WebAssembly component carrying its code, a
//! `tradsys-manifest` custom section and one or more `tradsys-signature`
//! custom sections. This crate reads and writes those sections and checks
//! signatures; it treats the code as opaque bytes and never runs it.
//!
//! ```
//! use tradsys_signing::{embed_manifest, sign, verify, Manifest, SecretKey, TrustStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let component = b"\0asm\x0d\x00\x01\x00".to_vec(); // an empty component
//! let manifest = Manifest::from_json(br#"{"name":"demo","version":"1.0.0","kind":"strategy","api":"^1.0"}"#)?;
//! let key = SecretKey::generate("release")?;
//! let signed = sign(&embed_manifest(&component, &manifest)?, &key)?;
//!
//! let mut trust = TrustStore::default();
//! trust.add(key.public());
//! let verified = verify(&signed, &trust)?;
//! assert_eq!(verified.manifest.name.as_str(), "demo");
//! assert_eq!(verified.signers, vec![key.public().id()]);
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod error;
pub mod file;
mod keys;
mod manifest;
mod sections;
mod signature;
mod trust;
mod verify;

pub use error::{Error, Result};
pub use keys::{KeyId, PublicKey, SecretKey};
pub use manifest::{Capabilities, EventKind, Kind, Limits, MANIFEST_SECTION, Manifest, PluginName};
pub use sections::{Section, sections};
pub use signature::{
    SIGNATURE_SECTION, SignatureBlock, digest, sign, signatures, verify_block, verify_message,
};
pub use trust::{REVOKED_FILE, TrustStore};
pub use verify::{SignatureStatus, Verified, read_manifest, signature_statuses, verify};

/// Replace any manifest (and drop any signature, which the new manifest would
/// invalidate) and embed `manifest`.
pub fn embed_manifest(bytes: &[u8], manifest: &Manifest) -> Result<Vec<u8>> {
    let s = sections::sections(bytes)?;
    let unsigned = sections::strip_custom(bytes, &s, SIGNATURE_SECTION);
    let s = sections::sections(&unsigned)?;
    let mut out = sections::strip_custom(&unsigned, &s, MANIFEST_SECTION);
    sections::append_custom(&mut out, MANIFEST_SECTION, &manifest.to_json());
    Ok(out)
}

/// Hex of a digest, for display.
pub fn hex(bytes: &[u8]) -> String {
    keys::hex_encode(bytes)
}

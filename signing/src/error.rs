//! Everything that can be wrong with a plugin file, a key or a trust store.

use std::path::{Path, PathBuf};

use crate::KeyId;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a file, key or trust store was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a WebAssembly binary at all.
    #[error("not a WebAssembly file: {0}")]
    NotWasm(String),
    /// The framing runs past the end of the file: a partial copy or a cut file.
    #[error(
        "truncated: the section at byte {offset} needs {needed} bytes but the file has {len} (a partial copy?)"
    )]
    Truncated {
        /// Where the cut section starts.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes the file has.
        len: usize,
    },
    /// No `tradsys-manifest` section.
    #[error("no manifest: the file has no `tradsys-manifest` section")]
    MissingManifest,
    /// The manifest section does not parse.
    #[error("malformed manifest: {0}")]
    MalformedManifest(String),
    /// No `tradsys-signature` section.
    #[error("unsigned: the file has no `tradsys-signature` section")]
    MissingSignature,
    /// A signature section that cannot be read.
    #[error("malformed signature section: {0}")]
    MalformedSignature(String),
    /// A trusted key's signature does not match the file.
    #[error("bad signature by key {key_id}: the file changed after it was signed")]
    BadSignature {
        /// The key that signed.
        key_id: KeyId,
    },
    /// Signed only by keys the trust store does not hold.
    #[error("signed only by unknown key {key_id} (not in the trust store)")]
    UnknownKey {
        /// The unknown key.
        key_id: KeyId,
    },
    /// Signed only by revoked keys.
    #[error("signed only by revoked key {key_id}")]
    RevokedKey {
        /// The revoked key.
        key_id: KeyId,
    },
    /// A key file that cannot be used.
    #[error("key file {path}: {reason}")]
    BadKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The operating system's random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

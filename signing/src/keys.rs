//! Keys and their files.
//!
//! Both files are one line of text:
//!
//! ```text
//! NAME.pub   tradsys-ed25519-public-v1 <64 hex digits: the public key> <name>
//! NAME.key   tradsys-ed25519-secret-v1 <64 hex digits: the secret seed> <name>
//! ```
//!
//! The key id is the first 8 bytes of SHA-256 over the public key, as 16 hex
//! digits; it names the key in signatures, messages and the revocation list.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::file::{Access, write_atomically};
use crate::{Error, Result};

const PUBLIC_TAG: &str = "tradsys-ed25519-public-v1";
const SECRET_TAG: &str = "tradsys-ed25519-secret-v1";

/// Identifies a public key: the first 8 bytes of its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        Self(digest[..8].try_into().expect("8 of 32 bytes"))
    }

    /// The raw bytes.
    pub fn bytes(&self) -> [u8; 8] {
        self.0
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// Parse 16 hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = hex_decode(text.trim())?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_encode(&self.0))
    }
}

/// A public key with its name and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The key's name (from its file).
    pub name: String,
    /// The ed25519 key.
    pub key: VerifyingKey,
}

impl PublicKey {
    /// Its id.
    pub fn id(&self) -> KeyId {
        KeyId::of(&self.key)
    }

    /// Read a `.pub` file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let (bytes, name) = parse_line(&text, PUBLIC_TAG).ok_or_else(|| Error::BadKeyFile {
            path: path.to_path_buf(),
            reason: format!("expected `{PUBLIC_TAG} <64 hex digits> <name>`"),
        })?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| Error::BadKeyFile {
            path: path.to_path_buf(),
            reason: format!("not an ed25519 public key: {e}"),
        })?;
        Ok(Self { name, key })
    }

    /// The file's text.
    pub fn to_line(&self) -> String {
        format!(
            "{PUBLIC_TAG} {} {}\n",
            hex_encode(self.key.as_bytes()),
            self.name
        )
    }
}

/// A secret signing key with its name.
pub struct SecretKey {
    /// The key's name.
    pub name: String,
    /// The ed25519 key.
    pub key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("name", &self.name)
            .field("id", &self.public().id())
            .finish()
    }
}

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Read a `.key` file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let (seed, name) = parse_line(&text, SECRET_TAG).ok_or_else(|| Error::BadKeyFile {
            path: path.to_path_buf(),
            reason: format!("expected `{SECRET_TAG} <64 hex digits> <name>`"),
        })?;
        Ok(Self {
            name,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Write `DIR/NAME.key` (mode 0600) and `DIR/NAME.pub`; refuses to
    /// overwrite an existing key. Returns both paths.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let secret = dir.join(format!("{}.key", self.name));
        let public = dir.join(format!("{}.pub", self.name));
        for path in [&secret, &public] {
            if path.exists() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists"),
                ));
            }
        }
        let line = format!(
            "{SECRET_TAG} {} {}\n",
            hex_encode(self.key.as_bytes()),
            self.name
        );
        write_atomically(&secret, line.as_bytes(), Access::Private)
            .map_err(|e| Error::io(&secret, e))?;
        write_atomically(&public, self.public().to_line().as_bytes(), Access::Default)
            .map_err(|e| Error::io(&public, e))?;
        Ok((secret, public))
    }
}

fn parse_line(text: &str, tag: &str) -> Option<([u8; 32], String)> {
    let mut words = text.trim().splitn(3, ' ');
    if words.next()? != tag {
        return None;
    }
    let bytes: [u8; 32] = hex_decode(words.next()?)?.try_into().ok()?;
    let name = words.next().unwrap_or("").trim().to_string();
    Some((bytes, name))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of an even-length hex string (digits only: `from_str_radix` alone
/// would take `+f` for `0f`).
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_the_secret_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate("release").unwrap();
        let (secret, public) = key.write(dir.path()).unwrap();
        let read = SecretKey::read(&secret).unwrap();
        assert_eq!(read.key.to_bytes(), key.key.to_bytes());
        assert_eq!(PublicKey::read(&public).unwrap(), key.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(key.write(dir.path()).is_err(), "never overwrites a key");
        let id = key.public().id();
        assert_eq!(KeyId::parse(&id.to_string()), Some(id));
    }

    #[test]
    fn hex_is_digits_only() {
        // `u8::from_str_radix` takes a sign: "+f" would read as 0x0f.
        assert_eq!(hex_decode("+f"), None);
        assert_eq!(KeyId::parse("+1+2+3+4+5+6+7+8"), None);
        assert_eq!(hex_decode("0F"), Some(vec![0x0f]));
    }

    #[test]
    fn a_bad_key_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pub");
        std::fs::write(&path, "ssh-ed25519 AAAA").unwrap();
        let err = PublicKey::read(&path).unwrap_err().to_string();
        assert!(err.contains("x.pub") && err.contains(PUBLIC_TAG), "{err}");
    }
}

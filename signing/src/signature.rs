//! Signatures: ed25519 over a SHA-256 digest of every byte of the file except
//! its signature sections, so any change to any other section (manifest
//! included) invalidates them, and several signatures can sit side by side.

use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::sections::{append_custom, custom_sections, sections, strip_custom};
use crate::{Error, KeyId, Result, SecretKey};

/// Name of the custom sections holding signatures.
pub const SIGNATURE_SECTION: &str = "tradsys-signature";

/// Domain separation: a tradsys plugin signature signs this prefix and the digest.
const CONTEXT: &[u8] = b"tradsys-plugin-signature-v1\0";
const FORMAT: u8 = 1;

/// One signature section: which key, and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureBlock {
    /// Id of the signing key.
    pub key_id: KeyId,
    /// The ed25519 signature.
    pub signature: [u8; 64],
}

impl SignatureBlock {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(73);
        out.push(FORMAT);
        out.extend_from_slice(&self.key_id.bytes());
        out.extend_from_slice(&self.signature);
        out
    }

    fn decode(data: &[u8]) -> Result<Self> {
        match data {
            [FORMAT, rest @ ..] if rest.len() == 72 => Ok(Self {
                key_id: KeyId::from_bytes(rest[..8].try_into().expect("8 bytes")),
                signature: rest[8..].try_into().expect("64 bytes"),
            }),
            [FORMAT, ..] => Err(Error::MalformedSignature(format!(
                "{} bytes where 73 were expected",
                data.len()
            ))),
            _ => Err(Error::MalformedSignature("unknown signature format".into())),
        }
    }
}

/// SHA-256 of `bytes` with every signature section removed.
pub fn digest(bytes: &[u8]) -> Result<[u8; 32]> {
    let s = sections(bytes)?;
    Ok(Sha256::digest(strip_custom(bytes, &s, SIGNATURE_SECTION)).into())
}

/// The signature sections of `bytes`, in file order.
pub fn signatures(bytes: &[u8]) -> Result<Vec<SignatureBlock>> {
    let s = sections(bytes)?;
    custom_sections(bytes, &s, SIGNATURE_SECTION)
        .into_iter()
        .map(SignatureBlock::decode)
        .collect()
}

fn message(digest: &[u8; 32]) -> Vec<u8> {
    [CONTEXT, digest.as_slice()].concat()
}

/// Append a signature by `key` over `bytes`. Signatures already present stay
/// valid: a signature never covers the other signature sections.
pub fn sign(bytes: &[u8], key: &SecretKey) -> Result<Vec<u8>> {
    let digest = digest(bytes)?;
    let block = SignatureBlock {
        key_id: key.public().id(),
        signature: key.key.sign(&message(&digest)).to_bytes(),
    };
    let mut out = bytes.to_vec();
    append_custom(&mut out, SIGNATURE_SECTION, &block.encode());
    Ok(out)
}

/// Whether `signature` is `key`'s ed25519 signature of `message` (strict
/// RFC 8032 verification: no malleable signatures, no small-order keys).
pub fn verify_message(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    key.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// Whether `block` is `key`'s signature of a file with `digest`.
pub fn verify_block(key: &VerifyingKey, digest: &[u8; 32], block: &SignatureBlock) -> bool {
    KeyId::of(key) == block.key_id && verify_message(key, &message(digest), &block.signature)
}

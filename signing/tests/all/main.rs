//! Tests of `tradsys-signing` through its public API.

mod rfc8032;
mod tamper;
mod trust;

use tradsys_signing::{Manifest, SecretKey, embed_manifest, sign};

/// A small component (the empty one) with a manifest, signed by `key`.
pub fn signed_plugin(key: &SecretKey, version: &str) -> Vec<u8> {
    let component = b"\0asm\x0d\x00\x01\x00".to_vec();
    sign(
        &embed_manifest(&component, &manifest(version)).unwrap(),
        key,
    )
    .unwrap()
}

pub fn manifest(version: &str) -> Manifest {
    Manifest::from_json(
        format!(r#"{{"name":"ma-crossover","version":"{version}","kind":"strategy","api":"^1.0","author":"quant desk"}}"#)
            .as_bytes(),
    )
    .unwrap()
}

//! Every single-byte change of a signed plugin is refused.

use tradsys_signing::{SecretKey, TrustStore, verify};

use crate::signed_plugin;

#[test]
fn flipping_any_byte_of_a_small_signed_plugin_is_refused() {
    let key = SecretKey::generate("release").unwrap();
    let mut trust = TrustStore::default();
    trust.add(key.public());
    let signed = signed_plugin(&key, "1.0.0");
    verify(&signed, &trust).expect("the untouched file verifies");
    for position in 0..signed.len() {
        for mask in [0x01, 0x80, 0xff] {
            let mut variant = signed.clone();
            variant[position] ^= mask;
            assert!(
                verify(&variant, &trust).is_err(),
                "flipping byte {position} with {mask:#04x} was accepted"
            );
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let key = SecretKey::generate("release").unwrap();
    let mut trust = TrustStore::default();
    trust.add(key.public());
    let signed = signed_plugin(&key, "1.0.0");
    for len in 0..signed.len() {
        assert!(
            verify(&signed[..len], &trust).is_err(),
            "a copy cut at byte {len} was accepted"
        );
    }
}

//! RFC 8032 section 7.1 test vectors through the verification path.

use ed25519_dalek::SigningKey;
use tradsys_signing::verify_message;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// (secret key, public key, message, signature) of TEST 1, 2 and 3.
const VECTORS: [(&str, &str, &str, &str); 3] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_vectors_verify_and_a_changed_bit_does_not() {
    for (secret, public, message, signature) in VECTORS {
        let key = SigningKey::from_bytes(&hex(secret).try_into().unwrap());
        let public_key = key.verifying_key();
        assert_eq!(public_key.as_bytes().to_vec(), hex(public));
        let signature: [u8; 64] = hex(signature).try_into().unwrap();
        let message = hex(message);
        assert!(
            verify_message(&public_key, &message, &signature),
            "vector with public key {public}"
        );

        let mut flipped = signature;
        flipped[0] ^= 1;
        assert!(!verify_message(&public_key, &message, &flipped));
        let mut other = message.clone();
        other.push(0);
        assert!(!verify_message(&public_key, &other, &signature));
    }
}

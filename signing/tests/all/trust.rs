//! Each way a plugin can fail verification has its own error and message.

use tradsys_signing::{
    Error, KeyId, MANIFEST_SECTION, REVOKED_FILE, SecretKey, TrustStore, embed_manifest,
    read_manifest, sign, verify,
};

use crate::{manifest, signed_plugin};

struct Case {
    name: &'static str,
    file: Vec<u8>,
    expected: &'static str,
}

/// Inputs and the message each must be refused with.
fn cases(release: &SecretKey, stranger: &SecretKey, revoked: &SecretKey) -> Vec<Case> {
    let good = signed_plugin(release, "1.0.0");
    // A signature over the 1.0.0 manifest, carried onto a 2.0.0 manifest.
    let mut old_signature_new_manifest = embed_manifest(&good, &manifest("2.0.0")).unwrap();
    let last = tradsys_signing::sections(&good).unwrap().pop().unwrap();
    assert_eq!(
        last.custom.as_ref().unwrap().0,
        tradsys_signing::SIGNATURE_SECTION
    );
    old_signature_new_manifest.extend_from_slice(&good[last.range]);
    vec![
        Case {
            name: "unsigned",
            file: embed_manifest(&good, &manifest("1.0.0")).unwrap(),
            expected: "unsigned",
        },
        Case {
            name: "wrong key",
            file: signed_plugin(stranger, "1.0.0"),
            expected: "signed only by unknown key",
        },
        Case {
            name: "revoked key",
            file: signed_plugin(revoked, "1.0.0"),
            expected: "signed only by revoked key",
        },
        Case {
            name: "signature over an older manifest",
            file: old_signature_new_manifest,
            expected: "bad signature by key",
        },
        Case {
            name: "truncated file",
            file: good[..good.len() / 2].to_vec(),
            expected: "truncated",
        },
        Case {
            name: "not wasm",
            file: b"PK\x03\x04 a zip file".to_vec(),
            expected: "not a WebAssembly file",
        },
        Case {
            name: "no manifest",
            file: sign(b"\0asm\x0d\x00\x01\x00", release).unwrap(),
            expected: "no manifest",
        },
    ]
}

#[test]
fn each_refusal_has_its_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let release = SecretKey::generate("release").unwrap();
    let stranger = SecretKey::generate("stranger").unwrap();
    let revoked = SecretKey::generate("old-release").unwrap();
    release.write(dir.path()).unwrap();
    revoked.write(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("release.key")).unwrap(); // a trust dir holds public keys only
    std::fs::write(
        dir.path().join(REVOKED_FILE),
        format!("# leaked 2026-11-01\n{}\n", revoked.public().id()),
    )
    .unwrap();
    let trust = TrustStore::load(dir.path()).unwrap();

    verify(&signed_plugin(&release, "1.0.0"), &trust).expect("a release-signed plugin verifies");
    for case in cases(&release, &stranger, &revoked) {
        let err = verify(&case.file, &trust).expect_err(case.name).to_string();
        assert!(
            err.contains(case.expected),
            "{}: expected `{}` in `{err}`",
            case.name,
            case.expected
        );
    }
}

#[test]
fn two_signatures_and_either_key_suffices() {
    let author = SecretKey::generate("author").unwrap();
    let release = SecretKey::generate("release").unwrap();
    let both = sign(&signed_plugin(&author, "1.0.0"), &release).unwrap();
    let mut only_release = TrustStore::default();
    only_release.add(release.public());
    let verified = verify(&both, &only_release).unwrap();
    assert_eq!(verified.signers, vec![release.public().id()]);
    let mut trust_both = only_release.clone();
    trust_both.add(author.public());
    assert_eq!(verify(&both, &trust_both).unwrap().signers.len(), 2);
    // Revoking one leaves the other.
    trust_both.revoke(release.public().id());
    assert_eq!(
        verify(&both, &trust_both).unwrap().signers,
        vec![author.public().id()]
    );
}

#[test]
fn a_malformed_manifest_is_named() {
    let key = SecretKey::generate("k").unwrap();
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    // Hand-append a manifest section holding invalid JSON.
    let payload = [
        &[MANIFEST_SECTION.len() as u8][..],
        MANIFEST_SECTION.as_bytes(),
        b"{not json",
    ]
    .concat();
    bytes.push(0);
    bytes.push(payload.len() as u8);
    bytes.extend_from_slice(&payload);
    let signed = sign(&bytes, &key).unwrap();
    let mut trust = TrustStore::default();
    trust.add(key.public());
    assert!(matches!(
        verify(&signed, &trust),
        Err(Error::MalformedManifest(_))
    ));
    assert!(
        read_manifest(&signed)
            .unwrap_err()
            .to_string()
            .starts_with("malformed manifest")
    );
    assert_eq!(KeyId::parse("zz"), None);
}

//! Property tests of every parser of untrusted bytes in `tradsys-signing`:
//! the section framing of a plugin file, its manifest (JSON, and the
//! section carrying it), its signature sections and their verification, key
//! files, and a trust store's revocation list. Each gets arbitrary input and
//! a valid input with bytes flipped, set, inserted, deleted or cut.
//!
//! None panics, each returns within a bounded time without growing the heap
//! past a cap, and every error names what was wrong. `PROPTEST_CASES` sets
//! the number of cases; `cargo xtask fuzz` runs many.

use std::path::Path;

use proptest::prelude::*;
use tradsys_props::{HEAP_LIMIT, bounded, mutated};
use tradsys_signing::{
    Error, KeyId, MANIFEST_SECTION, Manifest, PublicKey, REVOKED_FILE, SIGNATURE_SECTION,
    SecretKey, TrustStore, digest, embed_manifest, read_manifest, sections, sign,
    signature_statuses, signatures, verify,
};

// Valid inputs.

/// A manifest stating every field.
const MANIFEST: &str = r#"{"name":"ma-crossover","version":"1.2.3-rc.1+build.5","kind":"strategy",
    "api":"^1.0, <2","description":"two moving averages","author":"quant desk",
    "capabilities":{"read_dir":true,"network":["feed.example:443"]},
    "limits":{"fuel_per_call":1000000,"deadline_ms":5,"memory_bytes":1048576},
    "dependencies":{"fifo-matcher":"^1"},"priority":-3}"#;

/// The secret key file of a fixed key (so a failing case replays exactly).
fn key_line(tag: &str, seed: u8, name: &str) -> String {
    format!("tradsys-ed25519-{tag}-v1 {} {name}\n", hex(&[seed; 32]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn secret(seed: u8, name: &str) -> SecretKey {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(format!("{name}.key"));
    std::fs::write(&path, key_line("secret", seed, name)).expect("the key file is written");
    SecretKey::read(&path).expect("a valid key file reads")
}

/// The trust store of the tests: `release` trusted, `old` trusted and revoked.
fn trust() -> TrustStore {
    let mut trust = TrustStore::default();
    trust.add(secret(7, "release").public());
    let old = secret(9, "old").public();
    trust.revoke(old.id());
    trust.add(old);
    trust
}

/// A component with a code section and its manifest.
fn unsigned_plugin() -> Vec<u8> {
    let mut component = b"\0asm\x0d\x00\x01\x00".to_vec();
    component.extend_from_slice(&[1, 4, 0xde, 0xad, 0xbe, 0xef]);
    let manifest = Manifest::from_json(MANIFEST.as_bytes()).expect("the manifest parses");
    embed_manifest(&component, &manifest).expect("the manifest embeds")
}

/// The plugin signed by `release` and by the revoked `old`.
fn signed_plugin() -> Vec<u8> {
    let once = sign(&unsigned_plugin(), &secret(7, "release")).expect("signed");
    sign(&once, &secret(9, "old")).expect("signed twice")
}

/// A custom section called `name` holding `payload`, framed by hand.
fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    fn leb(out: &mut Vec<u8>, mut value: usize) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut body = Vec::new();
    leb(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut section = vec![0];
    leb(&mut section, body.len());
    section.extend_from_slice(&body);
    section
}

// What is checked.

/// An error says what was wrong, in words that name the part.
fn named(error: &Error, parts: &[&str]) -> Result<(), TestCaseError> {
    let message = error.to_string();
    prop_assert!(!message.trim().is_empty(), "an empty error: {error:?}");
    prop_assert!(
        parts.iter().any(|part| message.contains(part)),
        "`{message}` names none of {parts:?}"
    );
    Ok(())
}

/// The words a plugin file's errors use for its parts.
const FILE_PARTS: &[&str] = &["WebAssembly", "truncated", "manifest", "signature", "key"];

/// Every reader of a plugin file over `bytes`: their errors, and whether
/// the file verified (with the manifest and digest it verified with).
struct FileOutcome {
    errors: Vec<Error>,
    verified: Option<(Manifest, [u8; 32])>,
}

fn read_file(bytes: Vec<u8>) -> FileOutcome {
    bounded(HEAP_LIMIT, move || {
        let trust = trust();
        let mut errors = Vec::new();
        if let Err(e) = sections(&bytes) {
            errors.push(e);
        }
        if let Err(e) = signatures(&bytes) {
            errors.push(e);
        }
        if let Err(e) = digest(&bytes) {
            errors.push(e);
        }
        if let Err(e) = read_manifest(&bytes) {
            errors.push(e);
        }
        if let Err(e) = signature_statuses(&bytes, &trust) {
            errors.push(e);
        }
        let manifest = Manifest::from_json(MANIFEST.as_bytes()).expect("the manifest parses");
        match embed_manifest(&bytes, &manifest) {
            Ok(embedded) => {
                let again = read_manifest(&embedded).expect("an embedded manifest reads");
                assert_eq!(again, manifest, "embedding replaces the manifest");
            }
            Err(e) => errors.push(e),
        }
        let verified = match verify(&bytes, &trust) {
            Ok(v) => {
                assert!(
                    v.signers.iter().all(|id| !trust.is_revoked(id)),
                    "a revoked key counted as a signer"
                );
                Some((v.manifest, v.digest))
            }
            Err(e) => {
                errors.push(e);
                None
            }
        };
        FileOutcome { errors, verified }
    })
}

/// Bytes that pass the magic check: the header, then anything.
fn behind_the_magic() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512).prop_map(|rest| {
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        bytes.extend_from_slice(&rest);
        bytes
    })
}

/// Text that looks like JSON, so the parser gets past its first byte.
fn json_like() -> impl Strategy<Value = String> {
    r#"[{}\[\]",:0-9a-z^.+ \-\\]{0,256}"#
}

#[test]
fn the_valid_inputs_made_here_are_accepted() {
    let outcome = read_file(signed_plugin());
    assert!(
        outcome.errors.is_empty(),
        "{:?}",
        outcome
            .errors
            .iter()
            .map(Error::to_string)
            .collect::<Vec<_>>()
    );
    assert!(outcome.verified.is_some());
    assert_eq!(signatures(&signed_plugin()).unwrap().len(), 2);
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused_as_a_plugin_file_with_a_reason_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let outcome = read_file(bytes);
        for error in &outcome.errors {
            named(error, FILE_PARTS)?;
        }
        prop_assert!(outcome.verified.is_none(), "random bytes verified");
    }

    #[test]
    fn arbitrary_sections_are_refused_or_read_with_a_reason_never_a_panic(
        bytes in behind_the_magic(),
    ) {
        let outcome = read_file(bytes);
        for error in &outcome.errors {
            named(error, FILE_PARTS)?;
        }
        prop_assert!(outcome.verified.is_none(), "random sections verified");
    }

    #[test]
    fn a_mutated_signed_file_verifies_only_if_its_signed_bytes_are_unchanged(
        bytes in mutated(signed_plugin()),
    ) {
        let outcome = read_file(bytes);
        for error in &outcome.errors {
            named(error, FILE_PARTS)?;
        }
        if let Some((manifest, digest)) = outcome.verified {
            let valid = signed_plugin();
            prop_assert_eq!(digest, tradsys_signing::digest(&valid).unwrap());
            prop_assert_eq!(manifest, read_manifest(&valid).unwrap());
        }
    }

    #[test]
    fn a_mutated_signature_section_is_refused_with_a_reason_never_a_panic(
        block in mutated(signatures_payload()),
    ) {
        let mut bytes = unsigned_plugin();
        bytes.extend_from_slice(&custom_section(SIGNATURE_SECTION, &block));
        let outcome = read_file(bytes);
        for error in &outcome.errors {
            named(error, &["signature", "key"])?;
        }
        if outcome.verified.is_some() {
            prop_assert_eq!(block, signatures_payload(), "only the valid block verifies");
        }
    }

    #[test]
    fn a_mutated_manifest_is_refused_with_a_reason_never_a_panic(
        json in mutated(MANIFEST.as_bytes().to_vec()),
    ) {
        check_manifest(json)?;
    }

    #[test]
    fn arbitrary_manifest_text_is_refused_with_a_reason_never_a_panic(
        json in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            json_like().prop_map(String::into_bytes),
        ],
    ) {
        check_manifest(json)?;
    }

    #[test]
    fn a_deeply_nested_manifest_is_refused_not_a_stack_overflow(
        depth in 1usize..200_000,
        open in prop_oneof![Just("["), Just(r#"{"a":"#)],
    ) {
        check_manifest(open.repeat(depth).into_bytes())?;
    }

    #[test]
    fn a_key_file_is_read_only_when_it_is_one_valid_key_line(
        text in prop_oneof![
            mutated(secret(7, "release").public().to_line().into_bytes()),
            mutated(key_line("secret", 7, "release").into_bytes()),
            prop::collection::vec(any::<u8>(), 0..160),
            key_like().prop_map(String::into_bytes),
        ],
    ) {
        check_key_file(text)?;
    }

    #[test]
    fn a_revocation_list_is_read_only_when_every_line_is_a_key_id(
        text in prop_oneof![
            mutated(revocation_list().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..160),
            revocation_like(),
        ],
    ) {
        check_revocation_list(text)?;
    }
}

/// The payload of the `release` key's signature section of the signed plugin.
fn signatures_payload() -> Vec<u8> {
    let file = signed_plugin();
    let section = sections(&file)
        .unwrap()
        .into_iter()
        .find_map(|s| s.custom.filter(|(name, _)| name == SIGNATURE_SECTION))
        .expect("a signature section");
    file[section.1].to_vec()
}

/// `json` as a manifest, alone and in its section: the same outcome both
/// ways, an error that says "manifest" and why, and a manifest that survives
/// its own JSON.
fn check_manifest(json: Vec<u8>) -> Result<(), TestCaseError> {
    let (alone, in_file) = bounded(HEAP_LIMIT, move || {
        let mut file = b"\0asm\x0d\x00\x01\x00".to_vec();
        file.extend_from_slice(&custom_section(MANIFEST_SECTION, &json));
        (Manifest::from_json(&json), read_manifest(&file))
    });
    match (&alone, &in_file) {
        (Ok(manifest), Ok(read)) => {
            prop_assert_eq!(manifest, read);
            prop_assert_eq!(&Manifest::from_json(&manifest.to_json()).unwrap(), manifest);
        }
        (Err(a), Err(b)) => {
            prop_assert_eq!(a.to_string(), b.to_string());
            named(a, &["manifest"])?;
            let why = a.to_string();
            let why = why.trim_start_matches("malformed manifest:").trim();
            prop_assert!(!why.is_empty(), "no reason given: {a}");
        }
        _ => prop_assert!(false, "alone {alone:?}, in its section {in_file:?}"),
    }
    Ok(())
}

/// Lines that look like key files: the right tag, then 32 pairs of mostly
/// hex digits (a pair may be a sign and a digit, which is not hex), then a
/// name.
fn key_like() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        12 => "[0-9a-fA-F]{2}",
        1 => "[+\\-][0-9a-fA-F]",
        1 => "[ -~]{1,3}",
    ];
    (
        prop_oneof![Just("public"), Just("secret")],
        prop::collection::vec(pair, 32),
        "( [a-z\n ]{0,12})?\n?",
    )
        .prop_map(|(tag, pairs, name)| format!("tradsys-ed25519-{tag}-v1 {}{name}", pairs.concat()))
}

/// `text` in a `.pub` and a `.key` file, read as each: an error names the
/// file and what was wrong; a key read is the key the line's hex states,
/// and its own line reads back to it.
fn check_key_file(text: Vec<u8>) -> Result<(), TestCaseError> {
    let text_again = text.clone();
    let (dir, public, secret) = bounded(HEAP_LIMIT, move || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (pub_path, key_path) = (dir.path().join("k.pub"), dir.path().join("k.key"));
        std::fs::write(&pub_path, &text).expect("written");
        std::fs::write(&key_path, &text).expect("written");
        let public = PublicKey::read(&pub_path);
        let secret = SecretKey::read(&key_path).map(|k| (k.name.clone(), k.key.to_bytes()));
        (dir, public, secret)
    });
    let text = String::from_utf8_lossy(&text_again);
    let stated = text
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    match public {
        Ok(key) => {
            prop_assert_eq!(
                hex(key.key.as_bytes()),
                stated.clone(),
                "the key is the line's hex"
            );
            let again = dir.path().join("again.pub");
            std::fs::write(&again, key.to_line()).unwrap();
            prop_assert_eq!(PublicKey::read(&again).unwrap(), key);
        }
        Err(e) => check_key_error(&e, "k.pub")?,
    }
    match secret {
        Ok((_, seed)) => prop_assert_eq!(hex(&seed), stated, "the seed is the line's hex"),
        Err(e) => check_key_error(&e, "k.key")?,
    }
    Ok(())
}

fn check_key_error(error: &Error, file: &str) -> Result<(), TestCaseError> {
    let message = error.to_string();
    prop_assert!(message.contains(file), "`{message}` does not name {file}");
    match error {
        Error::BadKeyFile { reason, .. } => {
            prop_assert!(message.starts_with("key file "), "{message}");
            prop_assert!(!reason.trim().is_empty(), "no reason: {message}");
        }
        // Not UTF-8: the file and the reader's reason.
        Error::Io { .. } => prop_assert!(message.contains("UTF-8"), "{message}"),
        other => prop_assert!(false, "unexpected error for a key file: {other:?}"),
    }
    Ok(())
}

/// A revocation list with comments, blank lines and both cases of hex.
fn revocation_list() -> String {
    let release = secret(7, "release").public().id();
    let old = secret(9, "old").public().id();
    format!(
        "# revoked keys\n{old}\n\n  {}  # the release key, leaked\n",
        release.to_string().to_uppercase()
    )
}

/// Lines of mostly hex digits (a pair may be a sign and a digit), comments
/// and blanks.
fn revocation_like() -> impl Strategy<Value = Vec<u8>> {
    let pair = prop_oneof![
        12 => "[0-9a-fA-F]{2}",
        1 => "[+\\-][0-9a-fA-F]",
        1 => "[ -~]{1,3}",
    ];
    let id = prop::collection::vec(pair, 7..10).prop_map(|pairs| pairs.concat());
    let line = prop_oneof![
        4 => (id, "( ?#[ -~]{0,8})?").prop_map(|(id, comment)| id + &comment),
        1 => "#[ -~]{0,12}| *",
    ];
    prop::collection::vec(line, 0..6).prop_map(|lines| lines.join("\n").into_bytes())
}

/// `text` as the revocation list of a trust directory that also holds a
/// key: an error names the list, the line and why; a list read revokes
/// exactly the key id each of its lines states.
fn check_revocation_list(text: Vec<u8>) -> Result<(), TestCaseError> {
    let text_again = text.clone();
    let (_dir, loaded) = bounded(HEAP_LIMIT, move || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(dir.path().join(REVOKED_FILE), &text).expect("written");
        std::fs::write(
            dir.path().join("release.pub"),
            secret(7, "release").public().to_line(),
        )
        .expect("written");
        let loaded = TrustStore::load(dir.path());
        (dir, loaded)
    });
    match loaded {
        Ok(store) => {
            let text = String::from_utf8(text_again).expect("a list read is UTF-8");
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() {
                    continue;
                }
                let id = KeyId::parse(line).expect("every line read is a key id");
                prop_assert_eq!(id.to_string(), line.to_ascii_lowercase(), "the line's hex");
                prop_assert!(store.is_revoked(&id));
            }
            prop_assert_eq!(store.keys().count(), 1);
        }
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.contains(REVOKED_FILE),
                "`{message}` does not name the list"
            );
            if let Error::BadKeyFile { reason, .. } = &e {
                prop_assert!(reason.starts_with("line "), "{message}");
                prop_assert!(reason.contains("is not a key id"), "{message}");
            } else {
                prop_assert!(message.contains("UTF-8"), "{message}");
            }
        }
    }
    Ok(())
}

#[test]
fn a_key_file_path_is_named_even_when_missing() {
    let missing = Path::new("/nonexistent/k.pub");
    let message = PublicKey::read(missing).unwrap_err().to_string();
    assert!(message.contains("k.pub"), "{message}");
}

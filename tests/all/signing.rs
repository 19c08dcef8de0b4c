//! Signed plugins, trust, versions and the key and plugin commands.

use std::path::{Path, PathBuf};

use tradsys_signing::{
    Manifest, SIGNATURE_SECTION, SecretKey, TrustStore, embed_manifest, read_manifest, sections,
    sign, verify,
};

use crate::common::{DEFAULT_SET, dev_trust, plugin, plugins_dir, tradsys, with_manifest};

/// A plugin directory, a trust store (development key + a "release" key)
/// and the state file beside the directory, all in one temporary folder.
struct Lab {
    root: tempfile::TempDir,
    release: SecretKey,
}

impl Lab {
    fn new(names: &[&str]) -> Self {
        let root = tempfile::tempdir().unwrap();
        let lab = Self {
            root,
            release: SecretKey::generate("release").unwrap(),
        };
        std::fs::create_dir_all(lab.plugins()).unwrap();
        std::fs::create_dir_all(lab.trust()).unwrap();
        std::fs::copy(dev_trust().join("dev.pub"), lab.trust().join("dev.pub")).unwrap();
        std::fs::write(
            lab.trust().join("release.pub"),
            lab.release.public().to_line(),
        )
        .unwrap();
        for name in names {
            std::fs::copy(
                plugins_dir().join(format!("{name}.wasm")),
                lab.plugins().join(format!("{name}.wasm")),
            )
            .unwrap();
        }
        lab
    }

    fn plugins(&self) -> PathBuf {
        self.root.path().join("plugins")
    }

    fn trust(&self) -> PathBuf {
        self.root.path().join("trust")
    }

    fn install(&self, file: &str, bytes: &[u8]) {
        std::fs::write(self.plugins().join(file), bytes).unwrap();
    }

    /// A built example plugin with its manifest edited, signed by the release key.
    fn variant(&self, plugin: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let bytes = std::fs::read(plugins_dir().join(format!("{plugin}.wasm"))).unwrap();
        let mut json = serde_json::to_value(read_manifest(&bytes).unwrap()).unwrap();
        edit(&mut json);
        with_manifest(&bytes, &json.to_string(), &self.release)
    }

    /// `tradsys plugin list` output (stdout), with `extra` arguments.
    fn list(&self, extra: &[&str]) -> String {
        let (plugins, trust) = (self.plugins(), self.trust());
        let mut args = vec![
            "plugin",
            "list",
            "--plugins",
            plugins.to_str().unwrap(),
            "--trust",
            trust.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = tradsys(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn config(&self, text: &str) -> PathBuf {
        let path = self.root.path().join("host.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// The state column of `file` in `plugin list` output.
fn state_of<'a>(listing: &'a str, file: &str) -> &'a str {
    let line = listing
        .lines()
        .find(|l| l.starts_with(file))
        .unwrap_or_else(|| panic!("{file} not listed:\n{listing}"));
    // Skip the file and plugin columns; the state is the rest of the line,
    // without the lifecycle detail of a running plugin.
    let mut rest = line;
    for _ in 0..2 {
        rest = rest.trim_start();
        rest = &rest[rest.find(' ').unwrap_or(rest.len())..];
    }
    rest.split(" — ").next().unwrap().trim()
}

#[test]
fn each_refused_file_has_its_own_reason_and_the_rest_trade() {
    let lab = Lab::new(&DEFAULT_SET);
    let stranger = SecretKey::generate("stranger").unwrap();
    let old = SecretKey::generate("old-release").unwrap();
    std::fs::write(lab.trust().join("old-release.pub"), old.public().to_line()).unwrap();
    std::fs::write(
        lab.trust().join("revoked"),
        format!("{}  # leaked\n", old.public().id()),
    )
    .unwrap();

    let renamed = |name: &str| lab.variant("ma-crossover", |m| m["name"] = name.into());
    let unsigned = {
        let signed = renamed("unsigned-strategy");
        embed_manifest(&signed, &read_manifest(&signed).unwrap()).unwrap() // drops the signature
    };
    let resign = |bytes: &[u8], key: &SecretKey| {
        sign(
            &embed_manifest(bytes, &read_manifest(bytes).unwrap()).unwrap(),
            key,
        )
        .unwrap()
    };
    let old_signature = {
        let signed = renamed("re-versioned");
        let mut manifest: Manifest = read_manifest(&signed).unwrap();
        manifest.version = semver::Version::new(9, 0, 0);
        let mut bytes = embed_manifest(&signed, &manifest).unwrap();
        let last = sections(&signed).unwrap().pop().unwrap();
        assert_eq!(last.custom.as_ref().unwrap().0, SIGNATURE_SECTION);
        bytes.extend_from_slice(&signed[last.range]); // the 1.0.0 signature on a 9.0.0 manifest
        bytes
    };
    let partial = {
        let signed = renamed("half-copied");
        signed[..signed.len() / 2].to_vec()
    };
    let duplicate = std::fs::read(plugins_dir().join("max-notional.wasm")).unwrap();

    // Input files and the reason each must be refused with.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("unsigned.wasm", unsigned, "rejected: unsigned"),
        (
            "wrong-key.wasm",
            resign(&renamed("stranger-strategy"), &stranger),
            "rejected: signed only by unknown key",
        ),
        (
            "revoked-key.wasm",
            resign(&renamed("old-strategy"), &old),
            "rejected: signed only by revoked key",
        ),
        (
            "old-signature.wasm",
            old_signature,
            "rejected: bad signature by key",
        ),
        ("partial.wasm", partial, "rejected: truncated"),
        ("zz-duplicate.wasm", duplicate, "rejected: duplicate:"),
        (
            "api-two.wasm",
            lab.variant("ma-crossover", |m| {
                m["name"] = "api-two".into();
                m["api"] = "^2.0".into();
            }),
            "rejected: incompatible API: needs tradsys:plugins ^2.0 but this host implements 1.4.0",
        ),
        (
            "api-one-five.wasm",
            lab.variant("ma-crossover", |m| {
                m["name"] = "api-one-five".into();
                m["api"] = "^1.5".into();
            }),
            "rejected: incompatible API: needs tradsys:plugins ^1.5 but this host implements 1.4.0",
        ),
        (
            "needs-matcher-two.wasm",
            lab.variant("ma-crossover", |m| {
                m["name"] = "needs-matcher-two".into();
                m["dependencies"] = serde_json::json!({"fifo-matcher": "^2"});
            }),
            "rejected: unmet dependency: needs fifo-matcher ^2, installed 1.0.0",
        ),
    ];
    for (file, bytes, _) in &cases {
        lab.install(file, bytes);
    }
    let listing = lab.list(&[]);
    for (file, _, expected) in &cases {
        let state = state_of(&listing, file);
        assert!(
            state.starts_with(expected),
            "{file}: expected `{expected}`, got `{state}`"
        );
    }
    for name in DEFAULT_SET {
        assert_eq!(
            state_of(&listing, &format!("{name}.wasm")),
            "running",
            "{listing}"
        );
    }
}

#[test]
fn the_highest_version_runs_and_a_pin_selects_another() {
    let lab = Lab::new(&["ma-crossover"]);
    lab.install(
        "ma-crossover-1.1.wasm",
        &lab.variant("ma-crossover", |m| m["version"] = "1.1.0".into()),
    );
    let listing = lab.list(&[]);
    assert_eq!(state_of(&listing, "ma-crossover-1.1.wasm"), "running");
    assert_eq!(
        state_of(&listing, "ma-crossover.wasm"),
        "standby: superseded by 1.1.0"
    );

    // The operator's pin wins, even below the version accepted before.
    let config = lab.config("[plugins.ma-crossover]\nversion = \"~1.0\"\n");
    let listing = lab.list(&["--config", config.to_str().unwrap()]);
    assert_eq!(state_of(&listing, "ma-crossover.wasm"), "running");
    assert_eq!(
        state_of(&listing, "ma-crossover-1.1.wasm"),
        "standby: not allowed by the pin ~1.0"
    );
}

#[test]
fn a_version_below_the_highest_accepted_is_refused_unless_pinned() {
    let lab = Lab::new(&["ma-crossover"]);
    lab.install(
        "ma-crossover-1.1.wasm",
        &lab.variant("ma-crossover", |m| m["version"] = "1.1.0".into()),
    );
    assert_eq!(state_of(&lab.list(&[]), "ma-crossover-1.1.wasm"), "running");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(lab.root.path().join("plugins.state.json")).unwrap())
            .unwrap();
    assert_eq!(state["accepted"]["ma-crossover"], "1.1.0");

    std::fs::remove_file(lab.plugins().join("ma-crossover-1.1.wasm")).unwrap();
    let shipped = crate::common::shipped_version("ma-crossover");
    let listing = lab.list(&[]);
    assert!(
        state_of(&listing, "ma-crossover.wasm").starts_with(&format!(
            "rejected: rollback refused: {shipped} is older than 1.1.0"
        )),
        "{listing}"
    );
    let config = lab.config(&format!(
        "[plugins.ma-crossover]\nversion = \"={shipped}\"\n"
    ));
    assert_eq!(
        state_of(
            &lab.list(&["--config", config.to_str().unwrap()]),
            "ma-crossover.wasm"
        ),
        "running"
    );
}

#[test]
fn unsigned_plugins_run_only_in_development_mode_and_the_report_says_so() {
    let lab = Lab::new(&DEFAULT_SET);
    let signed = std::fs::read(plugins_dir().join("ma-crossover.wasm")).unwrap();
    lab.install(
        "ma-crossover.wasm",
        &embed_manifest(&signed, &read_manifest(&signed).unwrap()).unwrap(),
    );
    assert!(state_of(&lab.list(&[]), "ma-crossover.wasm").starts_with("rejected: unsigned"));

    let (plugins, trust) = (lab.plugins(), lab.trust());
    let json = lab.root.path().join("report.json");
    let output = tradsys(&[
        "run",
        "--plugins",
        plugins.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
        "--allow-unsigned",
        "--events",
        "2000",
        "--report-json",
        json.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("WARNING: development mode"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("UNSIGNED"));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["trust"]["mode"], "unsigned-allowed");
    assert_eq!(
        plugin(&report, "ma-crossover")["signers"],
        serde_json::json!([])
    );
    assert_eq!(
        plugin(&report, "max-notional")["signers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn flipping_any_of_2000_seeded_bytes_of_a_real_plugin_is_refused() {
    let bytes = std::fs::read(plugins_dir().join("max-notional.wasm")).unwrap();
    let trust = TrustStore::load(&dev_trust()).unwrap();
    verify(&bytes, &trust).expect("the built plugin verifies");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let position = (seed % bytes.len() as u64) as usize;
        let mut variant = bytes.clone();
        variant[position] ^= 1 << (seed >> 61);
        assert!(
            verify(&variant, &trust).is_err(),
            "flipping byte {position} was accepted"
        );
    }
}

fn stdout_of(args: &[&str]) -> String {
    let output = tradsys(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn key_and_plugin_commands_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    stdout_of(&["key", "generate", "--name", "alice", "--out", &path(&keys)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(keys.join("alice.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let alice = SecretKey::read(&keys.join("alice.key")).unwrap();
    let id = alice.public().id().to_string();
    let listing = stdout_of(&["key", "list", "--dir", &path(&keys)]);
    let line = listing
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} not listed:\n{listing}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        [id.as_str(), "alice", "yes"]
    );

    // Sign a copy with alice's key; verify against a store that trusts alice.
    let signed = dir.path().join("signed.wasm");
    let original = plugins_dir().join("max-notional.wasm");
    stdout_of(&[
        "plugin",
        "sign",
        &path(&original),
        "--key",
        &path(&keys.join("alice.key")),
        "--out",
        &path(&signed),
    ]);
    let trust = dir.path().join("trust");
    std::fs::create_dir_all(&trust).unwrap();
    std::fs::copy(keys.join("alice.pub"), trust.join("alice.pub")).unwrap();
    let verified = stdout_of(&["plugin", "verify", &path(&signed), "--trust", &path(&trust)]);
    assert!(
        verified.contains("max-notional@1.0.1 signed by") && verified.contains(&id),
        "{verified}"
    );

    // A store without alice refuses with one line, naming the file and the key.
    let empty = dir.path().join("empty-trust");
    std::fs::create_dir_all(&empty).unwrap();
    let refused = tradsys(&["plugin", "verify", &path(&signed), "--trust", &path(&empty)]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("signed.wasm") && stderr.contains("unknown key"),
        "{stderr}"
    );

    let inspected = stdout_of(&[
        "plugin",
        "inspect",
        &path(&signed),
        "--trust",
        &path(&trust),
    ]);
    for expected in [
        "plugin    max-notional 1.0.1 (risk-validator)",
        "api       tradsys:plugins ^1.4",
        &format!("signature key {id}: valid"),
        "signature key ",
        "exports   tradsys:plugins/risk-validator-api@1.4.0",
        "imports   tradsys:plugins/types@1.4.0",
        "digest    sha256:",
    ] {
        assert!(
            inspected.contains(expected),
            "missing `{expected}` in:\n{inspected}"
        );
    }
}

#[test]
fn plugin_build_writes_the_manifest_from_cargo_metadata_and_signs() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let key = SecretKey::generate("builder").unwrap();
    key.write(dir.path()).unwrap();
    let root = crate::common::workspace_root();
    let out = dir.path().join("out");
    let built = stdout_of(&[
        "plugin",
        "build",
        &path(&root.join("plugins/price-collar")),
        "--out",
        &path(&out),
        "--key",
        &path(&dir.path().join("builder.key")),
        "--target-dir",
        &path(&root.join("target/plugins-build")),
    ]);
    assert!(built.contains("price-collar@1.0.0"), "{built}");
    let bytes = std::fs::read(out.join("price-collar.wasm")).unwrap();
    let mut trust = TrustStore::default();
    trust.add(key.public());
    let manifest = verify(&bytes, &trust).unwrap().manifest;
    assert_eq!(manifest.id(), "price-collar@1.0.0");
    assert_eq!(manifest.kind, tradsys_signing::Kind::RiskValidator);
    assert!(
        manifest.description.contains("basis-point band"),
        "{}",
        manifest.description
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "only the plugin file, no temporary left"
    );
}

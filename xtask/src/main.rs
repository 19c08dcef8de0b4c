//! Build orchestration: `cargo xtask <command>`.
//!
//! - `build-plugins`: install the wasm targets if missing, build every crate of
//!   `plugins/`, embed its manifest (from the crate's Cargo metadata), sign it
//!   with the development key and write it to `target/plugins/`.
//! - `demo [ARGS]`: build the plugins and run `tradsys run` (release) on them,
//!   trusting the development key.
//! - `test`: formatting and lint checks, the plugins' own unit tests, and
//!   every test of the workspace. CI runs exactly this.
//! - `bench`: the plugin-boundary benchmark (release).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

const TARGETS: [&str; 2] = ["wasm32-unknown-unknown", "wasm32-wasip2"];

/// The development signing key, made on first use (never for production).
const DEV_KEY: &str = "target/dev-keys/dev.key";
/// A trust store holding only the development key's public half.
const DEV_TRUST: &str = "target/dev-keys/trust";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    match args.first().map(String::as_str) {
        Some("build-plugins") => build_plugins(&root),
        Some("demo") => {
            build_plugins(&root)?;
            let mut run = cargo(&root);
            run.args([
                "run",
                "--release",
                "--package",
                "tradsys-host",
                "--bin",
                "tradsys",
                "--",
                "run",
            ]);
            run.arg("--plugins").arg(root.join("target/plugins"));
            run.arg("--trust")
                .arg(root.join(DEV_TRUST))
                .args(&args[1..]);
            status(run)
        }
        Some("test") => test(&root),
        Some("bench") => {
            build_plugins(&root)?;
            let mut bench = cargo(&root);
            bench
                .args(["bench", "--package", "tradsys-host", "--bench", "boundary"])
                .args(&args[1..]);
            status(bench)
        }
        _ => bail!("usage: cargo xtask <build-plugins | demo [tradsys run args] | test | bench>"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root);
    command
}

fn status(mut command: Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("running {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    let plugins_manifest = root.join("plugins/Cargo.toml");
    let native_target = root.join("target/plugins-native");
    status({
        let mut c = cargo(root);
        c.args(["fmt", "--all", "--check"]);
        c
    })?;
    status({
        let mut c = cargo(root);
        c.args(["fmt", "--all", "--check", "--manifest-path"])
            .arg(&plugins_manifest);
        c
    })?;
    build_plugins(root)?;
    status({
        let mut c = cargo(root);
        c.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        c
    })?;
    status({
        let mut c = cargo(root);
        c.args(["clippy", "--workspace", "--all-targets", "--manifest-path"])
            .arg(&plugins_manifest);
        c.arg("--target-dir")
            .arg(&native_target)
            .args(["--", "-D", "warnings"]);
        c
    })?;
    status({
        let mut c = cargo(root);
        c.args(["test", "--workspace", "--manifest-path"])
            .arg(&plugins_manifest);
        c.arg("--target-dir").arg(&native_target);
        c
    })?;
    // The end-to-end tests run the `tradsys` binary, which `cargo test` does
    // not build for a package without integration tests of its own. Building
    // bins and tests in one go resolves features once, as `cargo test` does.
    status({
        let mut c = cargo(root);
        c.args(["build", "--workspace", "--bins", "--tests"]);
        c
    })?;
    status({
        let mut c = cargo(root);
        c.args(["test", "--workspace"]);
        c
    })
}

struct PluginCrate {
    name: String,
    target: String,
    manifest: tradsys_signing::Manifest,
}

fn build_plugins(root: &Path) -> Result<()> {
    ensure_targets()?;
    let manifest = root.join("plugins/Cargo.toml");
    let build_dir = root.join("target/plugins-build");
    let out_dir = root.join("target/plugins");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let crates = plugin_crates(root, &manifest)?;
    let key = dev_key(root)?;
    for target in TARGETS {
        let names: Vec<&str> = crates
            .iter()
            .filter(|c| c.target == target)
            .map(|c| c.name.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let mut build = cargo(root);
        build
            .args(["build", "--release", "--target", target, "--manifest-path"])
            .arg(&manifest);
        build.arg("--target-dir").arg(&build_dir);
        for name in &names {
            build.args(["--package", name]);
        }
        status(build)?;
    }
    for krate in &crates {
        let built = build_dir
            .join(&krate.target)
            .join("release")
            .join(format!("{}.wasm", krate.name.replace('-', "_")));
        let bytes =
            std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
        let component = if krate.target == "wasm32-unknown-unknown" {
            // A core module with wit-bindgen's type sections: wrap it as a
            // component whose only imports are the tradsys host interfaces.
            wit_component::ComponentEncoder::default()
                .module(&bytes)
                .and_then(|e| e.validate(true).encode())
                .with_context(|| format!("turning {} into a component", built.display()))?
        } else {
            bytes // wasm32-wasip2 links a component already
        };
        let with_manifest = tradsys_signing::embed_manifest(&component, &krate.manifest)?;
        let signed = tradsys_signing::sign(&with_manifest, &key)?;
        let dest = out_dir.join(format!("{}.wasm", krate.name));
        let tmp = out_dir.join(format!(".{}.wasm.tmp", krate.name));
        std::fs::write(&tmp, &signed).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &dest).with_context(|| format!("installing {}", dest.display()))?;
        println!(
            "built {} {} ({} KiB, signed by development key {})",
            dest.display(),
            krate.manifest.version,
            signed.len() / 1024,
            key.public().id()
        );
    }
    Ok(())
}

fn plugin_crates(root: &Path, manifest: &Path) -> Result<Vec<PluginCrate>> {
    let output = cargo(root)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .context("running cargo metadata on plugins/")?;
    if !output.status.success() {
        bail!(
            "cargo metadata on plugins/ failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let mut crates = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let mut tradsys = package["metadata"]["tradsys"].clone();
        let Some(target) = tradsys.as_object_mut().and_then(|t| t.remove("target")) else {
            bail!("plugin crate {name} has no [package.metadata.tradsys] target");
        };
        let target = target.as_str().unwrap_or_default().to_string();
        if !TARGETS.contains(&target.as_str()) {
            bail!(
                "plugin crate {name}: unsupported target {target} (use one of {})",
                TARGETS.join(", ")
            );
        }
        // The manifest: the crate's name, version, description and authors,
        // plus everything else of [package.metadata.tradsys], checked by the
        // same parser the host uses.
        let mut fields = tradsys.as_object().cloned().unwrap_or_default();
        fields.entry("api").or_insert_with(|| "^1.0".into());
        fields.insert("name".into(), name.clone().into());
        fields.insert("version".into(), package["version"].clone());
        fields.insert(
            "description".into(),
            package["description"].as_str().unwrap_or_default().into(),
        );
        let authors: Vec<&str> = package["authors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .collect();
        fields.insert("author".into(), authors.join(", ").into());
        let json = serde_json::to_vec(&fields)?;
        let manifest = tradsys_signing::Manifest::from_json(&json)
            .with_context(|| format!("plugin crate {name}: [package.metadata.tradsys]"))?;
        crates.push(PluginCrate {
            name,
            target,
            manifest,
        });
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(crates)
}

fn ensure_targets() -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (needed to install the wasm targets)")?;
    let installed = String::from_utf8_lossy(&output.stdout);
    for target in TARGETS {
        if !installed.lines().any(|l| l.trim() == target) {
            println!("installing the {target} target");
            let mut add = Command::new("rustup");
            add.args(["target", "add", target]);
            status(add)?;
        }
    }
    Ok(())
}

/// The development key, generated on first use with its trust store.
fn dev_key(root: &Path) -> Result<tradsys_signing::SecretKey> {
    let path = root.join(DEV_KEY);
    if path.exists() {
        return Ok(tradsys_signing::SecretKey::read(&path)?);
    }
    let key = tradsys_signing::SecretKey::generate("dev")?;
    key.write(path.parent().expect("a directory"))?;
    let trust = root.join(DEV_TRUST);
    std::fs::create_dir_all(&trust).with_context(|| format!("creating {}", trust.display()))?;
    std::fs::write(trust.join("dev.pub"), key.public().to_line())
        .with_context(|| format!("writing {}", trust.display()))?;
    println!(
        "generated development key {} in {}",
        key.public().id(),
        path.display()
    );
    Ok(key)
}

//! Build plugin crates into plugin files: compile with cargo for the crate's
//! wasm target, turn a core module into a component (`wit-component`), embed
//! the manifest written from the crate's Cargo metadata, and sign.
//!
//! A plugin crate names its kind and target in `Cargo.toml`:
//!
//! ```toml
//! [package.metadata.tradsys]
//! kind = "strategy"                 # strategy | risk-validator | matcher | connector | processor
//! target = "wasm32-unknown-unknown" # or wasm32-wasip2 for plugins that use WASI
//! # api = "^1.4", priority = 0, capabilities = { read_dir = true }, dependencies = { ... }
//! # events = ["quote", "trade"]     # a strategy's subscription (every kind when absent)
//! ```
//!
//! The manifest is the crate's name, version, description and authors plus
//! every other key of that table, checked by the same parser the host uses.
//! Used by `tradsys plugin build` and `cargo xtask build-plugins`; `tradsys
//! plugin new` writes a project to start from ([`new_project`]).

mod guide;
mod python;
mod scaffold;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use tradsys_signing::{KeyId, Manifest, SecretKey, embed_manifest, sign};

pub use guide::{GUIDE_PAGE, GUIDE_WIT, guide};
pub use python::{
    COMPONENTIZE_PY, build_python, is_python_project, python_bindings, python_manifest,
};
pub use scaffold::{Lang, NewProject, NewRequest, new_project};

/// The API range a plugin built with the SDK needs unless its metadata says
/// otherwise: the SDK's `tradsys:plugins` version.
pub const SDK_API: &str = "^1.4";

/// The wasm targets a plugin crate may name.
pub const TARGETS: [&str; 2] = ["wasm32-unknown-unknown", "wasm32-wasip2"];

/// A plugin crate found by `cargo metadata`.
#[derive(Debug, Clone)]
pub struct PluginCrate {
    /// Package name.
    pub name: String,
    /// Its wasm target.
    pub target: String,
    /// The manifest it will carry.
    pub manifest: Manifest,
}

/// What to build and where to put it.
#[derive(Debug)]
pub struct BuildRequest<'a> {
    /// `Cargo.toml` of one plugin crate, or of a workspace of plugin crates.
    pub manifest_path: &'a Path,
    /// Where plugin files go (`<name>.wasm`).
    pub out_dir: &'a Path,
    /// Cargo target directory; `None` uses the crate's own.
    pub target_dir: Option<&'a Path>,
    /// Key to sign with; `None` leaves the files unsigned.
    pub key: Option<&'a SecretKey>,
}

/// One plugin file written.
#[derive(Debug, Clone)]
pub struct Built {
    /// The file.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its size in bytes.
    pub size: usize,
    /// The key that signed it, if any.
    pub signer: Option<KeyId>,
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Run `command`, failing with the command line when it fails.
pub fn run(mut command: Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("running {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// Install the wasm targets with rustup when missing.
pub fn ensure_targets() -> Result<()> {
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
            run(add)?;
        }
    }
    Ok(())
}

/// The plugin crates of `manifest_path` (one crate, or every member of a
/// workspace), and cargo's target directory for them.
pub fn plugin_crates(manifest_path: &Path) -> Result<(Vec<PluginCrate>, PathBuf)> {
    let output = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest_path)
        .output()
        .with_context(|| format!("running cargo metadata on {}", manifest_path.display()))?;
    if !output.status.success() {
        bail!(
            "cargo metadata on {} failed: {}",
            manifest_path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let target_dir = PathBuf::from(metadata["target_directory"].as_str().unwrap_or("target"));
    let wanted = manifest_path.canonicalize().ok();
    let packages: Vec<&serde_json::Value> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    // A crate inside a workspace: build that crate only.
    let single = packages.iter().find(|p| {
        p["manifest_path"]
            .as_str()
            .map(Path::new)
            .and_then(|m| m.canonicalize().ok())
            == wanted
    });
    // A whole workspace: its plugin crates; a member without
    // `[package.metadata.tradsys]` is a library the plugins share.
    let selected: Vec<&serde_json::Value> = match single {
        Some(package) => vec![package],
        None => packages
            .into_iter()
            .filter(|p| !p["metadata"]["tradsys"].is_null())
            .collect(),
    };
    let mut crates = selected
        .into_iter()
        .map(plugin_crate)
        .collect::<Result<Vec<_>>>()?;
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((crates, target_dir))
}

fn plugin_crate(package: &serde_json::Value) -> Result<PluginCrate> {
    let name = package["name"].as_str().unwrap_or_default().to_string();
    let mut tradsys = package["metadata"]["tradsys"].clone();
    let Some(target) = tradsys.as_object_mut().and_then(|t| t.remove("target")) else {
        bail!("crate {name} is not a plugin crate: it has no [package.metadata.tradsys] target");
    };
    let target = target.as_str().unwrap_or_default().to_string();
    if !TARGETS.contains(&target.as_str()) {
        bail!(
            "crate {name}: unsupported target {target} (use one of {})",
            TARGETS.join(", ")
        );
    }
    let mut fields = tradsys.as_object().cloned().unwrap_or_default();
    // The SDK speaks `tradsys:plugins` 1.1.0; a crate built against an older
    // version without the SDK states its own range.
    fields.entry("api").or_insert_with(|| SDK_API.into());
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
    let manifest = Manifest::from_json(&serde_json::to_vec(&fields)?)
        .with_context(|| format!("crate {name}: [package.metadata.tradsys]"))?;
    Ok(PluginCrate {
        name,
        target,
        manifest,
    })
}

/// Wrap a core module carrying wit-bindgen's type sections as a component
/// whose imports are only what the module uses.
pub fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core)?
        .validate(true)
        .encode()
}

/// Build every plugin crate of the request into `out_dir`. Each file is
/// written to a temporary name and renamed, so a watcher never sees half of it.
pub fn build(request: &BuildRequest<'_>) -> Result<Vec<Built>> {
    ensure_targets()?;
    let (crates, default_target_dir) = plugin_crates(request.manifest_path)?;
    let target_dir = request
        .target_dir
        .map_or(default_target_dir, Path::to_path_buf);
    std::fs::create_dir_all(request.out_dir)
        .with_context(|| format!("creating {}", request.out_dir.display()))?;
    for target in TARGETS {
        let names: Vec<&str> = crates
            .iter()
            .filter(|c| c.target == target)
            .map(|c| c.name.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        let mut command = cargo();
        command
            .args(["build", "--release", "--target", target, "--manifest-path"])
            .arg(request.manifest_path);
        command.arg("--target-dir").arg(&target_dir);
        for name in &names {
            command.args(["--package", name]);
        }
        run(command)?;
    }
    let mut built = Vec::new();
    for krate in crates {
        let artifact = target_dir
            .join(&krate.target)
            .join("release")
            .join(format!("{}.wasm", krate.name.replace('-', "_")));
        let bytes =
            std::fs::read(&artifact).with_context(|| format!("reading {}", artifact.display()))?;
        let component = if krate.target == "wasm32-unknown-unknown" {
            componentize(&bytes)
                .with_context(|| format!("turning {} into a component", artifact.display()))?
        } else {
            bytes // wasm32-wasip2 links a component already
        };
        let mut file = embed_manifest(&component, &krate.manifest)?;
        if let Some(key) = request.key {
            file = sign(&file, key)?;
        }
        let path = request.out_dir.join(format!("{}.wasm", krate.name));
        tradsys_signing::file::write_atomically(
            &path,
            &file,
            tradsys_signing::file::Access::Default,
        )
        .with_context(|| format!("installing {}", path.display()))?;
        built.push(Built {
            path,
            manifest: krate.manifest,
            size: file.len(),
            signer: request.key.map(|k| k.public().id()),
        });
    }
    Ok(built)
}

//! Python plugins: a directory with `app.py` (the plugin) and
//! `tradsys.toml` (its manifest, as flat keys: `name`, `version`,
//! `description`, `kind`, and any other manifest key) built into a component
//! with componentize-py against the SDK's WIT, then given its manifest and
//! signed like any plugin.
//!
//! componentize-py links the whole of WASI into every component (files,
//! sockets, random, clocks) whether the plugin uses it or not, so the
//! manifest says `capabilities.unused_wasi`: the host links those imports
//! inert and grants nothing more than it would a Rust plugin.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use tradsys_signing::{Manifest, embed_manifest, sign};

use crate::{BuildRequest, Built, SDK_API};

/// The WIT the SDK speaks, embedded so a Python build needs no checkout.
const WIT: [(&str, &str); 2] = [
    ("kinds.wit", include_str!("../../wit/v1.4.0/kinds.wit")),
    ("types.wit", include_str!("../../wit/v1.4.0/types.wit")),
];

/// The componentize-py release the Python support is tested with.
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Whether `dir` is a Python plugin project.
pub fn is_python_project(dir: &Path) -> bool {
    dir.join("tradsys.toml").is_file() && dir.join("app.py").is_file()
}

/// The componentize-py to run: `$TRADSYS_COMPONENTIZE_PY`, else the one on
/// the `PATH`.
fn componentize_py() -> PathBuf {
    std::env::var_os("TRADSYS_COMPONENTIZE_PY")
        .map_or_else(|| "componentize-py".into(), PathBuf::from)
}

/// The manifest of the project in `dir`, from its `tradsys.toml`.
pub fn python_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join("tradsys.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut fields = serde_json::to_value(&table)?;
    let object = fields.as_object_mut().expect("a TOML table is an object");
    object.entry("api").or_insert_with(|| SDK_API.into());
    object.entry("author").or_insert_with(|| "".into());
    let capabilities = object
        .entry("capabilities")
        .or_insert_with(|| serde_json::json!({}));
    match capabilities.as_object_mut() {
        Some(c) => {
            c.insert("unused_wasi".into(), true.into());
        }
        None => bail!("{}: `capabilities` must be a table", path.display()),
    }
    Manifest::from_json(&serde_json::to_vec(&fields)?)
        .with_context(|| format!("{}: the manifest", path.display()))
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    dir.canonicalize()
        .with_context(|| format!("reading {}", dir.display()))
}

/// Write the SDK's WIT under `dir` and return its directory.
fn write_wit(dir: &Path) -> Result<PathBuf> {
    let wit = dir.join("target/tradsys-wit");
    std::fs::create_dir_all(&wit).with_context(|| format!("creating {}", wit.display()))?;
    for (name, text) in WIT {
        std::fs::write(wit.join(name), text)
            .with_context(|| format!("writing {}", wit.join(name).display()))?;
    }
    Ok(wit)
}

/// Run componentize-py in `dir` on the WIT in `wit`, for the world of
/// `manifest`'s kind, with `args` after them.
fn run_componentize_py(
    dir: &Path,
    wit: &Path,
    manifest: &Manifest,
    args: &[&std::ffi::OsStr],
) -> Result<()> {
    let program = componentize_py();
    let output = Command::new(&program)
        .arg("-d")
        .arg(wit)
        .args(["-w", manifest.kind.world()])
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "running {}: {e} (install it: `pip install {COMPONENTIZE_PY}`, or set \
                 TRADSYS_COMPONENTIZE_PY to its path)",
                program.display()
            )
        })?;
    if !output.status.success() {
        // Its own error, without the Rust backtrace it appends.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said = stderr
            .split("\nStack backtrace:")
            .next()
            .unwrap_or_default();
        bail!(
            "{} failed in {}:\n{}{}",
            program.display(),
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            said.trim_end()
        );
    }
    Ok(())
}

/// Write the Python bindings of the project's world to `target/bindings`
/// (what its unit tests import as `wit_world`).
pub fn python_bindings(dir: &Path) -> Result<PathBuf> {
    let dir = &absolute(dir)?;
    let manifest = python_manifest(dir)?;
    let wit = write_wit(dir)?;
    bindings(dir, &wit, &manifest)
}

/// The bindings of `manifest`'s world from the WIT in `wit`, into
/// `target/bindings` of `dir`.
fn bindings(dir: &Path, wit: &Path, manifest: &Manifest) -> Result<PathBuf> {
    let out = dir.join("target/bindings");
    if out.exists() {
        // componentize-py writes into a new directory only.
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    run_componentize_py(dir, wit, manifest, &["bindings".as_ref(), out.as_os_str()])?;
    Ok(out)
}

/// Build the Python project of `request.manifest_path` (its directory).
pub fn build_python(request: &BuildRequest<'_>) -> Result<Built> {
    let dir = &absolute(request.manifest_path)?;
    let manifest = python_manifest(dir)?;
    let wit = write_wit(dir)?;
    bindings(dir, &wit, &manifest)?;
    let component = dir
        .join("target")
        .join(format!("{}.component.wasm", manifest.name.as_str()));
    let args = ["componentize", "app", "-p", ".", "-o"].map(std::ffi::OsStr::new);
    run_componentize_py(
        dir,
        &wit,
        &manifest,
        &[&args[..], &[component.as_os_str()]].concat(),
    )?;
    let bytes =
        std::fs::read(&component).with_context(|| format!("reading {}", component.display()))?;
    let mut file = embed_manifest(&bytes, &manifest)?;
    if let Some(key) = request.key {
        file = sign(&file, key)?;
    }
    std::fs::create_dir_all(request.out_dir)
        .with_context(|| format!("creating {}", request.out_dir.display()))?;
    let path = request
        .out_dir
        .join(format!("{}.wasm", manifest.name.as_str()));
    tradsys_signing::file::write_atomically(&path, &file, tradsys_signing::file::Access::Default)
        .with_context(|| format!("installing {}", path.display()))?;
    Ok(Built {
        path,
        size: file.len(),
        signer: request.key.map(|k| k.public().id()),
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Result<Manifest> {
        let dir = std::env::temp_dir().join(format!("tradsys-py-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tradsys.toml"), text).unwrap();
        let manifest = python_manifest(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        manifest
    }

    #[test]
    fn the_manifest_comes_from_tradsys_toml_with_its_wasi_linked_inert() {
        let m = manifest(
            "name = \"py\"\nversion = \"0.1.0\"\ndescription = \"d\"\nkind = \"strategy\"\n\
             events = [\"quote\"]\n",
        )
        .unwrap();
        assert_eq!(m.id(), "py@0.1.0");
        assert!(m.capabilities.unused_wasi);
        assert_eq!(m.api.to_string(), SDK_API);
        // A typo is refused, naming the key and the file.
        let err = manifest("name = \"py\"\nversion = \"0.1.0\"\nknd = \"strategy\"\n").unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains("tradsys.toml") && err.contains("knd"), "{err}");
        let err =
            manifest("name = \"py\"\nversion = \"0.1.0\"\nkind = \"strategy\"\ncapabilities = 3\n")
                .unwrap_err();
        assert!(format!("{err:#}").contains("`capabilities` must be a table"));
    }
}

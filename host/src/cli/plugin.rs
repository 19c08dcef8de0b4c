//! `tradsys key ...` and `tradsys plugin ...`: keys, plugin files, and the
//! admin requests that act on a running host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use tradsys_host::admin::request;
use tradsys_host::{FileState, Host, Plugin, export_fits, read_interface};
use tradsys_signing::file::{Access, write_atomically};
use tradsys_signing::{
    KeyId, PublicKey, SecretKey, SignatureStatus, TrustStore, digest, hex, read_manifest, sign,
    signature_statuses, verify,
};

use crate::cli::status::say;
use crate::{KeyCommand, ListArgs, PluginCommand};

pub(crate) fn key(command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Generate { name, out } => {
            let key = SecretKey::generate(&name)?;
            let (secret, public) = key.write(&out)?;
            println!("key {} id {}", name, key.public().id());
            println!("  secret {} (keep it private)", secret.display());
            println!("  public {} (copy into a trust store)", public.display());
            Ok(())
        }
        KeyCommand::List { dir } => {
            let entries = std::fs::read_dir(&dir)
                .with_context(|| format!("reading key directory {}", dir.display()))?;
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            println!("{:<16} {:<20} secret", "id", "name");
            for path in paths
                .iter()
                .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            {
                let key = PublicKey::read(path)?;
                let secret = path.with_extension("key").exists();
                println!(
                    "{:<16} {:<20} {}",
                    key.id(),
                    key.name,
                    if secret { "yes" } else { "no" }
                );
            }
            Ok(())
        }
    }
}

/// The line `plugin build` prints for a file it wrote.
fn say_built(built: &tradsys_build::Built, what: &str) {
    let signed = built.signer.map_or_else(
        || "unsigned: sign it with `tradsys plugin sign`".to_string(),
        |id| format!("signed by {id}"),
    );
    println!(
        "built {} {} ({} bytes, {what}{signed})",
        built.path.display(),
        built.manifest.id(),
        built.size
    );
}

fn read(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

pub(crate) fn plugin(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::New {
            name,
            kind,
            lang,
            dir,
            checkout,
        } => crate::cli::new::run(&name, kind, lang, dir, checkout),
        PluginCommand::Build {
            path,
            out,
            key,
            target_dir,
        } => {
            let key = key.as_deref().map(SecretKey::read).transpose()?;
            if tradsys_build::is_python_project(&path) {
                let built = tradsys_build::build_python(&tradsys_build::BuildRequest {
                    manifest_path: &path,
                    out_dir: &out,
                    target_dir: None,
                    key: key.as_ref(),
                })?;
                say_built(&built, "Python, ");
                return Ok(());
            }
            let manifest_path = if path.is_dir() {
                path.join("Cargo.toml")
            } else {
                path
            };
            let request = tradsys_build::BuildRequest {
                manifest_path: &manifest_path,
                out_dir: &out,
                target_dir: target_dir.as_deref(),
                key: key.as_ref(),
            };
            for built in tradsys_build::build(&request)? {
                say_built(&built, "");
            }
            Ok(())
        }
        PluginCommand::Sign { file, key, out } => {
            let key = SecretKey::read(&key)?;
            let signed =
                sign(&read(&file)?, &key).with_context(|| format!("signing {}", file.display()))?;
            let out = out.unwrap_or(file);
            install(&out, &signed)?;
            println!(
                "signed {} with key {} ({})",
                out.display(),
                key.public().id(),
                key.name
            );
            Ok(())
        }
        PluginCommand::Verify { file, trust } => {
            let store = TrustStore::load(&trust)?;
            let verified = verify(&read(&file)?, &store)
                .with_context(|| format!("{} refused", file.display()))?;
            let signers: Vec<String> = verified.signers.iter().map(KeyId::to_string).collect();
            println!(
                "{}: {} signed by {}",
                file.display(),
                verified.manifest.id(),
                signers.join(", ")
            );
            Ok(())
        }
        PluginCommand::Inspect { file, trust } => inspect(&file, trust.as_deref()),
        PluginCommand::List(args) => list(&args),
        PluginCommand::Rollback { name, pin, admin } => {
            let query = if pin { "?pin=true" } else { "" };
            say(request(
                &admin.admin,
                &admin.token_file,
                "POST",
                &format!("/rollback/{name}{query}"),
                "",
            )?)
        }
        PluginCommand::Shadow { file, admin } => {
            let file = std::path::absolute(&file)?;
            say(request(
                &admin.admin,
                &admin.token_file,
                "POST",
                "/shadow",
                &file.to_string_lossy(),
            )?)
        }
        PluginCommand::Promote { name, admin } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/promote/{name}"),
            "",
        )?),
        PluginCommand::Discard { name, admin } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/discard/{name}"),
            "",
        )?),
        PluginCommand::Configure {
            name,
            entries,
            admin,
        } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/configure/{name}"),
            &entries.join("\n"),
        )?),
        PluginCommand::Disable { name, admin } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/disable/{name}"),
            "",
        )?),
        PluginCommand::Enable { name, admin } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/enable/{name}"),
            "",
        )?),
        PluginCommand::Remove { name, admin } => say(request(
            &admin.admin,
            &admin.token_file,
            "POST",
            &format!("/remove/{name}"),
            "",
        )?),
        PluginCommand::Install { file, plugins } => {
            let name = file.file_name().context("the file has no name")?;
            let dest = plugins.join(name);
            install(&dest, &read(&file)?)?;
            println!("installed {}", dest.display());
            Ok(())
        }
    }
}

/// `tradsys plugin list`: every file and its state; with `check`, each
/// selected plugin compiled, instantiated and initialised with its config.
fn list(args: &ListArgs) -> Result<()> {
    let config = crate::host_config(&args.host)?;
    let host = crate::host(&args.host, config)?;
    println!("{:<28} {:<28} state", "file", "plugin");
    for f in host.files() {
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plugin = f.plugin.as_deref().and_then(|id| {
            let name = id.split_once('@').map_or(id, |(n, _)| n);
            host.plugin(name)
        });
        let state = match (&f.state, plugin) {
            (FileState::Running, Some(plugin)) if args.check => {
                format!("running — {}", check(&host, plugin))
            }
            (FileState::Running, Some(plugin)) => {
                let priority = plugin.placement().priority;
                format!(
                    "running — discovered (priority {priority}{}{})",
                    if plugin.placement().preload {
                        ", preload"
                    } else {
                        ""
                    },
                    if host.is_cached(plugin) {
                        ", artifact cached"
                    } else {
                        ""
                    }
                )
            }
            (FileState::Running, None) => "running".to_string(),
            (FileState::Standby { reason }, _) => format!("standby: {reason}"),
            (FileState::Disabled, _) => "disabled in config".to_string(),
            (FileState::Rejected { reason }, _) => format!("rejected: {reason}"),
        };
        println!(
            "{name:<28} {:<28} {state}",
            f.plugin.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// Compile (or load from the cache), instantiate and init one plugin.
fn check(host: &Host, plugin: &Arc<Plugin>) -> String {
    let checked = match host.check(plugin) {
        Ok(checked) => checked,
        Err(reason) => return format!("failed: {reason}"),
    };
    let source = if checked.cache_hit {
        "loaded from the cache"
    } else {
        "compiled"
    };
    let instance = match checked.instance {
        Ok(i) => format!(
            "live: instantiated and initialised in {:.0} µs, {} KiB of memory",
            i.instantiate.as_secs_f64() * 1e6,
            i.memory_bytes >> 10
        ),
        Err(fault) => format!("failed: {fault}"),
    };
    format!(
        "{source} in {:.1} ms; {instance}",
        checked.load.as_secs_f64() * 1e3
    )
}

/// Write `bytes` to `path` atomically (temporary file, then rename), so a
/// watcher never sees a half-written plugin.
fn install(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, bytes, Access::Default)
        .with_context(|| format!("installing {}", path.display()))
}

fn inspect(file: &Path, trust: Option<&Path>) -> Result<()> {
    let bytes = read(file)?;
    println!("file      {} ({} bytes)", file.display(), bytes.len());
    println!(
        "digest    sha256:{} (without signatures)",
        hex(&digest(&bytes)?)
    );
    match read_manifest(&bytes) {
        Ok(m) => {
            println!("plugin    {} {} ({})", m.name, m.version, m.kind);
            println!("api       tradsys:plugins {}", m.api);
            if !m.description.is_empty() {
                println!("about     {}", m.description);
            }
            if !m.author.is_empty() {
                println!("author    {}", m.author);
            }
            println!("priority  {}", m.priority);
            if let Some(kinds) = &m.events {
                let kinds: Vec<String> = kinds
                    .iter()
                    .map(|k| {
                        serde_json::to_value(k)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    })
                    .collect();
                println!(
                    "events    {} (the market events it is handed)",
                    kinds.join(", ")
                );
            }
            for (dep, req) in &m.dependencies {
                println!("needs     {dep} {req}");
            }
            if m.capabilities.read_dir {
                println!("asks for  read access to one directory");
            }
            for address in &m.capabilities.network {
                println!("asks for  network {address}");
            }
            if m.capabilities.unused_wasi {
                println!(
                    "wasi      its WASI imports are linked inert (unused_wasi): no files, no sockets, \
                     random bytes from a fixed seed, clocks at market time; nothing more unless granted"
                );
            }
        }
        Err(e) => println!("manifest  {e}"),
    }
    let store = trust.map(TrustStore::load).transpose()?.unwrap_or_default();
    let statuses = signature_statuses(&bytes, &store)?;
    if statuses.is_empty() {
        println!("signature none");
    }
    for (id, status) in statuses {
        let status = match (trust, status) {
            (None, _) => "not checked (no --trust)",
            (_, SignatureStatus::Valid) => "valid",
            (_, SignatureStatus::Bad) => "BAD: the file changed after signing",
            (_, SignatureStatus::UnknownKey) => "unknown key",
            (_, SignatureStatus::Revoked) => "REVOKED key",
        };
        println!("signature key {id}: {status}");
    }
    match read_interface(&bytes) {
        Ok(interface) => {
            for export in &interface.exports {
                let fits = export
                    .split_once('@')
                    .is_some_and(|(_, version)| export_fits(version));
                println!(
                    "exports   {export}{}",
                    if fits {
                        ""
                    } else {
                        " (not compatible with this host)"
                    }
                );
            }
            for import in &interface.imports {
                println!("imports   {import}");
            }
        }
        Err(e) => println!("component not readable: {e:#}"),
    }
    Ok(())
}

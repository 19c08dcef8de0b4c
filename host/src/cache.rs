//! The compiled-artifact cache: a component compiled once is loaded next time
//! with `Component::deserialize` (about 250 times faster than compiling).
//!
//! An artifact is native code, so loading one is `unsafe`: the host must
//! never load bytes it did not write. Each artifact is stored with an
//! HMAC-SHA256 tag under a secret key kept in the cache directory (mode
//! 0600), and the directory must be owned by the host's user and writable by
//! no one else. An artifact whose tag does not match (corrupt, truncated, or
//! copied from elsewhere) is removed and the component recompiled; artifacts
//! of another engine configuration (another wasmtime, target or setting) have
//! another name and are removed when the cache is opened.

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

const TAG_LEN: usize = 32;
const KEY_FILE: &str = "key";

/// How a component was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a verified artifact.
    Hit,
    /// Compiled, and the artifact written.
    Miss,
    /// An artifact was there but refused (the reason); compiled afresh.
    Replaced(String),
}

/// A directory of compiled artifacts.
#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: [u8; 32],
    fingerprint: String,
}

impl ArtifactCache {
    /// Open (or create) the cache at `dir` for `engine`; refuses a directory
    /// that others could write to.
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self> {
        create_private_dir(dir)?;
        check_private(dir)?;
        let key_path = dir.join(KEY_FILE);
        let key = match std::fs::read(&key_path) {
            Ok(bytes) => bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("cache key {} is malformed", key_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key)
                    .map_err(|e| anyhow::anyhow!("no randomness for the cache key: {e}"))?;
                write_private(&key_path, &key)?;
                key
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading cache key {}", key_path.display()));
            }
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let fingerprint = format!("{:016x}", hasher.finish());
        let cache = Self {
            dir: dir.to_path_buf(),
            key,
            fingerprint,
        };
        cache.remove_stale();
        Ok(cache)
    }

    fn path(&self, digest: &[u8; 32]) -> PathBuf {
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}-{}.cwasm", self.fingerprint))
    }

    fn remove_stale(&self) {
        let suffix = format!("-{}.cwasm", self.fingerprint);
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".cwasm") && !name.ends_with(&suffix) {
                tracing::info!(artifact = %path.display(), "removing an artifact of another engine configuration");
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    fn tag(&self, body: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// Whether an artifact for `digest` is stored (not yet checked).
    pub fn contains(&self, digest: &[u8; 32]) -> bool {
        self.path(digest).is_file()
    }

    /// The component whose digest is `digest`: from its verified artifact, or
    /// compiled from `bytes()` (read only on a miss) and cached.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        digest: &[u8; 32],
        bytes: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<(Component, CacheOutcome)> {
        let path = self.path(digest);
        let mut outcome = CacheOutcome::Miss;
        if let Ok(stored) = std::fs::read(&path) {
            match self.verified(engine, &stored) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(reason) => {
                    tracing::warn!(artifact = %path.display(), "refusing a cached artifact: {reason}");
                    let _ = std::fs::remove_file(&path);
                    outcome = CacheOutcome::Replaced(reason);
                }
            }
        }
        let body = engine.precompile_component(&bytes()?)?;
        let mut stored = body.clone();
        stored.extend_from_slice(&self.tag(&body));
        let tmp = path.with_extension("cwasm.tmp");
        write_private(&tmp, &stored)?;
        std::fs::rename(&tmp, &path).with_context(|| format!("installing {}", path.display()))?;
        // SAFETY: `body` was produced just now by this engine's compiler.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &body) }?;
        Ok((component, outcome))
    }

    fn verified(&self, engine: &Engine, stored: &[u8]) -> Result<Component, String> {
        if stored.len() < TAG_LEN {
            return Err(format!(
                "corrupt: {} bytes is shorter than its tag",
                stored.len()
            ));
        }
        let (body, tag) = stored.split_at(stored.len() - TAG_LEN);
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(body);
        mac.verify_slice(tag).map_err(|_| {
            "its tag does not match: corrupt, or not written by this host".to_string()
        })?;
        // SAFETY: the tag proves these bytes were written by this host, which
        // only writes artifacts its own engine produced, into a directory no
        // one else can write to (checked in `open`).
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, body) };
        component.map_err(|e| format!("does not load: {e:#}"))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating cache directory {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating cache directory {}", dir.display()))
}

#[cfg(unix)]
fn check_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("reading cache directory {}", dir.display()))?;
    let probe = dir.join(".owner-probe");
    std::fs::write(&probe, b"")
        .with_context(|| format!("writing to cache directory {}", dir.display()))?;
    let me = std::fs::metadata(&probe).map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    if me.ok() != Some(meta.uid()) {
        bail!(
            "cache directory {} belongs to another user; refusing to load compiled code from it",
            dir.display()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "cache directory {} is writable by others (mode {:o}); refusing to load compiled code from it",
            dir.display(),
            meta.mode() & 0o777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(data)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

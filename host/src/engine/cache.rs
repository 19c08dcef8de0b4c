//! The compiled-artifact cache: a component compiled once is loaded next time
//! with `Component::deserialize_file`, which maps the artifact instead of
//! copying it (about 250 times faster than compiling).
//!
//! An artifact is native code, so loading one is `unsafe`: the host must
//! never load bytes it did not write. Each artifact (`<digest>-<engine>.cwasm`,
//! exactly as wasmtime serialised it) has a tag beside it (`.tag`): the
//! BLAKE3 keyed hash of the artifact (a MAC; 3.5 times faster than
//! HMAC-SHA256 on this machine, which has SHA instructions) under a secret
//! key kept in the cache directory (mode 0600), and the directory must be
//! owned by the host's user and writable by no one else. The tag is checked over the bytes read, and the file mapped is the
//! file read (same inode, size and modification time before and after). An
//! artifact whose tag does not match (corrupt, truncated, or copied from
//! elsewhere) is removed and the component recompiled; artifacts of another
//! engine configuration (another wasmtime, target or setting) have another
//! name and are removed when the cache is opened.

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tradsys_signing::file::{Access, write_atomically};
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
                write_atomically(&key_path, &key, Access::Private)
                    .with_context(|| format!("writing cache key {}", key_path.display()))?;
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

    /// The artifact of `digest` and its tag.
    fn paths(&self, digest: &[u8; 32]) -> (PathBuf, PathBuf) {
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let stem = format!("{hex}-{}", self.fingerprint);
        (
            self.dir.join(format!("{stem}.cwasm")),
            self.dir.join(format!("{stem}.tag")),
        )
    }

    fn remove_stale(&self) {
        let suffixes = [".cwasm", ".tag"].map(|x| format!("-{}{x}", self.fingerprint));
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ours = suffixes.iter().any(|s| name.ends_with(s.as_str()));
            if (name.ends_with(".cwasm") || name.ends_with(".tag")) && !ours {
                tracing::info!(artifact = %path.display(), "removing an artifact of another engine configuration");
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    fn tag(&self, body: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.key, body)
    }

    /// Whether an artifact for `digest` is stored (not yet checked).
    pub fn contains(&self, digest: &[u8; 32]) -> bool {
        self.paths(digest).0.is_file()
    }

    /// The component whose digest is `digest`: from its verified artifact, or
    /// compiled from `bytes()` (read only on a miss) and cached.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        digest: &[u8; 32],
        bytes: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<(Component, CacheOutcome)> {
        let (path, tag_path) = self.paths(digest);
        let mut outcome = CacheOutcome::Miss;
        if path.exists() || tag_path.exists() {
            match self.verified(engine, &path, &tag_path) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(reason) => {
                    tracing::warn!(artifact = %path.display(), "refusing a cached artifact: {reason}");
                    let _ = std::fs::remove_file(&path);
                    let _ = std::fs::remove_file(&tag_path);
                    outcome = CacheOutcome::Replaced(reason);
                }
            }
        }
        let body = engine.precompile_component(&bytes()?)?;
        // The artifact first, then its tag: a reader in between finds no
        // matching tag and compiles, which is only slower.
        let tag = self.tag(&body);
        for (file, data) in [(&path, &body[..]), (&tag_path, tag.as_bytes())] {
            write_atomically(file, data, Access::Private)
                .with_context(|| format!("installing {}", file.display()))?;
        }
        // SAFETY: `body` was produced just now by this engine's compiler.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &body) }?;
        Ok((component, outcome))
    }

    fn verified(&self, engine: &Engine, path: &Path, tag_path: &Path) -> Result<Component, String> {
        let tag = std::fs::read(tag_path).map_err(|e| format!("corrupt: its tag: {e}"))?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|tag: Vec<u8>| {
            format!("corrupt: its tag is {} bytes, not {TAG_LEN}", tag.len())
        })?;
        let before = identity(path)?;
        let body = std::fs::read(path).map_err(|e| format!("corrupt: {e}"))?;
        // `Hash` compares in constant time.
        if self.tag(&body) != blake3::Hash::from_bytes(tag) {
            return Err("its tag does not match: corrupt, or not written by this host".to_string());
        }
        // SAFETY: the tag proves the bytes just read were written by this
        // host, which only writes artifacts its own engine produced, into a
        // directory no one else can write to (checked in `open`); the file
        // mapped is the one read (compared below; this host replaces
        // artifacts by renaming, never in place).
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize_file(engine, path) }
            .map_err(|e| format!("does not load: {e:#}"))?;
        if identity(path)? != before {
            return Err("it changed while it was loaded".to_string());
        }
        Ok(component)
    }
}

/// What tells one version of a file from another: inode, size, modification time.
fn identity(path: &Path) -> Result<(u64, u64, Option<std::time::SystemTime>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("corrupt: {e}"))?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Ok((inode, meta.len(), meta.modified().ok()))
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

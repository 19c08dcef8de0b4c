//! Writing a file so that no reader ever sees it half written, and a crash
//! leaves either the old file or the new one: the bytes go to a hidden
//! temporary file beside it (`.NAME.tmp`, which the plugin directory and its
//! watcher ignore), are flushed to disk, and the temporary file is renamed
//! over the target; then the directory is flushed so the rename survives.
//! Plugin files, key files, the host's state file and its cache all go
//! through here.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Who may read a file written by [`write_atomically`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// As the process's umask allows.
    Default,
    /// Only the owner (mode 0600 on Unix): secret keys, cache keys, artifacts.
    Private,
}

/// The temporary file [`write_atomically`] uses for `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Replace `path` with `data` atomically and durably (see the module docs).
/// The error names the file that could not be written.
pub fn write_atomically(path: &Path, data: &[u8], access: Access) -> std::io::Result<()> {
    let tmp = temporary_path(path);
    let named = |what: &str, file: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("{what} {}: {e}", file.display()))
    };
    // A temporary file left by a crash may have other permissions: start anew.
    let _ = std::fs::remove_file(&tmp);
    let written = (|| {
        let mut file = open(&tmp, access)?;
        file.write_all(data)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(named("writing", &tmp, e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(named("replacing", path, e));
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

#[cfg(unix)]
fn open(path: &Path, access: Access) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mode = match access {
        Access::Default => 0o666,
        Access::Private => 0o600,
    };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path, _access: Access) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// Flush a directory's entries (the rename) to disk; a no-op where a
/// directory cannot be opened as a file.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match std::fs::File::open(dir) {
        Ok(handle) => handle.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomically(&path, b"one", Access::Default).unwrap();
        write_atomically(&path, b"two", Access::Private).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert!(!temporary_path(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let missing = dir.path().join("no-such-dir/file");
        let err = write_atomically(&missing, b"x", Access::Default).unwrap_err();
        assert!(err.to_string().contains("no-such-dir"), "{err}");
    }
}

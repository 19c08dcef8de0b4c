//! The layout of a plugin directory: which of its files are plugins, and
//! where the host keeps its own files for it (the compiled-artifact cache
//! inside it, the rollback state beside it). The registry and the watcher
//! both go by this one definition.

use std::path::{Path, PathBuf};

/// A plugin file: `*.wasm`, not hidden. A hidden file is a temporary one
/// (`.NAME.wasm.tmp` of an atomic install) or not the operator's to load.
pub fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "wasm")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// The plugin files directly in `dir`, sorted by name.
pub fn plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_plugin_file(p) && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Where compiled artifacts of the plugins of `dir` are cached: a private
/// hidden directory inside it.
pub fn cache_path(dir: &Path) -> PathBuf {
    dir.join(".tradsys-cache")
}

/// Where the state of plugin directory `dir` lives: `<dir>.state.json` beside it.
pub fn state_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "plugins".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}.state.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_files_are_visible_wasm_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.wasm", ".b.wasm", ".c.wasm.tmp", "d.txt"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("e.wasm")).unwrap();
        assert_eq!(
            plugin_files(dir.path()).unwrap(),
            vec![dir.path().join("a.wasm")]
        );
        assert_eq!(
            state_path(&dir.path().join("plugins")),
            dir.path().join("plugins.state.json")
        );
    }
}

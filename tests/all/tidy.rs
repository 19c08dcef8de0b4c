//! The architecture rules a machine can check (ARCHITECTURE.md states them
//! with their reasons): who may depend on what, where `bindgen!` and
//! `unsafe` may appear, the layers of `host/src` and no import cycles
//! among its modules, file sizes, and that the documents match the tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::workspace_root;

/// `host/src` layers, bottom first: a module may use only layers below its
/// own, and modules of its own folder. `main.rs` and `cli/` are the binary,
/// which sees the library only through its public API.
const LAYERS: [&[&str]; 12] = [
    &["policy", "bindings"],
    &["config"],
    &["network"],
    &["journal"],
    &["gateway"],
    &["engine"],
    &["loading"],
    &["sandbox"],
    &["live"],
    &["trading"],
    &["ops"],
    &["host", "lib"],
];

/// Files no check reads: build output and the example data.
fn skipped(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("target" | ".git" | "node_modules")
        )
    })
}

fn files_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if skipped(&path) {
            continue;
        }
        if path.is_dir() {
            files_with(&path, ext, out);
        } else if path.extension().is_some_and(|x| x == ext) {
            out.push(path);
        }
    }
}

fn all(ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    files_with(&workspace_root(), ext, &mut files);
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Source without comments (line comments and doc comments), so rules
/// apply to code only.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every crate manifest and the names of its dependencies (all tables).
fn manifests() -> Vec<(String, BTreeSet<String>)> {
    all("toml")
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.toml"))
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let toml: toml::Table = toml::from_str(&text).unwrap();
            let name = toml.get("package")?.get("name")?.as_str()?.to_string();
            let mut deps = BTreeSet::new();
            for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(t) = toml.get(table).and_then(|t| t.as_table()) {
                    deps.extend(t.keys().cloned());
                }
            }
            Some((name, deps))
        })
        .collect()
}

#[test]
fn only_the_host_depends_on_wasmtime_and_only_the_tests_on_the_host() {
    let manifests = manifests();
    assert!(
        manifests.len() > 10,
        "found only {} crates",
        manifests.len()
    );
    for (name, deps) in &manifests {
        let wasmtime: Vec<&String> = deps.iter().filter(|d| d.starts_with("wasmtime")).collect();
        assert!(
            name == "tradsys-host" || wasmtime.is_empty(),
            "{name} depends on {wasmtime:?}: only tradsys-host may (ARCHITECTURE.md)"
        );
        assert!(
            name == "tradsys-tests" || !deps.contains("tradsys-host"),
            "{name} depends on tradsys-host: only the end-to-end tests may"
        );
    }
}

#[test]
fn the_fills_audit_knows_neither_the_host_nor_the_venue_nor_their_book() {
    // The audit judges the simulated venue: nothing it depends on may share
    // the venue's code (ARCHITECTURE.md).
    let manifests = manifests();
    let (_, deps) = manifests
        .iter()
        .find(|(name, _)| name == "tradsys-audit")
        .expect("the audit crate");
    for forbidden in ["tradsys-host", "tradsys-sdk", "tradsys-book", "wasmtime"] {
        assert!(
            !deps.contains(forbidden),
            "tradsys-audit depends on {forbidden}: the audit must judge the venue from the \
             data and the journal alone; move what it needs into audit/"
        );
    }
}

#[test]
fn bindgen_only_in_the_bindings_module_and_unsafe_only_in_the_cache() {
    // Spelled in two halves so this file does not match itself.
    let bindgen = ["bindgen", "!"].concat();
    let unsafe_ = ["un", "safe"].concat();
    let mut bindgens = Vec::new();
    let mut unsafes = Vec::new();
    for path in all("rs") {
        let file = relative(&path);
        let code = code(&path);
        if code.contains(&bindgen) && !code.contains(&format!("wit_{bindgen}")) {
            bindgens.push(file.clone());
        }
        let uses_unsafe = code.match_indices(&unsafe_).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + unsafe_.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        });
        if uses_unsafe {
            unsafes.push(file);
        }
    }
    assert_eq!(
        bindgens,
        [
            "host/src/bindings/current.rs",
            "host/src/bindings/v1_0.rs",
            "host/src/bindings/v1_1.rs",
            "host/src/bindings/v1_2.rs"
        ]
    );
    assert_eq!(unsafes, ["host/src/engine/cache.rs"]);
}

#[test]
fn host_code_compares_states_as_enums_not_as_text() {
    // A kind or an outcome compared as text still compiles after the
    // spelling changes; an enum does not (ARCHITECTURE.md). Spelled in
    // pieces so this file does not match itself.
    let quote = '"';
    let patterns: Vec<String> = ["kind", "outcome", "state", "stopped", "halted"]
        .iter()
        .flat_map(|field| [format!("{field} == {quote}"), format!("{field} != {quote}")])
        .collect();
    let mut found = Vec::new();
    for path in all("rs") {
        let file = relative(&path);
        if !file.starts_with("host/src/") {
            continue;
        }
        let code = code(&path);
        for (n, line) in code.lines().enumerate() {
            if patterns.iter().any(|p| line.contains(p.as_str())) {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "states compared as text (use the enum):\n{}",
        found.join("\n")
    );
}

/// `host/src/a/b.rs` → ("a", "b"); `host/src/a.rs` → ("a", "a").
fn module_of(path: &Path) -> Option<(String, String)> {
    let src = workspace_root().join("host/src");
    let rel = path.strip_prefix(&src).ok()?;
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [file] => Some((file.clone(), file.clone())),
        [folder, file] => Some((folder.clone(), file.clone())),
        _ => None,
    }
}

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("host/src/{module} is in no layer of the tidy test"))
}

#[test]
fn host_modules_use_only_lower_layers_and_have_no_import_cycles() {
    let mut files = Vec::new();
    files_with(&workspace_root().join("host/src"), "rs", &mut files);
    let mut violations = Vec::new();
    // Within a folder: file → the files of the same folder it uses.
    let mut graph: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for path in &files {
        let Some((folder, file)) = module_of(path) else {
            continue;
        };
        if folder == "main" || folder == "cli" {
            continue; // the binary
        }
        let code = code(path);
        assert!(
            !code.contains("crate::{"),
            "{}: name each module in its own `use crate::...`",
            relative(path)
        );
        let edges = graph.entry((folder.clone(), file.clone())).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let mut segments = rest.split("::").map(|s| {
                s.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            });
            let Some(target) = segments.next() else {
                continue;
            };
            if target == folder {
                if let Some(sub) = segments.next().filter(|s| s != &file && s != "mod") {
                    edges.insert((folder.clone(), sub));
                }
                continue;
            }
            if layer(&target) >= layer(&folder) {
                violations.push(format!(
                    "{} uses crate::{target}, which is not below it",
                    relative(path)
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    if let Some(cycle) = find_cycle(&graph) {
        let cycle: Vec<String> = cycle.iter().map(|(f, m)| format!("{f}/{m}")).collect();
        panic!("import cycle in host/src: {}", cycle.join(" → "));
    }
}

/// A cycle in `graph`, if there is one: its nodes, the first repeated last.
fn find_cycle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        node: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        path: &mut Vec<N>,
        done: &mut BTreeSet<N>,
    ) -> Option<Vec<N>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Every plugin crate's `src` folder: the examples and the test plugins.
fn plugin_sources() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut dirs = Vec::new();
    for parent in ["plugins", "tests/plugins"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap().flatten() {
            let src = entry.path().join("src");
            if src.is_dir() {
                dirs.push(src);
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() > 20, "found only {} plugin crates", dirs.len());
    dirs
}

#[test]
fn plugin_crates_have_no_import_cycles_and_no_file_over_750_lines() {
    for src in plugin_sources() {
        let mut files = Vec::new();
        files_with(&src, "rs", &mut files);
        // Top-level module (`book` for src/book.rs and src/book/*.rs) →
        // the top-level modules it names with `crate::`; the root is left
        // out (every module may use the crate's own types).
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in &files {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            assert!(
                lines <= 750,
                "{} has {lines} lines: split it by concept",
                relative(path)
            );
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel
                .iter()
                .next()
                .unwrap()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let code = code(path);
            let edges = graph.entry(top.clone()).or_default();
            for (at, _) in code.match_indices("crate::") {
                let target: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let module =
                    src.join(format!("{target}.rs")).is_file() || src.join(&target).is_dir();
                if module && target != top {
                    edges.insert(target);
                }
            }
        }
        if let Some(cycle) = find_cycle(&graph) {
            panic!("import cycle in {}: {}", relative(&src), cycle.join(" → "));
        }
    }
}

#[test]
fn no_host_source_file_is_over_750_lines() {
    let mut files = Vec::new();
    files_with(&workspace_root().join("host/src"), "rs", &mut files);
    for path in files {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            lines <= 750,
            "{} has {lines} lines: split it by concept",
            relative(&path)
        );
    }
}

#[test]
fn the_documents_match_the_tree() {
    let root = workspace_root();
    // ARCHITECTURE.md's code map names every folder and top-level module of host/src.
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    for entry in std::fs::read_dir(root.join("host/src")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = if entry.path().is_dir() {
            format!("`{name}/`")
        } else {
            format!("`{name}`")
        };
        assert!(
            architecture.contains(&shown),
            "ARCHITECTURE.md's code map does not name host/src/{name} (as {shown})"
        );
    }
    // The README's configuration example is the one config.rs documents, and it parses.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("host/config.example.toml")).unwrap();
    let section = readme
        .split("## Configuration")
        .nth(1)
        .expect("a Configuration section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    assert_eq!(
        block, example,
        "README's config example differs from host/config.example.toml"
    );
    // config.rs's own test checks that the example parses and validates.
}

#[test]
fn the_plugin_guide_is_the_one_the_wit_doc_comments_make() {
    let root = crate::common::workspace_root();
    let made = tradsys_build::guide(&root.join(tradsys_build::GUIDE_WIT)).unwrap();
    let page = std::fs::read_to_string(root.join(tradsys_build::GUIDE_PAGE)).unwrap();
    assert!(
        page == made,
        "{} is out of date with the WIT's doc comments: run `cargo xtask guide`",
        tradsys_build::GUIDE_PAGE
    );
}

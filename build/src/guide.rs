//! The plugin author's guide per kind, `docs/plugin-guide.md`, generated
//! from the WIT's doc comments (`cargo xtask guide`; the `tidy` test keeps
//! the page in step with the WIT): for each world, what the host calls (its
//! export, function by function) and what the plugin may call (its
//! imports), with the SDK's name for it in Rust and in Python.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

/// The WIT the guide is written from, from the repository's root.
pub const GUIDE_WIT: &str = "wit/v1.4.0";
/// The page, from the repository's root.
pub const GUIDE_PAGE: &str = "docs/plugin-guide.md";
use wit_parser::{Resolve, Type, TypeDefKind, WorldItem};

/// What the guide says of a kind Python does not cover.
const RUST_ONLY: &str = "not yet (write it in Rust)";

/// Where the SDK's counterpart of each world is, by world name.
fn sdk(world: &str) -> (&'static str, &'static str) {
    match world {
        "strategy" => (
            "`Strategy`, `export_strategy!`",
            "`tradsys.Strategy`, `tradsys.export_strategy`",
        ),
        "risk-validator" => (
            "`RiskValidator`, `export_risk_validator!`",
            "`tradsys.RiskValidator`, `tradsys.export_risk_validator`",
        ),
        "matcher" => ("`Matcher`, `export_matcher!`", RUST_ONLY),
        "connector" => ("`Connector`, `export_connector!`", RUST_ONLY),
        "network-connector" => ("`NetworkConnector`, `export_network_connector!`", RUST_ONLY),
        "processor" => ("`Processor`, `export_processor!`", RUST_ONLY),
        _ => ("none", RUST_ONLY),
    }
}

fn type_name(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => {
            let def = &resolve.types[*id];
            if let Some(name) = &def.name {
                return name.clone();
            }
            let inner = |t: &Type| type_name(resolve, t);
            match &def.kind {
                TypeDefKind::List(t) => format!("list<{}>", inner(t)),
                TypeDefKind::Option(t) => format!("option<{}>", inner(t)),
                TypeDefKind::Result(r) => format!(
                    "result<{}, {}>",
                    r.ok.as_ref().map_or_else(|| "_".into(), inner),
                    r.err.as_ref().map_or_else(|| "_".into(), inner)
                ),
                TypeDefKind::Tuple(t) => format!(
                    "tuple<{}>",
                    t.types.iter().map(inner).collect::<Vec<_>>().join(", ")
                ),
                TypeDefKind::Type(t) => inner(t),
                _ => "…".into(),
            }
        }
    }
}

/// An interface's name without its package and version
/// (`tradsys:plugins/strategy-api@1.4.0` → `strategy-api`).
fn short(name: &str) -> &str {
    let name = name.split_once('/').map_or(name, |(_, n)| n);
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// A doc comment as one paragraph.
fn paragraph(docs: Option<&str>) -> String {
    docs.unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The guide for the WIT package in `dir` (`wit/v1.4.0`).
pub fn guide(dir: &Path) -> Result<String> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(dir)?;
    let package_name = resolve.packages[package].name.to_string();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The plugin kinds: what the host calls, what a plugin may call\n\n\
         Generated from the doc comments of `{package_name}` (`wit/`) by `cargo xtask guide`; do not \
         edit (the `tidy` test checks it is current). Start a plugin with `tradsys plugin new NAME \
         --kind KIND [--lang python]`; the README's \"Writing a plugin\" says how to build, sign and \
         run it. Prices and quantities are fixed point with nine decimals; times are nanoseconds \
         since the epoch, in market time.\n\n\
         Every kind, in Rust: `#[derive(Params)]` reads the config into a struct, each key known \
         and each value checked (`Config::per_symbol` for `key.SYMBOL` entries); \
         `state::save` and `state::load` keep any serde value under a format version for \
         `save-state` and `load-state`. A strategy keeps its orders, fills, positions, cooldowns \
         and each instrument's tick and lot in a `keeper::Keeper`, which also sends its \
         commands. In Python: `Config.only`, `Config.fixed`, `Config.number` and \
         `tradsys.Keeper`."
    );
    for world in resolve.packages[package].worlds.values() {
        let world = &resolve.worlds[*world];
        let (rust, python) = sdk(&world.name);
        let _ = writeln!(
            out,
            "\n## {}\n\n{}\n",
            world.name,
            paragraph(world.docs.contents.as_deref())
        );
        let _ = writeln!(out, "In Rust: {rust} (`tradsys_sdk`). In Python: {python}.");
        for (key, item) in &world.exports {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let interface = &resolve.interfaces[*id];
            let _ = writeln!(
                out,
                "\n### The host calls `{}`\n\n{}\n",
                short(&resolve.name_world_key(key)),
                paragraph(interface.docs.contents.as_deref())
            );
            for function in interface.functions.values() {
                let params: Vec<String> = function
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name, type_name(&resolve, &p.ty)))
                    .collect();
                let result = function
                    .result
                    .as_ref()
                    .map(|t| format!(" -> {}", type_name(&resolve, t)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- `{}({}){result}`: {}",
                    function.name,
                    params.join(", "),
                    paragraph(function.docs.contents.as_deref())
                );
            }
        }
        let imports: Vec<String> = world
            .imports
            .iter()
            .filter_map(|(key, item)| match item {
                WorldItem::Interface { id, .. } => {
                    let interface = &resolve.interfaces[*id];
                    let functions: Vec<&str> =
                        interface.functions.keys().map(String::as_str).collect();
                    (!functions.is_empty()).then(|| {
                        format!(
                            "- `{}` ({}): {}",
                            short(&resolve.name_world_key(key)),
                            functions.join(", "),
                            paragraph(interface.docs.contents.as_deref())
                        )
                    })
                }
                _ => None,
            })
            .collect();
        if !imports.is_empty() {
            let _ = writeln!(out, "\n### It may call\n\n{}", imports.join("\n"));
        }
    }
    Ok(out)
}

//! `tradsys plugin new`: a plugin project to start from (the files come from
//! `tradsys_build::new_project`; this says what was written and what next).

use std::path::{Path, PathBuf};

use anyhow::Result;
use tradsys_signing::Kind;

use crate::{Lang, NewKind};

/// The checkout this binary was built from.
fn own_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

pub(crate) fn run(
    name: &str,
    kind: NewKind,
    lang: Lang,
    dir: Option<PathBuf>,
    checkout: Option<PathBuf>,
) -> Result<()> {
    let kind = match kind {
        NewKind::Strategy => Kind::Strategy,
        NewKind::RiskValidator => Kind::RiskValidator,
        NewKind::Matcher => Kind::Matcher,
        NewKind::Connector => Kind::Connector,
        NewKind::Processor => Kind::Processor,
    };
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let checkout = checkout.unwrap_or_else(own_checkout);
    let project = tradsys_build::new_project(&tradsys_build::NewRequest {
        name,
        kind,
        dir: &dir,
        checkout: &checkout,
        lang: match lang {
            Lang::Rust => tradsys_build::Lang::Rust,
            Lang::Python => tradsys_build::Lang::Python,
        },
    })?;
    let python = matches!(lang, Lang::Python);
    if python {
        println!("created {}: a {kind} in Python", project.dir.display());
        println!("  app.py      the {kind}; test_app.py its unit tests; tradsys/ the helpers");
        println!("  tradsys.toml  its manifest");
    } else {
        println!(
            "created {}: a {kind} in Rust, with the SDK of {}",
            project.dir.display(),
            checkout.display()
        );
        println!("  src/lib.rs  the {kind} and its unit tests");
    }
    println!("  host.toml   a session with it");
    if !project.examples.is_empty() {
        println!(
            "  plugins/    {} (the session's other plugins)",
            project.examples.join(", ")
        );
    }
    println!(
        "  {}  a signing key for development (trust/ holds its public half)",
        project
            .key
            .strip_prefix(&dir)
            .unwrap_or(&project.key)
            .display()
    );
    if !project.missing.is_empty() {
        println!(
            "note: the checkout has not built {} (run `cargo xtask build-plugins` in it); \
             the README says what to copy",
            project.missing.join(", ")
        );
    }
    if let Some(why) = &project.bindings {
        println!(
            "note: no bindings for the unit tests yet ({why}); `tradsys plugin build` writes them"
        );
    }
    println!("next (README.md):");
    println!("  cd {}", dir.display());
    if python {
        println!("  tradsys plugin build . --key keys/author.key --out plugins");
        println!("  python3 -m unittest");
    } else {
        println!("  cargo test");
        println!("  tradsys plugin build . --key keys/author.key --out plugins");
    }
    println!("  tradsys run --config host.toml");
    Ok(())
}

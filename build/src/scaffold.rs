//! `tradsys plugin new`: a standalone plugin project of one kind, outside
//! any workspace, that tests, builds, signs and runs in a session with the
//! three commands of its README.
//!
//! The project depends on the SDK of a tradsys checkout by path, and starts
//! from that checkout's `plugins/Cargo.lock`, so it builds with the exact
//! crate versions the example plugins are tested with. It gets a signing
//! key of its own for development (`keys/`, ignored by git; its public half
//! in `trust/`), and a `host.toml` for a session with it beside the example
//! plugins that kind needs (copied from the checkout's `target/plugins`,
//! signed by the checkout's development key, whose public half goes to
//! `trust/` too).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use tradsys_signing::{Kind, PluginName, SecretKey};

/// A new project's request.
#[derive(Debug)]
pub struct NewRequest<'a> {
    /// The plugin's name (a manifest name: `a-z`, `0-9`, `-`).
    pub name: &'a str,
    /// Its kind.
    pub kind: Kind,
    /// The project's directory (created; must not exist or be empty).
    pub dir: &'a Path,
    /// A tradsys checkout: its `sdk/`, `plugins/Cargo.lock`,
    /// `target/plugins/` and `target/dev-keys/trust/`.
    pub checkout: &'a Path,
    /// Its language.
    pub lang: Lang,
}

/// The languages a project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust, with the SDK crate.
    Rust,
    /// Python, built with componentize-py: strategies and risk validators.
    Python,
}

/// What `new` wrote.
#[derive(Debug)]
pub struct NewProject {
    /// The project's directory.
    pub dir: PathBuf,
    /// The example plugins copied into `plugins/`.
    pub examples: Vec<String>,
    /// Examples the session needs that the checkout has not built.
    pub missing: Vec<String>,
    /// The development key's file.
    pub key: PathBuf,
    /// A Python project's bindings for its unit tests could not be written
    /// (componentize-py missing): why.
    pub bindings: Option<String>,
}

/// The session a kind's project runs in: the examples beside it and the
/// host config's `[run]` and plugin tables.
struct Session {
    examples: &'static [&'static str],
    what: &'static str,
    config: &'static str,
}

fn session(kind: Kind) -> Session {
    match kind {
        Kind::Strategy => Session {
            examples: &["synthetic-market", "sim-venue"],
            what: "the synthetic market feeds it; sim-venue fills its orders",
            config: "connector = \"synthetic-market\"\nmatcher = \"sim-venue\"\nstrategies = [\"__NAME__\"]\nvalidators = []\nprocessors = []\n\n[plugins.__NAME__]\nconfig = { quantity = 1, max_position = 5, threshold_bps = 5 }\n",
        },
        Kind::RiskValidator => Session {
            examples: &["synthetic-market", "sim-venue", "ma-crossover"],
            what: "it checks ma-crossover's orders on the synthetic market; sim-venue fills them",
            config: "connector = \"synthetic-market\"\nmatcher = \"sim-venue\"\nstrategies = [\"ma-crossover\"]\nvalidators = [\"__NAME__\"]\nprocessors = []\n\n[plugins.ma-crossover]\nconfig = { quantity = 5, max_position = 40 }\n\n[plugins.__NAME__]\nconfig = { max_quantity = 10, max_position = 20 }\n",
        },
        Kind::Matcher => Session {
            examples: &["synthetic-market", "ma-crossover"],
            what: "it fills ma-crossover's orders against the synthetic market's quotes",
            config: "connector = \"synthetic-market\"\nmatcher = \"__NAME__\"\nstrategies = [\"ma-crossover\"]\nvalidators = []\nprocessors = []\n\n[plugins.ma-crossover]\nconfig = { quantity = 5, max_position = 40 }\n",
        },
        Kind::Connector => Session {
            examples: &["sim-venue", "ma-crossover"],
            what: "it feeds ma-crossover; sim-venue fills its orders",
            config: "connector = \"__NAME__\"\nmatcher = \"sim-venue\"\nstrategies = [\"ma-crossover\"]\nvalidators = []\nprocessors = []\n\n[plugins.ma-crossover]\nconfig = { quantity = 5, max_position = 40 }\n",
        },
        Kind::Processor => Session {
            examples: &["synthetic-market", "sim-venue", "ma-crossover"],
            what: "it derives a signal from the synthetic market before ma-crossover trades it",
            config: "connector = \"synthetic-market\"\nmatcher = \"sim-venue\"\nstrategies = [\"ma-crossover\"]\nvalidators = []\nprocessors = [\"__NAME__\"]\n",
        },
    }
}

fn source(kind: Kind) -> &'static str {
    match kind {
        Kind::Strategy => include_str!("../templates/rust/strategy.rs"),
        Kind::RiskValidator => include_str!("../templates/rust/risk-validator.rs"),
        Kind::Matcher => include_str!("../templates/rust/matcher.rs"),
        Kind::Connector => include_str!("../templates/rust/connector.rs"),
        Kind::Processor => include_str!("../templates/rust/processor.rs"),
    }
}

/// `my-signal` → `MySignal`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Write a new plugin project; see the module documentation.
pub fn new_project(request: &NewRequest<'_>) -> Result<NewProject> {
    let name = PluginName::try_from(request.name.to_string()).map_err(anyhow::Error::msg)?;
    let name = name.as_str();
    let kind = request.kind;
    let session = session(kind);
    let python = request.lang == Lang::Python;
    if python && !matches!(kind, Kind::Strategy | Kind::RiskValidator) {
        bail!("Python projects are strategies and risk validators; write a {kind} in Rust");
    }
    let sdk = request.checkout.join("sdk");
    if !python && !sdk.join("Cargo.toml").is_file() {
        bail!(
            "no tradsys SDK at {} (pass --checkout with a tradsys checkout)",
            sdk.display()
        );
    }
    let dir = request.dir;
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty: nothing written", dir.display());
    }
    let kind_name = kind.to_string();
    let fill = |text: &str| {
        text.replace("__NAME__", name)
            .replace("__TYPE__", &type_name(name))
            .replace("__KIND__", &kind_name)
    };
    let subs: &[&str] = if python {
        &["tradsys", "plugins", "keys", "trust"]
    } else {
        &["src", "plugins", "keys", "trust"]
    };
    for sub in subs {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    let events = if kind == Kind::Strategy {
        "events = [\"quote\"]  # the event kinds it reads: no call for a batch without one\n"
    } else {
        ""
    };
    if python {
        write_python(dir, kind, &fill, events)?;
    } else {
        write_rust(request.checkout, &sdk, dir, kind, &fill, events)?;
    }

    let key = SecretKey::generate("author")?;
    let (key_file, public) = key.write(&dir.join("keys"))?;
    std::fs::copy(&public, dir.join("trust/author.pub"))?;
    let dev_trust = request.checkout.join("target/dev-keys/trust/dev.pub");
    if dev_trust.is_file() {
        std::fs::copy(&dev_trust, dir.join("trust/tradsys-examples.pub"))?;
    }
    let (mut examples, mut missing) = (Vec::new(), Vec::new());
    for example in session.examples {
        let file = request
            .checkout
            .join("target/plugins")
            .join(format!("{example}.wasm"));
        if file.is_file() && dev_trust.is_file() {
            std::fs::copy(&file, dir.join("plugins").join(format!("{example}.wasm")))
                .with_context(|| format!("copying {}", file.display()))?;
            examples.push((*example).to_string());
        } else {
            missing.push((*example).to_string());
        }
    }
    let mut host = format!(
        "# A session with {name}: {}.\n#   tradsys run --config host.toml\n\n[run]\nplugins_dir = \"plugins\"\nevents = 20000\n",
        session.what
    );
    host.push_str(&fill(session.config));
    host.push_str(
        "\n[trust]\ndir = \"trust\"   # author.pub (keys/author.key) and the examples' key\n",
    );
    write(dir, "host.toml", &host)?;
    let readme = if python {
        include_str!("../templates/python/README.md.in")
    } else {
        include_str!("../templates/rust/README.md.in")
    };
    let mut readme = fill(readme).replace("__SESSION__", session.what);
    if !missing.is_empty() {
        let _ = write!(
            readme,
            "\nThe session also needs {} in `plugins/`: build the examples with `cargo xtask \
             build-plugins` in {} and copy them from its `target/plugins/`, with its \
             `target/dev-keys/trust/dev.pub` into `trust/`.\n",
            missing.join(", "),
            request.checkout.display()
        );
    }
    write(dir, "README.md", &readme)?;
    // A Python project's unit tests import the bindings of its world.
    let bindings = python
        .then(|| {
            crate::python::python_bindings(dir)
                .err()
                .map(|e| format!("{e:#}"))
        })
        .flatten();
    Ok(NewProject {
        dir: dir.to_path_buf(),
        examples,
        missing,
        key: key_file,
        bindings,
    })
}

fn write(dir: &Path, file: &str, text: &str) -> Result<()> {
    let path = dir.join(file);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// A Rust project's own files: `Cargo.toml` (the SDK by path), `src/lib.rs`
/// and the checkout's `plugins/Cargo.lock`.
fn write_rust(
    checkout: &Path,
    sdk: &Path,
    dir: &Path,
    kind: Kind,
    fill: &dyn Fn(&str) -> String,
    events: &str,
) -> Result<()> {
    let sdk_path = sdk.canonicalize().unwrap_or(sdk.to_path_buf());
    write(
        dir,
        "Cargo.toml",
        &fill(include_str!("../templates/rust/Cargo.toml.in"))
            .replace("__SDK__", &sdk_path.display().to_string())
            .replace("__EVENTS__\n", events),
    )?;
    write(dir, "src/lib.rs", &fill(source(kind)))?;
    // The name's length moves line breaks: lay the source out again, if
    // rustfmt is at hand (it comes with cargo).
    let _ = std::process::Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(dir.join("src/lib.rs"))
        .status();
    write(dir, ".gitignore", "/target\n/keys/*.key\n")?;
    let lock = checkout.join("plugins/Cargo.lock");
    if lock.is_file() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .with_context(|| format!("copying {}", lock.display()))?;
    }
    Ok(())
}

/// A Python project's own files: `tradsys.toml`, `app.py`, `test_app.py`
/// and the `tradsys` helpers.
fn write_python(dir: &Path, kind: Kind, fill: &dyn Fn(&str) -> String, events: &str) -> Result<()> {
    let (app, test) = match kind {
        Kind::RiskValidator => (
            include_str!("../templates/python/risk-validator.py"),
            include_str!("../templates/python/test_risk-validator.py"),
        ),
        _ => (
            include_str!("../templates/python/strategy.py"),
            include_str!("../templates/python/test_strategy.py"),
        ),
    };
    write(
        dir,
        "tradsys.toml",
        &fill(include_str!("../templates/python/tradsys.toml.in")).replace("__EVENTS__\n", events),
    )?;
    write(dir, "app.py", &fill(app))?;
    write(dir, "test_app.py", &fill(test))?;
    write(
        dir,
        "tradsys/__init__.py",
        include_str!("../templates/python/tradsys/__init__.py"),
    )?;
    write(dir, ".gitignore", "/target\n/keys/*.key\n__pycache__/\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("my-first-strategy2"), "MyFirstStrategy2");
        assert_eq!(type_name("x"), "X");
    }
}

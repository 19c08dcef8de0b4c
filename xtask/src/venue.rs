//! The FIX programs of the tests, built with g++ against the system's
//! QuickFIX (`pkg-config quickfix`): the venue of the live-trading tests
//! (`tests/venue/quickfix_venue.cpp`, an acceptor) into
//! `target/venue/quickfix-venue`, and the gateway's client
//! (`tests/venue/quickfix_client.cpp`, an initiator) into
//! `target/venue/quickfix-client`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// Each program's source and binary, from the workspace root.
const PROGRAMS: [(&str, &str); 2] = [
    (
        "tests/venue/quickfix_venue.cpp",
        "target/venue/quickfix-venue",
    ),
    (
        "tests/venue/quickfix_client.cpp",
        "target/venue/quickfix-client",
    ),
];

/// Build each program unless its binary is newer than its source.
pub fn build(root: &Path) -> Result<()> {
    for (source, binary) in PROGRAMS {
        build_one(&root.join(source), &root.join(binary))?;
    }
    Ok(())
}

fn build_one(source: &Path, binary: &Path) -> Result<()> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(written)) = (modified(binary), modified(source))
        && built >= written
    {
        return Ok(());
    }
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "quickfix"])
        .output()
        .context("running pkg-config (install pkg-config and libquickfix-dev)")?;
    if !flags.status.success() {
        bail!(
            "pkg-config does not know quickfix: install libquickfix-dev ({})",
            String::from_utf8_lossy(&flags.stderr).trim()
        );
    }
    let flags = String::from_utf8(flags.stdout).context("pkg-config's output is not UTF-8")?;
    std::fs::create_dir_all(binary.parent().expect("the binary has a folder"))?;
    eprintln!("building with QuickFIX: {}", binary.display());
    // QuickFIX 1.15's headers use dynamic exception specifications, which
    // C++17 removed: C++14 it is.
    let status = Command::new("g++")
        .args(["-std=c++14", "-O1", "-Wall", "-Wno-deprecated", "-o"])
        .arg(binary)
        .arg(source)
        .args(flags.split_whitespace())
        .arg("-lpthread")
        .status()
        .context("running g++ (install g++)")?;
    if !status.success() {
        bail!("g++ could not build {}", source.display());
    }
    Ok(())
}

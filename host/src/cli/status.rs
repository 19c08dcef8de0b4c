//! `tradsys status`: what a running host runs, read from its admin endpoint.

use anyhow::Result;
use tradsys_host::admin::request;

use crate::AdminArgs;

/// Print an admin answer's message.
pub(crate) fn say(answer: serde_json::Value) -> Result<()> {
    println!("{}", answer["message"].as_str().unwrap_or_default());
    Ok(())
}

/// `tradsys halt [--cancel-all]`: the kill switch of the host at the admin address.
pub(crate) fn halt(args: &AdminArgs, cancel_all: bool) -> Result<()> {
    let path = if cancel_all {
        "/halt/cancel-all"
    } else {
        "/halt"
    };
    say(request(&args.admin, &args.token_file, "POST", path, "")?)
}

/// `tradsys status`: what the host at the admin address runs.
pub(crate) fn status(args: &AdminArgs) -> Result<()> {
    let answer = request(&args.admin, &args.token_file, "GET", "/status", "")?;
    println!(
        "{:<24} {:<9} {:<15} {:<10} {:>8} {:>6} {:>9} {:>6}  kept",
        "plugin", "version", "kind", "state", "KiB", "evict", "calls", "faults"
    );
    let statuses = answer["plugins"].as_array().cloned().unwrap_or_default();
    for (name, version) in answer["running"].as_object().into_iter().flatten() {
        let kept: Vec<&str> = answer["kept_versions"][name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        let status = statuses.iter().find(|s| s["name"] == *name);
        let field = |key: &str| {
            status.map_or_else(String::new, |s| match &s[key] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
        };
        let kib = status
            .and_then(|s| s["memory_bytes"].as_u64())
            .map_or_else(String::new, |b| (b / 1024).to_string());
        println!(
            "{name:<24} {:<9} {:<15} {:<10} {kib:>8} {:>6} {:>9} {:>6}  {}",
            version.as_str().unwrap_or(""),
            field("kind"),
            field("state"),
            field("evictions"),
            field("calls"),
            field("faults"),
            kept.join(", ")
        );
        if let Some(failure) = status.and_then(|s| s["failure"].as_str()) {
            println!("  {failure}");
        }
    }
    for swap in answer["swaps"].as_array().into_iter().flatten() {
        println!("swap: {swap}");
    }
    for change in answer["membership"].as_array().into_iter().flatten() {
        println!(
            "member: {} {} ({}){}",
            change["plugin"].as_str().unwrap_or(""),
            change["change"].as_str().unwrap_or(""),
            change["cause"].as_str().unwrap_or(""),
            match change["canceled_orders"].as_u64() {
                Some(n) if n > 0 => format!(", {n} working orders canceled"),
                _ => String::new(),
            }
        );
    }
    for change in answer["config_changes"].as_array().into_iter().flatten() {
        let what: Vec<String> = change["differences"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let value = |v: &serde_json::Value| v.as_str().unwrap_or("(unset)").to_string();
                format!(
                    "{} {} → {}",
                    d["setting"].as_str().unwrap_or(""),
                    value(&d["old"]),
                    value(&d["new"])
                )
            })
            .collect();
        println!(
            "config: {} {}: {}",
            change["plugin"].as_str().unwrap_or(""),
            what.join(", "),
            change["reason"]
                .as_str()
                .map_or_else(|| "applied".to_string(), |r| format!("refused: {r}"))
        );
    }
    for shadow in answer["shadows"].as_array().into_iter().flatten() {
        println!(
            "shadow: {} {} beside {}: {}, {} compared, {} different",
            shadow["plugin"].as_str().unwrap_or(""),
            shadow["candidate_version"].as_str().unwrap_or(""),
            shadow["live_version"].as_str().unwrap_or(""),
            shadow["state"].as_str().unwrap_or(""),
            shadow["compared"],
            shadow["differing"]
        );
    }
    Ok(())
}

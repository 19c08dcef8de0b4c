//! The client of the host's HTTP server: what `tradsys status` and
//! `tradsys plugin rollback | shadow | promote | discard` send, and where
//! the token they need is kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::live::control::SESSION_WAIT;

/// Where the admin token of the host whose state file is `state_file` is
/// kept: `<dir>.admin-token` beside `<dir>.state.json`.
pub fn token_path(state_file: &Path) -> PathBuf {
    let name = state_file
        .file_name()
        .map_or_else(|| "tradsys".into(), |n| n.to_string_lossy().into_owned());
    let stem = name.strip_suffix(".state.json").unwrap_or(&name);
    state_file.with_file_name(format!("{stem}.admin-token"))
}

/// Send `method` `path` (with `body`) to the admin endpoint at `address`,
/// with the token read from `token_file` when it can be read: the answer's
/// message, or an error holding it.
pub fn request(
    address: &str,
    token_file: &Path,
    method: &str,
    path: &str,
    body: &str,
) -> Result<serde_json::Value> {
    let token = std::fs::read_to_string(token_file).ok();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SESSION_WAIT + Duration::from_secs(5)))
        .build()
        .into();
    let url = format!("http://{address}{path}");
    let bearer = token.map(|t| format!("Bearer {}", t.trim()));
    let response = match (method, &bearer) {
        ("GET", None) => agent.get(&url).call(),
        ("GET", Some(bearer)) => agent.get(&url).header("Authorization", bearer).call(),
        (_, None) => agent.post(&url).send(body),
        (_, Some(bearer)) => agent.post(&url).header("Authorization", bearer).send(body),
    };
    let mut response = response.with_context(|| {
        format!("no running host answers at {address} (start one with `tradsys run --admin`)")
    })?;
    let text = response.body_mut().read_to_string()?;
    let answer: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{address} did not answer as a tradsys host: {text}"))?;
    if response.status() == 401 {
        bail!(
            "{address} refused the request: {} (token file {})",
            answer["message"].as_str().unwrap_or(&text),
            token_file.display()
        );
    }
    if answer["ok"] != true {
        bail!("{}", answer["message"].as_str().unwrap_or(&text));
    }
    Ok(answer)
}

//! The ES MBO day as the benchmarks run it (`quick.rs`, `replay.rs`).

use std::path::Path;

use tradsys_host::{ConfigValue, HostConfig};

/// The file, in `../shared/data`.
pub const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";

/// `host/es-replay.toml` (the examples sized for ES) replaying the whole
/// day from `data` through `dbn-replay`.
pub fn config(data: &Path) -> HostConfig {
    let sized = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/es-replay.toml");
    let mut config = HostConfig::load(&sized).expect("host/es-replay.toml");
    config.run.connector = "dbn-replay".into();
    config.run.events = 0;
    let settings = config.plugins.entry("dbn-replay".into()).or_default();
    settings.read_dir = Some(data.to_path_buf());
    settings
        .config
        .insert("file".into(), ConfigValue::Text(ES.into()));
    config
}

/// Plugin names as a selection.
pub fn names(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|n| n.to_string()).collect())
}

/// The replay benchmark's session: three strategies, four validators, no
/// processor (the plugin directory holds more; each adds its calls).
pub fn three_four(config: &mut HostConfig) {
    config.run.strategies = names(&tradsys_tests::THREE_STRATEGIES);
    config.run.validators = names(&tradsys_tests::FOUR_VALIDATORS);
    config.run.processors = names(&[]);
}

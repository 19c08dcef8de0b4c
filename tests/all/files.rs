//! Bad plugin files and bad configuration: clear errors, nothing else disturbed.

use crate::common::{
    DEFAULT_SET, dev_key, plugin_dir_with, run_report, tradsys_run, with_manifest,
};

#[test]
fn files_that_are_not_plugins_are_refused_by_name_and_the_rest_trade() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    std::fs::write(dir.path().join("not-a-component.wasm"), b"this is not wasm").unwrap();
    // Signed, with manifests, so that what is refused is the code itself.
    let key = dev_key();
    let manifest = |name: &str| {
        format!(r#"{{"name":"{name}","version":"1.0.0","kind":"strategy","api":"^1.0"}}"#)
    };
    let core_module = with_manifest(
        &wat::parse_str("(module)").unwrap(),
        &manifest("core-module"),
        &key,
    );
    std::fs::write(dir.path().join("core-module.wasm"), core_module).unwrap();
    let other_world = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 7))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (instance $api (export "answer" (func $f)))
            (export "acme:other/api@1.0.0" (instance $api)))"#,
    )
    .unwrap();
    let other_world = with_manifest(&other_world, &manifest("other-world"), &key);
    std::fs::write(dir.path().join("other-world.wasm"), other_world).unwrap();

    let report = run_report(dir.path(), &["--events", "3000"]);
    let rejected = report["rejected_files"].as_array().unwrap();
    let reason_of = |name: &str| -> String {
        let entry = rejected
            .iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not refused: {rejected:?}"));
        entry["reason"].as_str().unwrap().to_string()
    };
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(reason_of("other-world.wasm").contains("acme:other/api@1.0.0"));
    assert!(reason_of("other-world.wasm").contains("none of the tradsys:plugins worlds"));
    assert!(reason_of("not-a-component.wasm").starts_with("not a WebAssembly file"));
    assert!(!reason_of("core-module.wasm").is_empty());
    // The real plugins ran as if the bad files were not there.
    assert_eq!(report["events"], 3000);
    assert!(report["fills"].as_u64().unwrap() > 0);
    assert_eq!(
        report["plugins"].as_array().unwrap().len(),
        DEFAULT_SET.len()
    );
}

#[test]
fn a_config_with_an_unknown_key_is_refused_naming_file_and_key() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    std::fs::write(&config, "[run]\nevnts = 5\n").unwrap();
    let output = tradsys_run(dir.path(), &["--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("host.toml") && stderr.contains("evnts"),
        "{stderr}"
    );
}

#[test]
fn a_missing_connector_is_named() {
    let dir = plugin_dir_with(&["fifo-matcher", "ma-crossover"]);
    let output = tradsys_run(dir.path(), &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("connector `synthetic-market` is not installed"),
        "{stderr}"
    );
}

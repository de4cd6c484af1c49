//! Property tests of the config loader through its public API: whatever a config file holds
//! (random bytes, near-YAML, settings with random values, `${...}` fragments), `load()` and
//! `runtime_config()` return a value or a typed `ConfigError` — never a panic — and an error
//! about a file names that file.
//!
//! Cases per property: 256 in `make test`; `make fuzz` sets `TELEMETRON_FUZZ_CASES`. A failing
//! case is saved under `proptest-regressions/` (commit it: it is replayed first from then on).

use std::path::Path;

use proptest::prelude::*;
use telemetron::RuntimeSettings;
use telemetron::{ConfigError, ConfigLoader};

fn cases() -> u32 {
    std::env::var("TELEMETRON_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Loads `bytes` as `name`; checks the outcome is a value or an error that names the file.
fn load(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let outcome = ConfigLoader::new()
        .without_discovery()
        .config_file(&path)
        .load()
        .and_then(|loaded| loaded.runtime_config().map(|_| loaded));
    match outcome {
        Ok(loaded) => prop_assert!(loaded.settings.validate().is_ok()),
        Err(
            e @ (ConfigError::Parse { .. }
            | ConfigError::Io { .. }
            | ConfigError::NotAMapping { .. }
            | ConfigError::MissingEnvVar { .. }
            | ConfigError::MalformedReference { .. }),
        ) => prop_assert!(e.to_string().contains(name), "{}", e),
        Err(_) => {}
    }
    Ok(())
}

/// A value a careless or hostile file might give a setting.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just(".nan".into()),
        Just("-.inf".into()),
        Just("~".into()),
        Just("true".into()),
        Just("1e400".into()),
        Just("99999999999999999999999".into()),
        Just("\"${UNSET_FUZZ_VAR}\"".into()),
        Just("${UNSET_FUZZ_VAR:-7}".into()),
        Just("\"${HOME\"".into()),
        Just("[1, 2]".into()),
        Just("{a: 1}".into()),
        Just("drop_new".into()),
        "[a-z_ ]{0,12}",
    ]
}

fn setting() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(RuntimeSettings::KEYS).prop_map(str::to_string),
        Just("exporters".to_string()),
        Just("plugins".to_string()),
        "[a-z_]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn fuzz_config_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), "bytes.yaml", &bytes)?;
        load(dir.path(), "bytes.json", &bytes)?;
    }

    #[test]
    fn fuzz_config_near_yaml(
        text in "([a-z_]{1,10}: [ -~]{0,20}\n|  - [ -~]{0,20}\n|[ -~]{0,20}\n){0,8}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), "near.yaml", text.as_bytes())?;
    }

    #[test]
    fn fuzz_config_settings_with_random_values(
        entries in proptest::collection::vec((setting(), scalar()), 0..8),
        exporters in proptest::collection::vec(
            (
                proptest::sample::select(vec!["file", "otlp", "metrana", "kafak", ""]),
                proptest::collection::vec(("[a-z_]{1,10}", scalar()), 0..3),
            ),
            0..3,
        ),
    ) {
        let mut text = String::new();
        for (key, value) in &entries {
            text.push_str(&format!("{key}: {value}\n"));
        }
        if !exporters.is_empty() && !entries.iter().any(|(k, _)| k == "exporters") {
            text.push_str("exporters:\n");
            for (kind, options) in &exporters {
                text.push_str(&format!("  - type: {kind}\n"));
                for (k, v) in options {
                    text.push_str(&format!("    {k}: {v}\n"));
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), "settings.yaml", text.as_bytes())?;
    }
}

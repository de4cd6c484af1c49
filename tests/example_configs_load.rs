//! Every example in config/examples loads and builds with the exporters this crate registers;
//! a relay's example (`relay:` section) also has valid relay options.

use std::path::Path;

use telemetron::ConfigLoader;

#[test]
fn every_example_config_loads_and_builds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let needs_kafka = text.contains("type: kafka") || text.contains("\nrelay:");
        if needs_kafka && !cfg!(feature = "kafka") {
            // Kafka examples need the facade's `kafka` feature (on in `cargo test --workspace`).
            continue;
        }
        let loaded = ConfigLoader::new()
            .config_file(&path)
            .section("relay")
            .load()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        #[cfg(feature = "kafka")]
        if let Some(relay) = loaded
            .section::<telemetron::kafka::RelayOptions>("relay")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        {
            relay
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        let config = loaded
            .runtime_config()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!config.exporters.is_empty(), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 2, "examples found: {checked}");
}

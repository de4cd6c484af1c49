//! Config priority (code > file > registry > default), env on top for settings, provenance,
//! discovery, and every bad-input case with an error that names the culprit.

#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error

use figment::Jail;
use serde_json::json;
use telemetron::plugins::{inventory, ConfigProviderRegistration};
use telemetron::{ConfigError, ConfigLoader};

fn registry_config() -> serde_json::Value {
    json!({"exporters": [{"type": "file", "name": "from-registry", "path": "registry.jsonl"}], "project": "registry-project"})
}

inventory::submit! {
    ConfigProviderRegistration { name: "test-registry", provide: registry_config }
}

fn exporter_names(loader: ConfigLoader) -> Vec<String> {
    let loaded = loader.load().unwrap();
    loaded
        .exporters
        .iter()
        .map(|e| e.spec.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn exporter_list_comes_whole_from_the_highest_source() {
    Jail::expect_with(|jail| {
        assert_eq!(
            exporter_names(ConfigLoader::new()),
            ["from-registry"],
            "registry beats the default"
        );
        jail.create_file(
            "telemetron.yaml",
            "exporters:\n  - {type: file, name: from-file-1}\n  - {type: file, name: from-file-2}\n",
        )?;
        assert_eq!(
            exporter_names(ConfigLoader::new()),
            ["from-file-1", "from-file-2"],
            "file replaces registry"
        );
        let code =
            ConfigLoader::new().exporters(vec![json!({"type": "file", "name": "from-code"})]);
        assert_eq!(exporter_names(code), ["from-code"], "code replaces file");
        Ok(())
    });
}

#[test]
fn settings_merge_with_env_on_top_and_provenance_names_each_source() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "telemetron.yml",
            "run_name: file-run\nqueue_capacity: 10\nbatch_max_size: 7\n",
        )?;
        jail.set_env("TELEMETRON_QUEUE_CAPACITY", "123");
        let loaded = ConfigLoader::new()
            .set("queue_capacity", 5)
            .set("experiment", "code-exp")
            .load()
            .unwrap();
        assert_eq!(
            loaded.settings.queue_capacity, 123,
            "environment beats code"
        );
        assert_eq!(loaded.settings.batch_max_size, 7, "file beats default");
        assert_eq!(loaded.run.run_name, "file-run");
        assert_eq!(
            loaded.run.project.as_deref(),
            Some("registry-project"),
            "registry settings merge too"
        );
        assert_eq!(loaded.run.experiment.as_deref(), Some("code-exp"));
        let described = loaded.describe();
        for expected in [
            "queue_capacity = 123  (`TELEMETRON_` environment variable(s))",
            "batch_max_size = 7  (file ./telemetron.yml)",
            "experiment = \"code-exp\"  (code)",
            "project = \"registry-project\"  (registry test-registry)",
            "max_retries = 5  (default)",
        ] {
            assert!(
                described.contains(expected),
                "missing {expected:?} in\n{described}"
            );
        }
        Ok(())
    });
}

#[test]
fn telemetron_config_names_the_file_and_vars_expand() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "elsewhere.json",
            r#"{"exporters": [{"type": "file", "path": "${OUT_DIR}/run.jsonl", "max_bytes": "${MAX}", "api_token": "${TOKEN:-none}"}]}"#,
        )?;
        jail.set_env("TELEMETRON_CONFIG", "elsewhere.json");
        jail.set_env("OUT_DIR", "/data/out");
        jail.set_env("MAX", "4096");
        jail.set_env("TOKEN", "s3cr3t");
        let loaded = ConfigLoader::new().load().unwrap();
        let options = &loaded.exporters[0].spec.options;
        assert_eq!(options["path"], "/data/out/run.jsonl");
        assert_eq!(
            options["max_bytes"], 4096,
            "a whole-value reference takes the variable's type"
        );
        assert!(loaded.exporters[0].source.contains("elsewhere.json"));
        let described = loaded.describe();
        assert!(
            !described.contains("s3cr3t"),
            "secrets are redacted:\n{described}"
        );
        assert!(described.contains("\"api_token\":\"***\""), "{described}");
        Ok(())
    });
}

fn load_err(loader: ConfigLoader) -> String {
    match loader.load().and_then(|l| l.runtime_config().map(|_| ())) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_input_gets_errors_that_name_the_culprit() {
    Jail::expect_with(|jail| {
        let unknown = load_err(ConfigLoader::new().exporters(vec![json!({"type": "kafak"})]));
        assert!(
            unknown.contains("unknown exporter type \"kafak\" (known: file"),
            "{unknown}"
        );

        jail.create_file(
            "broken.yaml",
            "exporters:\n  - type: file\n   path: [oops\n",
        )?;
        let malformed = load_err(ConfigLoader::new().config_file("broken.yaml"));
        assert!(
            malformed.starts_with("broken.yaml:3:"),
            "file:line:column first: {malformed}"
        );

        jail.create_file(
            "needs_var.yaml",
            "exporters:\n  - {type: file, path: \"${NOT_SET_ANYWHERE}/x\"}\n",
        )?;
        let missing = load_err(ConfigLoader::new().config_file("needs_var.yaml"));
        assert!(missing.contains("NOT_SET_ANYWHERE is not set"), "{missing}");

        let no_file = load_err(ConfigLoader::new().config_file("nope.yaml"));
        assert!(
            no_file.contains("config file nope.yaml not found"),
            "{no_file}"
        );
        jail.set_env("TELEMETRON_CONFIG", "gone.yaml");
        let no_env_file = load_err(ConfigLoader::new());
        assert!(
            no_env_file.contains("gone.yaml not found (named by TELEMETRON_CONFIG)"),
            "{no_env_file}"
        );
        jail.clear_env();

        let misspelt = load_err(ConfigLoader::new().set("queue_capasity", 3));
        assert!(
            misspelt.contains("unknown setting \"queue_capasity\" from code"),
            "{misspelt}"
        );

        let wrong_type = load_err(ConfigLoader::new().set("queue_capacity", "lots"));
        assert!(wrong_type.contains("queue_capacity"), "{wrong_type}");

        let bad_option =
            load_err(ConfigLoader::new().exporters(vec![json!({"type": "file", "pth": "x"})]));
        assert!(
            bad_option.contains("invalid options for exporter \"file\"")
                && bad_option.contains("pth"),
            "{bad_option}"
        );

        let bad_strategy = load_err(ConfigLoader::new().set("backpressure", "sometimes"));
        assert!(bad_strategy.contains("backpressure"), "{bad_strategy}");

        let dup = load_err(ConfigLoader::new().exporters(vec![
            json!({"type": "file", "name": "x"}),
            json!({"type": "file", "name": "x"}),
        ]));
        assert!(dup.contains("two exporters are named \"x\""), "{dup}");

        let unknown_plugin =
            load_err(ConfigLoader::new().plugins(vec![json!({"type": "spam_stats"})]));
        assert!(
            unknown_plugin.contains("unknown plugin type \"spam_stats\" (known: span_stats"),
            "{unknown_plugin}"
        );
        Ok(())
    });
}

#[test]
fn unnamed_exporters_get_unique_names_and_disabled_ones_are_skipped() {
    Jail::expect_with(|_| {
        let loaded = ConfigLoader::new()
            .exporters(vec![
                json!({"type": "file", "path": "a.jsonl"}),
                json!({"type": "file", "path": "b.jsonl"}),
                json!({"type": "file", "path": "c.jsonl", "enabled": false}),
            ])
            .load()
            .unwrap();
        let config = loaded.runtime_config().unwrap();
        let names: Vec<_> = config.exporters.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["file", "file#2"]);
        Ok(())
    });
}

#[test]
fn the_default_without_any_source_is_one_file_exporter() {
    let loaded = ConfigLoader::new().without_discovery().load().unwrap();
    // The registry of this test binary gives one; the default sits below it.
    assert_eq!(loaded.exporters.len(), 1);
    assert!(matches!(
        ConfigLoader::new()
            .config_file("/nonexistent/x.yaml")
            .load(),
        Err(ConfigError::NotFound { .. })
    ));
}

//! Config mistakes that used to pass silently or with a vague message: each is an error naming
//! `file:line` (or a warning the caller gets back), and errors about secret options never
//! print the secret. Quoted `${VAR}` stays a string.

#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error

use figment::Jail;
use telemetron::{ConfigError, ConfigLoader};

fn load_err(loader: ConfigLoader) -> String {
    match loader.load().and_then(|l| l.runtime_config().map(|_| ())) {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn file_err(jail: &mut Jail, name: &str, text: &str) -> String {
    jail.create_file(name, text).unwrap();
    load_err(ConfigLoader::new().config_file(name))
}

#[test]
fn malformed_references_duplicates_nan_and_types_name_the_line() {
    Jail::expect_with(|jail| {
        jail.set_env("OUT", "/data");
        let unterminated = file_err(
            jail,
            "ref.yaml",
            "project: rl\nexporters:\n  - {type: file, path: \"${OUT/run.jsonl\"}\n",
        );
        assert!(
            unterminated.starts_with("ref.yaml:3:")
                && unterminated.contains("malformed variable reference \"${OUT/run.jsonl"),
            "{unterminated}"
        );

        let missing = file_err(
            jail,
            "missing.yaml",
            "project: rl\nrun_name: ${NOT_SET_X}\n",
        );
        assert!(
            missing.starts_with("missing.yaml:2:") && missing.contains("NOT_SET_X is not set"),
            "{missing}"
        );

        let duplicate = file_err(
            jail,
            "dup.yaml",
            "queue_capacity: 10\nproject: rl\nqueue_capacity: 20\n",
        );
        assert!(
            duplicate.starts_with("dup.yaml:3:")
                && duplicate.contains("duplicate key \"queue_capacity\""),
            "{duplicate}"
        );
        let nested = file_err(
            jail,
            "dup_entry.yaml",
            "exporters:\n  - type: file\n    path: a.jsonl\n    path: b.jsonl\n",
        );
        assert!(
            nested.starts_with("dup_entry.yaml:4:") && nested.contains("duplicate key \"path\""),
            "{nested}"
        );
        let json = file_err(
            jail,
            "dup.json",
            "{\"project\": \"a\",\n \"project\": \"b\"}",
        );
        assert!(
            json.starts_with("dup.json:2:") && json.contains("duplicate key \"project\""),
            "{json}"
        );

        let nan = file_err(jail, "nan.yaml", "project: rl\nbatch_max_age_secs: .nan\n");
        assert!(
            nan.starts_with("nan.yaml:2:") && nan.contains("not a finite number"),
            "{nan}"
        );

        let wrong_type = file_err(jail, "type.yaml", "project: rl\n\nqueue_capacity: lots\n");
        assert!(
            wrong_type.contains("type.yaml:3: queue_capacity: invalid type"),
            "{wrong_type}"
        );
        let out_of_range = file_err(jail, "range.yaml", "project: rl\nbatch_max_size: 0\n");
        assert!(
            out_of_range.contains("range.yaml:2: batch_max_size must be at least 1"),
            "{out_of_range}"
        );
        let typo = file_err(jail, "typo.yaml", "project: rl\nqueue_capasity: 3\n");
        assert!(
            typo.starts_with("typo.yaml:2: unknown setting \"queue_capasity\"")
                && typo.contains("did you mean \"queue_capacity\"?"),
            "{typo}"
        );
        let bad_entry = file_err(
            jail,
            "entry.yaml",
            "exporters:\n  - {type: file}\n  - type: file\n    pth: x.jsonl\n",
        );
        assert!(
            bad_entry.starts_with("entry.yaml:3: exporters entry #2") && bad_entry.contains("pth"),
            "{bad_entry}"
        );
        Ok(())
    });
}

#[test]
fn a_directory_is_not_reported_as_missing() {
    Jail::expect_with(|jail| {
        std::fs::create_dir(jail.directory().join("conf.yaml")).unwrap();
        let err = load_err(ConfigLoader::new().config_file("conf.yaml"));
        assert!(err.contains("conf.yaml is a directory"), "{err}");
        assert!(!err.contains("not found"), "{err}");
        jail.set_env("TELEMETRON_CONFIG", "conf.yaml");
        assert!(matches!(
            ConfigLoader::new().load(),
            Err(ConfigError::IsADirectory {
                named_by: "TELEMETRON_CONFIG",
                ..
            })
        ));
        Ok(())
    });
}

#[test]
fn misspelt_environment_variables_come_back_as_warnings() {
    Jail::expect_with(|jail| {
        jail.set_env("TELEMETRON_QUEUE_CAPASITY", "100");
        jail.set_env("TELEMETRON_BATCH_MAX_SIZE", "7");
        let loaded = ConfigLoader::new().without_discovery().load().unwrap();
        assert_eq!(loaded.settings.batch_max_size, 7);
        assert_eq!(
            loaded.settings.queue_capacity, 65_536,
            "the typo is not a setting"
        );
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings[0].contains("TELEMETRON_QUEUE_CAPASITY")
                && loaded.warnings[0].contains("did you mean TELEMETRON_QUEUE_CAPACITY?"),
            "{:?}",
            loaded.warnings
        );
        Ok(())
    });
}

#[test]
fn quoted_references_stay_strings_and_secret_errors_hide_the_value() {
    Jail::expect_with(|jail| {
        jail.set_env("NUMKEY", "987654321");
        jail.set_env("MAX", "4096");
        jail.create_file(
            "typed.yaml",
            "exporters:\n  - type: file\n    max_bytes: ${MAX}\n  \
             - type: metrana\n    api_key: \"${NUMKEY}\"\n    endpoint: http://127.0.0.1:1\n",
        )?;
        let loaded = ConfigLoader::new()
            .config_file("typed.yaml")
            .load()
            .unwrap();
        assert_eq!(loaded.exporters[0].spec.options["max_bytes"], 4096);
        assert_eq!(
            loaded.exporters[1].spec.options["api_key"], "987654321",
            "quoted: a string"
        );
        loaded.runtime_config().unwrap();

        // A secret-named option stays a string even unquoted.
        jail.create_file(
            "unquoted.yaml",
            "exporters:\n  - type: metrana\n    api_key: ${NUMKEY}\n",
        )?;
        let loaded = ConfigLoader::new()
            .config_file("unquoted.yaml")
            .load()
            .unwrap();
        assert_eq!(loaded.exporters[0].spec.options["api_key"], "987654321");

        // A number written as a secret: the error names the option, never the value.
        for (name, text) in [
            (
                "literal.yaml",
                "exporters:\n  - {type: metrana, api_key: 55512345678}\n",
            ),
            (
                "header.yaml",
                "exporters:\n  - {type: otlp, headers: {authorization: 55512345678}}\n",
            ),
        ] {
            let err = file_err(jail, name, text);
            assert!(err.contains("invalid type"), "{err}");
            assert!(!err.contains("55512345678"), "the secret leaked: {err}");
        }
        Ok(())
    });
}

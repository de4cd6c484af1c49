//! "Did you mean ...?": the known name closest to a misspelt one, and warnings for
//! `TELEMETRON_*` environment variables that are not ours (a typo there is otherwise silently
//! ignored: the setting keeps its default).

use telemetron_runtime::RuntimeSettings;

use crate::CONFIG_ENV_VAR;

/// Environment variables of ours besides `TELEMETRON_<SETTING>` and `TELEMETRON_CONFIG`.
pub const OTHER_ENV_VARS: &[&str] = &[
    // The interpreter the Rust tests use for the reference services (Makefile).
    "TELEMETRON_TEST_PYTHON",
];

/// The known name closest to `name` (ASCII case ignored), if it is close enough to be a typo:
/// at most a third of its length away, and at least 1 and at most 3 edits.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    known
        .into_iter()
        .map(|k| (edit_distance(&name, &k.to_ascii_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// One warning per `TELEMETRON_*` variable in `vars` that Telemetron does not read, naming the
/// closest known one when there is one.
pub(crate) fn unknown_env_vars<'a>(vars: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let settings: Vec<String> = RuntimeSettings::KEYS
        .iter()
        .map(|k| format!("TELEMETRON_{}", k.to_ascii_uppercase()))
        .collect();
    let known: Vec<&str> = settings
        .iter()
        .map(String::as_str)
        .chain([CONFIG_ENV_VAR])
        .chain(OTHER_ENV_VARS.iter().copied())
        .collect();
    let mut warnings: Vec<String> = vars
        .into_iter()
        .filter(|v| v.starts_with("TELEMETRON_") && !known.contains(v))
        .map(|var| match closest(var, known.iter().copied()) {
            Some(near) => format!(
                "environment variable {var} is not a Telemetron setting and is ignored; did you \
                 mean {near}?"
            ),
            None => format!(
                "environment variable {var} is not a Telemetron setting and is ignored \
                 (settings are TELEMETRON_<SETTING>, e.g. TELEMETRON_QUEUE_CAPACITY)"
            ),
        })
        .collect();
    warnings.sort();
    warnings
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_closest_known_name() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        let keys = ["queue_capacity", "backpressure", "run_name"];
        assert_eq!(closest("queue_capasity", keys), Some("queue_capacity"));
        assert_eq!(closest("BACKPRESSURE", keys), Some("backpressure"));
        assert_eq!(closest("project", keys), None);
        let warnings = unknown_env_vars([
            "TELEMETRON_QUEUE_CAPASITY",
            "TELEMETRON_QUEUE_CAPACITY",
            "TELEMETRON_CONFIG",
            "TELEMETRON_SOMETHING_ELSE",
            "PATH",
        ]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("did you mean TELEMETRON_QUEUE_CAPACITY?"));
        assert!(warnings[1].contains("TELEMETRON_SOMETHING_ELSE is not a Telemetron setting"));
    }
}

//! Which distributed job this process belongs to, and which writer it is.

/// Where an orchestration id comes from when the configuration gives none, in order: ours,
/// Metrana's, then what launchers set (torchrun, Slurm, Ray).
pub const ORCHESTRATION_ENV_VARS: [&str; 5] = [
    "TELEMETRON_ORCHESTRATION_ID",
    "METRANA_ORCHESTRATION_ID",
    "TORCHELASTIC_RUN_ID",
    "SLURM_JOB_ID",
    "RAY_JOB_ID",
];

/// The configured id, else the first non-empty launcher variable, else 32 random hex digits.
pub fn resolve_orchestration_id(
    configured: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    configured
        .map(str::to_string)
        .or_else(|| {
            ORCHESTRATION_ENV_VARS
                .iter()
                .filter_map(|name| env(name))
                .find(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| format!("{:032x}", random_u128()))
}

/// The configured logger id, else a random positive one.
pub fn resolve_logger_id(configured: Option<u64>) -> u64 {
    configured.unwrap_or_else(|| (random_u128() as u64 >> 1).max(1))
}

fn random_u128() -> u128 {
    telemetron_runtime::model::TraceId::random().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_wins_then_launchers_in_order_else_random() {
        let env = |name: &str| match name {
            "SLURM_JOB_ID" => Some("4242".to_string()),
            "TORCHELASTIC_RUN_ID" => Some(" ".to_string()),
            _ => None,
        };
        assert_eq!(resolve_orchestration_id(Some("mine"), &env), "mine");
        assert_eq!(resolve_orchestration_id(None, &env), "4242");
        let random = resolve_orchestration_id(None, &|_| None);
        assert_eq!(random.len(), 32);
        assert_ne!(random, resolve_orchestration_id(None, &|_| None));
        assert_eq!(resolve_logger_id(Some(3)), 3);
        assert!(resolve_logger_id(None) > 0);
    }
}

//! Environment lists (`Runtime::env_list`) are checked once and can be kept across calls; a
//! list made by one runtime still lands on the right environments in another.

mod common;

use std::time::Duration;

use common::capture_all::capture_all;
use common::start;
use telemetron::model::{MinorSteps, Record, Scale, SeriesKey, TimestampsMs, Values};
use telemetron::{EnvSteps, RlStepCall, RuntimeSettings};

fn step(envs: &telemetron::EnvList, rl_step: u64) -> RlStepCall {
    RlStepCall {
        key: SeriesKey::new("reward", Scale::EnvironmentStep, Vec::new()).unwrap(),
        rl_step,
        envs: envs.clone(),
        episodes: vec![None; envs.len()],
        per_env: 2,
        values: Values::F64(vec![1.0; 2 * envs.len()].into()),
        env_steps: EnvSteps::Auto {
            start_from_one: false,
        },
        timestamps_ms: TimestampsMs::None,
    }
}

/// (envs, first step of each env) of every RL record.
fn rl_runs(records: &[Record]) -> Vec<(Vec<String>, Vec<u64>)> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Rl(rl) => match &rl.minor_steps {
                MinorSteps::Runs(starts) => Some((rl.envs.to_vec(), starts.clone())),
                MinorSteps::Each(_) => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn a_kept_list_continues_each_environment_in_the_runtime_it_is_used_on() {
    let (slot, captured) = capture_all("capture");
    let rt = start(RuntimeSettings::default(), vec![slot]);
    let other = start(RuntimeSettings::default(), Vec::new());
    // Interned in `other` as x=0, y=1; in `rt`, y is interned first (y=0).
    let foreign = other.env_list(vec!["x".into(), "y".into()]).unwrap();
    let only_y = rt.env_list(vec!["y".into()]).unwrap();
    rt.log_rl_environment_step(step(&only_y, 0)).unwrap();
    rt.log_rl_environment_step(step(&only_y, 1)).unwrap();
    rt.log_rl_environment_step(step(&foreign, 2)).unwrap();
    let mine = rt.env_list(vec!["x".into(), "y".into()]).unwrap();
    rt.log_rl_environment_step(step(&mine, 3)).unwrap();
    rt.flush(Duration::from_secs(10)).unwrap();
    let xy = vec!["x".to_string(), "y".to_string()];
    assert_eq!(
        rl_runs(&captured.lock()),
        vec![
            (vec!["y".to_string()], vec![0]),
            (vec!["y".to_string()], vec![2]),
            (xy.clone(), vec![0, 4]),
            (xy, vec![2, 6]),
        ]
    );
    other.close(Duration::from_secs(10)).unwrap();
}

#[test]
fn a_list_with_a_repeated_or_invalid_environment_is_refused() {
    let rt = start(RuntimeSettings::default(), Vec::new());
    let twice = rt.env_list(vec!["a".into(), "a".into()]).unwrap_err();
    assert!(twice.to_string().contains("appears twice"), "{twice}");
    let bad = rt.env_list(vec!["a\nb".into()]).unwrap_err();
    assert!(bad.to_string().contains("env_id"), "{bad}");
}

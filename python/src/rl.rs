//! `log_rl_environment_step` / `log_rl_episode`: the Python layer has already shaped the
//! arguments into per-environment columns; this builds the runtime calls.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use telemetron::model::Scale;
use telemetron::{EnvSteps, RlStepCall};

use crate::errors::ValidationError;
use crate::metrics::{series_key, timestamps_of, values_of};
use crate::runtime::PyRuntime;

/// Arguments common to both calls.
pub(crate) struct RlArgs<'a, 'py> {
    pub(crate) name: &'a str,
    pub(crate) values: &'a Bound<'py, PyAny>,
    pub(crate) rl_step: u64,
    pub(crate) envs: telemetron::EnvList,
    pub(crate) labels: Option<&'a Bound<'py, PyDict>>,
    pub(crate) evaluation: Option<bool>,
    pub(crate) timestamp: Option<&'a Bound<'py, PyAny>>,
    pub(crate) dtype: Option<&'a str>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn log_env_step(
    py: Python<'_>,
    rt: &PyRuntime,
    args: RlArgs<'_, '_>,
    per_env: usize,
    episodes: Vec<Option<u64>>,
    env_step_mode: &str,
    env_steps: Option<Vec<u64>>,
    start_from_one: bool,
) -> PyResult<()> {
    let key = series_key(
        args.name,
        Some(Scale::EnvironmentStep.as_str()),
        args.labels,
        args.evaluation,
    )?;
    let env_steps = match (env_step_mode, env_steps) {
        ("auto", _) => EnvSteps::Auto { start_from_one },
        ("start", Some(s)) => EnvSteps::Start(s),
        ("each", Some(s)) => EnvSteps::Each(s),
        (mode, _) => {
            return Err(ValidationError::new_err(format!(
                "invalid env_step: unknown form {mode:?}"
            )))
        }
    };
    let call = RlStepCall {
        key,
        rl_step: args.rl_step,
        envs: args.envs,
        episodes,
        per_env,
        values: values_of(py, args.values, args.dtype)?,
        env_steps,
        timestamps_ms: timestamps_of(py, args.timestamp)?,
    };
    rt.maybe_detached(py, || rt.runtime.log_rl_environment_step(call))
}

pub(crate) fn log_episode(
    py: Python<'_>,
    rt: &PyRuntime,
    args: RlArgs<'_, '_>,
    episodes: Option<Vec<u64>>,
) -> PyResult<()> {
    let key = series_key(
        args.name,
        Some(Scale::Episode.as_str()),
        args.labels,
        args.evaluation,
    )?;
    let values = values_of(py, args.values, args.dtype)?;
    let timestamps = timestamps_of(py, args.timestamp)?;
    let (rl_step, envs) = (args.rl_step, args.envs);
    rt.maybe_detached(py, || {
        rt.runtime
            .log_rl_episode(key, rl_step, envs, episodes, values, timestamps)
    })
}

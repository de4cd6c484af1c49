//! `Runtime` methods of the metric API (series, RL series, run attributes): a second
//! `#[pymethods]` block (pyo3 `multiple-pymethods`) so that runtime.rs keeps the lifecycle.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::runtime::PyRuntime;

#[pymethods]
impl PyRuntime {
    /// `log` (ordered) or `log_distributed`: `name` and `value` for one series, or a dict of
    /// `{name: value}` (and no value) for several, all or nothing; see `telemetron.log`.
    #[pyo3(signature = (name, value=None, scale=None, step=None, labels=None, evaluation=None, timestamp=None, dtype=None, ordered=true))]
    #[allow(clippy::too_many_arguments)]
    fn log_metric(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        value: Option<&Bound<'_, PyAny>>,
        scale: Option<&str>,
        step: Option<&Bound<'_, PyAny>>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
        timestamp: Option<&Bound<'_, PyAny>>,
        dtype: Option<&str>,
        ordered: bool,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let options = crate::metrics::MetricOptions {
                scale,
                step,
                labels,
                evaluation,
                timestamp,
                dtype,
                ordered,
            };
            if let Ok(name) = name.cast::<PyString>() {
                let value = value.ok_or_else(|| {
                    PyTypeError::new_err(
                        "log() needs a value (or a mapping of metric names to values)",
                    )
                })?;
                return crate::metrics::log_metric(py, self, name.to_str()?, value, &options);
            }
            let values = name.cast::<PyDict>().map_err(|_| {
                let type_name = name
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string());
                PyTypeError::new_err(format!(
                    "a metric name is a str (or a mapping of names to values), not {type_name}"
                ))
            })?;
            if value.is_some() {
                return Err(PyTypeError::new_err(
                    "log(mapping, ...) takes its values from the mapping: omit value",
                ));
            }
            crate::metrics::log_metrics(py, self, values, &options)
        })
    }

    /// Run attributes (`env_id=None`) or an environment's: `(path, value)` pairs.
    #[pyo3(signature = (updates, env_id=None, episode=None))]
    fn log_run_attributes(
        &self,
        py: Python<'_>,
        updates: Vec<(String, Bound<'_, PyAny>)>,
        env_id: Option<String>,
        episode: Option<i128>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let episode = episode
                .map(|e| crate::indices::index("episode", e))
                .transpose()?;
            crate::run_attributes::log_run_attributes(py, self, updates, env_id, episode)
        })
    }

    /// One `log_rl_environment_step` call, already shaped into per-environment columns
    /// (`episodes=None`: no environment has one).
    #[pyo3(signature = (name, values, per_env, rl_step, envs, episodes, env_step_mode, env_steps=None, start_from_one=false, labels=None, evaluation=None, timestamp=None, dtype=None))]
    #[allow(clippy::too_many_arguments)]
    fn log_rl_environment_step(
        &self,
        py: Python<'_>,
        name: &str,
        values: &Bound<'_, PyAny>,
        per_env: usize,
        rl_step: i128,
        envs: &Bound<'_, PyAny>,
        episodes: Option<Vec<Option<i128>>>,
        env_step_mode: &str,
        env_steps: Option<Vec<i128>>,
        start_from_one: bool,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
        timestamp: Option<&Bound<'_, PyAny>>,
        dtype: Option<&str>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let args = crate::rl::RlArgs {
                name,
                values,
                rl_step: crate::indices::index("rl_step", rl_step)?,
                envs: self.envs.list(&self.runtime, envs)?,
                labels,
                evaluation,
                timestamp,
                dtype,
            };
            // None: a non-episodic series, no episode for any environment.
            let episodes = match episodes {
                None => vec![None; args.envs.len()],
                Some(given) => given
                    .into_iter()
                    .map(|e| e.map(|e| crate::indices::index("episode", e)).transpose())
                    .collect::<PyResult<Vec<_>>>()?,
            };
            let env_steps = env_steps
                .map(|s| crate::indices::indices("env_step", s))
                .transpose()?;
            crate::rl::log_env_step(
                py,
                self,
                args,
                per_env,
                episodes,
                env_step_mode,
                env_steps,
                start_from_one,
            )
        })
    }

    /// One `log_rl_episode` call: a value per environment.
    #[pyo3(signature = (name, values, rl_step, envs, episodes=None, labels=None, evaluation=None, timestamp=None, dtype=None))]
    #[allow(clippy::too_many_arguments)]
    fn log_rl_episode(
        &self,
        py: Python<'_>,
        name: &str,
        values: &Bound<'_, PyAny>,
        rl_step: i128,
        envs: &Bound<'_, PyAny>,
        episodes: Option<Vec<i128>>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
        timestamp: Option<&Bound<'_, PyAny>>,
        dtype: Option<&str>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let args = crate::rl::RlArgs {
                name,
                values,
                rl_step: crate::indices::index("rl_step", rl_step)?,
                envs: self.envs.list(&self.runtime, envs)?,
                labels,
                evaluation,
                timestamp,
                dtype,
            };
            let episodes = episodes
                .map(|e| crate::indices::indices("episode", e))
                .transpose()?;
            crate::rl::log_episode(py, self, args, episodes)
        })
    }

    /// Episodes for a `log_rl_environment_step` call without `episode=`: None for a series
    /// pinned non-episodic, else each environment's current episode (0 before its first).
    #[pyo3(signature = (name, envs, labels=None, evaluation=None))]
    fn current_episodes(
        &self,
        name: &str,
        envs: &Bound<'_, PyAny>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
    ) -> PyResult<Option<Vec<u64>>> {
        crate::errors::guarded(|| {
            let scale = telemetron::model::Scale::EnvironmentStep.as_str();
            let key = crate::metrics::series_key(name, Some(scale), labels, evaluation)?;
            let envs = self.envs.list(&self.runtime, envs)?;
            Ok(self.runtime.current_episodes(&key, envs.names()))
        })
    }

    /// `(last rl_step, last episode)` of an environment, or None.
    fn env_last_rl_step_and_episode(&self, env: &str) -> Option<(u64, Option<u64>)> {
        self.runtime.env_last_rl_step_and_episode(env)
    }

    /// The last step of a series, or None.
    #[pyo3(signature = (name, scale=None, labels=None, evaluation=None))]
    fn last_step(
        &self,
        name: &str,
        scale: Option<&str>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
    ) -> PyResult<Option<u64>> {
        crate::errors::guarded(|| {
            let key = crate::metrics::series_key(name, scale, labels, evaluation)?;
            Ok(self.runtime.last_step(&key))
        })
    }

    /// A histogram at `step` (counts or densities over `bin_edges`).
    #[pyo3(signature = (name, step, bin_edges, counts=None, densities=None, stats=None, scale=None, labels=None, evaluation=None, timestamp=None))]
    #[allow(clippy::too_many_arguments)]
    fn log_histogram(
        &self,
        py: Python<'_>,
        name: &str,
        step: i128,
        bin_edges: &Bound<'_, PyAny>,
        counts: Option<&Bound<'_, PyAny>>,
        densities: Option<&Bound<'_, PyAny>>,
        stats: Option<(f64, f64, f64, f64)>,
        scale: Option<&str>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
        timestamp: Option<i128>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let step = crate::indices::index("step", step)?;
            let timestamp = timestamp.map(crate::indices::timestamp_ms).transpose()?;
            let key = crate::metrics::series_key(name, scale, labels, evaluation)?;
            let edges = crate::columns::column(py, bin_edges, "bin_edges")?
                .f64s()
                .into_vec();
            let bins = match (counts, densities) {
                (Some(c), None) => {
                    let col = crate::columns::column(py, c, "counts")?;
                    let ints = col.ints.ok_or_else(|| {
                        crate::errors::ValidationError::new_err("invalid counts: must be integers")
                    })?;
                    let counts = ints
                        .into_iter()
                        .map(|c| {
                            u64::try_from(c).map_err(|_| {
                                crate::errors::ValidationError::new_err(format!(
                                    "invalid counts: {c} is negative"
                                ))
                            })
                        })
                        .collect::<PyResult<Vec<u64>>>()?;
                    telemetron::model::BinValues::Counts(counts)
                }
                (None, Some(d)) => telemetron::model::BinValues::Densities(
                    crate::columns::column(py, d, "densities")?
                        .f64s()
                        .into_vec(),
                ),
                _ => {
                    return Err(crate::errors::ValidationError::new_err(
                        "invalid histogram: give counts or densities (one of them)",
                    ))
                }
            };
            let stats = stats.map(|(a, b, c, d)| [a, b, c, d]);
            self.maybe_detached(py, || {
                self.runtime
                    .log_histogram(key, step, edges, bins, stats, timestamp)
            })
        })
    }

    /// A 2-D scatter (`zs=None`) or a 3-D one at `step`.
    #[pyo3(signature = (name, step, xs, ys, zs=None, x_title=None, y_title=None, z_title=None, scale=None, labels=None, evaluation=None, timestamp=None))]
    #[allow(clippy::too_many_arguments)]
    fn log_scatter(
        &self,
        py: Python<'_>,
        name: &str,
        step: i128,
        xs: &Bound<'_, PyAny>,
        ys: &Bound<'_, PyAny>,
        zs: Option<&Bound<'_, PyAny>>,
        x_title: Option<String>,
        y_title: Option<String>,
        z_title: Option<String>,
        scale: Option<&str>,
        labels: Option<&Bound<'_, PyDict>>,
        evaluation: Option<bool>,
        timestamp: Option<i128>,
    ) -> PyResult<()> {
        crate::errors::guarded(|| {
            let step = crate::indices::index("step", step)?;
            let timestamp = timestamp.map(crate::indices::timestamp_ms).transpose()?;
            let key = crate::metrics::series_key(name, scale, labels, evaluation)?;
            let col = |v: &Bound<'_, PyAny>, what| -> PyResult<Vec<f64>> {
                Ok(crate::columns::column(py, v, what)?.f64s().into_vec())
            };
            let (xs, ys) = (col(xs, "xs")?, col(ys, "ys")?);
            let zs = zs.map(|z| col(z, "zs")).transpose()?;
            let titles = [x_title, y_title, z_title];
            self.maybe_detached(py, || {
                self.runtime
                    .log_scatter(key, step, xs, ys, zs, titles, timestamp)
            })
        })
    }
}

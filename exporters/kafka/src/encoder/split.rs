//! Metric and RL records too large for one message become several records of the same series:
//! each keeps its steps (and RL environments, episodes and minor steps), so the backend sees
//! the same points.

use telemetron_codec::wire;
use telemetron_codec::BatchEncoder;
use telemetron_runtime::model::{MinorSteps, Record, RlPoints};

use super::wire_record;

/// `record` as wire records that each fit in `budget` bytes of a batch, or why it cannot.
pub(crate) fn to_fit(record: &Record, budget: usize) -> Result<Vec<wire::Record>, String> {
    let encoded = wire_record(record)?;
    let cost = BatchEncoder::record_cost(&encoded);
    if cost <= budget {
        return Ok(vec![encoded]);
    }
    let halves = match record {
        Record::Metric(m) if m.values.len() > 1 => {
            let mid = m.values.len() / 2;
            Some((
                Record::from(m.slice(0..mid)),
                Record::from(m.slice(mid..m.values.len())),
            ))
        }
        Record::Rl(r) if r.envs.len() > 1 => {
            let mid = r.envs.len() / 2;
            Some((
                Record::Rl(Box::new(rl_envs(r, 0, mid))),
                Record::Rl(Box::new(rl_envs(r, mid, r.envs.len()))),
            ))
        }
        Record::Rl(r) if r.envs.len() == 1 && r.per_env > 1 => {
            let mid = r.per_env / 2;
            Some((
                Record::Rl(Box::new(rl_columns(r, 0, mid))),
                Record::Rl(Box::new(rl_columns(r, mid, r.per_env))),
            ))
        }
        _ => None,
    };
    match halves {
        Some((a, b)) => {
            let mut parts = to_fit(&a, budget)?;
            parts.extend(to_fit(&b, budget)?);
            Ok(parts)
        }
        None => Err(format!(
            "a {} record of {cost} bytes does not fit in a message of max_message_bytes (room for {budget})",
            record.kind().as_str()
        )),
    }
}

/// Environments `from..to` of an RL record.
fn rl_envs(r: &RlPoints, from: usize, to: usize) -> RlPoints {
    let (a, b) = (from * r.per_env, to * r.per_env);
    RlPoints {
        series: r.series.clone(),
        ordering: r.ordering,
        rl_step: r.rl_step,
        envs: r.envs[from..to].to_vec().into(),
        episodes: r.episodes[from..to].to_vec(),
        per_env: r.per_env,
        minor_steps: match &r.minor_steps {
            MinorSteps::Runs(starts) => MinorSteps::Runs(starts[from..to].to_vec()),
            MinorSteps::Each(steps) => MinorSteps::Each(steps[a..b].to_vec()),
        },
        values: r.values.slice(a..b),
        timestamps_ms: r.timestamps_ms.slice(a..b),
        time: r.time,
    }
}

/// Values `from..to` of a one-environment RL record.
fn rl_columns(r: &RlPoints, from: usize, to: usize) -> RlPoints {
    RlPoints {
        series: r.series.clone(),
        ordering: r.ordering,
        rl_step: r.rl_step,
        envs: r.envs.clone(),
        episodes: r.episodes.clone(),
        per_env: to - from,
        minor_steps: match &r.minor_steps {
            MinorSteps::Runs(starts) => MinorSteps::Runs(vec![starts[0] + from as u64]),
            MinorSteps::Each(steps) => MinorSteps::Each(steps[from..to].to_vec()),
        },
        values: r.values.slice(from..to),
        timestamps_ms: r.timestamps_ms.slice(from..to),
        time: r.time,
    }
}

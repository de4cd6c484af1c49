//! RL points straight from their columns to the wire: `UpdateRunRequest.rl_series` entries
//! (`StreamingRLSeriesUpdate` with one `RlStepBatch`) encoded without building the messages
//! first. An RL burst is thousands of environments per call: the messages would be one `Vec` of
//! values, one of steps and one `String` per environment, built only to be encoded and dropped.
//! Encoded protobuf fields may come in any order and repeated ones append, so these bytes
//! follow the rest of the request. Field numbers: `proto/metrana/ingestion/v1`.

use prost::encoding::{
    bool as pbool, double, encode_key, encode_varint, encoded_len_varint, float, int64, key_len,
    uint64, WireType,
};
use telemetron_runtime::model::{MinorRow, RlPoints, TimestampsMs, Values};

/// `UpdateRunRequest.rl_series`.
const REQUEST_RL_SERIES: u32 = 6;
// `StreamingRLSeriesUpdate`
const SERIES_ID: u32 = 1;
const ENVIRONMENT_ID: u32 = 2;
const RL_STEP_BATCHES: u32 = 3;
// `RlStepBatch`
const RL_STEP: u32 = 1;
const EPISODE: u32 = 2;
const VALUES: u32 = 3;
const FIRST_MINOR_STEP: u32 = 4;
const MINOR_STEPS: u32 = 5;
const TIMESTAMP_MILLIS: u32 = 6;
const TIMESTAMPS_MILLIS: u32 = 7;
const TREAT_MINORS_AS_FLAT_STEPS: u32 = 8;
const VALUES_F32: u32 = 10;

/// Appends one `rl_series` entry per environment of `r`, addressed by `series_id`. The sizes
/// are computed first and reserved at once: no regrowth (copies, fresh pages) while encoding.
pub(crate) fn encode_rl(series_id: u64, r: &RlPoints, out: &mut Vec<u8>) {
    let per_env = r.per_env.max(1);
    let batches: Vec<Batch<'_>> = (0..r.envs.len())
        .map(|i| {
            let span = i * per_env..(i + 1) * per_env;
            Batch {
                rl_step: r.rl_step,
                episode: r.episodes[i],
                values: &r.values,
                span: span.clone(),
                minors: r.minor_steps.row(i, per_env),
                timestamps: match &r.timestamps_ms {
                    TimestampsMs::None => Stamps::None,
                    TimestampsMs::One(t) => Stamps::One(*t),
                    TimestampsMs::Each(ts) => Stamps::Each(&ts[span]),
                },
            }
        })
        .collect();
    let lens: Vec<(usize, usize)> = batches
        .iter()
        .zip(r.envs.iter())
        .map(|(batch, env)| {
            let batch_len = batch.encoded_len();
            let update_len = uint64::encoded_len(SERIES_ID, &series_id)
                + key_len(ENVIRONMENT_ID)
                + encoded_len_varint(env.len() as u64)
                + env.len()
                + key_len(RL_STEP_BATCHES)
                + encoded_len_varint(batch_len as u64)
                + batch_len;
            (batch_len, update_len)
        })
        .collect();
    out.reserve(
        lens.iter()
            .map(|(_, u)| key_len(REQUEST_RL_SERIES) + encoded_len_varint(*u as u64) + u)
            .sum(),
    );
    for ((batch, env), (batch_len, update_len)) in batches.iter().zip(r.envs.iter()).zip(lens) {
        encode_key(REQUEST_RL_SERIES, WireType::LengthDelimited, out);
        encode_varint(update_len as u64, out);
        uint64::encode(SERIES_ID, &series_id, out);
        encode_key(ENVIRONMENT_ID, WireType::LengthDelimited, out);
        encode_varint(env.len() as u64, out);
        out.extend_from_slice(env.as_bytes());
        encode_key(RL_STEP_BATCHES, WireType::LengthDelimited, out);
        encode_varint(batch_len as u64, out);
        batch.encode(out);
    }
}

enum Stamps<'a> {
    None,
    One(i64),
    Each(&'a [i64]),
}

struct Batch<'a> {
    rl_step: u64,
    episode: Option<u64>,
    values: &'a Values,
    span: std::ops::Range<usize>,
    minors: MinorRow<'a>,
    timestamps: Stamps<'a>,
}

impl Batch<'_> {
    fn encoded_len(&self) -> usize {
        let mut len = 0;
        if self.rl_step != 0 {
            len += uint64::encoded_len(RL_STEP, &self.rl_step);
        }
        if let Some(e) = &self.episode {
            len += uint64::encoded_len(EPISODE, e);
        }
        len += match self.values {
            Values::F32(v) => float::encoded_len_packed(VALUES_F32, &v[self.span.clone()]),
            Values::F64(v) => double::encoded_len_packed(VALUES, &v[self.span.clone()]),
        };
        len += match self.minors {
            MinorRow::From(first) => uint64::encoded_len(FIRST_MINOR_STEP, &first),
            MinorRow::Each(steps) => uint64::encoded_len_packed(MINOR_STEPS, steps),
        };
        len += match self.timestamps {
            Stamps::None => 0,
            Stamps::One(t) => int64::encoded_len(TIMESTAMP_MILLIS, &t),
            Stamps::Each(ts) => int64::encoded_len_packed(TIMESTAMPS_MILLIS, ts),
        };
        // Environment steps are resolved client-side: absolute, not relative.
        len + pbool::encoded_len(TREAT_MINORS_AS_FLAT_STEPS, &true)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        if self.rl_step != 0 {
            uint64::encode(RL_STEP, &self.rl_step, out);
        }
        if let Some(e) = &self.episode {
            uint64::encode(EPISODE, e, out);
        }
        match self.values {
            Values::F32(v) => packed_fixed(VALUES_F32, &v[self.span.clone()], out),
            Values::F64(v) => packed_fixed(VALUES, &v[self.span.clone()], out),
        }
        match self.minors {
            MinorRow::From(first) => uint64::encode(FIRST_MINOR_STEP, &first, out),
            MinorRow::Each(steps) => uint64::encode_packed(MINOR_STEPS, steps, out),
        }
        match self.timestamps {
            Stamps::None => {}
            Stamps::One(t) => int64::encode(TIMESTAMP_MILLIS, &t, out),
            Stamps::Each(ts) => int64::encode_packed(TIMESTAMPS_MILLIS, ts, out),
        }
        pbool::encode(TREAT_MINORS_AS_FLAT_STEPS, &true, out);
    }
}

/// A packed `float` / `double` field: the little-endian values in one copy (prost writes them
/// one at a time).
fn packed_fixed<T: bytemuck::Pod + Copy + ToLe>(tag: u32, values: &[T], out: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    let bytes = std::mem::size_of_val(values);
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(bytes as u64, out);
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(values));
    } else {
        for v in values {
            v.put_le(out);
        }
    }
}

/// Little-endian bytes of a value (big-endian hosts only).
trait ToLe {
    fn put_le(&self, out: &mut Vec<u8>);
}

impl ToLe for f32 {
    fn put_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl ToLe for f64 {
    fn put_le(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use prost::Message;
    use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
    use telemetron_proto::metrana::ingestion::v1::types::{RlStepBatch, StreamingRlSeriesUpdate};
    use telemetron_runtime::model::{
        MinorSteps, Scale, SeriesKey, SeriesOrdering, Timestamp, TimestampsMs, Values,
    };

    use super::*;

    /// The hand-written bytes decode to what the generated messages would say.
    #[test]
    fn decodes_as_the_generated_messages() {
        let series = SeriesKey::new("r", Scale::EnvironmentStep, []).expect("key");
        let mut r = RlPoints {
            series: Arc::new(series),
            ordering: SeriesOrdering::Ordered,
            rl_step: 7,
            envs: vec!["a".to_string(), "bb".to_string()].into(),
            episodes: vec![Some(0), None],
            per_env: 2,
            minor_steps: MinorSteps::Each(vec![3, 4, 0, 5]),
            values: Values::F32(vec![1.0, 2.0, 3.0, 4.0].into()),
            timestamps_ms: TimestampsMs::Each(vec![10, 11, 12, 13]),
            time: Timestamp::now(),
        };
        let mut out = Vec::new();
        encode_rl(9, &r, &mut out);
        let decoded = UpdateRunRequest::decode(&out[..]).expect("decodes");
        let batch =
            |episode, values_f32: Vec<f32>, first, minors: Vec<u64>, ts: Vec<i64>| RlStepBatch {
                rl_step: 7,
                episode,
                values_f32,
                first_minor_step: first,
                minor_steps: minors,
                timestamps_millis: ts,
                treat_minors_as_flat_steps: true,
                ..Default::default()
            };
        let update = |env: &str, b| StreamingRlSeriesUpdate {
            series_id: 9,
            environment_id: env.to_string(),
            rl_step_batches: vec![b],
        };
        assert_eq!(
            decoded.rl_series,
            vec![
                update(
                    "a",
                    batch(Some(0), vec![1.0, 2.0], Some(3), vec![], vec![10, 11])
                ),
                update(
                    "bb",
                    batch(None, vec![3.0, 4.0], None, vec![0, 5], vec![12, 13])
                ),
            ]
        );
        r.values = Values::F64(vec![1.0, 2.0, 3.0, 4.0].into());
        r.timestamps_ms = TimestampsMs::One(5);
        r.minor_steps = MinorSteps::Runs(vec![0, 1]);
        out.clear();
        encode_rl(9, &r, &mut out);
        let decoded = UpdateRunRequest::decode(&out[..]).expect("decodes");
        let first = &decoded.rl_series[1].rl_step_batches[0];
        assert_eq!(
            (
                &first.values,
                first.first_minor_step,
                first.timestamp_millis
            ),
            (&vec![3.0, 4.0], Some(1), Some(5))
        );
    }
}

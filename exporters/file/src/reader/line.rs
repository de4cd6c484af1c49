//! One line as serde sees it: every field any kind may have, borrowed from the line where
//! possible. Number columns stay raw text and are parsed by `values.rs` in the precision the
//! line names (f32 values are read from their text, never through f64).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::values::{AttributeMap, LabelMap, RunValue};

/// `schema` alone: read when a full parse fails, to tell a newer schema from a broken line.
#[derive(Deserialize)]
pub(super) struct Head {
    pub schema: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct Line<'a> {
    pub schema: u64,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    pub time_ns: Option<u64>,

    // Spans, events, errors, logs.
    #[serde(borrow, default)]
    pub trace_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub span_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub parent_span_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub attributes: Option<AttributeMap>,
    #[serde(default)]
    pub start_event_attributes: Option<AttributeMap>,
    #[serde(default)]
    pub span_attributes: Option<AttributeMap>,
    pub start_time_ns: Option<u64>,
    pub duration_ns: Option<u64>,
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub status_message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub exception_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub exception_message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub traceback: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub error_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub exporter: Option<Cow<'a, str>>,
    pub severity_number: Option<u8>,
    #[serde(borrow, default)]
    pub logger: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub body: Option<Cow<'a, str>>,

    // Metric series.
    #[serde(borrow, default)]
    pub scale: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub labels: Option<LabelMap<'a>>,
    #[serde(borrow, default)]
    pub ordering: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub steps: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub precision: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub values: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub timestamps_ms: Option<&'a RawValue>,
    pub rl_step: Option<u64>,
    #[serde(borrow, default)]
    pub envs: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub episodes: Option<Vec<Option<u64>>>,
    pub per_env: Option<u64>,
    #[serde(borrow, default)]
    pub minor_steps: Option<&'a RawValue>,
    pub step: Option<u64>,
    pub timestamp_ms: Option<i64>,
    #[serde(default)]
    pub bin_edges: Option<Vec<f64>>,
    #[serde(default)]
    pub counts: Option<Vec<u64>>,
    #[serde(default)]
    pub densities: Option<Vec<f64>>,
    #[serde(default)]
    pub stats: Option<Vec<f64>>,
    #[serde(default)]
    pub xs: Option<Vec<f64>>,
    #[serde(default)]
    pub ys: Option<Vec<f64>>,
    #[serde(default)]
    pub zs: Option<Vec<f64>>,
    #[serde(borrow, default)]
    pub x_title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub y_title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub z_title: Option<Cow<'a, str>>,

    // Attributes and renderings.
    #[serde(borrow, default)]
    pub env_id: Option<Cow<'a, str>>,
    /// `u64` for attributes, `i64` for renderings.
    pub episode: Option<i128>,
    #[serde(borrow, default)]
    pub updates: Option<Vec<(Cow<'a, str>, RunValue)>>,
    pub rl_step_first: Option<i64>,
    pub rl_step_last: Option<i64>,
    #[serde(borrow, default)]
    pub path: Option<Cow<'a, str>>,
    pub frames: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<u32>,
    pub duration_secs: Option<f64>,
    pub bytes: Option<u64>,

    // The header.
    #[serde(default)]
    pub run: Option<RunLine>,
    pub pid: Option<u64>,
    #[serde(borrow, default)]
    pub producer: Option<Cow<'a, str>>,
}

/// The header's `run` object.
#[derive(Deserialize)]
pub(super) struct RunLine {
    pub run_name: String,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub experiment: Option<String>,
    pub orchestration_id: String,
    pub logger_id: u64,
}

//! One complete line → a header or a record. Used by `ExportReader` and by followers of a
//! growing file (`telemetron tail -f`), which feed lines as they arrive.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use telemetron_runtime::model::{
    BinValues, ErrorRecord, Event, HistogramPoint, LogRecord, MetricPoints, MinorSteps, Record,
    Rendering, RlPoints, RunAttributes, Scale, ScatterPoint, SeriesKey, SeriesOrdering, Severity,
    SpanContext, SpanId, SpanStart, SpanStatus, SpanStop, TelemetryDataError,
    TelemetryDataErrorKind, Timestamp, TimestampsMs, TraceId, Values,
};
use telemetron_runtime::RunIdentity;

use super::line::{Head, Line};
use super::values::{finite_list, number_list, shorten};
use super::{ExportHeader, ReadError, ReadItem, ReadStats, MIN_SCHEMA_VERSION, SCHEMA_VERSION};

/// Decodes lines one at a time, counting what it saw. Interns metric series keys, so every
/// record of one series shares one `Arc<SeriesKey>` (as the runtime's do).
pub struct LineDecoder {
    source_name: String,
    line_number: u64,
    stats: ReadStats,
    /// Series by name, then (scale, labels): looked up without allocating.
    series: HashMap<String, Vec<Arc<SeriesKey>>>,
    /// The last environment list, shared by consecutive RL records of the same environments.
    last_envs: Option<Arc<[String]>>,
}

type Fail = String;

impl LineDecoder {
    /// A decoder whose errors name `source_name` (a path, or `<stdin>`).
    pub fn new(source_name: impl Into<String>) -> Self {
        LineDecoder {
            source_name: source_name.into(),
            line_number: 0,
            stats: ReadStats::default(),
            series: HashMap::new(),
            last_envs: None,
        }
    }

    /// The name errors use.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The number of the last line given to [`LineDecoder::decode`] (1-based).
    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    /// What was decoded so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Counts a half-written line that was skipped.
    pub fn count_torn(&mut self, bytes: usize) {
        self.stats.torn_lines += 1;
        self.stats.torn_bytes += bytes as u64;
    }

    /// Counts bytes consumed.
    pub fn count_bytes(&mut self, bytes: usize) {
        self.stats.bytes += bytes as u64;
    }

    /// Decodes one line (with or without its newline). `Ok(None)`: a blank line, or a kind
    /// this reader does not know (counted in `unknown_kinds`).
    pub fn decode(&mut self, line: &[u8]) -> Result<Option<ReadItem>, ReadError> {
        self.line_number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        // One UTF-8 check for the whole line; `from_str` then trusts it (string by string,
        // `from_slice` costs more).
        let parsed: Result<Line<'_>, _> = match std::str::from_utf8(text) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(text),
        };
        let parsed: Line<'_> = match parsed {
            Ok(parsed) => parsed,
            Err(e) => return Err(self.parse_error(text, e)),
        };
        self.check_schema(parsed.schema)?;
        let kind = parsed.kind.clone();
        let item = match kind.as_ref() {
            "header" => header(parsed).map(ReadItem::Header),
            kind => match self.record(kind, parsed) {
                Ok(Some(record)) => Ok(ReadItem::Record(record)),
                Ok(None) => {
                    self.stats.lines += 1;
                    *self
                        .stats
                        .unknown_kinds
                        .entry(kind.to_string())
                        .or_default() += 1;
                    return Ok(None);
                }
                Err(e) => Err(e),
            },
        };
        match item {
            Ok(item) => {
                self.stats.lines += 1;
                match item {
                    ReadItem::Header(_) => self.stats.headers += 1,
                    ReadItem::Record(_) => self.stats.records += 1,
                }
                Ok(Some(item))
            }
            Err(reason) => Err(self.malformed(reason)),
        }
    }

    fn parse_error(&self, text: &[u8], error: serde_json::Error) -> ReadError {
        if let Ok(Head {
            schema: Some(schema),
        }) = serde_json::from_slice::<Head>(text)
        {
            if let Err(e) = self.check_schema(schema) {
                return e;
            }
        }
        if self.line_number == 1 && self.stats.lines == 0 {
            return ReadError::NotAnExport {
                source_name: self.source_name.clone(),
                reason: if text.first() == Some(&b'{') {
                    error.to_string()
                } else {
                    format!(
                        "{:?} is not a JSON object",
                        shorten(&String::from_utf8_lossy(&text[..text.len().min(60)]))
                    )
                },
            };
        }
        self.malformed(format!("not a valid line: {error}"))
    }

    fn check_schema(&self, schema: u64) -> Result<(), ReadError> {
        if (u64::from(MIN_SCHEMA_VERSION)..=u64::from(SCHEMA_VERSION)).contains(&schema) {
            Ok(())
        } else {
            Err(ReadError::UnsupportedSchema {
                source_name: self.source_name.clone(),
                line: self.line_number,
                schema,
            })
        }
    }

    fn malformed(&self, reason: String) -> ReadError {
        ReadError::Malformed {
            source_name: self.source_name.clone(),
            line: self.line_number,
            reason,
        }
    }

    /// `Ok(None)` for a kind this reader does not know.
    fn record(&mut self, kind: &str, l: Line<'_>) -> Result<Option<Record>, Fail> {
        let time = Timestamp(need(l.time_ns, "time_ns")?);
        Ok(Some(match kind {
            "span_start" => Record::SpanStart(Box::new(SpanStart {
                context: need(span(&l)?, "trace_id")?,
                parent: parent(&l)?,
                name: owned(need(l.name, "name")?).into(),
                time,
                attributes: l.attributes.map(|a| a.0).unwrap_or_default(),
                start_event_attributes: l.start_event_attributes.map(|a| a.0).unwrap_or_default(),
            })),
            "span_stop" => Record::SpanStop(Box::new(SpanStop {
                context: need(span(&l)?, "trace_id")?,
                parent: parent(&l)?,
                status: match need(l.status.as_deref(), "status")? {
                    "ok" => SpanStatus::Ok,
                    "cancelled" => SpanStatus::Cancelled,
                    "error" => SpanStatus::Error(l.status_message.map(owned).unwrap_or_default()),
                    other => return Err(format!("unknown span status {other:?}")),
                },
                name: owned(need(l.name, "name")?).into(),
                start_time: Timestamp(need(l.start_time_ns, "start_time_ns")?),
                time,
                duration_ns: need(l.duration_ns, "duration_ns")?,
                attributes: l.attributes.map(|a| a.0).unwrap_or_default(),
                span_attributes: l.span_attributes.map(|a| a.0).unwrap_or_default(),
            })),
            "event" => Record::Event(Box::new(Event {
                span: span(&l)?,
                name: owned(need(l.name, "name")?).into(),
                time,
                attributes: l.attributes.map(|a| a.0).unwrap_or_default(),
            })),
            "error" => Record::Error(Box::new(ErrorRecord {
                span: span(&l)?,
                message: owned(need(l.message, "message")?),
                exception_type: l.exception_type.map(owned),
                exception_message: l.exception_message.map(owned),
                traceback: l.traceback.map(owned),
                time,
            })),
            "telemetry_data_error" => Record::from(TelemetryDataError {
                kind: match need(l.error_type.as_deref(), "error_type")? {
                    "no_telemetry_data" => TelemetryDataErrorKind::NoTelemetryData,
                    "incomplete_telemetry_data" => TelemetryDataErrorKind::IncompleteTelemetryData,
                    other => return Err(format!("unknown error_type {other:?}")),
                },
                message: owned(need(l.message, "message")?),
                exporter: l.exporter.map(owned),
                time,
            }),
            "log" => {
                let number = need(l.severity_number, "severity_number")?;
                let span = span(&l)?;
                Record::Log(Box::new(LogRecord {
                    span,
                    time,
                    severity: Severity::new(number)
                        .ok_or_else(|| format!("severity_number {number} is not in 1..=24"))?,
                    body: owned(need(l.body, "body")?),
                    logger: owned(need(l.logger, "logger")?).into(),
                    attributes: l.attributes.map(|a| a.0).unwrap_or_default(),
                }))
            }
            "rendering" => Record::Rendering(Box::new(Rendering {
                env_id: owned(need(l.env_id, "env_id")?),
                episode: i64::try_from(need(l.episode, "episode")?)
                    .map_err(|_| "episode is out of the i64 range".to_string())?,
                rl_step_first: need(l.rl_step_first, "rl_step_first")?,
                rl_step_last: need(l.rl_step_last, "rl_step_last")?,
                path: owned(need(l.path, "path")?),
                frames: need(l.frames, "frames")?,
                width: need(l.width, "width")?,
                height: need(l.height, "height")?,
                fps: need(l.fps, "fps")?,
                // Written as null only if it was not finite.
                duration_secs: l.duration_secs.unwrap_or(f64::NAN),
                bytes: need(l.bytes, "bytes")?,
                time,
            })),
            "metric" => Record::from(self.metric(l, time)?),
            "rl_metric" => Record::Rl(Box::new(self.rl(l, time)?)),
            "histogram" => Record::Histogram(Box::new(self.histogram(l, time)?)),
            "scatter" => Record::Scatter(Box::new(self.scatter(l, time)?)),
            "attributes" => Record::from(RunAttributes {
                env_id: l.env_id.map(owned),
                episode: l
                    .episode
                    .map(|e| u64::try_from(e).map_err(|_| format!("episode {e} is negative")))
                    .transpose()?,
                updates: need(l.updates, "updates")?
                    .into_iter()
                    .map(|(path, value)| (owned(path), value.0))
                    .collect(),
                time,
            }),
            _ => return Ok(None),
        }))
    }

    fn metric(&mut self, l: Line<'_>, time: Timestamp) -> Result<MetricPoints, Fail> {
        let series = self.series(&l)?;
        let steps = number_list::<u64>(need(l.steps, "steps")?.get(), "steps")?;
        let values = values(&l)?;
        if steps.len() != values.len() {
            return Err(format!("{} steps for {} values", steps.len(), values.len()));
        }
        Ok(MetricPoints {
            series,
            ordering: ordering(&l)?,
            steps: steps.into(),
            timestamps_ms: timestamps(&l, values.len())?,
            values,
            time,
        })
    }

    fn rl(&mut self, l: Line<'_>, time: Timestamp) -> Result<RlPoints, Fail> {
        let series = self.series(&l)?;
        let envs: Vec<String> = need(l.envs.as_ref(), "envs")?
            .iter()
            .map(|e| e.to_string())
            .collect();
        let envs = match &self.last_envs {
            Some(last) if **last == envs[..] => last.clone(),
            _ => {
                let shared: Arc<[String]> = envs.into();
                self.last_envs = Some(shared.clone());
                shared
            }
        };
        let per_env = usize::try_from(need(l.per_env, "per_env")?)
            .map_err(|_| "per_env is too large".to_string())?;
        let values = values(&l)?;
        let episodes = need(l.episodes.clone(), "episodes")?;
        if envs.len().checked_mul(per_env) != Some(values.len()) || episodes.len() != envs.len() {
            return Err(format!(
                "{} environments × {per_env} values each do not match {} values and {} episodes",
                envs.len(),
                values.len(),
                episodes.len()
            ));
        }
        let minor = number_list::<u64>(need(l.minor_steps, "minor_steps")?.get(), "minor_steps")?;
        if minor.len() != values.len() {
            return Err(format!(
                "{} minor steps for {} values",
                minor.len(),
                values.len()
            ));
        }
        Ok(RlPoints {
            series,
            ordering: ordering(&l)?,
            rl_step: need(l.rl_step, "rl_step")?,
            minor_steps: minor_steps(minor, envs.len(), per_env),
            envs,
            episodes,
            per_env,
            timestamps_ms: timestamps(&l, values.len())?,
            values,
            time,
        })
    }

    fn histogram(&mut self, l: Line<'_>, time: Timestamp) -> Result<HistogramPoint, Fail> {
        let series = self.series(&l)?;
        let bins = match (l.counts, l.densities) {
            (Some(c), None) => BinValues::Counts(c),
            (None, Some(d)) => BinValues::Densities(d),
            _ => return Err("a histogram has `counts` or `densities`".into()),
        };
        let stats = match l.stats {
            None => None,
            Some(s) => Some(
                <[f64; 4]>::try_from(s)
                    .map_err(|s| format!("`stats` has {} numbers, not 4", s.len()))?,
            ),
        };
        Ok(HistogramPoint {
            series,
            step: need(l.step, "step")?,
            bin_edges: need(l.bin_edges, "bin_edges")?,
            bins,
            stats,
            timestamp_ms: need(l.timestamp_ms, "timestamp_ms")?,
            time,
        })
    }

    fn scatter(&mut self, l: Line<'_>, time: Timestamp) -> Result<ScatterPoint, Fail> {
        Ok(ScatterPoint {
            series: self.series(&l)?,
            step: need(l.step, "step")?,
            xs: need(l.xs, "xs")?,
            ys: need(l.ys, "ys")?,
            zs: l.zs,
            titles: [
                l.x_title.map(owned),
                l.y_title.map(owned),
                l.z_title.map(owned),
            ],
            timestamp_ms: need(l.timestamp_ms, "timestamp_ms")?,
            time,
        })
    }

    /// The series key, shared with every earlier record of the same series.
    fn series(&mut self, l: &Line<'_>) -> Result<Arc<SeriesKey>, Fail> {
        let name = need(l.name.as_deref(), "name")?;
        let scale = Scale::parse(need(l.scale.as_deref(), "scale")?).map_err(|e| e.to_string())?;
        let labels = l.labels.as_ref().map(|m| &m.0[..]).unwrap_or_default();
        let known = self.series.get(name).and_then(|keys| {
            keys.iter().find(|k| {
                k.scale() == scale
                    && k.labels().len() == labels.len()
                    && k.labels()
                        .iter()
                        .zip(labels)
                        .all(|((a, b), (c, d))| a == c && b == d)
            })
        });
        if let Some(key) = known {
            return Ok(key.clone());
        }
        let key = Arc::new(
            SeriesKey::new(
                name,
                scale,
                labels.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            )
            .map_err(|e| e.to_string())?,
        );
        self.series
            .entry(name.to_string())
            .or_default()
            .push(key.clone());
        Ok(key)
    }
}

fn header(l: Line<'_>) -> Result<ExportHeader, Fail> {
    let run = need(l.run, "run")?;
    Ok(ExportHeader {
        time_ns: need(l.time_ns, "time_ns")?,
        run: RunIdentity {
            workspace: run.workspace,
            project: run.project,
            run_name: run.run_name,
            experiment: run.experiment,
            orchestration_id: run.orchestration_id,
            logger_id: run.logger_id,
        },
        exporter: l.exporter.map(owned).unwrap_or_default(),
        pid: l.pid.unwrap_or_default(),
        producer: l.producer.map(owned).unwrap_or_default(),
    })
}

fn need<T>(value: Option<T>, field: &str) -> Result<T, Fail> {
    value.ok_or_else(|| format!("missing `{field}`"))
}

fn owned(text: Cow<'_, str>) -> String {
    text.into_owned()
}

fn hex<const DIGITS: usize>(text: &str, field: &str) -> Result<u128, Fail> {
    let not_hex = || format!("`{field}` {:?} is not {DIGITS} hex digits", shorten(text));
    if text.len() != DIGITS {
        return Err(not_hex());
    }
    // By hand: `u128::from_str_radix` costs several times more, and ids are on every line.
    let mut value = 0u128;
    for b in text.bytes() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return Err(not_hex()),
        };
        value = value << 4 | u128::from(digit);
    }
    Ok(value)
}

fn span(l: &Line<'_>) -> Result<Option<SpanContext>, Fail> {
    match (l.trace_id.as_deref(), l.span_id.as_deref()) {
        (Some(t), Some(s)) => Ok(Some(SpanContext {
            trace_id: TraceId(hex::<32>(t, "trace_id")?),
            span_id: SpanId(hex::<16>(s, "span_id")? as u64),
        })),
        (None, None) => Ok(None),
        _ => Err("`trace_id` and `span_id` are both set or both null".into()),
    }
}

fn parent(l: &Line<'_>) -> Result<Option<SpanId>, Fail> {
    l.parent_span_id
        .as_deref()
        .map(|p| hex::<16>(p, "parent_span_id").map(|p| SpanId(p as u64)))
        .transpose()
}

fn ordering(l: &Line<'_>) -> Result<SeriesOrdering, Fail> {
    match need(l.ordering.as_deref(), "ordering")? {
        "ordered" => Ok(SeriesOrdering::Ordered),
        "unordered" => Ok(SeriesOrdering::Unordered),
        other => Err(format!("unknown ordering {other:?}")),
    }
}

fn values(l: &Line<'_>) -> Result<Values, Fail> {
    let raw = need(l.values, "values")?.get();
    match need(l.precision.as_deref(), "precision")? {
        "f32" => finite_list::<f32>(raw, "values").map(Values::from),
        "f64" => finite_list::<f64>(raw, "values").map(Values::from),
        other => Err(format!("unknown precision {other:?} (f32, f64)")),
    }
}

fn timestamps(l: &Line<'_>, points: usize) -> Result<TimestampsMs, Fail> {
    let Some(raw) = l.timestamps_ms.map(|r| r.get().trim()) else {
        return Ok(TimestampsMs::None);
    };
    if raw == "null" {
        Ok(TimestampsMs::None)
    } else if raw.starts_with('[') {
        let each = number_list::<i64>(raw, "timestamps_ms")?;
        if each.len() != points {
            return Err(format!("{} timestamps for {points} values", each.len()));
        }
        Ok(TimestampsMs::Each(each))
    } else {
        raw.parse()
            .map(TimestampsMs::One)
            .map_err(|_| format!("`timestamps_ms` {} is not an integer", shorten(raw)))
    }
}

/// Contiguous rows read back as runs (what the runtime makes for automatic steps).
fn minor_steps(steps: Vec<u64>, envs: usize, per_env: usize) -> MinorSteps {
    if per_env == 0 || envs == 0 {
        return MinorSteps::Runs(vec![0; envs]);
    }
    let contiguous = steps
        .chunks(per_env)
        .all(|row| row.windows(2).all(|w| w[0].checked_add(1) == Some(w[1])));
    if contiguous {
        MinorSteps::Runs(steps.chunks(per_env).map(|row| row[0]).collect())
    } else {
        MinorSteps::Each(steps)
    }
}

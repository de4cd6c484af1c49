//! `span_stats`: per span name, count / min / mean / max duration, emitted as a `span_stats`
//! event every `every` stopped spans (for the names that changed) and for every name at close.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use telemetron_plugins::{parse_options, BuildContext, RecorderPluginRegistration, RegistryError};
use telemetron_runtime::model::{Attributes, Event, Name, Record, Timestamp};
use telemetron_runtime::{PluginFactory, PluginVerdict, RecorderPlugin};

/// The name of the events this plugin emits.
pub const SPAN_STATS_EVENT: &str = "span_stats";

/// Options: `{type: span_stats, every: 1000}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SpanStatsConfig {
    /// Emit after this many stopped spans (default 1000).
    #[serde(default = "default_every")]
    pub every: u64,
}

fn default_every() -> u64 {
    1000
}

#[derive(Clone, Copy)]
struct Stat {
    count: u64,
    min: u64,
    max: u64,
    total: u128,
    dirty: bool,
}

/// The plugin. State is per runtime; it is rebuilt fresh if the Recorder restarts.
pub struct SpanStats {
    every: u64,
    since_emit: u64,
    stats: BTreeMap<Name, Stat>,
}

impl SpanStats {
    /// A plugin emitting every `every` stopped spans.
    pub fn new(every: u64) -> Self {
        SpanStats {
            every: every.max(1),
            since_emit: 0,
            stats: BTreeMap::new(),
        }
    }

    fn emit(&mut self, emit: &mut Vec<Record>, only_dirty: bool) {
        let now = Timestamp::now();
        for (name, stat) in self
            .stats
            .iter_mut()
            .filter(|(_, s)| s.dirty || !only_dirty)
        {
            stat.dirty = false;
            let attributes = stat_attributes(name, stat);
            emit.push(Record::Event(Box::new(Event {
                span: None,
                name: Name::Borrowed(SPAN_STATS_EVENT),
                time: now,
                attributes,
            })));
        }
    }
}

fn stat_attributes(name: &str, s: &Stat) -> Attributes {
    let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mean = s.total as f64 / s.count.max(1) as f64;
    let mut a = Attributes::new();
    // Every value is finite and every key non-empty, so these inserts cannot fail.
    let _ = a.insert("span_name", name.to_string());
    let _ = a.insert("count", clamp(s.count));
    let _ = a.insert("min_duration_ns", clamp(s.min));
    let _ = a.insert("mean_duration_ns", mean);
    let _ = a.insert("max_duration_ns", clamp(s.max));
    a
}

impl RecorderPlugin for SpanStats {
    fn name(&self) -> &str {
        "span_stats"
    }

    fn on_record(&mut self, record: &mut Record, emit: &mut Vec<Record>) -> PluginVerdict {
        if let Record::SpanStop(stop) = record {
            let d = stop.duration_ns;
            let stat = self.stats.entry(stop.name.clone()).or_insert(Stat {
                count: 0,
                min: u64::MAX,
                max: 0,
                total: 0,
                dirty: false,
            });
            stat.count += 1;
            stat.min = stat.min.min(d);
            stat.max = stat.max.max(d);
            stat.total += u128::from(d);
            stat.dirty = true;
            self.since_emit += 1;
            if self.since_emit >= self.every {
                self.since_emit = 0;
                self.emit(emit, true);
            }
        }
        PluginVerdict::Keep
    }

    fn on_close(&mut self, emit: &mut Vec<Record>) {
        self.emit(emit, false);
    }
}

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    _ctx: &BuildContext<'_>,
) -> Result<PluginFactory, RegistryError> {
    let config: SpanStatsConfig = parse_options("plugin", "span_stats", options)?;
    if config.every == 0 {
        return Err(RegistryError::InvalidOptions {
            kind: "plugin",
            name: "span_stats".into(),
            reason: "`every` must be at least 1".into(),
        });
    }
    Ok(Arc::new(move || Box::new(SpanStats::new(config.every))))
}

telemetron_plugins::inventory::submit! {
    RecorderPluginRegistration {
        type_name: "span_stats",
        description: "count / min / mean / max duration per span name, as events",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetron_runtime::model::{
        AttributeValue, SpanContext, SpanId, SpanStatus, SpanStop, TraceId,
    };

    fn stop(name: &'static str, d: u64) -> Record {
        Record::SpanStop(Box::new(SpanStop {
            context: SpanContext {
                trace_id: TraceId(1),
                span_id: SpanId(d + 1),
            },
            parent: None,
            name: name.into(),
            start_time: Timestamp(0),
            time: Timestamp(d),
            duration_ns: d,
            status: SpanStatus::Ok,
            attributes: Attributes::new(),
            span_attributes: Attributes::new(),
        }))
    }

    #[test]
    fn emits_stats_every_n_and_at_close() {
        let mut p = SpanStats::new(3);
        let mut out = Vec::new();
        for d in [10, 30] {
            p.on_record(&mut stop("step", d), &mut out);
        }
        assert!(out.is_empty());
        p.on_record(&mut stop("step", 20), &mut out);
        assert_eq!(out.len(), 1);
        let Record::Event(e) = &out[0] else {
            panic!("not an event")
        };
        assert_eq!(e.name, SPAN_STATS_EVENT);
        assert_eq!(e.attributes.get("count"), Some(&AttributeValue::I64(3)));
        assert_eq!(
            e.attributes.get("min_duration_ns"),
            Some(&AttributeValue::I64(10))
        );
        assert_eq!(
            e.attributes.get("mean_duration_ns"),
            Some(&AttributeValue::F64(20.0))
        );
        assert_eq!(
            e.attributes.get("max_duration_ns"),
            Some(&AttributeValue::I64(30))
        );
        out.clear();
        p.on_record(&mut stop("eval", 5), &mut out);
        p.on_close(&mut out);
        assert_eq!(out.len(), 2, "close emits every name");
    }
}

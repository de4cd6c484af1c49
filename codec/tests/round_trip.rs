//! Every record kind round-trips exactly through the lossless encoding (property tests over
//! arbitrary records, batches and runs).

use std::sync::Arc;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use telemetron_codec::{decode, encode};
use telemetron_runtime::model::{
    AttributeValue, Attributes, BinValues, ErrorRecord, Event, HistogramPoint, LogRecord,
    MetricPoints, MinorSteps, Name, Record, RecordKind, Rendering, RlPoints, RunAttributeValue,
    RunAttributes, Scale, ScatterPoint, SeriesKey, SeriesOrdering, Severity, SpanContext, SpanId,
    SpanStart, SpanStatus, SpanStop, TelemetryDataError, TelemetryDataErrorKind, Timestamp,
    TimestampsMs, TraceId, Values,
};
use telemetron_runtime::RunIdentity;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _./é漢-]{0,12}"
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 2.0),
    ]
}

fn finite32() -> impl Strategy<Value = f32> {
    any::<f32>().prop_filter("finite", |f| f.is_finite())
}

fn context() -> impl Strategy<Value = SpanContext> {
    (any::<u128>(), any::<u64>()).prop_map(|(t, s)| SpanContext {
        trace_id: TraceId(t),
        span_id: SpanId(s),
    })
}

fn time() -> impl Strategy<Value = Timestamp> {
    any::<u64>().prop_map(Timestamp)
}

fn attribute_value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        any::<bool>().prop_map(AttributeValue::Bool),
        any::<i64>().prop_map(AttributeValue::I64),
        finite().prop_map(AttributeValue::F64),
        text().prop_map(AttributeValue::String),
        vec(any::<bool>(), 0..4).prop_map(AttributeValue::BoolList),
        vec(any::<i64>(), 0..4).prop_map(AttributeValue::I64List),
        vec(finite(), 0..4).prop_map(AttributeValue::F64List),
        vec(text(), 0..4).prop_map(AttributeValue::StringList),
    ]
}

fn attributes() -> impl Strategy<Value = Attributes> {
    vec(("[a-z][a-z0-9_./]{0,8}", attribute_value()), 0..5).prop_map(|pairs| {
        let mut attrs = Attributes::new();
        for (k, v) in pairs {
            attrs.insert(k, v).expect("valid by construction");
        }
        attrs
    })
}

fn name() -> impl Strategy<Value = Name> {
    "[a-z][a-z_]{0,10}".prop_map(Name::Owned)
}

fn series_key() -> impl Strategy<Value = Arc<SeriesKey>> {
    (
        "[a-z][a-z0-9_]{0,4}(/[a-z0-9_]{1,4}){0,2}",
        prop_oneof![
            Just(Scale::MlStep),
            Just(Scale::Episode),
            Just(Scale::EnvironmentStep)
        ],
        proptest::collection::btree_map("[a-z][a-z0-9_.-]{0,6}", "[a-z0-9 /%]{0,6}", 0..3),
    )
        .prop_map(|(n, scale, labels)| {
            Arc::new(SeriesKey::new(n, scale, labels).expect("valid by construction"))
        })
}

fn ordering() -> impl Strategy<Value = SeriesOrdering> {
    prop_oneof![
        Just(SeriesOrdering::Ordered),
        Just(SeriesOrdering::Unordered)
    ]
}

fn values(n: usize) -> impl Strategy<Value = Values> {
    prop_oneof![
        vec(finite32(), n).prop_map(Values::from),
        vec(finite(), n).prop_map(Values::from),
    ]
}

fn timestamps(n: usize) -> impl Strategy<Value = TimestampsMs> {
    prop_oneof![
        Just(TimestampsMs::None),
        any::<i64>().prop_map(TimestampsMs::One),
        vec(any::<i64>(), n).prop_map(TimestampsMs::Each),
    ]
}

fn span_start() -> impl Strategy<Value = Record> {
    (
        context(),
        option::of(any::<u64>()),
        name(),
        time(),
        attributes(),
        attributes(),
    )
        .prop_map(|(context, parent, name, time, attributes, start)| {
            Record::SpanStart(Box::new(SpanStart {
                context,
                parent: parent.map(SpanId),
                name,
                time,
                attributes,
                start_event_attributes: start,
            }))
        })
}

fn span_stop() -> impl Strategy<Value = Record> {
    let status = prop_oneof![
        Just(SpanStatus::Ok),
        text().prop_map(SpanStatus::Error),
        Just(SpanStatus::Cancelled)
    ];
    (
        context(),
        option::of(any::<u64>()),
        name(),
        (time(), time(), any::<u64>()),
        status,
        (attributes(), attributes()),
    )
        .prop_map(
            |(context, parent, name, (start, time, d), status, (attrs, span_attrs))| {
                Record::SpanStop(Box::new(SpanStop {
                    context,
                    parent: parent.map(SpanId),
                    name,
                    start_time: start,
                    time,
                    duration_ns: d,
                    status,
                    attributes: attrs,
                    span_attributes: span_attrs,
                }))
            },
        )
}

fn event() -> impl Strategy<Value = Record> {
    (option::of(context()), name(), time(), attributes()).prop_map(|(span, name, time, a)| {
        Record::Event(Box::new(Event {
            span,
            name,
            time,
            attributes: a,
        }))
    })
}

fn error() -> impl Strategy<Value = Record> {
    (
        option::of(context()),
        text(),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        time(),
    )
        .prop_map(|(span, message, t, m, tb, time)| {
            Record::Error(Box::new(ErrorRecord {
                span,
                message,
                exception_type: t,
                exception_message: m,
                traceback: tb,
                time,
            }))
        })
}

fn telemetry_data_error() -> impl Strategy<Value = Record> {
    (any::<bool>(), text(), option::of(text()), time()).prop_map(|(no, message, exporter, time)| {
        Record::from(TelemetryDataError {
            kind: if no {
                TelemetryDataErrorKind::NoTelemetryData
            } else {
                TelemetryDataErrorKind::IncompleteTelemetryData
            },
            message,
            exporter,
            time,
        })
    })
}

fn rendering() -> impl Strategy<Value = Record> {
    (
        text(),
        (any::<i64>(), any::<i64>(), any::<i64>()),
        text(),
        (any::<u64>(), any::<u32>(), any::<u32>(), any::<u32>()),
        finite(),
        any::<u64>(),
        time(),
    )
        .prop_map(
            |(env_id, (episode, first, last), path, (frames, w, h, fps), d, bytes, time)| {
                Record::Rendering(Box::new(Rendering {
                    env_id,
                    episode,
                    rl_step_first: first,
                    rl_step_last: last,
                    path,
                    frames,
                    width: w,
                    height: h,
                    fps,
                    duration_secs: d,
                    bytes,
                    time,
                }))
            },
        )
}

fn log() -> impl Strategy<Value = Record> {
    (
        time(),
        1u8..=24,
        text(),
        name(),
        option::of(context()),
        attributes(),
    )
        .prop_map(|(time, severity, body, logger, span, attributes)| {
            Record::Log(Box::new(LogRecord {
                time,
                severity: Severity::new(severity).expect("1..=24"),
                body,
                logger,
                span,
                attributes,
            }))
        })
}

fn metric() -> impl Strategy<Value = Record> {
    (0usize..20).prop_flat_map(|n| {
        (
            series_key(),
            ordering(),
            vec(any::<u64>(), n),
            values(n),
            timestamps(n),
            time(),
        )
            .prop_map(|(series, ordering, steps, values, timestamps_ms, time)| {
                Record::from(MetricPoints {
                    series,
                    ordering,
                    steps: steps.into(),
                    values,
                    timestamps_ms,
                    time,
                })
            })
    })
}

fn rl() -> impl Strategy<Value = Record> {
    (0usize..4, 0usize..5).prop_flat_map(|(envs, per_env)| {
        let minor = prop_oneof![
            vec(any::<u64>(), envs).prop_map(MinorSteps::Runs),
            vec(any::<u64>(), envs * per_env).prop_map(MinorSteps::Each),
        ];
        (
            (series_key(), ordering(), any::<u64>()),
            vec(text(), envs),
            vec(option::of(any::<u64>()), envs),
            minor,
            values(envs * per_env),
            timestamps(envs * per_env),
            time(),
        )
            .prop_map(
                move |((series, ordering, rl_step), env_ids, episodes, minor, values, ts, time)| {
                    Record::Rl(Box::new(RlPoints {
                        series,
                        ordering,
                        rl_step,
                        envs: env_ids.into(),
                        episodes,
                        per_env,
                        minor_steps: minor,
                        values,
                        timestamps_ms: ts,
                        time,
                    }))
                },
            )
    })
}

fn histogram() -> impl Strategy<Value = Record> {
    (0usize..6).prop_flat_map(|bins| {
        let values = prop_oneof![
            vec(any::<u64>(), bins).prop_map(BinValues::Counts),
            vec(finite(), bins).prop_map(BinValues::Densities),
        ];
        (
            series_key(),
            any::<u64>(),
            vec(finite(), bins + 1),
            values,
            option::of([finite(), finite(), finite(), finite()]),
            any::<i64>(),
            time(),
        )
            .prop_map(|(series, step, bin_edges, bins, stats, ts, time)| {
                Record::Histogram(Box::new(HistogramPoint {
                    series,
                    step,
                    bin_edges,
                    bins,
                    stats,
                    timestamp_ms: ts,
                    time,
                }))
            })
    })
}

fn scatter() -> impl Strategy<Value = Record> {
    (0usize..6).prop_flat_map(|n| {
        (
            series_key(),
            any::<u64>(),
            vec(finite(), n),
            vec(finite(), n),
            option::of(vec(finite(), n)),
            [option::of(text()), option::of(text()), option::of(text())],
            any::<i64>(),
            time(),
        )
            .prop_map(|(series, step, xs, ys, zs, titles, ts, time)| {
                Record::Scatter(Box::new(ScatterPoint {
                    series,
                    step,
                    xs,
                    ys,
                    zs,
                    titles,
                    timestamp_ms: ts,
                    time,
                }))
            })
    })
}

fn run_attribute_value() -> impl Strategy<Value = RunAttributeValue> {
    prop_oneof![
        any::<bool>().prop_map(RunAttributeValue::Bool),
        any::<i64>().prop_map(RunAttributeValue::Int),
        finite().prop_map(RunAttributeValue::Float),
        text().prop_map(RunAttributeValue::String),
        vec(text(), 0..3).prop_map(RunAttributeValue::StringSet),
        (vec(text(), 0..3), vec(text(), 0..3))
            .prop_map(|(added, removed)| RunAttributeValue::StringSetDelta { added, removed }),
    ]
}

fn run_attributes() -> impl Strategy<Value = Record> {
    (
        option::of(text()),
        option::of(any::<u64>()),
        vec((text(), run_attribute_value()), 0..4),
        time(),
    )
        .prop_map(|(env_id, episode, updates, time)| {
            Record::from(RunAttributes {
                env_id,
                episode,
                updates,
                time,
            })
        })
}

/// One strategy per kind exporters see; the match makes a kind added to `RecordKind` fail to
/// compile here. `SpanUpdate` is absorbed by the Recorder (folded into the span's stop) and
/// never reaches an exporter, a Kafka topic or a spool: the encoding refuses it.
fn of_kind(kind: RecordKind) -> Option<BoxedStrategy<Record>> {
    Some(match kind {
        RecordKind::SpanUpdate => return None,
        RecordKind::SpanStart => span_start().boxed(),
        RecordKind::SpanStop => span_stop().boxed(),
        RecordKind::Event => event().boxed(),
        RecordKind::Error => error().boxed(),
        RecordKind::TelemetryDataError => telemetry_data_error().boxed(),
        RecordKind::Rendering => rendering().boxed(),
        RecordKind::Log => log().boxed(),
        RecordKind::Metric => metric().boxed(),
        RecordKind::Attributes => run_attributes().boxed(),
        RecordKind::Rl => rl().boxed(),
        RecordKind::Histogram => histogram().boxed(),
        RecordKind::Scatter => scatter().boxed(),
    })
}

fn any_record() -> impl Strategy<Value = Record> {
    proptest::strategy::Union::new(RecordKind::ALL.into_iter().filter_map(of_kind))
}

fn run() -> impl Strategy<Value = RunIdentity> {
    (
        option::of(text()),
        option::of(text()),
        text(),
        option::of(text()),
        text(),
        any::<u64>(),
    )
        .prop_map(
            |(workspace, project, run_name, experiment, orchestration_id, logger_id)| RunIdentity {
                workspace,
                project,
                run_name,
                experiment,
                orchestration_id,
                logger_id,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_batch_round_trips_exactly(run in run(), records in vec(any_record(), 0..24)) {
        let bytes = encode(&run, &records).unwrap();
        let batch = decode(&bytes).unwrap();
        prop_assert_eq!(batch.run, run);
        prop_assert_eq!(batch.records, records);
    }
}

#[test]
fn every_kind_round_trips_exactly() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for kind in RecordKind::ALL {
        let Some(strategy) = of_kind(kind) else {
            continue;
        };
        for _ in 0..64 {
            let record = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(record.kind(), kind);
            let run = RunIdentity::default();
            let bytes = encode(&run, [&record]).unwrap();
            let batch = decode(&bytes).unwrap();
            assert_eq!(batch.records, vec![record], "{}", kind.as_str());
        }
    }
}

#[test]
fn float_columns_keep_their_precision_and_bits() {
    let key = Arc::new(SeriesKey::new("loss", Scale::MlStep, []).unwrap());
    let metric = |values| {
        Record::from(MetricPoints {
            series: key.clone(),
            ordering: SeriesOrdering::Ordered,
            steps: vec![1, 2, 3].into(),
            values,
            timestamps_ms: TimestampsMs::None,
            time: Timestamp(1),
        })
    };
    let f32s = metric(Values::F32(vec![0.1, -0.0, f32::MIN_POSITIVE].into()));
    let f64s = metric(Values::F64(vec![0.1, -0.0, f64::MAX].into()));
    let batch = decode(&encode(&RunIdentity::default(), [&f32s, &f64s]).unwrap()).unwrap();
    let Record::Metric(m) = &batch.records[0] else {
        panic!()
    };
    let Values::F32(v) = &m.values else {
        panic!("f32 column decoded as {:?}", m.values)
    };
    assert_eq!(v[1].to_bits(), (-0.0f32).to_bits());
    assert_eq!(batch.records, vec![f32s, f64s]);
}

#[test]
fn a_scalar_point_travels_as_a_metric_and_comes_back_compact() {
    let key = Arc::new(SeriesKey::new("loss", Scale::MlStep, []).unwrap());
    let one = MetricPoints {
        series: key,
        ordering: SeriesOrdering::Ordered,
        steps: vec![7].into(),
        values: Values::F32(vec![0.1].into()),
        timestamps_ms: TimestampsMs::None,
        time: Timestamp(1),
    };
    let scalar = Record::from(one.clone());
    assert!(matches!(scalar, Record::Scalar(_)), "{scalar:?}");
    // A one-point metric made without `Record::from` is the same record.
    let boxed = Record::Metric(Box::new(one));
    assert_eq!(scalar, boxed);
    let batch = decode(&encode(&RunIdentity::default(), [&scalar, &boxed]).unwrap()).unwrap();
    assert!(
        batch.records.iter().all(|r| matches!(r, Record::Scalar(_))),
        "{:?}",
        batch.records
    );
    assert_eq!(batch.records, vec![scalar.clone(), scalar]);
}

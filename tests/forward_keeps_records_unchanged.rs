//! `Runtime::forward`: records formed by another runtime reach the exporters exactly as they
//! were recorded — ids, parents, times, steps — without lifecycle checks, cursor moves or
//! stops made up at close, and counted like any record.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::capture_all::capture_all;
use telemetron::model::{
    Attributes, ErrorRecord, Event, LogRecord, MetricPoints, MinorSteps, Name, Record, RlPoints,
    Scale, SeriesKey, SeriesOrdering, Severity, SpanContext, SpanId, SpanStart, SpanStatus,
    SpanStop, TelemetryDataError, TelemetryDataErrorKind, Timestamp, TimestampsMs, TraceId, Values,
};
use telemetron::{RunIdentity, Runtime, RuntimeConfig, RuntimeSettings, Steps};

fn ctx(span: u64) -> SpanContext {
    SpanContext {
        trace_id: TraceId(0x0af7651916cd43dd8448eb211c80319c),
        span_id: SpanId(span),
    }
}

/// What a producer's runtime sent: spans whose starts are in an earlier message, a span
/// still open, an error on a span this runtime never saw, metrics at steps 100..102.
fn from_another_runtime() -> Vec<Record> {
    let loss = Arc::new(SeriesKey::new("loss", Scale::MlStep, []).unwrap());
    let reward = Arc::new(SeriesKey::new("reward", Scale::EnvironmentStep, []).unwrap());
    vec![
        // The stop of a span whose start was in an earlier Kafka message.
        Record::SpanStop(Box::new(SpanStop {
            context: ctx(2),
            parent: Some(SpanId(1)),
            name: Name::Borrowed("train_step"),
            start_time: Timestamp(1_000),
            time: Timestamp(5_000),
            duration_ns: 4_000,
            status: SpanStatus::Error("Error in train_step: boom".into()),
            attributes: Attributes::new().with("loss", 0.5).unwrap(),
            span_attributes: Attributes::new().with("duration_msec", 4).unwrap(),
        })),
        // A span that stays open: close must not stop it.
        Record::SpanStart(Box::new(SpanStart {
            context: ctx(3),
            parent: Some(SpanId(1)),
            name: Name::Borrowed("eval"),
            time: Timestamp(6_000),
            attributes: Attributes::new(),
            start_event_attributes: Attributes::new().with("split", "val").unwrap(),
        })),
        Record::Error(Box::new(ErrorRecord {
            span: Some(ctx(9)),
            message: "Error in load: disk".into(),
            exception_type: Some("OSError".into()),
            exception_message: Some("disk".into()),
            traceback: None,
            time: Timestamp(6_500),
        })),
        Record::Event(Box::new(Event {
            span: Some(ctx(9)),
            name: Name::Borrowed("checkpoint"),
            time: Timestamp(7_000),
            attributes: Attributes::new().with("bytes", 123i64).unwrap(),
        })),
        // The producer's own exporter "capture" lost data: a record, not this runtime's claim.
        Record::from(TelemetryDataError {
            kind: TelemetryDataErrorKind::IncompleteTelemetryData,
            message: "exporter capture failed".into(),
            exporter: Some("capture".into()),
            time: Timestamp(7_500),
        }),
        Record::Log(Box::new(LogRecord {
            time: Timestamp(8_000),
            severity: Severity::WARN,
            body: "slow".into(),
            logger: Name::Borrowed("trainer.io"),
            span: Some(ctx(3)),
            attributes: Attributes::new(),
        })),
        Record::from(MetricPoints {
            series: loss,
            ordering: SeriesOrdering::Ordered,
            steps: vec![100, 101, 102].into(),
            values: Values::F32(vec![0.5, 0.25, 0.125].into()),
            timestamps_ms: TimestampsMs::Each(vec![1, 2, 3]),
            time: Timestamp(9_000),
        }),
        Record::Rl(Box::new(RlPoints {
            series: reward,
            ordering: SeriesOrdering::Ordered,
            rl_step: 40,
            envs: vec!["env-0".to_string(), "env-1".to_string()].into(),
            episodes: vec![Some(3), Some(5)],
            per_env: 2,
            minor_steps: MinorSteps::Runs(vec![10, 0]),
            values: Values::F64(vec![1.0, 2.0, 3.0, 4.0].into()),
            timestamps_ms: TimestampsMs::None,
            time: Timestamp(9_500),
        })),
    ]
}

#[test]
fn forwarded_records_reach_the_exporters_as_they_were_recorded() {
    let (slot, captured) = capture_all("capture");
    let runtime = Runtime::start(RuntimeConfig {
        settings: RuntimeSettings::default(),
        run: RunIdentity {
            run_name: "relay".into(),
            ..Default::default()
        },
        exporters: vec![slot],
        plugins: Vec::new(),
        codec: None,
    })
    .unwrap();
    let records = from_another_runtime();
    let forwarded = runtime.forward(records.clone()).unwrap();
    assert_eq!((forwarded.enqueued, forwarded.dropped), (records.len(), 0));

    // This runtime's own cursor for "loss" did not move: its first automatic step is 0.
    let loss = SeriesKey::new("loss", Scale::MlStep, []).unwrap();
    assert_eq!(runtime.last_step(&loss), None);
    runtime
        .log_metric(
            loss.clone(),
            SeriesOrdering::Ordered,
            Steps::Auto,
            Values::F32(vec![9.0].into()),
            TimestampsMs::None,
        )
        .unwrap();
    assert_eq!(runtime.last_step(&loss), Some(0));

    let report = runtime.close(Duration::from_secs(10)).unwrap();
    let got = captured.lock().clone();
    assert_eq!(got.len(), records.len() + 1, "{got:#?}");
    assert_eq!(
        got[..records.len()],
        records[..],
        "forwarded records unchanged"
    );
    let Some(local) = got[records.len()].metric_points() else {
        panic!("{:?}", got.last())
    };
    assert_eq!(
        local.steps[..],
        [0],
        "the local call numbered from its own cursor"
    );

    // Nothing was reported as misuse, no span was stopped at close, no data error claimed.
    assert!(
        report.background_errors.is_empty(),
        "{:?}",
        report.background_errors
    );
    assert_eq!(report.undelivered_records(), 0, "{report:#?}");
    let runtime_counts = &report.metrics.runtime;
    for (kind, n) in [
        ("span_stop", 1),
        ("span_start", 1),
        ("error", 1),
        ("event", 1),
        ("telemetry_data_error", 1),
        ("log", 1),
        ("metric", 2),
        ("rl_metric", 1),
    ] {
        let c = runtime_counts[kind];
        assert_eq!((c.added, c.enqueued, c.sent), (n, n, n), "{kind}: {c:?}");
        assert_eq!(report.metrics.exporters["capture"][kind].sent, n, "{kind}");
    }
}

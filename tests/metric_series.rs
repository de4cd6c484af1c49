//! Metric series: steps from per-series cursors (auto, first step, explicit), ordered series
//! only move forward, bad input is refused naming the argument and loses nothing else, and the
//! file exporter writes the columns exactly.

mod common;

use std::time::Duration;

use serde_json::json;
use telemetron::model::{Scale, SeriesKey, SeriesOrdering, TimestampsMs, Values};
use telemetron::{ConfigLoader, EnqueueError, Steps};

fn key(name: &str, labels: &[(&str, &str)]) -> SeriesKey {
    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    SeriesKey::new(name, Scale::MlStep, labels).unwrap()
}

fn invalid_what(result: Result<(), EnqueueError>) -> (&'static str, String) {
    match result {
        Err(EnqueueError::Invalid { what, reason }) => (what, reason),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn steps_continue_per_series_and_bad_input_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let loader = ConfigLoader::new()
        .without_discovery()
        .exporters(vec![json!({"type": "file", "path": path})]);
    let runtime = telemetron::start(loader).unwrap();
    let ordered = SeriesOrdering::Ordered;
    let train = key("loss", &[("split", "train")]);
    let eval = key("loss", &[("split", "eval")]);
    let f32s = |v: &[f32]| Values::F32(v.into());

    runtime
        .log_metric(
            train.clone(),
            ordered,
            Steps::Auto,
            f32s(&[0.5, 0.25]),
            TimestampsMs::None,
        )
        .unwrap();
    runtime
        .log_metric(
            train.clone(),
            ordered,
            Steps::Auto,
            f32s(&[0.125]),
            TimestampsMs::One(1_700_000_000_000),
        )
        .unwrap();
    runtime
        .log_metric(
            eval.clone(),
            ordered,
            Steps::From(100),
            f32s(&[0.3, 0.2]),
            TimestampsMs::None,
        )
        .unwrap();
    assert_eq!(runtime.last_step(&train), Some(2));
    assert_eq!(runtime.last_step(&eval), Some(101));

    // Refused, and the cursors do not move.
    let (what, why) = invalid_what(runtime.log_metric(
        train.clone(),
        ordered,
        Steps::Each(vec![2]),
        f32s(&[1.0]),
        TimestampsMs::None,
    ));
    assert_eq!(what, "step");
    assert!(
        why.contains("step 2 of ordered series loss[ML_STEP]{split=train} is not after step 2"),
        "{why}"
    );
    let (what, _) = invalid_what(runtime.log_metric(
        train.clone(),
        ordered,
        Steps::Auto,
        f32s(&[f32::NAN]),
        TimestampsMs::None,
    ));
    assert_eq!(what, "value");
    let (what, why) = invalid_what(runtime.log_metric(
        train.clone(),
        ordered,
        Steps::Each(vec![10, 11]),
        f32s(&[1.0]),
        TimestampsMs::None,
    ));
    assert!(
        what == "step" && why.contains("2 steps for 1 values"),
        "{why}"
    );
    let (what, _) = invalid_what(runtime.log_metric(
        train.clone(),
        ordered,
        Steps::Auto,
        f32s(&[1.0]),
        TimestampsMs::Each(vec![1, 2]),
    ));
    assert_eq!(what, "timestamp");
    let (what, why) = invalid_what(runtime.log_metric(
        train.clone(),
        SeriesOrdering::Unordered,
        Steps::Each(vec![50]),
        f32s(&[1.0]),
        TimestampsMs::None,
    ));
    assert!(
        what == "metric name" && why.contains("cannot be mixed"),
        "{why}"
    );
    assert_eq!(runtime.last_step(&train), Some(2));

    // Distributed series take explicit steps in any order.
    let shared = key("throughput", &[]);
    let unordered = SeriesOrdering::Unordered;
    runtime
        .log_metric(
            shared.clone(),
            unordered,
            Steps::Each(vec![7, 3]),
            Values::F64(vec![1.5, 2.5].into()),
            TimestampsMs::Each(vec![10, 20]),
        )
        .unwrap();
    let (what, _) = invalid_what(runtime.log_metric(
        shared,
        unordered,
        Steps::Auto,
        Values::F64(vec![1.0].into()),
        TimestampsMs::None,
    ));
    assert_eq!(what, "step");

    // A resumed run's cursor comes from the backend.
    let resumed = key("reward", &[]);
    runtime.seed_last_step(resumed.clone(), ordered, 41);
    runtime
        .log_metric(
            resumed.clone(),
            ordered,
            Steps::Auto,
            f32s(&[1.0]),
            TimestampsMs::None,
        )
        .unwrap();
    assert_eq!(runtime.last_step(&resumed), Some(42));

    let report = runtime.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    let metrics: Vec<_> = common::records_of(&path)
        .into_iter()
        .filter(|r| r["kind"] == "metric")
        .collect();
    let got: Vec<_> = metrics
        .iter()
        .map(|m| {
            (
                m["name"].clone(),
                m["labels"].clone(),
                m["steps"].clone(),
                m["values"].clone(),
                m["timestamps_ms"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                json!("loss"),
                json!({"split": "train"}),
                json!([0, 1]),
                json!([0.5, 0.25]),
                json!(null)
            ),
            (
                json!("loss"),
                json!({"split": "train"}),
                json!([2]),
                json!([0.125]),
                json!(1_700_000_000_000_i64)
            ),
            (
                json!("loss"),
                json!({"split": "eval"}),
                json!([100, 101]),
                json!([0.3, 0.2]),
                json!(null)
            ),
            (
                json!("throughput"),
                json!({}),
                json!([7, 3]),
                json!([1.5, 2.5]),
                json!([10, 20])
            ),
            (
                json!("reward"),
                json!({}),
                json!([42]),
                json!([1.0]),
                json!(null)
            ),
        ]
    );
    assert_eq!(metrics[0]["precision"], "f32");
    assert_eq!(metrics[3]["ordering"], "unordered");
    let refused = report.metrics.runtime["metric"].failed;
    assert_eq!(refused, 6);
}

//! A run that records every record kind through the public API, with the awkward values
//! (escapes, unicode, f32 values that are not exact in decimal, gaps in RL steps, every
//! attribute type). Shared by the reader's round trip and the CLI's tests (`#[path]`).
#![allow(dead_code)]

use telemetron::model::{
    Attributes, BinValues, Record, Rendering, RunAttributeValue, Scale, SeriesKey, SeriesOrdering,
    Severity, SpanStatus, TelemetryDataErrorKind, Timestamp, TimestampsMs, Values,
};
use telemetron::{EnvSteps, ErrorInfo, RlStepCall, Runtime, Steps};

fn key(name: &str, scale: Scale, labels: &[(&str, &str)]) -> SeriesKey {
    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    SeriesKey::new(name, scale, labels).expect("valid key")
}

/// Records at least one of every kind, ending with the stop of the root span.
pub fn record_every_kind(rt: &Runtime) {
    let attrs = Attributes::new()
        .with("epoch", 3i64)
        .unwrap()
        .with("lr", 0.1f64)
        .unwrap()
        .with("big", 1e300f64)
        .unwrap()
        .with("neg", -0.0f64)
        .unwrap()
        .with("quote\"d \\ /", "line\nbreak\u{1}\tü→🚀")
        .unwrap()
        .with("ok", true)
        .unwrap()
        .with("bools", vec![true, false])
        .unwrap()
        .with("ints", vec![1i64, -2, i64::MAX, i64::MIN])
        .unwrap()
        .with("floats", vec![1.0f64, 2.5, 1e-310])
        .unwrap()
        .with("strings", vec!["a".to_string(), "b,c".to_string()])
        .unwrap()
        .with("empty", Vec::<String>::new())
        .unwrap();
    let train = rt
        .start_span_with_event(
            "train",
            None,
            attrs.clone(),
            Attributes::new().with("why", "start").unwrap(),
        )
        .unwrap();
    let step = rt
        .start_span("train_step", Some(train), Attributes::new())
        .unwrap();
    rt.event(
        Some(step),
        "checkpoint",
        Attributes::new().with("bytes", 123i64).unwrap(),
    )
    .unwrap();
    rt.error(
        Some(step),
        ErrorInfo {
            message: "Error in train_step: boom".into(),
            exception_type: Some("ValueError".into()),
            exception_message: Some("boom".into()),
            traceback: Some("Traceback (most recent call last):\n  ...".into()),
        },
    )
    .unwrap();
    // Attributes added while the span runs reach the exporters on its stop.
    rt.update_span(step, Attributes::new().with("samples", 64i64).unwrap())
        .unwrap();
    rt.stop_span(step, Attributes::new().with("loss", 0.5f64).unwrap())
        .unwrap();
    let cancelled = rt.start_span("eval", Some(train), attrs).unwrap();
    rt.stop_span_with_status(cancelled, SpanStatus::Cancelled, Attributes::new())
        .unwrap();
    rt.error(None, ErrorInfo::message("no span")).unwrap();
    rt.event(None, "lonely", Attributes::new()).unwrap();
    rt.log(
        Severity::WARN,
        "loaded \"shard\" 3",
        "trainer.data",
        Some(train),
        Attributes::new().with("n", 12i64).unwrap(),
    )
    .unwrap();
    rt.log(
        Severity::new(24).unwrap(),
        "",
        "root",
        None,
        Attributes::new(),
    )
    .unwrap();

    let loss = key(
        "loss",
        Scale::MlStep,
        &[("split", "train"), ("model", "a/b c")],
    );
    let ordered = SeriesOrdering::Ordered;
    rt.log_metric(
        loss.clone(),
        ordered,
        Steps::Auto,
        Values::F32(vec![0.1, 1.0 / 3.0, f32::MAX, f32::MIN_POSITIVE, -0.0].into()),
        TimestampsMs::None,
    )
    .unwrap();
    rt.log_metric(
        loss,
        ordered,
        Steps::Auto,
        Values::F32(vec![0.05].into()),
        TimestampsMs::One(1_700_000_000_123),
    )
    .unwrap();
    rt.log_metric(
        key("acc", Scale::MlStep, &[]),
        SeriesOrdering::Unordered,
        Steps::Each(vec![10, 5, 7]),
        Values::F64(vec![0.1, std::f64::consts::PI, 1e-300].into()),
        TimestampsMs::Each(vec![1, 2, 3]),
    )
    .unwrap();

    let reward = key("reward", Scale::EnvironmentStep, &[]);
    let envs = rt.env_list(vec!["env-0".into(), "env-1".into()]).unwrap();
    rt.log_rl_environment_step(RlStepCall {
        key: reward.clone(),
        rl_step: 1,
        envs: envs.clone(),
        episodes: vec![Some(0), Some(3)],
        per_env: 3,
        values: Values::F32(vec![1.0, 2.0, 3.0, 0.5, 0.25, 0.125].into()),
        env_steps: EnvSteps::Auto {
            start_from_one: false,
        },
        timestamps_ms: TimestampsMs::None,
    })
    .unwrap();
    rt.log_rl_environment_step(RlStepCall {
        key: reward,
        rl_step: 2,
        envs: envs.clone(),
        episodes: vec![Some(0), Some(3)],
        per_env: 2,
        values: Values::F64(vec![4.0, 5.0, 6.0, 7.0].into()),
        env_steps: EnvSteps::Each(vec![10, 20, 10, 12]),
        timestamps_ms: TimestampsMs::One(5),
    })
    .unwrap();
    rt.log_rl_episode(
        key("return", Scale::Episode, &[]),
        2,
        envs,
        None,
        Values::F32(vec![10.5, -3.0].into()),
        TimestampsMs::None,
    )
    .unwrap();

    rt.log_histogram(
        key("weights", Scale::MlStep, &[]),
        4,
        vec![-1.0, 0.0, 0.5, 2.0],
        BinValues::Counts(vec![3, 0, 7]),
        Some([-0.9, 1.9, 4.2, 8.1]),
        Some(1_700_000_000_000),
    )
    .unwrap();
    rt.log_histogram(
        key("density", Scale::MlStep, &[]),
        1,
        vec![0.0, 1.0],
        BinValues::Densities(vec![0.75]),
        None,
        None,
    )
    .unwrap();
    rt.log_scatter(
        key("embedding", Scale::MlStep, &[]),
        9,
        vec![0.0, 1.5],
        vec![2.0, -1.0],
        None,
        [Some("x".into()), None, None],
        Some(7),
    )
    .unwrap();
    rt.log_scatter(
        key("cloud", Scale::MlStep, &[]),
        9,
        vec![0.0],
        vec![1.0],
        Some(vec![2.0]),
        [Some("x".into()), Some("y".into()), Some("z".into())],
        None,
    )
    .unwrap();
    rt.log_run_attributes(
        None,
        None,
        vec![
            ("config/optimizer/lr".into(), RunAttributeValue::Float(3e-4)),
            ("config/layers".into(), RunAttributeValue::Int(12)),
            ("config/amp".into(), RunAttributeValue::Bool(true)),
            (
                "description".into(),
                RunAttributeValue::String("a \"run\"".into()),
            ),
            (
                "tags".into(),
                RunAttributeValue::StringSet(vec!["rl".into(), "ppo".into()]),
            ),
            (
                "tags".into(),
                RunAttributeValue::StringSetDelta {
                    added: vec!["gpu".into()],
                    removed: vec![],
                },
            ),
        ],
    )
    .unwrap();
    rt.log_run_attributes(
        Some("env-0".into()),
        Some(3),
        vec![("seed".into(), RunAttributeValue::Int(7))],
    )
    .unwrap();
    rt.telemetry_data_error(
        TelemetryDataErrorKind::IncompleteTelemetryData,
        "lost a shard",
    )
    .unwrap();
    rt.record_sink()
        .send(Record::Rendering(Box::new(Rendering {
            env_id: "env-0".into(),
            episode: 3,
            rl_step_first: 1,
            rl_step_last: 2,
            path: "telemetron-renderings/run/env-0/episode_3.mp4".into(),
            frames: 60,
            width: 84,
            height: 84,
            fps: 30,
            duration_secs: 2.0,
            bytes: 4096,
            time: Timestamp::now(),
        })))
        .unwrap();
    rt.stop_span(train, Attributes::new()).unwrap();
}

//! Bytes that are not a batch this reader can trust give a clear error naming what is wrong.

use prost::Message;
use telemetron_codec::{decode, encode, wire, CodecError, SCHEMA_MAJOR};
use telemetron_runtime::model::{Event, Name, Record, Timestamp};
use telemetron_runtime::RunIdentity;

fn batch(records: Vec<wire::Record>, major: u32) -> Vec<u8> {
    wire::RecordBatch {
        schema_major: major,
        schema_minor: 7,
        run: None,
        records,
    }
    .encode_to_vec()
}

#[test]
fn a_newer_major_version_is_refused_by_name() {
    let err = decode(&batch(vec![], SCHEMA_MAJOR + 1)).unwrap_err();
    assert_eq!(
        err,
        CodecError::NewerMajor {
            found: 2,
            supported: 1
        }
    );
    assert!(err.to_string().contains("upgrade the consumer"), "{err}");
}

#[test]
fn a_newer_minor_version_is_read() {
    let decoded = decode(&batch(vec![], 1)).unwrap();
    assert_eq!(decoded.schema_minor, 7);
    assert!(decoded.records.is_empty());
}

#[test]
fn bytes_that_are_not_a_batch_are_malformed() {
    for bytes in [&b""[..], b"{\"json\": true}", &[0x0a, 0xff, 0xff]] {
        let err = decode(bytes).unwrap_err();
        assert!(
            matches!(err, CodecError::Malformed { len, .. } if len == bytes.len()),
            "{bytes:?}: {err}"
        );
    }
    // Truncating a real batch is caught too.
    let event = Record::Event(Box::new(Event {
        span: None,
        name: Name::Borrowed("e"),
        time: Timestamp(5),
        attributes: Default::default(),
    }));
    let bytes = encode(&RunIdentity::default(), [&event]).unwrap();
    assert!(matches!(
        decode(&bytes[..bytes.len() - 1]),
        Err(CodecError::Malformed { .. })
    ));
}

#[test]
fn invalid_records_name_their_position_kind_and_problem() {
    use wire::record::Kind;
    let good = wire::Record {
        kind: Some(Kind::Event(wire::Event::default())),
    };
    let cases: Vec<(wire::Record, &str, &str)> = vec![
        (wire::Record { kind: None }, "unknown", "no kind"),
        (
            wire::Record {
                kind: Some(Kind::SpanStart(wire::SpanStart::default())),
            },
            "span_start",
            "missing span context",
        ),
        (
            wire::Record {
                kind: Some(Kind::Log(wire::Log {
                    severity_number: 25,
                    ..Default::default()
                })),
            },
            "log",
            "severity 25",
        ),
        (
            wire::Record {
                kind: Some(Kind::Metric(wire::Metric {
                    series: Some(wire::Series {
                        name: "loss".into(),
                        ..Default::default()
                    }),
                    steps: vec![1, 2],
                    values: Some(wire::metric::Values::F32Values(wire::FloatColumn {
                        values: vec![0.5],
                    })),
                    ..Default::default()
                })),
            },
            "metric",
            "steps has 2 values, expected 1",
        ),
        (
            wire::Record {
                kind: Some(Kind::Metric(wire::Metric {
                    series: Some(wire::Series {
                        name: String::new(),
                        ..Default::default()
                    }),
                    values: Some(wire::metric::Values::F32Values(wire::FloatColumn::default())),
                    ..Default::default()
                })),
            },
            "metric",
            "metric name",
        ),
        (
            wire::Record {
                kind: Some(Kind::Event(wire::Event {
                    attributes: vec![wire::KeyValue {
                        key: "lr".into(),
                        value: Some(wire::AttributeValue {
                            value: Some(wire::attribute_value::Value::DoubleValue(f64::NAN)),
                        }),
                    }],
                    ..Default::default()
                })),
            },
            "event",
            "non-finite",
        ),
    ];
    for (record, kind, reason) in cases {
        let err = decode(&batch(vec![good.clone(), record], 1)).unwrap_err();
        match &err {
            CodecError::InvalidRecord {
                index: 1,
                kind: k,
                reason: r,
            } if *k == kind && r.contains(reason) => {}
            other => panic!("expected record 1 ({kind}): …{reason}…, got {other}"),
        }
    }
}

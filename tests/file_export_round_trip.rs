//! The file exporter's format is a contract: every record kind, written by the real runtime
//! through the file exporter, reads back equal to what the exporter was handed; a torn tail is
//! skipped and counted; other programs' files, newer schemas and broken lines are clear errors.

mod common;

use std::io::Write;
use std::time::Duration;

use common::capture_all::capture_all;
use common::every_kind::record_every_kind;
use telemetron::model::{Record, RecordKind};
use telemetron::reader::{ExportReader, ReadError, ReadItem};
use telemetron::{ExporterSlot, FileExporter, FileExporterConfig, RuntimeSettings};

fn write_every_kind(dir: &std::path::Path) -> (std::path::PathBuf, Vec<telemetron::model::Record>) {
    let path = dir.join("run.jsonl");
    let file_path = path.clone();
    let file_slot = ExporterSlot::new(
        "file",
        "file",
        std::sync::Arc::new(move || {
            Box::new(FileExporter::new(
                FileExporterConfig::default(),
                file_path.clone(),
            ))
        }),
    );
    let (keep, kept) = capture_all("keep");
    let rt = common::start(RuntimeSettings::default(), vec![file_slot, keep]);
    record_every_kind(&rt);
    let report = rt.close(Duration::from_secs(10)).unwrap();
    assert_eq!(report.undelivered_records(), 0, "{report:?}");
    let records = kept.lock().clone();
    (path, records)
}

fn read_all(path: &std::path::Path) -> (Vec<ReadItem>, telemetron::reader::ReadStats) {
    let mut reader = ExportReader::open(path).unwrap();
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        items.push(item);
    }
    (items, reader.stats().clone())
}

#[test]
fn every_record_kind_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let (path, written) = write_every_kind(dir.path());
    let kinds: std::collections::HashSet<RecordKind> = written.iter().map(|r| r.kind()).collect();
    // Every kind an exporter sees: a span update is folded into its span's stop.
    let exported = RecordKind::ALL.len() - 1;
    assert_eq!(kinds.len(), exported, "the fixture covers every kind");
    assert!(written.iter().any(|r| matches!(r, Record::SpanStop(s)
        if s.span_attributes.get("samples").is_some())));

    let (items, stats) = read_all(&path);
    let ReadItem::Header(header) = &items[0] else {
        panic!("the first item is the header: {:?}", items[0]);
    };
    assert_eq!(header.run.run_name, "test-run");
    assert_eq!(header.exporter, "file");
    assert_eq!(header.pid, u64::from(std::process::id()));
    let read: Vec<_> = items[1..]
        .iter()
        .map(|i| match i {
            ReadItem::Record(r) => r.clone(),
            other => panic!("one header only: {other:?}"),
        })
        .collect();
    assert_eq!(read.len(), written.len());
    for (i, (r, w)) in read.iter().zip(&written).enumerate() {
        assert_eq!(r, w, "record {i} ({}) differs", w.kind().as_str());
    }
    assert_eq!(stats.records, written.len() as u64);
    assert_eq!((stats.headers, stats.torn_lines), (1, 0));
    assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn a_torn_last_line_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (path, written) = write_every_kind(dir.path());
    let full = std::fs::read(&path).unwrap();
    // Cut inside the last line, as a SIGKILL mid-write would.
    let cut = full.len() - 20;
    std::fs::write(&path, &full[..cut]).unwrap();
    let (items, stats) = read_all(&path);
    assert_eq!(
        items.len(),
        written.len(),
        "header + all but the last record"
    );
    assert_eq!(stats.torn_lines, 1);
    let last_line_len = full[..full.len() - 1]
        .iter()
        .rev()
        .position(|&b| b == b'\n')
        .unwrap();
    assert_eq!(stats.torn_bytes, (last_line_len - 19) as u64);

    // A later writer appended after the torn line (append: true): still only counted.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"\n").unwrap();
    f.write_all(&full[..full.iter().position(|&b| b == b'\n').unwrap() + 1])
        .unwrap();
    drop(f);
    let (items, stats) = read_all(&path);
    assert_eq!(items.len(), written.len() + 1);
    assert!(matches!(items.last(), Some(ReadItem::Header(_))));
    assert_eq!((stats.torn_lines, stats.headers), (1, 2));
}

fn first_error(bytes: &[u8]) -> ReadError {
    let mut reader = ExportReader::new(bytes, "in.jsonl");
    loop {
        match reader.next_item() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("expected an error"),
            Err(e) => return e,
        }
    }
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_every_kind(dir.path());
    let good = std::fs::read(&path).unwrap();
    let header_end = good.iter().position(|&b| b == b'\n').unwrap() + 1;

    let e = first_error(b"PK\x03\x04 binary stuff\n");
    assert!(matches!(e, ReadError::NotAnExport { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("in.jsonl: not a Telemetron export"),
        "{e}"
    );
    let e = first_error(b"{\"level\":\"info\",\"msg\":\"hi\"}\n");
    assert!(e.to_string().contains("missing field `schema`"), "{e}");

    let e = first_error(&good[..header_end / 2]);
    assert!(matches!(e, ReadError::Truncated { .. }), "{e}");
    let e = first_error(b"");
    assert!(matches!(e, ReadError::Empty { .. }), "{e}");

    let newer = String::from_utf8(good[..header_end].to_vec())
        .unwrap()
        .replace("{\"schema\":1,", "{\"schema\":2,\"new_field\":[1,2],");
    let e = first_error(newer.as_bytes());
    assert_eq!(
        e.to_string(),
        "in.jsonl:1: schema 2 is newer than this Telemetron; this reader reads schemas 1 to 1 \
         (upgrade telemetron to read it)"
    );
    let mut later_newer = good[..header_end].to_vec();
    later_newer.extend_from_slice(b"{\"schema\":7,\"kind\":\"span_start\",\"time_ns\":\"x\"}\n");
    later_newer.extend_from_slice(&good[header_end..]);
    let e = first_error(&later_newer);
    assert!(
        matches!(
            e,
            ReadError::UnsupportedSchema {
                line: 2,
                schema: 7,
                ..
            }
        ),
        "{e}"
    );

    // A broken line with valid records after it is not a torn tail.
    let mut broken = good[..header_end].to_vec();
    broken.extend_from_slice(b"{\"schema\":1,\"kind\":\"event\",\"time_ns\":1,\"name\":3}\n");
    broken.extend_from_slice(&good[header_end..]);
    let e = first_error(&broken);
    assert!(matches!(e, ReadError::Malformed { line: 2, .. }), "{e}");
    assert!(e.to_string().contains("in.jsonl:2:"), "{e}");

    // Unknown kinds of the same schema are skipped and counted (forward compatible).
    let mut unknown = good[..header_end].to_vec();
    unknown.extend_from_slice(b"{\"schema\":1,\"kind\":\"profile\",\"time_ns\":1}\n");
    let mut reader = ExportReader::new(&unknown[..], "in.jsonl");
    while reader.next_item().unwrap().is_some() {}
    assert_eq!(reader.stats().unknown_kinds.get("profile"), Some(&1));
}

//! Fuzzing the reader (proptest): arbitrary bytes, and valid exports with bytes flipped, cut or
//! spliced, never panic; each read ends in items or one typed error. `PROPTEST_CASES` raises
//! the budget (`make fuzz`).

use proptest::prelude::*;
use telemetron_exporter_file::reader::{ExportReader, ReadError};

/// A valid export: a header and one line of every kind (as the writer writes them).
const SAMPLE: &str = concat!(
    r#"{"schema":1,"kind":"header","time_ns":1,"run":{"run_name":"r","workspace":null,"project":"p","experiment":null,"orchestration_id":"o","logger_id":3},"exporter":"file","pid":9,"producer":"telemetron 0.1.0"}"#,
    "\n",
    r#"{"schema":1,"kind":"span_start","time_ns":2,"trace_id":"0000000000000000000000000000000a","span_id":"000000000000000b","parent_span_id":null,"name":"train","attributes":{"a":1,"b":[1.5,2.0],"c":["x"],"d":true,"e":"s\n"},"start_event_attributes":{}}"#,
    "\n",
    r#"{"schema":1,"kind":"span_stop","time_ns":3,"trace_id":"0000000000000000000000000000000a","span_id":"000000000000000b","parent_span_id":null,"name":"train","start_time_ns":2,"duration_ns":1,"status":"error","status_message":"boom","attributes":{}}"#,
    "\n",
    r#"{"schema":1,"kind":"event","time_ns":4,"trace_id":null,"span_id":null,"name":"e","attributes":{}}"#,
    "\n",
    r#"{"schema":1,"kind":"error","time_ns":5,"trace_id":null,"span_id":null,"message":"m","exception_type":null,"exception_message":null,"traceback":null}"#,
    "\n",
    r#"{"schema":1,"kind":"telemetry_data_error","time_ns":6,"error_type":"no_telemetry_data","message":"m","exporter":null}"#,
    "\n",
    r#"{"schema":1,"kind":"log","time_ns":7,"trace_id":null,"span_id":null,"severity_number":9,"severity_text":"INFO","logger":"l","body":"b","attributes":{}}"#,
    "\n",
    r#"{"schema":1,"kind":"metric","time_ns":8,"name":"loss","scale":"ML_STEP","labels":{"k":"v"},"ordering":"ordered","steps":[0,1],"precision":"f32","values":[0.5,0.1],"timestamps_ms":null}"#,
    "\n",
    r#"{"schema":1,"kind":"rl_metric","time_ns":9,"name":"r","scale":"ENVIRONMENT_STEP","labels":{},"ordering":"ordered","rl_step":1,"envs":["a","b"],"episodes":[0,null],"per_env":2,"minor_steps":[0,1,5,9],"precision":"f64","values":[1.0,2.0,3.0,4.0],"timestamps_ms":[1,2,3,4]}"#,
    "\n",
    r#"{"schema":1,"kind":"histogram","time_ns":10,"name":"h","scale":"ML_STEP","labels":{},"ordering":"unordered","step":1,"timestamp_ms":5,"bin_edges":[0.0,1.0],"counts":[3],"stats":null}"#,
    "\n",
    r#"{"schema":1,"kind":"scatter","time_ns":11,"name":"s","scale":"ML_STEP","labels":{},"ordering":"unordered","step":1,"timestamp_ms":5,"xs":[1.0],"ys":[2.0],"zs":null,"x_title":null,"y_title":null,"z_title":null}"#,
    "\n",
    r#"{"schema":1,"kind":"attributes","time_ns":12,"env_id":null,"episode":null,"updates":[["config/lr",0.1],["tags",{"set":["a"]}],["tags",{"added":["b"],"removed":[]}]]}"#,
    "\n",
    r#"{"schema":1,"kind":"rendering","time_ns":13,"env_id":"a","episode":1,"rl_step_first":1,"rl_step_last":2,"path":"p.mp4","frames":3,"width":4,"height":4,"fps":30,"duration_secs":0.1,"bytes":100}"#,
    "\n",
);

/// Reads everything; returns how many items came back before the end or the error.
fn read(bytes: &[u8]) -> Result<usize, ReadError> {
    let mut reader = ExportReader::new(bytes, "fuzz.jsonl");
    let mut n = 0;
    while reader.next_item()?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[test]
fn the_sample_is_valid() {
    assert_eq!(read(SAMPLE.as_bytes()).unwrap(), 13);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(&bytes);
    }

    #[test]
    fn damaged_exports_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        splice in any::<prop::sample::Index>(),
    ) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let at = splice.index(bytes.len());
        let copy = bytes[..at].to_vec();
        bytes.extend_from_slice(&copy);
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = read(&bytes);
    }

    /// A cut anywhere after the header loses at most the line it falls in, and says so.
    #[test]
    fn a_cut_loses_only_the_torn_line(cut in 0usize..SAMPLE.len()) {
        let header = SAMPLE.find('\n').unwrap() + 1;
        prop_assume!(cut > header);
        let bytes = &SAMPLE.as_bytes()[..cut];
        let mut reader = ExportReader::new(bytes, "cut.jsonl");
        let mut n = 0;
        while reader.next_item().unwrap().is_some() {
            n += 1;
        }
        // A cut right before a newline leaves a whole record: read, not torn.
        let whole = bytes.last() == Some(&b'\n') || SAMPLE.as_bytes()[cut] == b'\n';
        let complete = bytes.iter().filter(|&&b| b == b'\n').count() + usize::from(bytes.last() != Some(&b'\n') && whole);
        let torn = usize::from(!whole);
        prop_assert_eq!(n, complete);
        prop_assert_eq!(reader.stats().torn_lines as usize, torn);
    }
}

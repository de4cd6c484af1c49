//! Messages encoded by the generated Rust types decode with Metrana's official Python stubs
//! (`metrana-protobuf` from PyPI) to the same fields: the regenerated .proto files are
//! wire-compatible with the real service.

use std::process::Command;

use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::{
    InitializeRunLoggingRequest, ResumePolicy, UpdateRunRequest,
};
use telemetron_proto::metrana::ingestion::v1::types::Run;

/// The interpreter with `metrana-protobuf` installed (`make` sets it to the project's venv).
fn python() -> String {
    std::env::var("TELEMETRON_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/../.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

fn decode_in_python(message: &str, bytes: &[u8]) -> serde_json::Value {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "import json, sys\n\
         from google.protobuf.json_format import MessageToDict\n\
         from metrana_protobuf.ingestion.v1.svc import api_pb2\n\
         m = api_pb2.{message}.FromString(bytes.fromhex('{hex}'))\n\
         print(json.dumps(MessageToDict(m, preserving_proto_field_name=True)))"
    );
    let out = Command::new(python())
        .args(["-c", &script])
        .output()
        .expect("the test interpreter runs (make installs metrana-protobuf into .venv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_handshake_request_decodes_with_the_official_stubs() {
    let request = InitializeRunLoggingRequest {
        run: Some(Run {
            workspace: "research".into(),
            project: "agents".into(),
            run_name: "ppo-1".into(),
            orchestration_identifier: Some("slurm-42".into()),
            ..Default::default()
        }),
        create_project_if_missing: true,
        logger_id: 7,
        resume_policy: ResumePolicy::Allow as i32,
        ..Default::default()
    };
    let decoded = decode_in_python("InitializeRunLoggingRequest", &request.encode_to_vec());
    assert_eq!(
        decoded,
        serde_json::json!({
            "run": {"workspace": "research", "project": "agents", "run_name": "ppo-1",
                    "orchestration_identifier": "slurm-42"},
            "create_project_if_missing": true,
            "logger_id": "7",
            "resume_policy": "RESUME_POLICY_ALLOW"
        })
    );
}

#[test]
fn a_stream_request_keeps_its_session_and_sequence_number() {
    let request = UpdateRunRequest {
        run_id: vec![1, 2, 3],
        logger_id: 7,
        logger_session_id: 99,
        sequence_number: 12,
        ..Default::default()
    };
    let decoded = decode_in_python("UpdateRunRequest", &request.encode_to_vec());
    assert_eq!(decoded["run_id"], "AQID");
    assert_eq!(decoded["logger_session_id"], "99");
    assert_eq!(decoded["sequence_number"], "12");
}

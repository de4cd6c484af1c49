//! Compiles proto/metrana (regenerated from the metrana-protobuf wheel) with tonic/prost, and
//! Telemetron's own lossless record schema (proto/telemetron) and proto/tensorboard (regenerated
//! from the tensorboard wheel) with prost.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=metrana");
    println!("cargo:rerun-if-changed=telemetron");
    println!("cargo:rerun-if-changed=tensorboard");
    tonic_prost_build::configure()
        .build_server(true) // the Rust test server and the client share the types
        .compile_protos(&["metrana/ingestion/v1/svc/api.proto"], &["metrana"])?;
    // Our record schema and TensorBoard's event files: messages only (no service).
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        .compile_protos(&["telemetron/records/v1/records.proto"], &["telemetron"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(false)
        .compile_protos(
            &[
                "tensorboard/compat/proto/event.proto",
                "tensorboard/plugins/hparams/plugin_data.proto",
            ],
            &["."],
        )?;
    Ok(())
}

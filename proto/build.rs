//! Compiles proto/metrana (regenerated from the metrana-protobuf wheel) with tonic/prost.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=metrana");
    tonic_prost_build::configure()
        .build_server(true) // the Rust test server and the client share the types
        .compile_protos(&["metrana/ingestion/v1/svc/api.proto"], &["metrana"])?;
    Ok(())
}

//! gRPC types generated from `proto/metrana` (Metrana's ingestion service, regenerated from the
//! `metrana-protobuf` wheel; see `proto/README.md`).
#![allow(missing_docs, clippy::all, clippy::pedantic)]

/// `metrana_protobuf.*`
pub mod metrana {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("metrana_protobuf.common.v1");
        }
    }
    pub mod ingestion {
        pub mod v1 {
            pub mod types {
                tonic::include_proto!("metrana_protobuf.ingestion.v1.types");
            }
            pub mod svc {
                tonic::include_proto!("metrana_protobuf.ingestion.v1.svc");
            }
        }
    }
}

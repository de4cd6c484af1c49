//! gRPC types generated from `proto/metrana` (Metrana's ingestion service, regenerated from the
//! `metrana-protobuf` wheel; see `proto/README.md`), and TensorBoard's event-file messages from
//! `proto/tensorboard` (regenerated from the `tensorboard` wheel).
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

/// `tensorboard.*`: `Event`, `Summary`, `HistogramProto`, `TensorProto`, and the HParams
/// plugin's `tensorboard.hparams.*`.
pub mod tensorboard {
    tonic::include_proto!("tensorboard");
    pub mod hparams {
        tonic::include_proto!("tensorboard.hparams");
    }
}

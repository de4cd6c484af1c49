//! Types generated from `proto/metrana` (Metrana's ingestion service, regenerated from the
//! `metrana-protobuf` wheel), `proto/telemetron` (Telemetron's own lossless record schema, used
//! by `telemetron-codec`) and `proto/tensorboard` (TensorBoard's event-file messages,
//! regenerated from the `tensorboard` wheel); see `proto/README.md`.
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

/// `telemetron.*`: Telemetron's own schemas.
pub mod telemetron {
    pub mod records {
        /// The lossless record encoding, schema major 1 (`records.proto`).
        pub mod v1 {
            tonic::include_proto!("telemetron.records.v1");
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

//! Records → OpenTelemetry (OTLP) messages: the one mapping that the `otlp` exporter sends over
//! gRPC/HTTP and the `kafka` exporter writes to Kafka topics (`otlp_proto` / `otlp_json`), so
//! both carry exactly the same spans, metrics and log records. The mapping is documented in
//! `exporters/otlp/README.md`.
//!
//! ```
//! use telemetron_otlp_mapping::{Assembled, Assembler};
//! use telemetron_runtime::model::{Attributes, Event, Record, Timestamp};
//! let mut assembler = Assembler::default();
//! let mut out = Assembled::default();
//! let event = Event { span: None, name: "saved".into(), time: Timestamp(1), attributes: Attributes::new() };
//! assembler.add(&Record::from(event), &mut out);
//! assert_eq!(out.logs.len(), 1); // an event outside any span is a log record
//! ```
#![warn(missing_docs)]

mod assembler;
mod metrics;
mod requests;

pub use assembler::{int, key_values, kv, string, wrap, Assembled, Assembler};
pub use requests::{logs_request, metrics_request, resource, scope, trace_request};

/// The generated OTLP types this mapping produces (`opentelemetry-proto`).
pub use opentelemetry_proto;

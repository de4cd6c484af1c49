//! The TensorBoard exporter (`{type: tensorboard, logdir: runs/}`): writes
//! `events.out.tfevents.<time>.<host>.<pid>.<n>` files that TensorBoard reads: metric series as
//! scalars, RL series as one scalar per environment, histograms, the run config in the HParams
//! tab, span durations as scalars, logs and errors as text. The mapping is documented in this
//! crate's README.

mod config;
mod encoder;
mod exporter;
mod service;

pub use config::TensorBoardConfig;
pub use exporter::TensorBoardExporter;
pub use service::{masked_crc32c, tfrecord};

use std::sync::Arc;

use telemetron_plugins::{parse_options, BuildContext, ExporterRegistration, RegistryError};

fn build(
    options: &serde_json::Map<String, serde_json::Value>,
    ctx: &BuildContext<'_>,
) -> Result<telemetron_runtime::ExporterFactory, RegistryError> {
    let config: TensorBoardConfig = parse_options("exporter", "tensorboard", options)?;
    let logdir = config.resolved_logdir(&ctx.run.run_name);
    Ok(Arc::new(move || {
        Box::new(TensorBoardExporter::new(config.clone(), logdir.clone()))
    }))
}

telemetron_plugins::inventory::submit! {
    ExporterRegistration {
        type_name: "tensorboard",
        description: "TensorBoard event files: scalars, histograms, hparams, text",
        secret_keys: &[],
        build,
    }
}

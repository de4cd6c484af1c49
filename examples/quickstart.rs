//! A small fake training loop on the embedded default (the file exporter): nested spans,
//! events, a caught error, and the `span_stats` plugin. Prints where everything went.
//!
//! Run with `make demo` or `cargo run --example quickstart`.

use std::time::Duration;

use telemetron::model::Attributes;
use telemetron::{ConfigLoader, ErrorInfo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loader = ConfigLoader::new()
        .set("project", "quickstart")
        .plugins(vec![serde_json::json!({"type": "span_stats", "every": 50})]);
    let loaded = loader.load()?;
    let runtime = telemetron::start_loaded(&loaded)?;

    {
        let train = runtime.span_with("train", Attributes::new().with("epochs", 3i64)?)?;
        for epoch in 0..3i64 {
            let _epoch = runtime.span_with("epoch", Attributes::new().with("epoch", epoch)?)?;
            for step in 0..20i64 {
                let step_span = runtime.span("train_step")?;
                let loss = 1.0 / (1.0 + (epoch * 20 + step) as f64);
                if step % 10 == 9 {
                    let attrs = Attributes::new().with("loss", loss)?.with("step", step)?;
                    runtime.event(Some(step_span.context()), "metrics", attrs)?;
                }
            }
            // A caught error: recorded on the epoch span, the loop goes on.
            if epoch == 1 {
                let error = ErrorInfo {
                    message: "Error in validation: ".into(),
                    exception_type: Some("ValueError".into()),
                    exception_message: Some("validation set is empty".into()),
                    traceback: None,
                };
                runtime.error(runtime.current_span(), error)?;
            }
            runtime.event(
                runtime.current_span(),
                "checkpoint_saved",
                Attributes::new().with("epoch", epoch)?,
            )?;
        }
        drop(train);
    }

    let report = runtime.close(Duration::from_secs(10))?;
    let totals = report.metrics.runtime_total();
    println!("telemetron quickstart: run {:?}", runtime.run().run_name);
    println!(
        "  records: {} added, {} delivered to the Recorder, {} dropped, {} undelivered at close",
        totals.added,
        totals.sent,
        totals.dropped,
        report.undelivered_records()
    );
    for (name, counters) in &report.metrics.exporters {
        let sent: u64 = counters.values().map(|c| c.sent).sum();
        println!("  exporter {name}: {sent} records written");
    }
    for entry in &loaded.exporters {
        if entry.spec.type_name == "file" {
            let config: telemetron::FileExporterConfig =
                serde_json::from_value(serde_json::Value::Object(entry.spec.options.clone()))?;
            println!(
                "  output: {}",
                config.resolved_path(&runtime.run().run_name).display()
            );
        }
    }
    Ok(())
}

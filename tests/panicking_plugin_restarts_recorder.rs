//! A panic in a recorder plugin is caught at the Recorder's handler boundary; the Recorder is
//! restarted by its supervisor with fresh plugins, and records keep flowing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{test_exporter, Behaviour};
use telemetron::model::{AttributeValue, Attributes, Record};
use telemetron::{
    PluginSlot, PluginVerdict, RecorderPlugin, RunIdentity, Runtime, RuntimeConfig, RuntimeSettings,
};

struct Tagger {
    seen: usize,
}

impl RecorderPlugin for Tagger {
    fn name(&self) -> &str {
        "tagger"
    }

    fn on_record(&mut self, record: &mut Record, _emit: &mut Vec<Record>) -> PluginVerdict {
        self.seen += 1;
        match record {
            Record::Event(e) if e.name == "boom" => panic!("plugin bug"),
            Record::Event(e) if e.name == "secret" => PluginVerdict::Drop,
            Record::Event(e) => {
                // Enrich: how many records this plugin instance has seen.
                e.attributes
                    .insert("seen_by_plugin", self.seen as i64)
                    .unwrap();
                PluginVerdict::Keep
            }
            _ => PluginVerdict::Keep,
        }
    }
}

#[test]
fn a_plugin_panic_restarts_the_recorder_with_fresh_plugins() {
    let built = Arc::new(AtomicUsize::new(0));
    let b = built.clone();
    let plugin = PluginSlot {
        name: "tagger".into(),
        factory: Arc::new(move || {
            b.fetch_add(1, Ordering::SeqCst);
            Box::new(Tagger { seen: 0 })
        }),
    };
    let (capture, seen) = test_exporter("capture", Behaviour::Capture);
    let runtime = Runtime::start(RuntimeConfig {
        settings: RuntimeSettings::default(),
        run: RunIdentity {
            run_name: "plugin-test".into(),
            ..Default::default()
        },
        exporters: vec![capture],
        plugins: vec![plugin],
        codec: None,
    })
    .unwrap();
    let span = runtime
        .start_span("open-across-restart", None, Attributes::new())
        .unwrap();
    for name in ["a", "b", "secret", "c"] {
        runtime.event(None, name, Attributes::new()).unwrap();
    }
    runtime.flush(Duration::from_secs(10)).unwrap();
    runtime.event(None, "boom", Attributes::new()).unwrap();
    runtime.flush(Duration::from_secs(10)).unwrap();
    runtime.event(None, "after", Attributes::new()).unwrap();
    runtime.stop_span(span, Attributes::new()).unwrap();
    let report = runtime.close(Duration::from_secs(10)).unwrap();

    assert_eq!(
        seen.event_names(),
        ["a", "b", "c", "boom", "after"],
        "dropped by the plugin: secret"
    );
    let events = seen.events();
    let tag = |i: usize| events[i].attributes.get("seen_by_plugin").cloned();
    assert_eq!(
        tag(2),
        Some(AttributeValue::I64(5)),
        "enriched by the first instance"
    );
    assert_eq!(
        tag(4),
        Some(AttributeValue::I64(1)),
        "a fresh instance after the restart"
    );
    assert_eq!(built.load(Ordering::SeqCst), 2);
    assert_eq!(report.metrics.panics, 1);
    let stops = seen
        .records
        .lock()
        .iter()
        .filter(|r| matches!(r, Record::SpanStop(_)))
        .count();
    assert_eq!(stops, 1, "a span opened before the restart still closes");
    assert_eq!(
        report.metrics.runtime["event"].dropped, 1,
        "the plugin's drop is counted"
    );
}

//! The `kafka` exporter: encodes each batch into messages and hands them to librdkafka on the
//! exporter's own thread; delivery reports count records as sent or failed later.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use telemetron_otlp_mapping::resource;
use telemetron_runtime::model::{
    ErrorRecord, Event, Record, SpanStart, SpanStop, TelemetryDataError,
};
use telemetron_runtime::{Deliveries, ExportError, Exporter, ExporterContext, RecordBatch};

use crate::config::{Encoding, KafkaConfig};
use crate::encoder::{Encoder, OutMessage};
use crate::service::KafkaService;

/// How long a call asks the brokers for metadata when deliveries have been failing.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `flush` and `close` wait for delivery reports.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything resolved when the exporter was built.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// The options.
    pub config: KafkaConfig,
    /// librdkafka properties (defaults, `producer:`, `bootstrap.servers`).
    pub(crate) properties: std::collections::BTreeMap<String, String>,
    /// OTLP resource attributes (with `service.name`).
    pub(crate) resource: std::collections::BTreeMap<String, String>,
}

struct Connected {
    service: KafkaService,
    encoder: Encoder,
    deliveries: Deliveries,
}

/// A batch being produced: the messages not yet handed to librdkafka.
struct Pending {
    batch: RecordBatch,
    messages: VecDeque<OutMessage>,
}

/// The Kafka exporter.
pub struct KafkaExporter {
    settings: KafkaSettings,
    connected: Option<Connected>,
    pending: Option<Pending>,
}

impl KafkaExporter {
    /// An exporter with resolved settings; the producer is created in `initialize`.
    pub fn new(settings: KafkaSettings) -> Self {
        KafkaExporter {
            settings,
            connected: None,
            pending: None,
        }
    }

    fn one(&mut self, record: Record) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![record]))
    }
}

impl Exporter for KafkaExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        let service = KafkaService::new(&self.settings.properties, ctx.deliveries.clone())?;
        let resource = (self.settings.config.encoding != Encoding::Telemetron)
            .then(|| resource(&self.settings.resource, &ctx.run));
        self.connected = Some(Connected {
            service,
            encoder: Encoder::new(&self.settings.config, ctx.run.clone(), resource),
            deliveries: ctx.deliveries.clone(),
        });
        Ok(())
    }

    /// A producer property librdkafka refuses fails the start (with the property named).
    fn initialize_at_start(&self) -> bool {
        true
    }

    fn acknowledges_later(&self) -> bool {
        true
    }

    /// A broker outage is bridged by the disk spool.
    fn spool_by_default(&self) -> bool {
        true
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.one(Record::SpanStart(Box::new(span.clone())))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.one(Record::SpanStop(Box::new(span.clone())))
    }

    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.one(Record::Event(Box::new(event.clone())))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.one(Record::Error(Box::new(error.clone())))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.one(Record::from(error.clone()))
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let connected = self
            .connected
            .as_mut()
            .ok_or_else(|| ExportError::failed("kafka exporter used before initialize"))?;
        // Deliveries are failing: produce nothing more until the brokers answer again (the
        // wrapper retries this batch and counts the failure against the exporter's health).
        if let Some(reason) = connected.service.failing() {
            if !connected.service.idle() {
                return Err(ExportError::retryable(format!(
                    "kafka: deliveries are failing: {reason}"
                )));
            }
            connected.service.probe(PROBE_TIMEOUT).map_err(|e| {
                ExportError::retryable(format!(
                    "kafka: brokers unreachable ({e}); last delivery failed: {reason}"
                ))
            })?;
        }
        // A retry of the batch in progress produces what is left of it; anything else is new.
        let mut pending = match self.pending.take() {
            Some(p) if p.batch.is_same(batch) => p,
            _ => {
                let encoded = connected.encoder.encode(batch);
                for (kind, count, reason) in encoded.refused.0 {
                    connected.deliveries.rejected(kind, count, &reason);
                }
                for (kind, n) in encoded.nothing_to_send.iter() {
                    connected.deliveries.acknowledged(kind, n);
                }
                Pending {
                    batch: batch.clone(),
                    messages: encoded.messages.into(),
                }
            }
        };
        let wait = Duration::from_secs_f64(self.settings.config.queue_full_wait_secs);
        let deadline = Instant::now() + wait;
        let bytes: u64 = pending
            .messages
            .iter()
            .map(|m| m.payload.len() as u64)
            .sum();
        let full = |what: &str| {
            ExportError::retryable(format!(
                "kafka: the producer queue stayed full for {wait:?} ({what}); the batch waits"
            ))
        };
        if !connected.service.wait_for_room(bytes, deadline) {
            self.pending = Some(pending);
            return Err(full("bytes in flight"));
        }
        while let Some(message) = pending.messages.pop_front() {
            if let Err(back) = connected.service.produce(message, deadline) {
                pending.messages.push_front(back);
                self.pending = Some(pending);
                return Err(full("librdkafka queue"));
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        match &self.connected {
            Some(c) => c.service.flush(FLUSH_TIMEOUT),
            None => Ok(()),
        }
    }

    /// Waits for outstanding deliveries, then gives up on what is left: those records are
    /// counted failed ("purged"), so the close report lists them.
    fn close(&mut self) -> Result<(), ExportError> {
        let Some(connected) = self.connected.take() else {
            return Ok(());
        };
        if let Some(pending) = self.pending.take() {
            for m in pending.messages {
                for (kind, n) in m.tally.iter() {
                    connected
                        .deliveries
                        .failed(kind, n, "not produced before close");
                }
            }
        }
        let flushed = connected.service.flush(FLUSH_TIMEOUT);
        if flushed.is_err() {
            connected.service.purge();
        }
        flushed
    }
}

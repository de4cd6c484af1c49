//! The `otlp` exporter: assembles records into OTLP spans and log records and sends them on
//! the exporter's own thread, through a tokio runtime it owns.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use telemetron_otlp_mapping::{
    logs_request, metrics_request, resource, trace_request, Assembled, Assembler,
};
use telemetron_runtime::model::{
    ErrorRecord, Event, Record, RecordKind, SpanStart, SpanStop, TelemetryDataError,
};
use telemetron_runtime::{Deliveries, ExportError, Exporter, ExporterContext, RecordBatch};

use crate::config::{Signal, SignalTarget};
use crate::transport::{Client, Rejected, TlsFiles};

/// Everything resolved from the config and the environment when the exporter was built.
#[derive(Clone, Debug)]
pub struct OtlpSettings {
    /// Where traces go (`None`: not sent).
    pub traces: Option<SignalTarget>,
    /// Where logs go (`None`: not sent).
    pub logs: Option<SignalTarget>,
    /// Where metrics go (`None`: not sent).
    pub metrics: Option<SignalTarget>,
    /// Resource attributes from the config and `OTEL_*` (with `service.name`).
    pub resource: BTreeMap<String, String>,
    pub(crate) tls: TlsFiles,
}

struct Connected {
    runtime: tokio::runtime::Runtime,
    deliveries: Deliveries,
    traces: Option<Client>,
    logs: Option<Client>,
    metrics: Option<Client>,
    resource: Resource,
}

/// Requests built from one batch; each is dropped once sent, so a retry re-sends only what
/// failed.
struct Prepared {
    batch: RecordBatch,
    traces: Option<ExportTraceServiceRequest>,
    logs: Option<ExportLogsServiceRequest>,
    metrics: Option<ExportMetricsServiceRequest>,
}

/// Open spans past which the exporter warns (once): each holds its start attributes.
const OPEN_SPANS_WARNING: usize = 1_000_000;

/// The OTLP exporter.
pub struct OtlpExporter {
    settings: OtlpSettings,
    connected: Option<Connected>,
    assembler: Assembler,
    prepared: Option<Prepared>,
    warned_open: bool,
}

impl OtlpExporter {
    /// An exporter with resolved settings; it connects in `initialize`.
    pub fn new(settings: OtlpSettings) -> Self {
        OtlpExporter {
            settings,
            connected: None,
            assembler: Assembler::default(),
            prepared: None,
            warned_open: false,
        }
    }

    fn prepare(&mut self, batch: &RecordBatch) -> Prepared {
        let mut out = Assembled::default();
        for record in batch.iter() {
            self.assembler.add(record, &mut out);
        }
        let resource = self.connected.as_ref().map(|c| c.resource.clone());
        let traces = (self.settings.traces.is_some() && !out.spans.is_empty())
            .then(|| trace_request(resource.clone(), std::mem::take(&mut out.spans)));
        let logs = (self.settings.logs.is_some() && !out.logs.is_empty())
            .then(|| logs_request(resource.clone(), out.logs.drain(..)));
        let metrics = (self.settings.metrics.is_some() && !out.metrics.is_empty())
            .then(|| metrics_request(resource, std::mem::take(&mut out.metrics)));
        Prepared {
            batch: batch.clone(),
            traces,
            logs,
            metrics,
        }
    }

    fn send(&mut self, prepared: &mut Prepared) -> Result<(), ExportError> {
        let connected = self
            .connected
            .as_ref()
            .ok_or_else(|| ExportError::failed("otlp exporter used before initialize"))?;
        if let (Some(request), Some(client)) = (prepared.traces.clone(), &connected.traces) {
            let rejected = connected.runtime.block_on(client.send_traces(request))?;
            report_rejected(&connected.deliveries, RecordKind::SpanStop, &rejected);
            prepared.traces = None;
        }
        if let (Some(request), Some(client)) = (prepared.logs.clone(), &connected.logs) {
            let rejected = connected.runtime.block_on(client.send_logs(request))?;
            report_rejected(&connected.deliveries, RecordKind::Log, &rejected);
            prepared.logs = None;
        }
        if let (Some(request), Some(client)) = (prepared.metrics.clone(), &connected.metrics) {
            let rejected = connected.runtime.block_on(client.send_metrics(request))?;
            report_rejected(&connected.deliveries, RecordKind::Metric, &rejected);
            prepared.metrics = None;
        }
        Ok(())
    }
}

/// OTLP partial success: the collector took the request but rejected some items. Spans count
/// as rejected stops (a span is sent at its stop); log-signal items as logs.
fn report_rejected(deliveries: &Deliveries, kind: RecordKind, rejected: &Rejected) {
    if rejected.items > 0 {
        let reason = if rejected.reason.is_empty() {
            "partial success without a message"
        } else {
            rejected.reason.as_str()
        };
        deliveries.rejected(kind, rejected.items.unsigned_abs(), reason);
    }
}

impl Exporter for OtlpExporter {
    /// A collector outage is bridged by the disk spool.
    fn spool_by_default(&self) -> bool {
        true
    }

    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ExportError::failed(format!("tokio runtime: {e}")))?;
        let _inside = runtime.enter();
        let client = |target: &Option<SignalTarget>| {
            target
                .clone()
                .map(|t| Client::new(t, &self.settings.tls))
                .transpose()
        };
        let traces = client(&self.settings.traces)?;
        let logs = client(&self.settings.logs)?;
        let metrics = client(&self.settings.metrics)?;
        let resource = resource(&self.settings.resource, &ctx.run);
        drop(_inside);
        self.connected = Some(Connected {
            runtime,
            deliveries: ctx.deliveries.clone(),
            traces,
            logs,
            metrics,
            resource,
        });
        Ok(())
    }

    fn export_start(&mut self, span: &SpanStart) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![Record::SpanStart(
            Box::new(span.clone()),
        )]))
    }

    fn export_stop(&mut self, span: &SpanStop) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![Record::SpanStop(
            Box::new(span.clone()),
        )]))
    }

    fn export_event(&mut self, event: &Event) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![Record::Event(Box::new(
            event.clone(),
        ))]))
    }

    fn export_error(&mut self, error: &ErrorRecord) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![Record::Error(Box::new(
            error.clone(),
        ))]))
    }

    fn export_telemetry_data_error(
        &mut self,
        error: &TelemetryDataError,
    ) -> Result<(), ExportError> {
        self.export_batch(&RecordBatch::from_records(vec![Record::from(
            error.clone(),
        )]))
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        // A retry of the batch prepared last re-sends what is left of it; anything else is a
        // new batch (the previous one was sent, or given up by the wrapper).
        let mut prepared = match self.prepared.take() {
            Some(p) if p.batch.is_same(batch) => p,
            _ => self.prepare(batch),
        };
        let result = self.send(&mut prepared);
        if matches!(&result, Err(e) if e.is_retryable()) {
            self.prepared = Some(prepared);
        }
        if self.assembler.open_spans() > OPEN_SPANS_WARNING && !self.warned_open {
            // Spans whose stop never arrives (dropped by a full exporter queue) stay here.
            self.warned_open = true;
            tracing::warn!(target: "telemetron::otlp", "over {OPEN_SPANS_WARNING} spans are open in the otlp exporter");
        }
        result
    }
}

/// Which of `signals` are sent by this version.
pub(crate) fn sent(signals: &[Signal], signal: Signal) -> bool {
    signals.contains(&signal)
}

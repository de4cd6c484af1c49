//! The `metrana` exporter: the handshake at start (its cursors seed the runtime's), then
//! batches cut into `UpdateRunRequest`s of at most `max_msg_size` bytes, handed to the sender.

use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
use telemetron_proto::metrana::ingestion::v1::types::CloseRun;
use telemetron_runtime::model::{
    ErrorRecord, Event, Record, RecordKind, SpanStart, SpanStop, TelemetryDataError, TraceId,
};
use telemetron_runtime::{
    Deliveries, ExportError, Exporter, ExporterContext, RecordBatch, RunIdentity,
};

use crate::auth::Auth;
use crate::config::MetranaConfig;
use crate::handshake::initialize_run;
use crate::mapping::{add, approximate_size};
use crate::sender::{Outgoing, Sender};

/// The Metrana exporter.
pub struct MetranaExporter {
    config: MetranaConfig,
    run: RunIdentity,
    run_id: Vec<u8>,
    deliveries: Deliveries,
    sender: Option<Sender>,
    session: u64,
    sequence: u64,
    /// The last batch handed to the sender: a retry of it must not build it twice.
    last_batch: Option<RecordBatch>,
}

impl MetranaExporter {
    /// An exporter that connects in `initialize`.
    pub fn new(config: MetranaConfig) -> Self {
        MetranaExporter {
            config,
            run: RunIdentity::default(),
            run_id: Vec::new(),
            deliveries: Deliveries::detached(),
            sender: None,
            session: TraceId::random().0 as u64 >> 1,
            sequence: 0,
            last_batch: None,
        }
    }

    fn sender(&mut self) -> Result<&mut Sender, ExportError> {
        self.sender
            .as_mut()
            .ok_or_else(|| ExportError::failed("metrana exporter used before initialize"))
    }

    fn next_request(&mut self) -> UpdateRunRequest {
        self.sequence += 1;
        UpdateRunRequest {
            run_id: self.run_id.clone(),
            logger_id: self.run.logger_id,
            logger_session_id: self.session,
            sequence_number: self.sequence,
            ..Default::default()
        }
    }

    /// Builds the batch's requests, cutting one when it reaches `max_msg_size`. Records
    /// Metrana does not carry (spans, events, logs) are acknowledged at once: nothing is
    /// owed for them.
    fn build(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let max = self.config.max_msg_size.max(1);
        let mut request = self.next_request();
        let mut rl = Vec::new();
        let mut records: Vec<(RecordKind, u64)> = Vec::new();
        let mut approximate = 0;
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| ExportError::failed("metrana exporter used before initialize"))?;
        let mut cut = Vec::new();
        for record in batch.iter() {
            if !add(&mut sender.declarations, record, &mut request, &mut rl) {
                self.deliveries.acknowledged(record.kind(), 1);
                continue;
            }
            count(&mut records, record);
            approximate += approximate_size(record);
            // The exact size only when the estimate says it may be due.
            if approximate >= max && request.encoded_len() + rl.len() >= max {
                cut.push((
                    std::mem::take(&mut request),
                    std::mem::take(&mut rl),
                    std::mem::take(&mut records),
                ));
                approximate = 0;
            }
        }
        if !records.is_empty() {
            cut.push((request, rl, records));
        }
        // Sequence numbers and the run go on each part in order.
        self.sequence -= 1;
        for (mut part, rl, records) in cut {
            let header = self.next_request();
            part.run_id = header.run_id;
            part.logger_id = header.logger_id;
            part.logger_session_id = header.logger_session_id;
            part.sequence_number = header.sequence_number;
            let outgoing = Outgoing::new(&part, rl, records);
            self.sender()?.queue(outgoing);
        }
        Ok(())
    }
}

fn count(records: &mut Vec<(RecordKind, u64)>, record: &Record) {
    let kind = record.kind();
    match records.iter_mut().find(|(k, _)| *k == kind) {
        Some((_, n)) => *n += 1,
        None => records.push((kind, 1)),
    }
}

impl Exporter for MetranaExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        self.run = ctx.run.clone();
        self.deliveries = ctx.deliveries.clone();
        // One worker thread of its own: the connection reads acks while this thread waits
        // for the next batch.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("telemetron-metrana-io")
            // Built on the starting (caller's) thread: not inheriting its priority.
            .on_thread_start(telemetron_runtime::lower_thread_priority)
            .enable_all()
            .build()
            .map_err(|e| ExportError::failed(format!("tokio runtime: {e}")))?;
        let mut auth = Auth::new(&runtime, self.config.api_key.as_deref())?;
        let token = auth.token(&runtime)?;
        let initialized = initialize_run(
            &runtime,
            &self.config,
            token.as_deref(),
            &ctx.run,
            &ctx.seeds,
        )?;
        self.run_id = initialized.run_id;
        self.sender = Some(Sender::new(
            runtime,
            initialized.channel,
            auth,
            &self.config,
            ctx.deliveries.clone(),
        ));
        Ok(())
    }

    fn initialize_at_start(&self) -> bool {
        true
    }

    fn acknowledges_later(&self) -> bool {
        true
    }

    fn export_start(&mut self, _: &SpanStart) -> Result<(), ExportError> {
        Ok(())
    }

    fn export_stop(&mut self, _: &SpanStop) -> Result<(), ExportError> {
        Ok(())
    }

    fn export_event(&mut self, _: &Event) -> Result<(), ExportError> {
        Ok(())
    }

    fn export_error(&mut self, _: &ErrorRecord) -> Result<(), ExportError> {
        Ok(())
    }

    fn export_telemetry_data_error(&mut self, _: &TelemetryDataError) -> Result<(), ExportError> {
        Ok(())
    }

    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        // A retry: its requests are queued or unacknowledged already.
        if !self.last_batch.as_ref().is_some_and(|b| b.is_same(batch)) {
            self.build(batch)?;
            self.last_batch = Some(batch.clone());
        }
        self.sender()?.pump()
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        self.sender()?.drain_retrying()
    }

    fn close(&mut self) -> Result<(), ExportError> {
        if self.sender.is_none() {
            return Ok(());
        }
        let mut request = self.next_request();
        request.close_run = Some(CloseRun {
            close_message: None,
        });
        let sender = self.sender()?;
        sender.queue(Outgoing::new(&request, Vec::new(), Vec::new()));
        let drained = sender.drain_retrying();
        sender.end_stream();
        let left = sender.abandon();
        self.sender = None;
        match drained {
            Err(e) if left > 0 => Err(ExportError::failed(format!(
                "{left} records were never acknowledged: {e}"
            ))),
            other => other,
        }
    }
}

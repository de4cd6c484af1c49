//! The `metrana` exporter: the handshake at start (its cursors seed the runtime's), then
//! batches cut into `UpdateRunRequest`s of at most `max_msg_size` bytes, handed to the sender.

use std::time::{Duration, Instant};

use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunRequest;
use telemetron_proto::metrana::ingestion::v1::types::CloseRun;
use telemetron_runtime::model::{Record, TraceId};
use telemetron_runtime::{
    Count, Deliveries, DeliveryId, ExportError, Exporter, ExporterContext, KindCounts, RecordBatch,
    RunIdentity, Unacknowledged,
};

use crate::auth::Auth;
use crate::config::MetranaConfig;
use crate::handshake::initialize_run;
use crate::mapping::{add, approximate_size};
use crate::resume::{Stored, StoredSteps};
use crate::sender::{Origin, Outgoing, Sender};

/// How long `close()` without a deadline waits for acknowledgements (the default
/// `close_timeout_secs`); the runtime calls `close_by` with its own.
const DEFAULT_CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The Metrana exporter.
pub struct MetranaExporter {
    config: MetranaConfig,
    run: RunIdentity,
    run_id: Vec<u8>,
    deliveries: Deliveries,
    sender: Option<Sender>,
    session: u64,
    sequence: u64,
    /// Batches taken so far (the id of the newest).
    batches: u64,
    /// A disk spool backs this exporter: what is unacknowledged at close is handed back to
    /// it rather than dropped.
    spooled: bool,
    /// What the run had at the handshake (forwarded points already there are not re-sent).
    stored: StoredSteps,
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
            batches: 0,
            spooled: false,
            stored: StoredSteps::default(),
        }
    }

    /// Sends what waits. A final error (the server refuses this client: unauthenticated,
    /// permission denied, ...) drops every request waiting, counted as dropped, except those of
    /// batch `current`, which the wrapper counts as failed.
    fn pump(&mut self, current: Option<u64>) -> Result<(), ExportError> {
        let sender = self.sender()?;
        match sender.pump() {
            Err(e) if !e.is_retryable() => {
                sender.discard(current, &e.to_string());
                Err(e)
            }
            done => done,
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
    fn build(&mut self, batch: &RecordBatch, id: u64) -> Result<(), ExportError> {
        let max = self.config.max_msg_size.max(1);
        let mut request = self.next_request();
        let mut rl = Vec::new();
        let mut records = KindCounts::default();
        let mut positions: Vec<u32> = Vec::new();
        let mut approximate = 0;
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| ExportError::failed("metrana exporter used before initialize"))?;
        let mut cut = Vec::new();
        for (position, record) in batch.iter().enumerate() {
            let rest;
            let record = match self.stored.of(record) {
                Stored::Nothing => record,
                // Already stored (a forwarded record read again): delivered, points and all.
                Stored::All => {
                    self.deliveries
                        .acknowledged(record.kind(), Count::of(record));
                    continue;
                }
                Stored::Part(points) => {
                    rest = Record::from(points);
                    let stored = record.data_points() - rest.data_points();
                    self.deliveries.acknowledged(
                        record.kind(),
                        Count {
                            records: 0,
                            points: stored,
                        },
                    );
                    &rest
                }
            };
            if !add(&mut sender.declarations, record, &mut request, &mut rl) {
                self.deliveries.acknowledged(record.kind(), 1);
                continue;
            }
            records.add_record(record);
            positions.push(position as u32);
            approximate += approximate_size(record);
            // The exact size only when the estimate says it may be due.
            if approximate >= max && request.encoded_len() + rl.len() >= max {
                cut.push((
                    std::mem::take(&mut request),
                    std::mem::take(&mut rl),
                    std::mem::take(&mut records),
                    std::mem::take(&mut positions),
                ));
                approximate = 0;
            }
        }
        if !records.is_empty() {
            cut.push((request, rl, records, positions));
        }
        // Sequence numbers and the run go on each part in order.
        self.sequence -= 1;
        for (mut part, rl, records, positions) in cut {
            let header = self.next_request();
            part.run_id = header.run_id;
            part.logger_id = header.logger_id;
            part.logger_session_id = header.logger_session_id;
            part.sequence_number = header.sequence_number;
            let origin = Origin::Live(batch.clone(), positions);
            let outgoing = Outgoing::new(&part, rl, records, id, origin);
            self.sender()?.queue(outgoing);
        }
        Ok(())
    }
}

impl Exporter for MetranaExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        self.run = ctx.run.clone();
        self.deliveries = ctx.deliveries.clone();
        self.spooled = ctx.spooled;
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
        self.stored = initialized.stored;
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

    fn spool_by_default(&self) -> bool {
        true
    }

    /// One request per frame, under the frame's identity (its writer's logger id, session and
    /// sequence number): a frame re-sent after a crash is acknowledged by the server without
    /// being applied twice. Unlike `export_batch`, a broken stream is an error here: the spool
    /// keeps the frame and tries again later.
    fn export_spooled(&mut self, batch: &RecordBatch, id: DeliveryId) -> Result<(), ExportError> {
        let sender = self.sender()?;
        if sender.backlog() >= 2 * sender.window() {
            self.pump(None)?;
        }
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| ExportError::failed("metrana exporter used before initialize"))?;
        let mut request = UpdateRunRequest {
            run_id: self.run_id.clone(),
            logger_id: id.logger_id,
            logger_session_id: id.session,
            sequence_number: id.sequence,
            ..Default::default()
        };
        let mut rl = Vec::new();
        let mut records = KindCounts::default();
        for record in batch.iter() {
            if add(&mut sender.declarations, record, &mut request, &mut rl) {
                records.add_record(record);
            } else {
                self.deliveries.acknowledged(record.kind(), 1);
            }
        }
        if records.is_empty() {
            self.deliveries.settled(id);
            return Ok(());
        }
        sender.queue(Outgoing::new(&request, rl, records, 0, Origin::Spooled(id)));
        self.pump(None)
    }

    /// The requests not acknowledged: those built from batches go back with the records they
    /// carry and the (session, sequence) they went out under; spooled frames are forgotten
    /// (the spool holds them).
    fn take_unacknowledged(&mut self) -> Vec<Unacknowledged> {
        let Some(sender) = self.sender.as_mut() else {
            return Vec::new();
        };
        let mut back = Vec::new();
        for outgoing in sender.take_all() {
            if let Origin::Live(batch, positions) = outgoing.origin {
                let all: Vec<&Record> = batch.iter().collect();
                let records: Vec<Record> = positions
                    .iter()
                    .filter_map(|p| all.get(*p as usize).map(|r| (*r).clone()))
                    .collect();
                back.push(Unacknowledged {
                    records,
                    sent_as: Some(outgoing.sent_as),
                });
            }
        }
        back
    }

    /// A batch is taken only when the sender has room for it (at most twice its window of
    /// requests waiting): with the server away, batches wait in the runtime's bounded queue,
    /// where backpressure and the wrapper's retries apply, and one the wrapper gives up on was
    /// never sent, so `failed` is exact. A batch taken is the sender's: a transient failure
    /// after that is not an error, as it is re-sent with the backlog on the next batch, flush or
    /// close.
    fn export_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let sender = self.sender()?;
        if sender.backlog() >= 2 * sender.window() {
            self.pump(None)?;
        }
        self.batches += 1;
        let id = self.batches;
        self.build(batch, id)?;
        match self.pump(Some(id)) {
            Err(e) if e.is_retryable() => {
                tracing::debug!(target: "telemetron", "metrana: {e}; re-sent with the backlog");
                Ok(())
            }
            done => done,
        }
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        let sender = self.sender()?;
        match sender.drain_retrying() {
            Err(e) if !e.is_retryable() => {
                sender.discard(None, &e.to_string());
                Err(e)
            }
            done => done,
        }
    }

    fn close(&mut self) -> Result<(), ExportError> {
        self.close_by(Instant::now() + DEFAULT_CLOSE_WAIT)
    }

    /// Sends `CloseRun` and waits for every acknowledgement, reconnecting while the server
    /// refuses, until `deadline` (the one `close(timeout)` gave). What is still unacknowledged
    /// then is counted as dropped and the error says the deadline passed.
    fn close_by(&mut self, deadline: Instant) -> Result<(), ExportError> {
        if self.sender.is_none() {
            return Ok(());
        }
        let mut request = self.next_request();
        request.close_run = Some(CloseRun {
            close_message: None,
        });
        let spooled = self.spooled;
        let sender = self.sender()?;
        sender.queue(Outgoing::new(
            &request,
            Vec::new(),
            KindCounts::default(),
            0,
            Origin::Nothing,
        ));
        let drained = sender.drain_by(deadline);
        // With a spool, what is unacknowledged goes there (`take_unacknowledged`), not lost.
        if spooled && drained.is_err() {
            return match drained {
                Err(ExportError::DeadlinePassed(last)) => {
                    Err(ExportError::deadline_passed(format!(
                        "not acknowledged by the deadline, kept for the spool (last error: {last})"
                    )))
                }
                other => other,
            };
        }
        let reason = match &drained {
            Ok(()) => String::new(),
            Err(ExportError::DeadlinePassed(last)) => {
                format!("never acknowledged before the close deadline (last error: {last})")
            }
            Err(e) => format!("never acknowledged before close: {e}"),
        };
        // Counted as dropped: the close report lists them as undelivered.
        let left = sender.discard(None, &reason);
        self.sender = None;
        match drained {
            Err(ExportError::DeadlinePassed(last)) => Err(ExportError::deadline_passed(format!(
                "{left} records were never acknowledged (last error: {last})"
            ))),
            Err(e) if left > 0 => Err(ExportError::failed(format!(
                "{left} records were never acknowledged: {e}"
            ))),
            other => other,
        }
    }
}

//! The `metrana` exporter: the `InitializeRunLogging` handshake, then one bidi
//! `UpdateRunStream` per session with sequence numbers, a window of unacknowledged requests,
//! in-order acks, pacing, and re-sending what was not acknowledged on a new stream.

use std::collections::VecDeque;
use std::time::Duration;

use telemetron_proto::metrana::ingestion::v1::svc::{
    ingest_service_client::IngestServiceClient, initialize_run_logging_response,
    InitializeRunLoggingRequest, ResumePolicy, UpdateRunRequest, UpdateRunResponse,
};
use telemetron_proto::metrana::ingestion::v1::types::{CloseRun, Run};
use telemetron_runtime::model::{
    ErrorRecord, Event, SpanStart, SpanStop, TelemetryDataError, TraceId,
};
use telemetron_runtime::{ExportError, Exporter, ExporterContext, RecordBatch, RunIdentity};
use tokio::sync::mpsc;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use crate::config::{MetranaConfig, ResumeStrategy};
use crate::mapping::{add, Declarations};

struct Stream {
    tx: mpsc::UnboundedSender<UpdateRunRequest>,
    acks: tonic::Streaming<UpdateRunResponse>,
    /// Requests sent on this stream and not yet acknowledged.
    in_flight: usize,
}

struct Connection {
    runtime: tokio::runtime::Runtime,
    client: IngestServiceClient<Channel>,
    run_id: Vec<u8>,
    stream: Option<Stream>,
}

/// The Metrana exporter.
pub struct MetranaExporter {
    config: MetranaConfig,
    run: RunIdentity,
    connection: Option<Connection>,
    declarations: Declarations,
    session: u64,
    sequence: u64,
    /// Sent and not acknowledged, oldest first: re-sent on a new stream.
    unacked: VecDeque<UpdateRunRequest>,
    /// The batch whose request is in `unacked`: a retry of it must not build it twice.
    last_batch: Option<RecordBatch>,
    pacing: Duration,
}

impl MetranaExporter {
    /// An exporter that connects in `initialize`.
    pub fn new(config: MetranaConfig) -> Self {
        MetranaExporter {
            config,
            run: RunIdentity::default(),
            connection: None,
            declarations: Declarations::default(),
            session: TraceId::random().0 as u64 >> 1,
            sequence: 0,
            unacked: VecDeque::new(),
            last_batch: None,
            pacing: Duration::ZERO,
        }
    }

    fn authorize<T>(&self, message: T) -> Result<tonic::Request<T>, ExportError> {
        let mut request = tonic::Request::new(message);
        if let Some(key) = &self.config.api_key {
            let value = MetadataValue::try_from(format!("Bearer {key}"))
                .map_err(|_| ExportError::failed("the api_key is not a valid header value"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    fn handshake(&mut self, ctx: &ExporterContext) -> Result<Connection, ExportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ExportError::failed(format!("tokio runtime: {e}")))?;
        let timeout = Duration::from_secs_f64(self.config.init_timeout_secs.max(0.001));
        let endpoint = Endpoint::from_shared(self.config.endpoint.clone())
            .map_err(|e| ExportError::failed(format!("endpoint {}: {e}", self.config.endpoint)))?
            .connect_timeout(timeout);
        let run = &ctx.run;
        let (Some(workspace), Some(project)) = (&run.workspace, &run.project) else {
            return Err(ExportError::failed(
                "the metrana exporter needs the workspace and project settings",
            ));
        };
        let request = self.authorize(InitializeRunLoggingRequest {
            run: Some(Run {
                workspace: workspace.clone(),
                project: project.clone(),
                run_name: run.run_name.clone(),
                experiment: run.experiment.clone(),
                orchestration_identifier: Some(run.orchestration_id.clone()),
                ..Default::default()
            }),
            create_project_if_missing: self.config.create_project_if_missing,
            logger_id: run.logger_id,
            resume_policy: match self.config.resume_strategy {
                ResumeStrategy::Never => ResumePolicy::Never,
                ResumeStrategy::Allow => ResumePolicy::Allow,
            } as i32,
            ..Default::default()
        })?;
        let endpoint_name = self.config.endpoint.clone();
        let (client, initialized) = runtime.block_on(async {
            tokio::time::timeout(timeout, async {
                let channel = endpoint.connect().await.map_err(|e| {
                    ExportError::retryable(format!("cannot reach Metrana at {endpoint_name}: {e}"))
                })?;
                let mut client = IngestServiceClient::new(channel);
                let mut responses = client
                    .initialize_run_logging(request)
                    .await
                    .map_err(|s| status_error("InitializeRunLogging", &s))?
                    .into_inner();
                let mut initialized = None;
                while let Some(message) = responses
                    .message()
                    .await
                    .map_err(|s| status_error("InitializeRunLogging", &s))?
                {
                    if let Some(initialize_run_logging_response::Msg::InitializedRun(run)) =
                        message.msg
                    {
                        initialized = Some(run);
                    }
                }
                Ok::<_, ExportError>((client, initialized))
            })
            .await
            .map_err(|_| {
                ExportError::retryable(format!(
                    "the Metrana handshake did not finish within {timeout:?}"
                ))
            })?
        })?;
        let initialized = initialized
            .ok_or_else(|| ExportError::failed("the handshake returned no initialized run"))?;
        if !initialized.created && self.config.resume_strategy == ResumeStrategy::Never {
            match initialized.orchestration_identifier.as_deref() {
                None => {
                    return Err(ExportError::failed(format!(
                        "RunAlreadyExists: run {} cannot be confirmed to belong to this job \
                         (it has no orchestration id); resume_strategy: allow continues into it",
                        run.run_name
                    )))
                }
                Some(theirs) if theirs != run.orchestration_id => {
                    return Err(ExportError::failed(format!(
                        "OrchestrationIdMismatch: run {} belongs to job {theirs}, this job is {}; \
                         resume_strategy: allow continues into it",
                        run.run_name, run.orchestration_id
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(Connection {
            runtime,
            client,
            run_id: initialized.run_id,
            stream: None,
        })
    }

    /// Sends `request` (kept until acknowledged). Without an open stream, opens one and sends
    /// every unacknowledged request on it first, the first of them carrying every declaration
    /// (declarations live as long as a stream). The requests are queued before the call is
    /// made: the server answers the call only once it has a first request.
    fn submit(&mut self, request: UpdateRunRequest) -> Result<(), ExportError> {
        if !self.pacing.is_zero() {
            std::thread::sleep(self.pacing);
        }
        self.unacked.push_back(request);
        let window = self.config.max_pending_requests.max(1);
        let connection = self
            .connection
            .as_mut()
            .ok_or_else(|| ExportError::failed("metrana exporter used before initialize"))?;
        match connection.stream.as_mut() {
            Some(stream) => {
                let newest = self.unacked.back().cloned().unwrap_or_default();
                if stream.tx.send(newest).is_err() {
                    return Err(self.broken("the stream closed while sending"));
                }
                stream.in_flight += 1;
            }
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                let mut declarations = self.declarations.all();
                for request in &self.unacked {
                    let mut request = request.clone();
                    if !declarations.is_empty() {
                        request.series_declarations = std::mem::take(&mut declarations);
                    }
                    // The receiver is alive until the call below ends.
                    let _ = tx.send(request);
                }
                let mut client = connection.client.clone();
                let call =
                    connection.runtime.block_on(client.update_run_stream(
                        tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
                    ));
                let acks = match call {
                    Ok(response) => response.into_inner(),
                    Err(status) => {
                        // The server may refuse the first request before answering the call.
                        let error = status_error("UpdateRunStream", &status);
                        if !error.is_retryable() {
                            self.refuse_oldest();
                        }
                        return Err(error);
                    }
                };
                connection.stream = Some(Stream {
                    tx,
                    acks,
                    in_flight: self.unacked.len(),
                });
            }
        }
        while self.stream_in_flight() > window {
            self.await_ack()?;
        }
        Ok(())
    }

    fn stream_in_flight(&self) -> usize {
        self.connection
            .as_ref()
            .and_then(|c| c.stream.as_ref())
            .map_or(0, |s| s.in_flight)
    }

    fn await_ack(&mut self) -> Result<(), ExportError> {
        let connection = self.connection.as_mut().expect("connected");
        let stream = connection.stream.as_mut().expect("stream open");
        match connection.runtime.block_on(stream.acks.message()) {
            Ok(Some(ack)) => {
                stream.in_flight -= 1;
                self.unacked.pop_front();
                self.pacing = Duration::from_millis(u64::from(ack.pacing_delay_ms));
                Ok(())
            }
            Ok(None) => Err(self.broken("the server ended the stream")),
            Err(status) => {
                let error = status_error("UpdateRunStream", &status);
                self.connection.as_mut().expect("connected").stream = None;
                if !error.is_retryable() {
                    self.refuse_oldest();
                }
                Err(error)
            }
        }
    }

    /// Acks come in order: a refusal is the oldest unacknowledged request's. Re-sending it (or
    /// the declarations it introduced, which every new stream repeats) would fail every later
    /// stream too: it is dropped, and its error reported.
    fn refuse_oldest(&mut self) {
        if let Some(refused) = self.unacked.pop_front() {
            self.declarations.forget(&refused.series_declarations);
        }
    }

    /// Drops the stream: its unacknowledged requests are re-sent on the next one.
    fn broken(&mut self, why: &str) -> ExportError {
        if let Some(c) = self.connection.as_mut() {
            c.stream = None;
        }
        ExportError::retryable(format!("Metrana stream: {why}"))
    }

    /// Waits for every acknowledgement (re-opening the stream for leftovers first).
    fn drain(&mut self) -> Result<(), ExportError> {
        let stream_open = self.connection.as_ref().is_some_and(|c| c.stream.is_some());
        if !stream_open {
            if let Some(last) = self.unacked.pop_back() {
                self.submit(last)?;
            }
        }
        while self.stream_in_flight() > 0 {
            self.await_ack()?;
        }
        Ok(())
    }

    /// `drain`, reconnecting after retryable failures (flush and close are not retried by the
    /// exporter wrapper): up to 8 attempts, backing off from 50 ms.
    /// A refused request is dropped (and its error returned at the end) while the requests
    /// after it are still delivered.
    fn drain_retrying(&mut self) -> Result<(), ExportError> {
        let mut backoff = Duration::from_millis(50);
        let mut attempt = 0;
        let mut refused = None;
        // Each refusal drops one request: bounded by what is waiting, plus the retries.
        let mut refusals_left = self.unacked.len();
        loop {
            match self.drain() {
                Ok(()) => return refused.map_or(Ok(()), Err),
                Err(e) if !e.is_retryable() && refusals_left > 0 && !self.unacked.is_empty() => {
                    refusals_left -= 1;
                    refused.get_or_insert(e);
                }
                Err(e) if e.is_retryable() && attempt < 8 => {
                    attempt += 1;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(refused.unwrap_or(e)),
            }
        }
    }

    fn next_request(&mut self) -> UpdateRunRequest {
        self.sequence += 1;
        UpdateRunRequest {
            run_id: self
                .connection
                .as_ref()
                .map(|c| c.run_id.clone())
                .unwrap_or_default(),
            logger_id: self.run.logger_id,
            logger_session_id: self.session,
            sequence_number: self.sequence,
            ..Default::default()
        }
    }
}

fn status_error(rpc: &str, status: &tonic::Status) -> ExportError {
    use tonic::Code;
    let message = format!("Metrana {rpc}: {:?}: {}", status.code(), status.message());
    match status.code() {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Cancelled
        | Code::Unknown => ExportError::retryable(message),
        _ => ExportError::failed(message),
    }
}

impl Exporter for MetranaExporter {
    fn initialize(&mut self, ctx: &ExporterContext) -> Result<(), ExportError> {
        self.run = ctx.run.clone();
        let connection = self.handshake(ctx)?;
        self.connection = Some(connection);
        Ok(())
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
        if self.last_batch.as_ref().is_some_and(|b| b.is_same(batch)) {
            // A retry: its request is among the unacknowledged ones; re-send them.
            return self.drain();
        }
        let mut request = self.next_request();
        let mut any = false;
        for record in batch.iter() {
            any |= add(&mut self.declarations, record, &mut request);
        }
        if !any {
            self.sequence -= 1;
            return Ok(());
        }
        self.last_batch = Some(batch.clone());
        self.submit(request)
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        self.drain_retrying()
    }

    fn close(&mut self) -> Result<(), ExportError> {
        if self.connection.is_none() {
            return Ok(());
        }
        let mut request = self.next_request();
        request.close_run = Some(CloseRun {
            close_message: None,
        });
        // Queued first: a broken stream is re-opened with it among the unacknowledged.
        if self.submit(request).is_err() {
            if let Some(c) = self.connection.as_mut() {
                c.stream = None;
            }
        }
        self.drain_retrying()?;
        if let Some(c) = self.connection.as_mut() {
            c.stream = None;
        }
        self.connection = None;
        Ok(())
    }
}

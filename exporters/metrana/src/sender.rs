//! One bidi `UpdateRunStream` at a time: requests in order, a window of unacknowledged ones,
//! acks in order (each acknowledging its records to the runtime), pacing, and a new stream that
//! re-sends everything unacknowledged when one breaks.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::{UpdateRunRequest, UpdateRunResponse};
use telemetron_runtime::{Deliveries, ExportError};
use tokio::sync::mpsc;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

use crate::auth::Auth;
use crate::codec::update_run_stream;
use crate::config::{Compression, MetranaConfig};
use crate::mapping::Declarations;
pub(crate) use crate::outgoing::{Origin, Outgoing};
use crate::transport::{authorize, status_error};

struct Stream {
    tx: mpsc::UnboundedSender<Bytes>,
    acks: tonic::Streaming<UpdateRunResponse>,
    /// Requests sent on this stream and not yet acknowledged.
    in_flight: usize,
}

/// How long the rest of a call the server ended is read for (it is normally there already).
const CLOSED_STREAM_WAIT: Duration = Duration::from_secs(1);

pub(crate) struct Sender {
    runtime: tokio::runtime::Runtime,
    grpc: tonic::client::Grpc<Channel>,
    auth: Auth,
    window: usize,
    ack_stall: Option<Duration>,
    deliveries: Deliveries,
    stream: Option<Stream>,
    /// Built and not sent yet, oldest first.
    queued: VecDeque<Outgoing>,
    /// Sent and not acknowledged, oldest first: re-sent on a new stream.
    unacked: VecDeque<Outgoing>,
    pub declarations: Declarations,
    /// The server's `pacing_delay_ms`, waited before each request.
    pacing: Duration,
    /// The server's `write_limit_bytes_per_second`.
    write_limit: Option<u64>,
    /// When the write limit lets the next request go.
    next_send: Instant,
    /// While closing: no wait (acks, a new stream) goes past this.
    deadline: Option<Instant>,
}

impl Sender {
    pub(crate) fn new(
        runtime: tokio::runtime::Runtime,
        channel: Channel,
        auth: Auth,
        config: &MetranaConfig,
        deliveries: Deliveries,
    ) -> Self {
        let grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let grpc = match config.compression {
            Compression::None => grpc,
            Compression::Gzip => grpc.send_compressed(CompressionEncoding::Gzip),
            Compression::Zstd => grpc.send_compressed(CompressionEncoding::Zstd),
        };
        Sender {
            runtime,
            grpc,
            auth,
            window: config.max_pending_requests.max(1),
            ack_stall: config
                .ack_stall_timeout_secs
                .map(|s| Duration::from_secs_f64(s.max(0.001))),
            deliveries,
            stream: None,
            queued: VecDeque::new(),
            unacked: VecDeque::new(),
            declarations: Declarations::default(),
            pacing: Duration::ZERO,
            write_limit: None,
            next_send: Instant::now(),
            deadline: None,
        }
    }

    pub(crate) fn queue(&mut self, outgoing: Outgoing) {
        self.queued.push_back(outgoing);
    }

    /// Sends what is queued, waiting for acks whenever the window is full. A broken stream is
    /// re-opened first, re-sending what it left unacknowledged.
    pub(crate) fn pump(&mut self) -> Result<(), ExportError> {
        if self.stream.is_none() && !self.unacked.is_empty() {
            self.open()?;
        }
        while let Some(next) = self.queued.pop_front() {
            self.pace(next.encoded.len());
            self.unacked.push_back(next);
            match self.stream.as_mut() {
                Some(stream) => {
                    let newest = self.unacked.back().map(|o| o.encoded.clone());
                    if stream.tx.send(newest.unwrap_or_default()).is_ok() {
                        stream.in_flight += 1;
                    } else if self.refusal_ended_stream()? {
                        // The server refused an older request and ended the call: that one
                        // is dropped and reported; the rest, this one included, go out again.
                        self.open()?;
                    } else {
                        return Err(self.broken("the stream closed while sending"));
                    }
                }
                None => self.open()?,
            }
            self.take_ready_acks()?;
            while self.in_flight() > self.window {
                self.await_ack()?;
            }
        }
        Ok(())
    }

    /// Sends everything and waits until all of it is acknowledged (or refused).
    pub(crate) fn drain(&mut self) -> Result<(), ExportError> {
        loop {
            self.pump()?;
            if self.unacked.is_empty() {
                return Ok(());
            }
            self.await_ack()?;
        }
    }

    /// `drain`, reconnecting after transient failures (flush and close are not retried by
    /// the exporter wrapper): up to 8 attempts, backing off from 50 ms to 2 s.
    pub(crate) fn drain_retrying(&mut self) -> Result<(), ExportError> {
        let mut backoff = Duration::from_millis(50);
        let mut attempt = 0;
        loop {
            match self.drain() {
                Err(e) if e.is_retryable() && attempt < 8 => {
                    attempt += 1;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                done => return done,
            }
        }
    }

    /// `drain`, reconnecting after transient failures until `deadline` (close's: the wait is the
    /// one the caller gave, not a fixed number of attempts). When the deadline comes first the
    /// error is [`ExportError::deadline_passed`] with the last failure.
    pub(crate) fn drain_by(&mut self, deadline: Instant) -> Result<(), ExportError> {
        self.deadline = Some(deadline);
        let mut backoff = Duration::from_millis(50);
        let result = loop {
            match self.drain() {
                Err(e) if e.is_retryable() => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Err(ExportError::deadline_passed(e.to_string()));
                    }
                    std::thread::sleep(backoff.min(left));
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                done => break done,
            }
        };
        self.deadline = None;
        result
    }

    /// How long a wait for the server may last: the ack-stall watchdog, and no later than the
    /// close deadline. `Err` when the deadline has passed.
    fn wait_limit(&self) -> Result<Option<Duration>, ExportError> {
        let Some(deadline) = self.deadline else {
            return Ok(self.ack_stall);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ExportError::deadline_passed(format!(
                "Metrana stream: {} requests not acknowledged",
                self.unacked.len()
            )));
        }
        Ok(Some(self.ack_stall.map_or(left, |stall| stall.min(left))))
    }

    /// Requests built and not acknowledged yet.
    pub(crate) fn backlog(&self) -> usize {
        self.queued.len() + self.unacked.len()
    }

    /// The window: requests in flight before the sender waits for acks.
    pub(crate) fn window(&self) -> usize {
        self.window
    }

    /// Drops every request not acknowledged, counting its records as dropped for `reason`,
    /// except those of batch `except` (the wrapper counts that batch as failed itself). Returns
    /// how many records were dropped.
    pub(crate) fn discard(&mut self, except: Option<u64>, reason: &str) -> u64 {
        self.stream = None;
        let mut dropped = 0;
        for o in self.queued.drain(..).chain(self.unacked.drain(..)) {
            if Some(o.batch) == except {
                continue;
            }
            for (kind, n) in o.records {
                self.deliveries.rejected(kind, n, reason);
                dropped += n.records;
            }
        }
        dropped
    }

    fn in_flight(&self) -> usize {
        self.stream.as_ref().map_or(0, |s| s.in_flight)
    }

    /// Waits as the server asked: its pacing delay, and its write limit in bytes per second.
    fn pace(&mut self, bytes: usize) {
        // Never past the close deadline.
        let cap = |wait: Duration| match self.deadline {
            Some(deadline) => wait.min(deadline.saturating_duration_since(Instant::now())),
            None => wait,
        };
        if !self.pacing.is_zero() {
            std::thread::sleep(cap(self.pacing));
        }
        if let Some(limit) = self.write_limit.filter(|l| *l > 0) {
            let now = Instant::now();
            if self.next_send > now {
                std::thread::sleep(cap(self.next_send - now));
            }
            let cost = Duration::from_secs_f64(bytes as f64 / limit as f64);
            self.next_send = self.next_send.max(now) + cost;
        }
    }

    /// Opens a stream and sends every unacknowledged request on it, the first carrying every
    /// declaration (declarations live as long as a stream). The requests are queued before
    /// the call is made: the server answers the call only once it has a first request.
    fn open(&mut self) -> Result<(), ExportError> {
        let (tx, rx) = mpsc::unbounded_channel();
        // Every declaration goes ahead of the first request, in the same message: encoded
        // protobuf messages merge when concatenated (repeated fields append).
        let declarations = UpdateRunRequest {
            series_declarations: self.declarations.all(),
            ..Default::default()
        };
        for (i, outgoing) in self.unacked.iter().enumerate() {
            let encoded = if i == 0 && !declarations.series_declarations.is_empty() {
                let mut first =
                    BytesMut::with_capacity(declarations.encoded_len() + outgoing.encoded.len());
                declarations.encode_raw(&mut first);
                first.extend_from_slice(&outgoing.encoded);
                first.freeze()
            } else {
                outgoing.encoded.clone()
            };
            // The receiver is alive until the call below ends.
            let _ = tx.send(encoded);
        }
        let token = self.auth.token(&self.runtime)?;
        let requests = authorize(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
            token.as_deref(),
        )?;
        let mut grpc = self.grpc.clone();
        let call = update_run_stream(&mut grpc, requests);
        let limit = self.wait_limit()?;
        let answered = match limit {
            // A server may answer the call only with its first ack: the watchdog bounds it.
            Some(limit) => self
                .runtime
                .block_on(async { tokio::time::timeout(limit, call).await }),
            None => Ok(self.runtime.block_on(call)),
        };
        let Ok(answered) = answered else {
            self.wait_limit()?;
            return Err(self.broken(&format!(
                "the stream was not answered within {:?} (ack_stall_timeout_secs)",
                self.ack_stall.unwrap_or_default()
            )));
        };
        match answered {
            Ok(response) => {
                self.stream = Some(Stream {
                    tx,
                    acks: response.into_inner(),
                    in_flight: self.unacked.len(),
                });
                Ok(())
            }
            // The server may refuse the first request before answering the call.
            Err(status) => self.failed(&status),
        }
    }

    /// Takes the acks that arrived already, without waiting: `sent` stays current while
    /// batches keep coming.
    fn take_ready_acks(&mut self) -> Result<(), ExportError> {
        use futures::FutureExt;
        while self.in_flight() > 0 {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(());
            };
            match stream.acks.message().now_or_never() {
                Some(outcome) => self.on_ack(outcome)?,
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// Waits for the next ack; the watchdog breaks a stream whose acks stall.
    fn await_ack(&mut self) -> Result<(), ExportError> {
        if self.stream.is_none() {
            return Ok(());
        }
        let limit = self.wait_limit()?;
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let next = stream.acks.message();
        let outcome = match limit {
            Some(limit) => self
                .runtime
                .block_on(async { tokio::time::timeout(limit, next).await }),
            None => Ok(self.runtime.block_on(next)),
        };
        match outcome {
            Ok(outcome) => self.on_ack(outcome),
            Err(_) => {
                // The close deadline, not a stalled stream.
                self.wait_limit()?;
                Err(self.broken(&format!(
                    "no acknowledgement for {:?} with {} requests in flight \
                     (ack_stall_timeout_secs)",
                    self.ack_stall.unwrap_or_default(),
                    self.in_flight()
                )))
            }
        }
    }

    fn on_ack(
        &mut self,
        outcome: Result<Option<UpdateRunResponse>, tonic::Status>,
    ) -> Result<(), ExportError> {
        match outcome {
            Ok(Some(ack)) => {
                if let Some(stream) = self.stream.as_mut() {
                    stream.in_flight -= 1;
                }
                if let Some(done) = self.unacked.pop_front() {
                    for (kind, n) in done.records {
                        self.deliveries.acknowledged(kind, n);
                    }
                    if let Origin::Spooled(id) = done.origin {
                        self.deliveries.settled(id);
                    }
                }
                self.pacing = Duration::from_millis(u64::from(ack.pacing_delay_ms));
                self.write_limit = ack.write_limit_bytes_per_second;
                Ok(())
            }
            Ok(None) => Err(self.broken("the server ended the stream")),
            Err(status) => self.failed(&status),
        }
    }

    /// The stream failed with `status`. Acks come in order, so a refusal of the data
    /// (invalid argument, failed precondition, ...) is the oldest unacknowledged request's:
    /// re-sending it, or the declarations it introduced, would fail every later stream too.
    /// It is dropped and reported, and the rest goes on. Other statuses are errors.
    fn failed(&mut self, status: &tonic::Status) -> Result<(), ExportError> {
        use tonic::Code;
        self.stream = None;
        let error = status_error("UpdateRunStream", status);
        let refused = matches!(
            status.code(),
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange
        );
        if !refused {
            return Err(error);
        }
        if let Some(oldest) = self.unacked.pop_front() {
            self.declarations.forget(&oldest.declarations);
            for (kind, n) in oldest.records {
                self.deliveries.rejected(kind, n, &error.to_string());
            }
            // A refused spooled frame is done with: the spool trims it (a poison frame never
            // blocks the ones after it).
            if let Origin::Spooled(id) = oldest.origin {
                self.deliveries.settled(id);
            }
        }
        Ok(())
    }

    /// Takes every request not acknowledged, oldest first (the stream is dropped): the spool
    /// keeps them.
    pub(crate) fn take_all(&mut self) -> Vec<Outgoing> {
        self.stream = None;
        self.unacked
            .drain(..)
            .chain(self.queued.drain(..))
            .collect()
    }

    /// The request side closed under us: the server ended the call. What it said before (acks,
    /// then the status) decides what that was, so that a refusal of one request (a poison
    /// batch) is taken as that rather than as an outage. True when a refusal explains it; an
    /// error for any other status.
    fn refusal_ended_stream(&mut self) -> Result<bool, ExportError> {
        loop {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(false);
            };
            let next = stream.acks.message();
            let outcome = self
                .runtime
                .block_on(async { tokio::time::timeout(CLOSED_STREAM_WAIT, next).await });
            match outcome {
                Ok(Ok(Some(ack))) => self.on_ack(Ok(Some(ack)))?,
                Ok(Err(status)) => {
                    self.failed(&status)?;
                    return Ok(true);
                }
                Ok(Ok(None)) | Err(_) => return Ok(false),
            }
        }
    }

    /// Drops the stream: its unacknowledged requests are re-sent on the next one.
    fn broken(&mut self, why: &str) -> ExportError {
        self.stream = None;
        ExportError::retryable(format!("Metrana stream: {why}"))
    }
}

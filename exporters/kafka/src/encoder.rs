//! A batch of records → Kafka messages of at most `max_message_bytes`, each knowing which
//! records it carries (so its delivery report counts exactly those as sent or failed).

mod otlp;
mod split;

use telemetron_codec::{encode_record, BatchEncoder, CONTENT_TYPE};
use telemetron_otlp_mapping::opentelemetry_proto::tonic::resource::v1::Resource;
use telemetron_otlp_mapping::Assembler;
use telemetron_runtime::model::{Record, RecordKind};
use telemetron_runtime::{Count, KindCounts, RecordBatch, RunIdentity};

use crate::config::{Encoding, KafkaConfig, KeyMode, Topics};

/// One message to produce.
#[derive(Debug)]
pub(crate) struct OutMessage {
    pub topic: String,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub content_type: &'static str,
    /// The records it carries, with their points (a record split over several messages is
    /// counted, with all its points, by the message that completes it).
    pub tally: KindCounts,
}

/// Records that cannot be sent, with their points and why (too large even alone, a kind the
/// encoding lacks).
#[derive(Debug, Default)]
pub(crate) struct Refused(pub Vec<(RecordKind, Count, String)>);

/// What one batch became.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub messages: Vec<OutMessage>,
    /// Records that need no message of their own and arrived when no message was made
    /// (e.g. span starts, sent with their stop): delivered as they are.
    pub nothing_to_send: KindCounts,
    pub refused: Refused,
}

/// Turns batches into messages; keeps open spans across batches (OTLP sends a span at its stop).
pub(crate) struct Encoder {
    encoding: Encoding,
    key: KeyMode,
    topics: Topics,
    max_bytes: usize,
    run: RunIdentity,
    run_key: String,
    assembler: Assembler,
    resource: Option<Resource>,
}

impl Encoder {
    pub(crate) fn new(config: &KafkaConfig, run: RunIdentity, resource: Option<Resource>) -> Self {
        Encoder {
            encoding: config.encoding,
            key: config.key_mode(),
            topics: config.topics.clone(),
            max_bytes: config.max_message_bytes,
            run_key: format!("{}/{}", run.run_name, run.logger_id),
            run,
            assembler: Assembler::default(),
            resource,
        }
    }

    pub(crate) fn encode(&mut self, batch: &RecordBatch) -> Encoded {
        match self.encoding {
            Encoding::Telemetron => self.telemetron(batch),
            Encoding::OtlpProto | Encoding::OtlpJson => otlp::encode(self, batch),
        }
    }

    fn run_key(&self) -> Option<String> {
        (self.key == KeyMode::Run).then(|| self.run_key.clone())
    }

    /// Lossless batches of whole records; a metric or RL record too large for one message is
    /// split into several records of the same series (steps kept).
    fn telemetron(&self, batch: &RecordBatch) -> Encoded {
        let mut out = Encoded::default();
        let base = BatchEncoder::new(&self.run).encoded_len();
        let budget = self.max_bytes.saturating_sub(base);
        let mut current = BatchEncoder::new(&self.run);
        let mut tally = KindCounts::default();
        for record in batch.iter() {
            let kind = record.kind();
            let parts = match split::to_fit(record, budget) {
                Ok(parts) => parts,
                Err(reason) => {
                    out.refused.0.push((kind, Count::of(record), reason));
                    continue;
                }
            };
            let count = parts.len();
            for (i, part) in parts.into_iter().enumerate() {
                if current.records() > 0
                    && current.encoded_len() + BatchEncoder::record_cost(&part) > self.max_bytes
                {
                    let full = std::mem::replace(&mut current, BatchEncoder::new(&self.run));
                    out.messages
                        .push(self.records_message(full.finish(), std::mem::take(&mut tally)));
                }
                current.push(part);
                if i + 1 == count {
                    tally.add(kind, Count::of(record));
                }
            }
        }
        if current.records() > 0 {
            out.messages
                .push(self.records_message(current.finish(), tally));
        }
        out
    }

    fn records_message(&self, payload: Vec<u8>, tally: KindCounts) -> OutMessage {
        OutMessage {
            topic: self.topics.records.clone(),
            key: self.run_key(),
            payload,
            content_type: CONTENT_TYPE,
            tally,
        }
    }
}

/// One record's wire message, or why it cannot be encoded.
pub(crate) fn wire_record(record: &Record) -> Result<telemetron_codec::wire::Record, String> {
    encode_record(record).map_err(|e| e.to_string())
}

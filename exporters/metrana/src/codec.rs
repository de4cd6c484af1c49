//! `UpdateRunStream` with requests encoded once: each request is kept as its bytes until
//! acknowledged, and re-sending it after a reconnect costs a reference count, not a deep clone
//! and a second encoding.

use bytes::{BufMut, Bytes};
use prost::Message;
use telemetron_proto::metrana::ingestion::v1::svc::UpdateRunResponse;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

const PATH: &str = "/metrana_protobuf.ingestion.v1.svc.IngestService/UpdateRunStream";

/// Sends already-encoded `UpdateRunRequest`s, decodes `UpdateRunResponse`s.
#[derive(Clone, Copy, Default)]
struct EncodedRequests;

impl Codec for EncodedRequests {
    type Encode = Bytes;
    type Decode = UpdateRunResponse;
    type Encoder = EncodedRequests;
    type Decoder = EncodedRequests;

    fn encoder(&mut self) -> Self::Encoder {
        EncodedRequests
    }

    fn decoder(&mut self) -> Self::Decoder {
        EncodedRequests
    }
}

impl Encoder for EncodedRequests {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for EncodedRequests {
    type Item = UpdateRunResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<UpdateRunResponse>, Status> {
        UpdateRunResponse::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(format!("undecodable UpdateRunResponse: {e}")))
    }
}

/// Opens the bidi stream on `grpc` (configured with compression and size limits).
pub(crate) async fn update_run_stream<S>(
    grpc: &mut tonic::client::Grpc<Channel>,
    requests: Request<S>,
) -> Result<Response<Streaming<UpdateRunResponse>>, Status>
where
    S: tokio_stream::Stream<Item = Bytes> + Send + 'static,
{
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("the channel is not ready: {e}")))?;
    let path = http::uri::PathAndQuery::from_static(PATH);
    grpc.streaming(requests, path, EncodedRequests).await
}

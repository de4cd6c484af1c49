//! One spool frame: a batch of records, length-prefixed and CRC-32C-checked, with its place in
//! the writer's log and the identity it is delivered under.
//!
//! ```text
//! magic u32 "TSFR" | body_len u32 | crc32c(body) u32 | body
//! body = index u64 | session u64 | sequence u64 | records u32 | raw_len u32 | payload
//! ```
//! All integers little-endian. `payload` is the record codec's batch (`telemetron-codec`),
//! zstd-compressed when its segment says so (`raw_len` is then its decompressed size, else
//! equal to the payload's). A reader that meets a bad frame (wrong CRC, a length past the end)
//! looks for the next magic whose frame checks out, so one flipped byte costs one frame.

use crate::exporter::DeliveryId;

/// Marks the start of every frame (`TSFR` read as little-endian bytes).
pub(crate) const MAGIC: [u8; 4] = *b"TSFR";
/// Magic, body length, CRC.
pub(crate) const PREFIX_LEN: usize = 12;
/// The fixed part of the body before the payload.
const BODY_HEADER_LEN: usize = 8 + 8 + 8 + 4 + 4;
/// Frames larger than this are taken for corruption (a batch is cut far below it).
pub(crate) const MAX_BODY_LEN: usize = 1 << 30;

/// What a frame says about itself, besides its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Position in the writer's log (1, 2, ...): what the trim point counts.
    pub index: u64,
    /// The session and sequence number it is delivered under (the logger id is the writer's).
    pub session: u64,
    pub sequence: u64,
    /// Records in the payload.
    pub records: u32,
    /// The payload's size before compression.
    pub raw_len: u32,
}

impl FrameHeader {
    /// The identity a backend sees, for a writer whose logger id is `logger_id`.
    pub(crate) fn delivery_id(&self, logger_id: u64) -> DeliveryId {
        DeliveryId {
            logger_id,
            session: self.session,
            sequence: self.sequence,
        }
    }
}

/// Appends one frame to `out`.
pub(crate) fn encode_frame(header: &FrameHeader, payload: &[u8], out: &mut Vec<u8>) {
    let body_len = BODY_HEADER_LEN + payload.len();
    out.reserve(PREFIX_LEN + body_len);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    let crc_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let body_at = out.len();
    out.extend_from_slice(&header.index.to_le_bytes());
    out.extend_from_slice(&header.session.to_le_bytes());
    out.extend_from_slice(&header.sequence.to_le_bytes());
    out.extend_from_slice(&header.records.to_le_bytes());
    out.extend_from_slice(&header.raw_len.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32c::crc32c(&out[body_at..]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_le_bytes());
}

/// A frame found in a buffer: where it starts, its header, and where its payload lies.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct FoundFrame {
    pub start: usize,
    pub end: usize,
    pub header: FrameHeader,
    pub payload: std::ops::Range<usize>,
}

/// What [`next_frame`] found at a position.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A good frame; `skipped` bytes before it did not hold one (a bad region).
    Frame { frame: FoundFrame, skipped: usize },
    /// No complete good frame in the rest of the buffer: `skipped` bytes are garbage and
    /// `torn` says whether the tail looks like a frame cut short (a writer killed mid-write).
    End { skipped: usize, torn: bool },
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Checks a frame starting exactly at `at`: `Ok(Some)` when it is good, `Ok(None)` when it is
/// cut short by the end of `buf`, `Err(())` when it is bad.
fn frame_at(buf: &[u8], at: usize) -> Result<Option<FoundFrame>, ()> {
    let rest = &buf[at..];
    if rest.len() < 4 {
        return if MAGIC.starts_with(rest) {
            Ok(None)
        } else {
            Err(())
        };
    }
    if rest[..4] != MAGIC {
        return Err(());
    }
    if rest.len() < PREFIX_LEN {
        return Ok(None);
    }
    let body_len = u32_at(rest, 4) as usize;
    if !(BODY_HEADER_LEN..=MAX_BODY_LEN).contains(&body_len) {
        return Err(());
    }
    if rest.len() < PREFIX_LEN + body_len {
        return Ok(None);
    }
    let body = &rest[PREFIX_LEN..PREFIX_LEN + body_len];
    if crc32c::crc32c(body) != u32_at(rest, 8) {
        return Err(());
    }
    let header = FrameHeader {
        index: u64_at(body, 0),
        session: u64_at(body, 8),
        sequence: u64_at(body, 16),
        records: u32_at(body, 24),
        raw_len: u32_at(body, 28),
    };
    let payload_at = at + PREFIX_LEN + BODY_HEADER_LEN;
    Ok(Some(FoundFrame {
        start: at,
        end: at + PREFIX_LEN + body_len,
        header,
        payload: payload_at..at + PREFIX_LEN + body_len,
    }))
}

/// The next good frame in `buf` from `at`, skipping bad bytes up to the next magic whose frame
/// checks out.
pub(crate) fn next_frame(buf: &[u8], at: usize) -> Scan {
    let mut pos = at;
    let mut torn = false;
    while pos < buf.len() {
        match frame_at(buf, pos) {
            Ok(Some(frame)) => {
                return Scan::Frame {
                    frame,
                    skipped: pos - at,
                }
            }
            // Cut short: a torn tail if nothing good follows (the usual case: nothing follows).
            Ok(None) => torn = true,
            Err(()) => {}
        }
        pos = match find_magic(buf, pos + 1) {
            Some(next) => next,
            None => buf.len(),
        };
    }
    Scan::End {
        skipped: buf.len() - at,
        torn,
    }
}

fn find_magic(buf: &[u8], from: usize) -> Option<usize> {
    if from >= buf.len() {
        return None;
    }
    // A magic cut by the end of the buffer counts as a candidate (a torn frame).
    (from..buf.len()).find(|&i| {
        let end = (i + 4).min(buf.len());
        buf[i..end] == MAGIC[..end - i]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(index: u64) -> FrameHeader {
        FrameHeader {
            index,
            session: 7,
            sequence: index,
            records: 1,
            raw_len: 3,
        }
    }

    fn frames(n: u64) -> (Vec<u8>, Vec<usize>) {
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        for i in 1..=n {
            starts.push(buf.len());
            encode_frame(&header(i), &[i as u8, 2, 3], &mut buf);
        }
        (buf, starts)
    }

    fn read_all(buf: &[u8]) -> (Vec<u64>, usize, bool) {
        let (mut found, mut skipped, mut at) = (Vec::new(), 0, 0);
        loop {
            match next_frame(buf, at) {
                Scan::Frame { frame, skipped: s } => {
                    skipped += s;
                    assert_eq!(&buf[frame.payload.clone()][1..], &[2, 3]);
                    found.push(frame.header.index);
                    at = frame.end;
                }
                Scan::End { skipped: s, torn } => return (found, skipped + s, torn),
            }
        }
    }

    #[test]
    fn frames_read_back_in_order() {
        let (buf, _) = frames(3);
        assert_eq!(read_all(&buf), (vec![1, 2, 3], 0, false));
    }

    #[test]
    fn a_flipped_byte_costs_one_frame() {
        let (mut buf, starts) = frames(4);
        // In the payload of frame 2, in the length of frame 3.
        buf[starts[1] + PREFIX_LEN + 33] ^= 0x40;
        let (found, skipped, _) = read_all(&buf);
        assert_eq!(found, vec![1, 3, 4]);
        assert_eq!(skipped, starts[2] - starts[1]);
        let (mut buf, starts) = frames(4);
        buf[starts[2] + 5] ^= 0xff;
        assert_eq!(read_all(&buf).0, vec![1, 2, 4]);
    }

    #[test]
    fn a_torn_tail_is_reported_and_the_rest_kept() {
        let (buf, starts) = frames(3);
        for cut in [starts[2] + 2, starts[2] + 7, buf.len() - 1] {
            let (found, skipped, torn) = read_all(&buf[..cut]);
            assert_eq!(found, vec![1, 2], "cut at {cut}");
            assert_eq!(skipped, cut - starts[2]);
            assert!(torn, "cut at {cut}");
        }
    }

    #[test]
    fn garbage_is_skipped_without_panic() {
        let garbage: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let (found, skipped, _) = read_all(&garbage);
        assert!(found.is_empty());
        assert_eq!(skipped, garbage.len());
        let (mut buf, _) = frames(2);
        buf.splice(0..0, b"TSFRTSFR\xff\xff".iter().copied());
        assert_eq!(read_all(&buf).0, vec![1, 2]);
    }
}

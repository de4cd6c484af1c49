//! One writer directory: its lock, its segments, appending frames (own directory), reading them
//! back in order from the trim point, and trimming what the backend settled.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use super::frame::{encode_frame, next_frame, FrameHeader, Scan};
use super::layout::{WriterMeta, LOCK_FILE, META_FILE, TRIM_FILE};
use super::segment::{list_segments, read_segment, SegmentWriter, SpoolCompression, HEADER_LEN};
use super::{SpoolBudget, SpoolError};
use crate::exporter::DeliveryId;

/// Where the delivered prefix of a log ends: the last settled frame, and how many bad regions
/// the reader had passed by then (the epoch, see [`effective_session`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Trim {
    index: u64,
    epoch: u32,
    /// Where that frame ends: a later reader resumes there (segment by first index, offset).
    segment: u64,
    offset: u64,
}

/// The session a frame goes out under: its own, changed after every bad region of the log.
/// A backend de-duplicating by (session, sequence) refuses a gap in a session's sequence; a
/// frame lost to corruption is such a gap, so the frames after it start a new session (the
/// same one for every reader: the epoch is counted from the log, and kept with the trim point).
pub(crate) fn effective_session(session: u64, epoch: u32) -> u64 {
    if epoch == 0 {
        return session;
    }
    // splitmix64 of (session, epoch): distinct sessions for distinct epochs.
    let mut z = session ^ u64::from(epoch).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A frame read back: where it sits, who delivers it, and its payload (decompressed).
pub(crate) struct ReadFrame {
    pub index: u64,
    pub id: DeliveryId,
    pub payload: Vec<u8>,
    /// Its size on disk.
    pub bytes: u64,
}

/// A frame read and not settled yet: where to read again from after a failed delivery.
#[derive(Clone, Copy)]
struct Unsettled {
    index: u64,
    segment: u64,
    offset: u64,
    end: u64,
    epoch: u32,
    /// Settled, behind an older frame that is not yet (the trim point waits for that one).
    settled: bool,
}

/// What the reader passed over: bad regions (each at least one lost frame) and their bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Damage {
    pub bad_frames: u64,
    pub skipped_bytes: u64,
}

pub(crate) struct WriterDir {
    pub path: PathBuf,
    pub meta: WriterMeta,
    _lock: File,
    /// Segments by their first frame index, oldest first.
    segments: Vec<(u64, PathBuf)>,
    writer: Option<SegmentWriter>,
    own: bool,
    compression: SpoolCompression,
    next_index: u64,
    next_sequence: u64,
    trim: Trim,
    /// The read position: a segment (by first index), a file offset, the epoch there.
    read: (u64, u64, u32),
    /// Buffered bytes of the segment being read, from `read.1`.
    buffer: Option<(u64, u64, Vec<u8>, SpoolCompression)>,
    unsettled: VecDeque<Unsettled>,
    /// The furthest position read: damage is counted once, however often it is read again.
    high_water: (u64, u64),
    pub damage: Damage,
    /// Bytes of its segments.
    bytes: u64,
    budget: Option<Arc<SpoolBudget>>,
}

impl WriterDir {
    /// Creates this process's writer directory under `exporter_dir`, locked.
    pub(crate) fn create(
        exporter_dir: &Path,
        meta: WriterMeta,
        token: &str,
        compression: SpoolCompression,
        budget: Arc<SpoolBudget>,
    ) -> Result<Self, SpoolError> {
        crate::files::create_private_dir(exporter_dir)
            .map_err(|e| SpoolError::io(exporter_dir, e))?;
        let path = exporter_dir.join(meta.dir_name(token));
        std::fs::DirBuilder::new()
            .mode_private()
            .create(&path)
            .map_err(|e| SpoolError::io(&path, e))?;
        let lock = lock_dir(&path, true)?.ok_or_else(|| SpoolError::Locked(path.clone()))?;
        let meta_path = path.join(META_FILE);
        let text = serde_json::to_vec_pretty(&meta)
            .map_err(|e| SpoolError::corrupt(&meta_path, e.to_string()))?;
        write_new(&meta_path, &text)?;
        Ok(WriterDir {
            path,
            meta,
            _lock: lock,
            segments: Vec::new(),
            writer: None,
            own: true,
            compression,
            next_index: 1,
            next_sequence: 1,
            trim: Trim::default(),
            read: (1, HEADER_LEN, 0),
            buffer: None,
            unsettled: VecDeque::new(),
            high_water: (0, 0),
            damage: Damage::default(),
            bytes: 0,
            budget: Some(budget),
        })
    }

    /// Opens another writer's directory to deliver it, if no live process holds it (`None`
    /// when locked: its writer is alive, or another process is delivering it).
    pub(crate) fn open_leftover(path: &Path) -> Result<Option<Self>, SpoolError> {
        let Some(lock) = lock_dir(path, false)? else {
            return Ok(None);
        };
        let meta = WriterMeta::read(path)?;
        let trim = read_trim(path)?;
        let segments = list_segments(path)?;
        let bytes = segments
            .iter()
            .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        // Resume where the last settled frame ends (its segment may be gone: then at the
        // start of the first one left).
        let read = if trim.index > 0 && segments.iter().any(|(f, _)| *f == trim.segment) {
            (trim.segment, trim.offset, trim.epoch)
        } else {
            (
                segments.first().map_or(1, |(f, _)| *f),
                HEADER_LEN,
                trim.epoch,
            )
        };
        Ok(Some(WriterDir {
            path: path.to_path_buf(),
            meta,
            _lock: lock,
            segments,
            writer: None,
            own: false,
            compression: SpoolCompression::None,
            next_index: 0,
            next_sequence: 0,
            trim,
            read,
            buffer: None,
            unsettled: VecDeque::new(),
            high_water: (0, 0),
            damage: Damage::default(),
            bytes,
            budget: None,
        }))
    }

    /// Bytes of its segments on disk.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends one frame of `payload` (a codec batch of `records` records) under `id`, or
    /// under the writer's own session and next sequence number. Not durable before
    /// [`commit`](Self::commit).
    pub(crate) fn append(
        &mut self,
        payload: &[u8],
        records: u32,
        id: Option<(u64, u64)>,
        segment_bytes: u64,
    ) -> Result<u64, SpoolError> {
        debug_assert!(self.own);
        let (session, sequence) = id.unwrap_or_else(|| {
            let seq = self.next_sequence;
            (self.meta.session, seq)
        });
        let compressed;
        let body: &[u8] = match self.compression {
            SpoolCompression::None => payload,
            SpoolCompression::Zstd => {
                compressed =
                    zstd::bulk::compress(payload, 3).map_err(|e| SpoolError::io(&self.path, e))?;
                &compressed
            }
        };
        let header = FrameHeader {
            index: self.next_index,
            session,
            sequence,
            records,
            raw_len: payload.len() as u32,
        };
        let mut frame = Vec::new();
        encode_frame(&header, body, &mut frame);
        let len = frame.len() as u64;
        if let Some(budget) = &self.budget {
            budget.reserve(len)?;
        }
        let result = self.write_frame(&frame, segment_bytes);
        if let Err(e) = result {
            if let Some(budget) = &self.budget {
                budget.release(len);
            }
            return Err(e);
        }
        self.bytes += len;
        self.next_index += 1;
        if id.is_none() {
            self.next_sequence += 1;
        }
        Ok(len)
    }

    fn write_frame(&mut self, frame: &[u8], segment_bytes: u64) -> Result<(), SpoolError> {
        let rotate = self
            .writer
            .as_ref()
            .is_none_or(|w| w.len > HEADER_LEN && w.len + frame.len() as u64 > segment_bytes);
        if rotate {
            let writer = SegmentWriter::create(&self.path, self.next_index, self.compression)?;
            self.bytes += HEADER_LEN;
            if let Some(budget) = &self.budget {
                budget.used.fetch_add(HEADER_LEN, Ordering::Relaxed);
            }
            self.segments
                .push((writer.first_index, writer.path.clone()));
            self.writer = Some(writer);
        }
        match self.writer.as_mut() {
            Some(w) => w.append(frame),
            None => Ok(()),
        }
    }

    /// Makes what was appended durable (`fdatasync`).
    pub(crate) fn commit(&self) -> Result<(), SpoolError> {
        match &self.writer {
            Some(w) => w.sync(),
            None => Ok(()),
        }
    }

    fn peek_end(&mut self) -> Result<bool, SpoolError> {
        let Some(pos) = self.segments.iter().position(|(f, _)| *f == self.read.0) else {
            return Ok(true);
        };
        if pos + 1 < self.segments.len() {
            return Ok(false);
        }
        let len = std::fs::metadata(&self.segments[pos].1).map_or(0, |m| m.len());
        Ok(self.read.1 >= len)
    }

    /// The next frame after the read position (`None` at the end of the log). Bad regions are
    /// skipped (and counted once), and start a new epoch.
    pub(crate) fn next(&mut self) -> Result<Option<ReadFrame>, SpoolError> {
        loop {
            let Some(pos) = self.segments.iter().position(|(f, _)| *f >= self.read.0) else {
                return Ok(None);
            };
            let (first, path) = self.segments[pos].clone();
            if first != self.read.0 {
                self.read = (first, HEADER_LEN, self.read.2);
            }
            let stale = !matches!(&self.buffer, Some((seg, at, _, _)) if *seg == first && *at <= self.read.1);
            if stale {
                let (compression, bytes) = match read_segment(&path, self.read.1) {
                    Ok(read) => read,
                    // A segment whose header is unreadable is one bad region.
                    Err(SpoolError::Corrupt { .. }) => {
                        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                        self.passed_damage(first, self.read.1, len.saturating_sub(self.read.1));
                        self.next_segment(pos);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                self.buffer = Some((first, self.read.1, bytes, compression));
            }
            let Some((_, base, bytes, compression)) = &self.buffer else {
                return Ok(None);
            };
            let (base, compression) = (*base, *compression);
            let at = (self.read.1 - base) as usize;
            let last = pos + 1 == self.segments.len();
            match next_frame(bytes, at) {
                Scan::Frame { frame, skipped } => {
                    let payload_bytes = bytes[frame.payload.clone()].to_vec();
                    let frame_start = base + frame.start as u64;
                    let frame_end = base + frame.end as u64;
                    if skipped > 0 {
                        self.passed_damage(first, self.read.1, skipped as u64);
                    }
                    let epoch = self.read.2;
                    self.read.1 = frame_end;
                    if frame.header.index <= self.trim.index {
                        continue; // settled before: delivered by an earlier reader
                    }
                    let payload = match compression {
                        SpoolCompression::None => payload_bytes,
                        SpoolCompression::Zstd => {
                            match zstd::bulk::decompress(
                                &payload_bytes,
                                frame.header.raw_len as usize,
                            ) {
                                Ok(raw) => raw,
                                Err(_) => {
                                    self.passed_damage(first, frame_start, frame_end - frame_start);
                                    continue;
                                }
                            }
                        }
                    };
                    self.unsettled.push_back(Unsettled {
                        index: frame.header.index,
                        segment: first,
                        offset: frame_start,
                        end: frame_end,
                        epoch,
                        settled: false,
                    });
                    let mut id = frame.header.delivery_id(self.meta.run.logger_id);
                    id.session = effective_session(id.session, epoch);
                    return Ok(Some(ReadFrame {
                        index: frame.header.index,
                        id,
                        payload,
                        bytes: frame_end - frame_start,
                    }));
                }
                Scan::End { skipped, .. } => {
                    // Whole frames are written with one write: anything else at the end is a
                    // frame cut short (a writer killed mid-write) or damage.
                    if skipped > 0 {
                        self.passed_damage(first, self.read.1, skipped as u64);
                        self.read.1 += skipped as u64;
                    }
                    if last {
                        // Read the file again next time: the writer may append.
                        self.buffer = None;
                        return Ok(None);
                    }
                    self.next_segment(pos);
                }
            }
        }
    }

    fn next_segment(&mut self, pos: usize) {
        if let Some((next, _)) = self.segments.get(pos + 1) {
            self.read = (*next, HEADER_LEN, self.read.2);
        } else {
            self.read.0 = u64::MAX;
        }
        self.buffer = None;
    }

    /// Counts a bad region the first time the reader passes it, and starts a new epoch.
    fn passed_damage(&mut self, segment: u64, at: u64, len: u64) {
        self.read.2 += 1;
        if (segment, at) >= self.high_water {
            self.high_water = (segment, at + len);
            self.damage.bad_frames += 1;
            self.damage.skipped_bytes += len;
        }
    }

    /// Frame `index` was delivered or refused for good. The trim point moves past every settled
    /// frame at the front (a frame settled out of order waits for the older ones). Returns false
    /// when `index` is not a frame read and unsettled.
    pub(crate) fn settle(&mut self, index: u64) -> bool {
        let Some(frame) = self.unsettled.iter_mut().find(|u| u.index == index) else {
            return false;
        };
        frame.settled = true;
        while self.unsettled.front().is_some_and(|u| u.settled) {
            if let Some(u) = self.unsettled.pop_front() {
                self.trim = Trim {
                    index: u.index,
                    epoch: u.epoch,
                    segment: u.segment,
                    offset: u.end,
                };
            }
        }
        true
    }

    /// Frames read and not settled.
    pub(crate) fn unsettled(&self) -> usize {
        self.unsettled.len()
    }

    /// Reading starts again at the oldest unsettled frame (its delivery failed).
    pub(crate) fn rewind(&mut self) {
        if let Some(u) = self.unsettled.front() {
            self.read = (u.segment, u.offset, u.epoch);
            self.buffer = None;
        }
        self.unsettled.clear();
    }

    /// Persists the trim point and deletes the segments wholly before it. When everything was
    /// read and settled, the own directory drops all its segments (the next frame starts a new
    /// one).
    pub(crate) fn save_trim(&mut self) -> Result<(), SpoolError> {
        let path = self.path.join(TRIM_FILE);
        let tmp = self.path.join("trim.json.tmp");
        let text = serde_json::to_vec(&self.trim)
            .map_err(|e| SpoolError::corrupt(&path, e.to_string()))?;
        let _ = std::fs::remove_file(&tmp);
        write_new(&tmp, &text)?;
        std::fs::rename(&tmp, &path).map_err(|e| SpoolError::io(&path, e))?;
        let drained = self.unsettled.is_empty() && self.peek_end()?;
        let keep_from = if drained {
            self.segments.len()
        } else {
            // A segment can go when the next one starts at or before the first unsettled frame.
            let first_needed = self.unsettled.front().map_or(self.read.0, |u| u.segment);
            self.segments
                .iter()
                .position(|(f, _)| *f >= first_needed)
                .unwrap_or(0)
        };
        for (_, segment) in self.segments.drain(..keep_from) {
            let len = std::fs::metadata(&segment).map_or(0, |m| m.len());
            std::fs::remove_file(&segment).map_err(|e| SpoolError::io(&segment, e))?;
            self.bytes = self.bytes.saturating_sub(len);
            if let Some(budget) = &self.budget {
                budget.release(len);
            }
        }
        if drained {
            self.writer = None;
            self.buffer = None;
            self.read = (self.next_index, HEADER_LEN, self.read.2);
        }
        Ok(())
    }

    /// Whether nothing is left to deliver.
    pub(crate) fn is_empty(&mut self) -> bool {
        self.unsettled.is_empty() && self.peek_end().unwrap_or(true)
    }

    /// Removes the directory (its lock goes with it).
    pub(crate) fn remove(self) -> Result<(), SpoolError> {
        if let Some(budget) = &self.budget {
            budget.release(self.bytes);
        }
        std::fs::remove_dir_all(&self.path).map_err(|e| SpoolError::io(&self.path, e))
    }
}

/// Takes the directory's lock (`create`: make the lock file), `None` when someone holds it.
fn lock_dir(dir: &Path, create: bool) -> Result<Option<File>, SpoolError> {
    let path = dir.join(LOCK_FILE);
    let file = if create {
        crate::files::create_new_private_file(&path)
    } else {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
    }
    .map_err(|e| SpoolError::io(&path, e))?;
    match file.try_lock_exclusive() {
        Ok(true) => Ok(Some(file)),
        Ok(false) => Ok(None),
        Err(e) => Err(SpoolError::io(&path, e)),
    }
}

fn read_trim(dir: &Path) -> Result<Trim, SpoolError> {
    let path = dir.join(TRIM_FILE);
    match std::fs::read(&path) {
        Ok(text) => {
            serde_json::from_slice(&text).map_err(|e| SpoolError::corrupt(&path, e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Trim::default()),
        Err(e) => Err(SpoolError::io(&path, e)),
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
    use std::io::Write;
    let mut file =
        crate::files::create_new_private_file(path).map_err(|e| SpoolError::io(path, e))?;
    file.write_all(bytes).map_err(|e| SpoolError::io(path, e))
}

trait DirBuilderPrivate {
    fn mode_private(&mut self) -> &mut Self;
}

impl DirBuilderPrivate for std::fs::DirBuilder {
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt;
        self.mode(crate::files::DIR_MODE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RunIdentity;

    fn meta() -> WriterMeta {
        WriterMeta {
            format: super::super::segment::FORMAT_VERSION,
            created_ms: 1,
            pid: 2,
            host: "h".into(),
            run: RunIdentity {
                run_name: "r".into(),
                logger_id: 9,
                ..Default::default()
            },
            exporter: "x".into(),
            exporter_type: "x".into(),
            session: 77,
            offline: false,
        }
    }

    fn own(dir: &Path, compression: SpoolCompression) -> WriterDir {
        WriterDir::create(
            dir,
            meta(),
            "t",
            compression,
            Arc::new(SpoolBudget::new(1 << 30)),
        )
        .unwrap()
    }

    fn read_all(dir: &mut WriterDir) -> Vec<(u64, DeliveryId, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some(f) = dir.next().unwrap() {
            out.push((f.index, f.id, f.payload));
        }
        out
    }

    #[test]
    fn frames_come_back_in_order_and_a_later_reader_resumes_after_the_trim() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = own(tmp.path(), SpoolCompression::None);
        for i in 0..10u8 {
            // A tiny segment size: every frame rotates.
            w.append(&[i; 100], 1, None, 200).unwrap();
        }
        w.append(&[42; 10], 1, Some((5, 500)), 200).unwrap();
        w.commit().unwrap();
        let frames = read_all(&mut w);
        assert_eq!(frames.len(), 11);
        assert_eq!(frames[3].0, 4);
        assert_eq!(
            frames[3].1,
            DeliveryId {
                logger_id: 9,
                session: 77,
                sequence: 4
            }
        );
        assert_eq!(frames[3].2, vec![3u8; 100]);
        // A frame handed back under the identity it already went out under keeps it.
        assert_eq!((frames[10].1.session, frames[10].1.sequence), (5, 500));
        // Settled out of order (an acknowledgement-free frame behind one awaiting its ack): the
        // trim point waits for the older one.
        assert!(w.settle(2) && w.settle(4));
        assert_eq!((w.unsettled(), w.trim.index), (11, 0));
        assert!(w.settle(1));
        assert_eq!((w.unsettled(), w.trim.index), (9, 2));
        assert!(w.settle(3) && !w.settle(3));
        assert_eq!((w.unsettled(), w.trim.index), (7, 4));
        w.save_trim().unwrap();
        assert_eq!(
            list_segments(&w.path).unwrap().len(),
            7,
            "segments 1-4 are gone"
        );
        let path = w.path.clone();
        drop(w); // the writer dies: its lock goes with it
        let mut later = WriterDir::open_leftover(&path).unwrap().unwrap();
        assert!(WriterDir::open_leftover(&path).unwrap().is_none(), "locked");
        let rest = read_all(&mut later);
        assert_eq!(
            rest.iter().map(|f| f.0).collect::<Vec<_>>(),
            (5..=11).collect::<Vec<_>>()
        );
        later.rewind();
        assert_eq!(
            read_all(&mut later).len(),
            7,
            "a failed delivery reads them again"
        );
        for index in 5..=11 {
            assert!(later.settle(index));
        }
        later.save_trim().unwrap();
        assert!(later.is_empty());
        later.remove().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn after_a_damaged_frame_every_reader_uses_the_same_new_session() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = own(tmp.path(), SpoolCompression::Zstd);
        for i in 0..4u8 {
            w.append(&[i; 64], 1, None, 1 << 20).unwrap();
        }
        w.commit().unwrap();
        let path = w.path.clone();
        drop(w);
        let (_, segment) = list_segments(&path).unwrap().remove(0);
        let mut bytes = std::fs::read(&segment).unwrap();
        let second = bytes
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w == b"TSFR")
            .nth(1)
            .unwrap()
            .0;
        bytes[second + 40] ^= 0xff;
        std::fs::write(&segment, &bytes).unwrap();
        let sessions = |dir: &mut WriterDir| {
            read_all(dir)
                .iter()
                .map(|f| (f.0, f.1.session))
                .collect::<Vec<_>>()
        };
        let mut first = WriterDir::open_leftover(&path).unwrap().unwrap();
        let seen = sessions(&mut first);
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 3, 4]);
        assert_eq!(seen[0].1, 77);
        assert_ne!(seen[1].1, 77, "a new session after the gap");
        assert_eq!(seen[1].1, seen[2].1);
        assert_eq!(first.damage.bad_frames, 1);
        // Delivered up to frame 3, then the reader dies: the next one agrees on the session.
        assert!(first.settle(1) && first.settle(3));
        first.save_trim().unwrap();
        drop(first);
        let mut next = WriterDir::open_leftover(&path).unwrap().unwrap();
        assert_eq!(sessions(&mut next), vec![(4, seen[2].1)]);
    }
}

//! One exporter's spool, as its worker sees it: the leftovers of earlier processes of the run
//! (oldest first, each under its writer's identity), then this process's own writer directory.
//! Frames are read in that order and trimmed as the backend settles them.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use super::layout::{exporter_dir, writer_dirs, WriterMeta};
use super::segment::FORMAT_VERSION;
use super::writer_dir::{Damage, WriterDir};
use super::{SpoolError, SpoolFsync, SpoolSettings};
use crate::exporter::DeliveryId;
use crate::metrics::KindTally;
use crate::model::Record;
use crate::settings::RunIdentity;

/// Delivery identities the backend settled (acknowledged or refused for good), reported by an
/// exporter that acknowledges later (`Deliveries::settled`) and taken by the spool.
pub(crate) type SettledQueue = Mutex<Vec<DeliveryId>>;

/// A frame to deliver.
pub(crate) struct DrainFrame {
    /// From an earlier process's spool (not this runtime's own writes).
    pub leftover: bool,
    pub index: u64,
    pub id: DeliveryId,
    pub records: Vec<Record>,
}

/// What is on disk, for the close report and `Runtime::spool_status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SpoolStatus {
    /// This process's writer directory (or where it would be).
    pub dir: PathBuf,
    /// Bytes of this process's own spool.
    pub own_bytes: u64,
    /// Bytes of earlier processes' spools still to deliver.
    pub leftover_bytes: u64,
    /// Their writer directories.
    pub leftover_dirs: usize,
    /// Bad regions skipped (each at least one lost frame) and their bytes.
    pub bad_frames: u64,
    pub skipped_bytes: u64,
}

pub(crate) struct ExporterSpool {
    settings: SpoolSettings,
    run: RunIdentity,
    exporter: String,
    exporter_type: String,
    own: Option<WriterDir>,
    leftovers: VecDeque<WriterDir>,
    /// Frames handed to an exporter that acknowledges later, by the identity they went under:
    /// (leftover, index, their records by kind).
    outstanding: HashMap<DeliveryId, (bool, u64, KindTally)>,
    pub settled: Arc<SettledQueue>,
    /// Damage of leftovers already delivered and removed.
    past_damage: Damage,
}

impl ExporterSpool {
    /// Opens the spool of exporter `exporter` of `run` and claims (locks) the leftovers of
    /// earlier processes. Fails when the directory cannot be created.
    pub(crate) fn open(
        settings: SpoolSettings,
        run: &RunIdentity,
        exporter: &str,
        exporter_type: &str,
    ) -> Result<Self, SpoolError> {
        let dir = exporter_dir(&settings.dir, run, exporter);
        crate::files::create_private_dir(&dir).map_err(|e| SpoolError::Unavailable {
            path: settings.dir.clone(),
            reason: format!("cannot create {}: {e}", dir.display()),
        })?;
        let mut leftovers = Vec::new();
        for path in writer_dirs(&dir) {
            match WriterDir::open_leftover(&path) {
                Ok(Some(found)) => leftovers.push(found),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(target: "telemetron", "spool: skipping {}: {e}", path.display())
                }
            }
        }
        leftovers.sort_by_key(|d| (d.meta.created_ms, d.path.clone()));
        Ok(ExporterSpool {
            settings,
            run: run.clone(),
            exporter: exporter.to_string(),
            exporter_type: exporter_type.to_string(),
            own: None,
            leftovers: leftovers.into(),
            outstanding: HashMap::new(),
            settled: Arc::new(Mutex::new(Vec::new())),
            past_damage: Damage::default(),
        })
    }

    /// Whether this runtime writes nothing and makes no connection (`mode: offline`).
    pub(crate) fn offline(&self) -> bool {
        self.settings.offline
    }

    pub(crate) fn recovery_backoff(&self) -> (std::time::Duration, std::time::Duration) {
        (self.settings.recovery_initial, self.settings.recovery_max)
    }

    fn own(&mut self) -> Result<&mut WriterDir, SpoolError> {
        if self.own.is_none() {
            let created_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let meta = WriterMeta {
                format: FORMAT_VERSION,
                created_ms,
                pid: std::process::id(),
                host: super::layout::host_name(),
                run: self.run.clone(),
                exporter: self.exporter.clone(),
                exporter_type: self.exporter_type.clone(),
                session: crate::model::SpanId::random().0 >> 1 | 1,
                offline: self.settings.offline,
            };
            let token = format!("{:08x}", crate::model::SpanId::random().0 as u32);
            let dir = exporter_dir(&self.settings.dir, &self.run, &self.exporter);
            let own = WriterDir::create(
                &dir,
                meta,
                &token,
                self.settings.compression,
                self.settings.budget.clone(),
            )?;
            self.own = Some(own);
        }
        match self.own.as_mut() {
            Some(own) => Ok(own),
            None => Err(SpoolError::Locked(self.settings.dir.clone())),
        }
    }

    /// Appends one frame holding `records` (under `id` when given: records a backend saw
    /// under that identity already). Returns its bytes on disk.
    pub(crate) fn append<'a>(
        &mut self,
        records: impl Iterator<Item = &'a Record>,
        count: usize,
        id: Option<(u64, u64)>,
    ) -> Result<u64, SpoolError> {
        let mut records = records;
        let payload = self
            .settings
            .codec
            .encode(&self.run, &mut records)
            .map_err(|e| SpoolError::corrupt(&self.settings.dir, format!("encoding: {e}")))?;
        let segment_bytes = self.settings.segment_bytes;
        let always = self.settings.fsync == SpoolFsync::Always;
        let own = self.own()?;
        let bytes = own.append(&payload, count as u32, id, segment_bytes)?;
        if always {
            own.commit()?;
        }
        Ok(bytes)
    }

    /// Makes what was appended durable, per `spool_fsync`.
    pub(crate) fn commit(&self) -> Result<(), SpoolError> {
        match (&self.own, self.settings.fsync) {
            (Some(own), SpoolFsync::Batch) => own.commit(),
            _ => Ok(()),
        }
    }

    /// The next frame to deliver: leftovers first (each whole and settled before the next),
    /// then the own log. `None` when nothing more can be read now.
    pub(crate) fn next(&mut self) -> Result<Option<DrainFrame>, SpoolError> {
        loop {
            let (dir, leftover) = match self.leftovers.front_mut() {
                Some(front) => (front, true),
                None => match self.own.as_mut() {
                    Some(own) => (own, false),
                    None => return Ok(None),
                },
            };
            match dir.next()? {
                Some(frame) => match self.settings.codec.decode(&frame.payload) {
                    Ok((_, records)) => {
                        return Ok(Some(DrainFrame {
                            leftover,
                            index: frame.index,
                            id: frame.id,
                            records,
                        }))
                    }
                    Err(e) => {
                        // Checked bytes that do not decode (a newer schema): skipped, counted.
                        tracing::warn!(target: "telemetron", "spool {}: frame {} does not decode: {e}", dir.path.display(), frame.index);
                        dir.damage.bad_frames += 1;
                        dir.damage.skipped_bytes += frame.bytes;
                        dir.settle(frame.index);
                    }
                },
                None if leftover && dir.is_empty() => self.retire_leftover()?,
                None => return Ok(None),
            }
        }
    }

    fn retire_leftover(&mut self) -> Result<(), SpoolError> {
        if let Some(done) = self.leftovers.pop_front() {
            self.past_damage.bad_frames += done.damage.bad_frames;
            self.past_damage.skipped_bytes += done.damage.skipped_bytes;
            let path = done.path.clone();
            done.remove()?;
            tracing::info!(target: "telemetron", "spool: delivered and removed {}", path.display());
        }
        Ok(())
    }

    /// Remembers that frame `index` went under `id` to an exporter that acknowledges later.
    pub(crate) fn await_settlement(
        &mut self,
        id: DeliveryId,
        leftover: bool,
        index: u64,
        tally: KindTally,
    ) {
        self.outstanding.insert(id, (leftover, index, tally));
    }

    /// Frame `index` is done (delivered, or refused for good).
    pub(crate) fn settle(&mut self, leftover: bool, index: u64) {
        let dir = if leftover {
            self.leftovers.front_mut()
        } else {
            self.own.as_mut()
        };
        if let Some(dir) = dir {
            dir.settle(index);
        }
    }

    /// Takes the settlements an acknowledging exporter reported; returns the frames settled
    /// (leftover, their records by kind).
    pub(crate) fn take_settled(&mut self) -> Vec<(bool, KindTally)> {
        let ids = std::mem::take(&mut *self.settled.lock());
        let mut done = Vec::new();
        for id in ids {
            if let Some((leftover, index, tally)) = self.outstanding.remove(&id) {
                self.settle(leftover, index);
                done.push((leftover, tally));
            }
        }
        done
    }

    /// The exporter flushed (everything it was given is acknowledged or refused): every frame
    /// sent to it is settled. Returns them as [`take_settled`](Self::take_settled) does.
    pub(crate) fn settle_all_sent(&mut self) -> Vec<(bool, KindTally)> {
        let mut done = self.take_settled();
        let mut rest: Vec<(bool, u64, KindTally)> =
            self.outstanding.drain().map(|(_, v)| v).collect();
        // Leftover frames first, each log in order: settling goes front to back.
        rest.sort_by_key(|(leftover, index, _)| (!*leftover, *index));
        for (leftover, index, tally) in rest {
            self.settle(leftover, index);
            done.push((leftover, tally));
        }
        done
    }

    /// Frames handed out and not settled.
    pub(crate) fn unsettled(&self) -> usize {
        self.leftovers.front().map_or(0, WriterDir::unsettled)
            + self.own.as_ref().map_or(0, WriterDir::unsettled)
    }

    /// A delivery failed: what was handed out and not settled is read again next time.
    pub(crate) fn rewind(&mut self) {
        self.outstanding.clear();
        if let Some(front) = self.leftovers.front_mut() {
            front.rewind();
        }
        if let Some(own) = self.own.as_mut() {
            own.rewind();
        }
    }

    /// Persists the trim points (and deletes what they passed); removes leftovers delivered
    /// whole.
    pub(crate) fn save(&mut self) -> Result<(), SpoolError> {
        if let Some(front) = self.leftovers.front_mut() {
            front.save_trim()?;
            if front.is_empty() {
                self.retire_leftover()?;
            }
        }
        if let Some(own) = self.own.as_mut() {
            own.save_trim()?;
        }
        Ok(())
    }

    /// Whether nothing is left to deliver (leftovers or own).
    pub(crate) fn is_empty(&mut self) -> bool {
        self.leftovers.iter_mut().all(WriterDir::is_empty)
            && self.own.as_mut().is_none_or(WriterDir::is_empty)
    }

    /// Whether earlier processes' spools are still to deliver.
    pub(crate) fn has_leftovers(&self) -> bool {
        !self.leftovers.is_empty()
    }

    pub(crate) fn status(&self) -> SpoolStatus {
        let mut damage = self.past_damage;
        for d in self.leftovers.iter().chain(self.own.iter()) {
            damage.bad_frames += d.damage.bad_frames;
            damage.skipped_bytes += d.damage.skipped_bytes;
        }
        SpoolStatus {
            dir: self.own.as_ref().map_or_else(
                || exporter_dir(&self.settings.dir, &self.run, &self.exporter),
                |o| o.path.clone(),
            ),
            own_bytes: self.own.as_ref().map_or(0, WriterDir::bytes),
            leftover_bytes: self.leftovers.iter().map(WriterDir::bytes).sum(),
            leftover_dirs: self.leftovers.len(),
            bad_frames: damage.bad_frames,
            skipped_bytes: damage.skipped_bytes,
        }
    }

    /// At close: makes everything durable, removes the own directory when it holds nothing,
    /// and releases the leftovers not delivered (a later process delivers them).
    pub(crate) fn finish(&mut self) -> Result<(), SpoolError> {
        if let Some(own) = self.own.as_ref() {
            own.commit()?;
        }
        self.save()?;
        if let Some(mut own) = self.own.take() {
            if own.is_empty() {
                own.remove()?;
            } else {
                self.own = Some(own);
            }
        }
        self.leftovers.clear();
        Ok(())
    }
}

//! Cursors a backend knows from an earlier process of the same run (Metrana's handshake): an
//! exporter initialized at start hands them over, and the runtime seeds its step cursors with
//! them before the first call, so a resumed run continues where it stopped.

use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::model::{SeriesKey, SeriesOrdering};

/// One cursor from the backend.
#[derive(Clone, Debug, PartialEq)]
pub enum CursorSeed {
    /// A metric series' last logged step (its next automatic step is one after).
    LastStep {
        /// The series.
        key: SeriesKey,
        /// Its ordering, pinned.
        ordering: SeriesOrdering,
        /// Its last step.
        last_step: u64,
    },
    /// An environment's last rl_step and episode.
    Env {
        /// Environment id.
        env: String,
        /// Its last major step.
        last_rl_step: u64,
        /// Its last episode.
        last_episode: Option<u64>,
    },
}

/// Given to every exporter in its [`ExporterContext`](super::ExporterContext). Seeds handed
/// over during an initialization at start (see [`Exporter::initialize_at_start`]) are applied
/// before `Runtime::start` returns; later ones are ignored (the cursors are ahead by then).
///
/// [`Exporter::initialize_at_start`]: super::Exporter::initialize_at_start
#[derive(Clone, Default)]
pub struct CursorSeeds {
    seeds: Arc<Mutex<Option<Vec<CursorSeed>>>>,
}

impl CursorSeeds {
    /// A collector that accepts seeds until [`CursorSeeds::take`].
    pub(crate) fn open() -> Self {
        CursorSeeds {
            seeds: Arc::new(Mutex::new(Some(Vec::new()))),
        }
    }

    /// Hands a cursor over.
    pub fn seed(&self, seed: CursorSeed) {
        if let Some(seeds) = self.seeds.lock().as_mut() {
            seeds.push(seed);
        }
    }

    /// Everything handed over so far; later seeds are ignored.
    pub(crate) fn take(&self) -> Vec<CursorSeed> {
        self.seeds.lock().take().unwrap_or_default()
    }
}

impl fmt::Debug for CursorSeeds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorSeeds")
    }
}

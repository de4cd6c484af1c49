//! The environments of a vectorized RL call, checked and interned once per list.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;

use super::rl::RlCursors;
use super::Runtime;
use crate::error::EnqueueError;
use crate::model::RecordKind;

/// The environment ids of a vectorized RL call: distinct, valid, and interned by the runtime
/// that made the list ([`Runtime::env_list`]). An RL loop logs the same environments call
/// after call; a caller that keeps the list (the Python binding keeps its last one) skips the
/// checks and the hashing of every name on the calls after the first, and every record of
/// those calls shares one copy of the names.
#[derive(Clone, Debug)]
pub struct EnvList {
    names: Arc<[String]>,
    ids: Arc<[u32]>,
    /// The runtime whose cursors the ids index.
    owner: u64,
}

impl PartialEq for EnvList {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names
    }
}

impl EnvList {
    /// The environment ids, in call order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The names as shared by the records.
    pub(crate) fn shared_names(&self) -> Arc<[String]> {
        self.names.clone()
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for no environments (refused by the RL calls).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Interned ids in `cursors`: this list's own when `cursors` made it, else interned
    /// again (a list kept across a reconfigure).
    pub(super) fn ids_in(&self, cursors: &mut RlCursors) -> Cow<'_, [u32]> {
        if self.owner == cursors.owner() {
            Cow::Borrowed(&self.ids)
        } else {
            Cow::Owned(self.names.iter().map(|n| cursors.intern(n)).collect())
        }
    }
}

impl Runtime {
    /// Checks environment ids for an RL call (each valid, none twice) and interns them. Keep
    /// the list and pass it to every call with these environments: later calls pay nothing
    /// per environment for it.
    pub fn env_list(&self, names: Vec<String>) -> Result<EnvList, EnqueueError> {
        check_names(&names).inspect_err(|_| self.refused(RecordKind::Rl))?;
        let mut cursors = self.inner.rl.lock();
        let ids = names.iter().map(|n| cursors.intern(n)).collect();
        Ok(EnvList {
            names: names.into(),
            ids,
            owner: cursors.owner(),
        })
    }
}

fn check_names(names: &[String]) -> Result<(), EnqueueError> {
    let mut seen = HashSet::with_capacity_and_hasher(names.len(), Default::default());
    if let Some(env) = names.iter().find(|e| !seen.insert(e.as_str())) {
        return Err(EnqueueError::invalid(
            "env_id",
            format!("{} appears twice in one call", crate::model::shown(env)),
        ));
    }
    for env in names {
        crate::model::check_env_id(env)
            .map_err(|reason| EnqueueError::invalid("env_id", reason))?;
    }
    Ok(())
}

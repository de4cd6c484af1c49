//! What the relay has read and not yet committed, per partition: where a commit moves the
//! group's offset to, where a re-read starts, and which producer runs must have delivered
//! first.

use std::collections::{BTreeMap, BTreeSet};

use super::runs::RunKey;

/// A topic partition.
pub(crate) type Partition = (String, i32);

/// Partitions with an offset: to commit (the next to read) or to read again from.
pub(crate) type Positions = Vec<(Partition, i64)>;

/// One partition's messages read since its last commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Offset of the first of them: where reading starts again when they were not delivered.
    pub first: i64,
    /// One past the last of them: the offset a commit stores.
    pub next: i64,
    /// The producer runs whose runtimes got their records.
    pub runs: BTreeSet<RunKey>,
}

/// Every partition's pending messages.
#[derive(Debug, Default)]
pub(crate) struct Uncommitted {
    partitions: BTreeMap<Partition, Pending>,
}

impl Uncommitted {
    /// The message at `offset` of `partition` was read; its records went to `run` (none for a
    /// message that was skipped as unreadable).
    pub(crate) fn read(&mut self, partition: Partition, offset: i64, run: Option<RunKey>) {
        let pending = self.partitions.entry(partition).or_insert(Pending {
            first: offset,
            next: offset,
            runs: BTreeSet::new(),
        });
        pending.next = pending.next.max(offset + 1);
        pending.runs.extend(run);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// Every run with records pending anywhere.
    pub(crate) fn runs(&self) -> BTreeSet<RunKey> {
        self.partitions
            .values()
            .flat_map(|p| p.runs.iter().cloned())
            .collect()
    }

    /// Splits the pending partitions (all, or those `only` names) by whether every run they
    /// fed delivered: `(commit: (partition, next offset), read again: (partition, first
    /// offset))`. Neither list is forgotten yet: see [`Uncommitted::forget`].
    pub(crate) fn settle(
        &self,
        only: Option<&[Partition]>,
        undelivered: &BTreeSet<RunKey>,
    ) -> (Positions, Positions) {
        let (mut commit, mut again) = (Vec::new(), Vec::new());
        for (partition, pending) in &self.partitions {
            if only.is_some_and(|only| !only.contains(partition)) {
                continue;
            }
            if pending.runs.is_disjoint(undelivered) {
                commit.push((partition.clone(), pending.next));
            } else {
                again.push((partition.clone(), pending.first));
            }
        }
        (commit, again)
    }

    /// Drops what is pending for `partition` (committed, to be read again, or revoked).
    pub(crate) fn forget(&mut self, partition: &Partition) {
        self.partitions.remove(partition);
    }

    /// What is pending for `partition`.
    pub(crate) fn get(&self, partition: &Partition) -> Option<&Pending> {
        self.partitions.get(partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> RunKey {
        RunKey::of(&telemetron_runtime::RunIdentity {
            run_name: name.into(),
            logger_id: 1,
            ..Default::default()
        })
    }

    fn p(n: i32) -> Partition {
        ("t".to_string(), n)
    }

    #[test]
    fn a_partition_commits_only_when_every_run_it_fed_delivered() {
        let mut u = Uncommitted::default();
        u.read(p(0), 10, Some(key("a")));
        u.read(p(0), 11, Some(key("b")));
        u.read(p(1), 5, Some(key("a")));
        u.read(p(2), 7, None); // skipped as unreadable: commits with the rest
        assert_eq!(u.runs(), [key("a"), key("b")].into_iter().collect());
        let (commit, again) = u.settle(None, &BTreeSet::new());
        assert_eq!(commit, [(p(0), 12), (p(1), 6), (p(2), 8)]);
        assert!(again.is_empty());
        let (commit, again) = u.settle(None, &[key("b")].into_iter().collect());
        assert_eq!(commit, [(p(1), 6), (p(2), 8)]);
        assert_eq!(
            again,
            [(p(0), 10)],
            "read again from the first uncommitted message"
        );
        let (commit, again) = u.settle(Some(&[p(1)]), &[key("a")].into_iter().collect());
        assert!(commit.is_empty());
        assert_eq!(again, [(p(1), 5)]);
        u.forget(&p(0));
        assert!(u.get(&p(0)).is_none() && !u.is_empty());
        u.forget(&p(1));
        u.forget(&p(2));
        assert!(u.is_empty());
    }
}

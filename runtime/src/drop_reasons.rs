//! Why an exporter dropped records, counted per reason: the close report says "4328 dropped:
//! disabled: 5 consecutive failures ..." instead of a bare total.

use parking_lot::Mutex;

/// Distinct reasons kept per exporter; later ones are counted under "other reasons".
const KEPT: usize = 16;
const OTHER: &str = "other reasons";

/// Counts of dropped records by reason, in the order the reasons first appeared.
#[derive(Default)]
pub(crate) struct DropReasons(Mutex<Vec<(String, u64)>>);

impl DropReasons {
    /// `records` were dropped because of `reason` (redacted before it is kept).
    pub(crate) fn add(&self, reason: &str, records: u64) {
        if records == 0 {
            return;
        }
        let reason = crate::redact::redact_text(reason);
        let mut reasons = self.0.lock();
        if let Some(entry) = reasons.iter_mut().find(|(r, _)| *r == reason) {
            entry.1 += records;
            return;
        }
        if reasons.len() < KEPT {
            reasons.push((reason, records));
        } else if let Some(other) = reasons.iter_mut().find(|(r, _)| r == OTHER) {
            other.1 += records;
        } else {
            reasons.push((OTHER.to_string(), records));
        }
    }

    /// Every reason with its count.
    pub(crate) fn snapshot(&self) -> Vec<(String, u64)> {
        self.0.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_reason_and_bounds_the_list() {
        let reasons = DropReasons::default();
        reasons.add("queue full", 3);
        reasons.add("disabled: boom", 2);
        reasons.add("queue full", 4);
        reasons.add("never", 0);
        assert_eq!(
            reasons.snapshot(),
            [
                ("queue full".to_string(), 7),
                ("disabled: boom".to_string(), 2)
            ]
        );
        for i in 0..40 {
            reasons.add(&format!("rejected #{i}"), 1);
        }
        let all = reasons.snapshot();
        assert_eq!(all.len(), KEPT + 1);
        assert_eq!(all.iter().map(|(_, n)| n).sum::<u64>(), 49);
    }
}

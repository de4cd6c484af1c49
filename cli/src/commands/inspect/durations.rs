//! Span durations per name in constant memory: a log-linear histogram (128 sub-buckets per
//! power of two, ≤ 0.4 % relative error) for percentiles; count, total and max are exact.

/// Values below this are their own bucket (exact).
const EXACT: u64 = 256;
const SUB: u64 = 128;

#[derive(Clone, Debug, Default)]
pub(crate) struct Durations {
    pub count: u64,
    pub total: u128,
    pub min: u64,
    pub max: u64,
    buckets: Vec<u64>,
}

fn bucket(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() as u64 - 7;
    let mantissa = v >> shift; // in [128, 256)
    (EXACT + (shift - 1) * SUB + (mantissa - SUB)) as usize
}

/// The middle of a bucket's range.
fn middle(index: usize) -> u64 {
    let i = index as u64;
    if i < EXACT {
        return i;
    }
    let shift = (i - EXACT) / SUB + 1;
    let mantissa = SUB + (i - EXACT) % SUB;
    let low = mantissa << shift;
    low + ((1u64 << shift) - 1) / 2
}

impl Durations {
    pub(crate) fn add(&mut self, ns: u64) {
        if self.count == 0 || ns < self.min {
            self.min = ns;
        }
        self.max = self.max.max(ns);
        self.count += 1;
        self.total += u128::from(ns);
        let b = bucket(ns);
        if b >= self.buckets.len() {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total as f64 / self.count as f64
        }
    }

    /// The `p`-quantile (0 < p ≤ 1): the smallest value with at least `p` of the values at or
    /// below it, within the bucket's precision, never outside [min, max].
    pub(crate) fn quantile(&self, p: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((p * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return middle(i).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_half_a_percent() {
        let mut d = Durations::default();
        for v in 1..=100_000u64 {
            d.add(v * 1000);
        }
        for (p, exact) in [(0.5, 50_000_000u64), (0.95, 95_000_000), (0.99, 99_000_000)] {
            let q = d.quantile(p);
            let err = (q as f64 - exact as f64).abs() / exact as f64;
            assert!(err < 0.005, "p{p}: {q} vs {exact}");
        }
        assert_eq!((d.min, d.max, d.count), (1000, 100_000_000, 100_000));
        let mut one = Durations::default();
        one.add(123_456_789);
        assert_eq!(one.quantile(0.5), 123_456_789, "clamped to the only value");
        for v in [0, 1, 255, 256, 257, 1 << 40, u64::MAX] {
            let m = middle(bucket(v));
            assert!(m.abs_diff(v) <= v / 128, "{v} -> {m}");
        }
    }
}

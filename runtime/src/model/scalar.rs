//! One point of a metric series, in the compact form a `log(name, value)` call travels in.

use std::mem::ManuallyDrop;
use std::sync::Arc;

use super::series::{MetricPoints, SeriesKey, SeriesOrdering, TimestampsMs, Values};
use super::time::Timestamp;

/// One point of one series, stamped on arrival: the `log(name, value, step=...)` record.
///
/// Scalar points are the records most often in flight by the hundred thousand (a training
/// loop's per-step losses while a backend is slow), and every queued record takes the size
/// of the largest [`Record`](super::Record) variant. This form is 40 bytes where
/// [`MetricPoints`] is 104, so a `Record` is 40 bytes. It means exactly (bit for bit) the one-point
/// `MetricPoints` that [`ScalarPoint::to_points`] gives (without a heap allocation), and
/// `Record::from(MetricPoints)` turns a one-point, unstamped `MetricPoints` into this form.
#[derive(Clone, Debug)]
pub struct ScalarPoint {
    /// The series.
    pub series: Arc<SeriesKey>,
    /// Its step.
    pub step: u64,
    /// The value's bits: an f64's, or an f32's in the low half when `single` (bits, not a
    /// widened value: an f32 signalling NaN would come back quiet).
    bits: u64,
    /// When it was logged.
    pub time: Timestamp,
    /// Its series' ordering mode.
    pub ordering: SeriesOrdering,
    /// Whether the value travels in single precision ([`Values::F32`]).
    single: bool,
}

impl ScalarPoint {
    /// The point of a one-point, unstamped `MetricPoints`; any other back unchanged. By value:
    /// the series moves over (no reference count taken and dropped on the caller's path).
    pub fn from_points(points: MetricPoints) -> Result<ScalarPoint, MetricPoints> {
        if points.steps.len() != 1 || !matches!(points.timestamps_ms, TimestampsMs::None) {
            return Err(points);
        }
        let (bits, single) = match &points.values {
            Values::F32(v) if v.len() == 1 => (u64::from(v[0].to_bits()), true),
            Values::F64(v) if v.len() == 1 => (v[0].to_bits(), false),
            _ => return Err(points),
        };
        Ok(ScalarPoint {
            step: points.steps[0],
            bits,
            time: points.time,
            ordering: points.ordering,
            single,
            series: points.series,
        })
    }

    /// The value in the precision it travels in.
    pub fn values(&self) -> Values {
        if self.single {
            Values::F32([f32::from_bits(self.bits as u32)].into_iter().collect())
        } else {
            Values::F64([f64::from_bits(self.bits)].into_iter().collect())
        }
    }

    /// Calls `f` with the same point as `MetricPoints`, made on the stack: no heap allocation
    /// and, unlike [`ScalarPoint::to_points`], no reference count taken on the series, whose
    /// count the caller's thread updates with every call (exporters encode with this).
    pub fn with_points<R>(&self, f: impl FnOnce(&MetricPoints) -> R) -> R {
        let points = ManuallyDrop::new(MetricPoints {
            // SAFETY: a bitwise copy of `self.series` that is never dropped (`ManuallyDrop`)
            // and does not outlive `self`, which keeps the count it stands for; `f` only
            // borrows it (a clone it takes is counted as any other).
            series: unsafe { std::ptr::read(&self.series) },
            ordering: self.ordering,
            steps: [self.step].into_iter().collect(),
            values: self.values(),
            timestamps_ms: TimestampsMs::None,
            time: self.time,
        });
        f(&points)
    }

    /// The same point as `MetricPoints` (its columns inline: no heap allocation).
    pub fn to_points(&self) -> MetricPoints {
        MetricPoints {
            series: self.series.clone(),
            ordering: self.ordering,
            steps: [self.step].into_iter().collect(),
            values: self.values(),
            timestamps_ms: TimestampsMs::None,
            time: self.time,
        }
    }
}

impl PartialEq for ScalarPoint {
    /// As the `MetricPoints` it stands for compare (values as floats: NaN is unequal).
    fn eq(&self, other: &ScalarPoint) -> bool {
        self.to_points() == other.to_points()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scale;

    fn points(values: Values, timestamps_ms: TimestampsMs) -> MetricPoints {
        let n = values.len() as u64;
        MetricPoints {
            series: Arc::new(SeriesKey::new("loss", Scale::MlStep, Vec::new()).unwrap()),
            ordering: SeriesOrdering::Ordered,
            steps: (7..7 + n).collect(),
            values,
            timestamps_ms,
            time: Timestamp(42),
        }
    }

    #[test]
    fn a_one_point_series_round_trips_in_its_precision() {
        for values in [
            Values::from(vec![0.1f32]),
            Values::from(vec![0.1f64]),
            Values::from(vec![f32::NAN]),
            Values::from(vec![f32::from_bits(0x7f80_0001)]), // a signalling NaN
            Values::from(vec![-0.0f32]),
            Values::from(vec![f64::NEG_INFINITY]),
        ] {
            let original = points(values, TimestampsMs::None);
            let scalar = ScalarPoint::from_points(original.clone()).unwrap();
            let back = scalar.to_points();
            let strong = Arc::strong_count(&scalar.series);
            scalar.with_points(|view| assert_eq!(format!("{view:?}"), format!("{back:?}")));
            assert_eq!(
                Arc::strong_count(&scalar.series),
                strong,
                "the view took no count"
            );
            assert_eq!(format!("{back:?}"), format!("{original:?}"));
            match (&back.values, &original.values) {
                (Values::F32(a), Values::F32(b)) => assert_eq!(a[0].to_bits(), b[0].to_bits()),
                (Values::F64(a), Values::F64(b)) => assert_eq!(a[0].to_bits(), b[0].to_bits()),
                other => panic!("precision changed: {other:?}"),
            }
            assert_eq!(back.steps[..], [7]);
        }
    }

    #[test]
    fn only_one_unstamped_point_has_the_compact_form() {
        let two = points(Values::from(vec![1.0f32, 2.0]), TimestampsMs::None);
        assert!(ScalarPoint::from_points(two).is_err());
        let stamped = points(Values::from(vec![1.0f32]), TimestampsMs::One(5));
        assert!(ScalarPoint::from_points(stamped).is_err());
    }
}

//! Metric series: a series is keyed by (name, scale, labels); points travel as columns.

use std::fmt;
use std::sync::Arc;

use super::Timestamp;

/// The axis a series' steps count (Metrana's scale names on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scale {
    /// Optimizer steps (`ML_STEP`, the default).
    MlStep,
    /// RL episodes (`EPISODE`).
    Episode,
    /// RL environment steps (`ENVIRONMENT_STEP`).
    EnvironmentStep,
}

impl Scale {
    /// `ML_STEP`, `EPISODE` or `ENVIRONMENT_STEP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::MlStep => "ML_STEP",
            Scale::Episode => "EPISODE",
            Scale::EnvironmentStep => "ENVIRONMENT_STEP",
        }
    }

    /// Parses a scale name (case-insensitive).
    pub fn parse(text: &str) -> Result<Scale, SeriesError> {
        match text.to_ascii_uppercase().as_str() {
            "ML_STEP" => Ok(Scale::MlStep),
            "EPISODE" => Ok(Scale::Episode),
            "ENVIRONMENT_STEP" => Ok(Scale::EnvironmentStep),
            _ => Err(SeriesError::new(
                "scale",
                format!("{text:?} is not ML_STEP, EPISODE or ENVIRONMENT_STEP"),
            )),
        }
    }
}

/// How writers may step a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesOrdering {
    /// One writer, strictly increasing steps (`log`; Metrana `ABSOLUTE_ORDERED`).
    Ordered,
    /// Many writers, any step order (`log_distributed`; `ABSOLUTE_UNORDERED`).
    Unordered,
}

impl SeriesOrdering {
    /// `ordered` or `unordered`.
    pub fn as_str(self) -> &'static str {
        match self {
            SeriesOrdering::Ordered => "ordered",
            SeriesOrdering::Unordered => "unordered",
        }
    }
}

/// An invalid series argument; names the argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct SeriesError {
    /// The argument (`metric name`, `label key`, `step`, `value`, ...).
    pub what: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl SeriesError {
    /// An error about `what`.
    pub fn new(what: &'static str, reason: impl Into<String>) -> Self {
        SeriesError {
            what,
            reason: reason.into(),
        }
    }
}

/// Longest metric name or label key/value, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// Identity of a series. Labels are sorted by key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    name: String,
    scale: Scale,
    labels: Vec<(String, String)>,
}

impl SeriesKey {
    /// Validates and builds a key: a name of 1–256 bytes without control characters, label keys
    /// of `A-Z a-z 0-9 _ . / -` (1–256 bytes), label values up to 256 bytes without `=` or `&`
    /// (Metrana reserves them: its label maps travel as `k=v&k=v`), no duplicate keys.
    pub fn new(
        name: impl Into<String>,
        scale: Scale,
        labels: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SeriesKey, SeriesError> {
        let name = name.into();
        check_text("metric name", &name)?;
        let mut labels: Vec<(String, String)> = labels.into_iter().collect();
        for (k, v) in &labels {
            check_text("label key", k)?;
            if !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
            {
                return Err(SeriesError::new(
                    "label key",
                    format!(
                        "{} may only contain letters, digits, '_', '.', '/' and '-'",
                        super::shown(k)
                    ),
                ));
            }
            if v.len() > MAX_NAME_LEN || v.chars().any(char::is_control) {
                return Err(SeriesError::new(
                    "label value",
                    format!("the value of {k:?} must be at most {MAX_NAME_LEN} bytes without control characters"),
                ));
            }
            if let Some(reserved) = v.chars().find(|c| matches!(c, '=' | '&')) {
                return Err(SeriesError::new(
                    "label value",
                    format!("the value of {k:?} contains {reserved:?}; '=' and '&' are reserved"),
                ));
            }
        }
        labels.sort();
        if let Some(w) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(SeriesError::new(
                "label key",
                format!("{:?} appears twice", w[0].0),
            ));
        }
        Ok(SeriesKey {
            name,
            scale,
            labels,
        })
    }

    /// The metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The scale.
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Labels, sorted by key.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }
}

impl fmt::Debug for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.name, self.scale.as_str())?;
        if !self.labels.is_empty() {
            let labels: Vec<_> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            write!(f, "{{{}}}", labels.join(","))?;
        }
        Ok(())
    }
}

fn check_text(what: &'static str, text: &str) -> Result<(), SeriesError> {
    super::check_path(text, MAX_NAME_LEN).map_err(|reason| SeriesError::new(what, reason))
}

/// A column of point data that keeps up to 16 bytes of it inline: a scalar call's step and
/// value travel without a heap allocation each (a queued scalar point is the record most often
/// in flight by the hundred thousand), while a large column is the caller's `Vec` moved in
/// (`Column::from(vec)` takes its buffer, no copy). As large as a `Vec` (24 bytes).
pub type Column<T, const N: usize> = smallvec::SmallVec<[T; N]>;

/// One step per point.
pub type StepColumn = Column<u64, 2>;
/// Single-precision values.
pub type F32Column = Column<f32, 4>;
/// Double-precision values.
pub type F64Column = Column<f64, 2>;

/// Point values as one column, in the precision they travel in: float values default to f32
/// (IEEE round-to-nearest-even, as Metrana ships them), integer values and explicit float64
/// to f64.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Single precision.
    F32(F32Column),
    /// Double precision.
    F64(F64Column),
}

impl From<Vec<f32>> for Values {
    fn from(values: Vec<f32>) -> Values {
        Values::F32(values.into())
    }
}

impl From<Vec<f64>> for Values {
    fn from(values: Vec<f64>) -> Values {
        Values::F64(values.into())
    }
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f64 (exact for both precisions).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Values::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Values::F64(v) => v.to_vec(),
        }
    }

    /// Values `range` (a copy).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Values {
        match self {
            Values::F32(v) => Values::F32(Column::from_slice(&v[range])),
            Values::F64(v) => Values::F64(Column::from_slice(&v[range])),
        }
    }

    /// The index of the first value that is NaN or infinite.
    pub fn first_non_finite(&self) -> Option<usize> {
        match self {
            Values::F32(v) => first_non_finite(v, |x| x.is_finite()),
            Values::F64(v) => first_non_finite(v, |x| x.is_finite()),
        }
    }
}

/// Checks blocks of 64 without branching on each value (the compiler vectorizes it), and
/// looks for the position only in a block that failed: a large array is checked at memory speed.
fn first_non_finite<T: Copy>(values: &[T], finite: impl Fn(T) -> bool + Copy) -> Option<usize> {
    const BLOCK: usize = 64;
    for (b, block) in values.chunks(BLOCK).enumerate() {
        if !block.iter().fold(true, |all, &x| all & finite(x)) {
            let at = block.iter().position(|&x| !finite(x))?;
            return Some(b * BLOCK + at);
        }
    }
    None
}

/// Unix milliseconds of the points: none (the backend stamps arrival), one for all, or one each.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum TimestampsMs {
    /// Stamped on arrival.
    #[default]
    None,
    /// One time for every point.
    One(i64),
    /// One time per point.
    Each(Vec<i64>),
}

impl TimestampsMs {
    /// The timestamps of points `range` (one for all stays one).
    pub fn slice(&self, range: std::ops::Range<usize>) -> TimestampsMs {
        match self {
            TimestampsMs::Each(ts) => TimestampsMs::Each(ts[range].to_vec()),
            other => other.clone(),
        }
    }
}

/// Points of one series: resolved steps, values and timestamps, column by column.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoints {
    /// The series.
    pub series: Arc<SeriesKey>,
    /// Its ordering mode.
    pub ordering: SeriesOrdering,
    /// One step per value (auto-increment and first-step forms are resolved by the caller's
    /// handle from its cursors).
    pub steps: StepColumn,
    /// The values.
    pub values: Values,
    /// Their timestamps.
    pub timestamps_ms: TimestampsMs,
    /// When they were logged.
    pub time: Timestamp,
}

impl MetricPoints {
    /// Points `range` of the same series (a copy): how a record too large for one message, or
    /// partly known to a backend already, is cut.
    pub fn slice(&self, range: std::ops::Range<usize>) -> MetricPoints {
        MetricPoints {
            series: self.series.clone(),
            ordering: self.ordering,
            steps: StepColumn::from_slice(&self.steps[range.clone()]),
            values: self.values.slice(range.clone()),
            timestamps_ms: self.timestamps_ms.slice(range),
            time: self.time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_may_not_hold_the_reserved_characters() {
        for bad in ["a=b", "a&b"] {
            let e = SeriesKey::new("m", Scale::MlStep, labels(&[("k", bad)])).unwrap_err();
            assert_eq!(e.what, "label value");
        }
        assert!(SeriesKey::new("m", Scale::MlStep, labels(&[("k", "a/b c+%?#ü")])).is_ok());
    }

    /// A scalar call's columns cost no heap allocation; a large column is the caller's buffer,
    /// moved in, not copied.
    #[test]
    fn a_scalar_point_is_inline_and_a_large_column_keeps_its_buffer() {
        let Values::F32(one) = Values::from(vec![0.5f32]) else {
            panic!("f32")
        };
        assert!(!one.spilled());
        let steps: StepColumn = (7..8).collect();
        assert!(!steps.spilled());
        let large = vec![0.25f64; 4096];
        let buffer = large.as_ptr();
        let Values::F64(column) = Values::from(large) else {
            panic!("f64")
        };
        assert_eq!(column.as_ptr(), buffer);
        assert_eq!(
            std::mem::size_of::<StepColumn>(),
            std::mem::size_of::<Vec<u64>>()
        );
    }

    #[test]
    fn the_first_non_finite_value_is_found_in_any_block() {
        let mut v = vec![1.0f32; 200];
        assert_eq!(Values::from(v.clone()).first_non_finite(), None);
        v[130] = f32::INFINITY;
        v[199] = f32::NAN;
        assert_eq!(Values::from(v).first_non_finite(), Some(130));
        let mut w = vec![0.5f64; 65];
        w[64] = f64::NAN;
        assert_eq!(Values::from(w).first_non_finite(), Some(64));
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keys_sort_labels_and_validate_every_part() {
        let a = SeriesKey::new("loss", Scale::MlStep, labels(&[("b", "1"), ("a", "2")])).unwrap();
        let b = SeriesKey::new("loss", Scale::MlStep, labels(&[("a", "2"), ("b", "1")])).unwrap();
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), "loss[ML_STEP]{a=2,b=1}");
        assert_eq!(
            SeriesKey::new("", Scale::MlStep, []).unwrap_err().what,
            "metric name"
        );
        let bad_key = SeriesKey::new("x", Scale::MlStep, labels(&[("a b", "1")])).unwrap_err();
        assert_eq!(bad_key.what, "label key");
        let twice = SeriesKey::new("x", Scale::MlStep, labels(&[("a", "1"), ("a", "2")]));
        assert!(twice.unwrap_err().reason.contains("twice"));
        assert_eq!(Scale::parse("episode"), Ok(Scale::Episode));
        assert!(Scale::parse("epoch").is_err());
    }
}

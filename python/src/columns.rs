//! Numeric arguments as 1-D columns, copied once: Python scalars, lists and tuples, and arrays
//! of any float or integer dtype through `__array_interface__` (NumPy, and anything
//! `numpy.asarray` converts: CPU torch tensors, JAX arrays), with their strides.

use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};

use telemetron::model::{Column as Inline, F64Column};

use crate::array::ArrayInterface;
use crate::errors::invalid;

/// Integers of a column; a Python int is held inline (no allocation for a scalar step).
pub(crate) type IntColumn = Inline<i64, 2>;

/// `max_values_per_call` of the runtime configured last: how many values one call may copy
/// (an array claiming 2**31 elements must not become a 16 GB allocation).
pub(crate) static MAX_VALUES_PER_CALL: AtomicUsize =
    AtomicUsize::new(telemetron::RuntimeSettings::DEFAULT_MAX_VALUES_PER_CALL);

/// `max_values_per_call` of the runtime configured last.
#[pyfunction]
pub(crate) fn max_values_per_call() -> usize {
    MAX_VALUES_PER_CALL.load(Ordering::Relaxed)
}

/// Refuses a call of `n` values over the limit.
fn check_count(n: usize, what: &str) -> PyResult<()> {
    let max = MAX_VALUES_PER_CALL.load(Ordering::Relaxed);
    if n > max {
        return Err(invalid(
            what,
            format!(
                "{n} values in one call; at most max_values_per_call = {max} (split the call, or \
                 raise the setting)"
            ),
        ));
    }
    Ok(())
}

/// An empty vector with room for `n` items, or `MemoryError` instead of an abort.
pub(crate) fn with_capacity<T>(n: usize, what: &str) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| PyMemoryError::new_err(format!("cannot allocate {n} values for {what}")))?;
    Ok(v)
}

/// What the numbers were before they became f64: decides the precision they travel in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// float16 / float32 arrays.
    Float32,
    /// Python floats and float64 arrays.
    Float64,
    /// Python ints, bools and integer arrays (exact in f64 up to 2**53).
    Int,
}

/// A column and where it came from. Integer arrays keep their exact values in `ints`;
/// float16/float32 arrays keep theirs in `f32s` (no round trip through f64). A Python scalar
/// is held inline: a scalar `log` allocates nothing for its value or step.
pub(crate) struct Column {
    values: F64Column,
    pub(crate) f32s: Option<Vec<f32>>,
    pub(crate) ints: Option<IntColumn>,
    pub(crate) origin: Origin,
    /// True for a scalar argument (broadcast where the API allows it).
    pub(crate) scalar: bool,
}

impl Column {
    /// The values as f64 (exact for every origin up to 2**53 for integers).
    pub(crate) fn f64s(self) -> F64Column {
        match self.f32s {
            Some(v) => v.into_iter().map(f64::from).collect(),
            None => self.values,
        }
    }
}

/// Reads `obj` as numbers: a scalar or a 1-D sequence or array.
pub(crate) fn column(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Column> {
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyInt>() {
        let i: i64 = obj
            .extract()
            .map_err(|_| invalid(what, "integer out of the 64-bit range"))?;
        return Ok(Column {
            values: F64Column::from_slice(&[i as f64]),
            f32s: None,
            ints: Some(IntColumn::from_slice(&[i])),
            origin: Origin::Int,
            scalar: true,
        });
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Column {
            values: F64Column::from_slice(&[f.value()]),
            f32s: None,
            ints: None,
            origin: Origin::Float64,
            scalar: true,
        });
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return sequence(obj, what);
    }
    from_interface(&ArrayInterface::of(py, obj, what)?, what)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "value".into())
}

fn sequence(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Column> {
    let n = obj.len()?;
    check_count(n, what)?;
    let mut values = with_capacity(n, what)?;
    let mut ints = with_capacity(n, what)?;
    let mut all_ints = true;
    for (i, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        if item.is_instance_of::<PyBool>() || item.is_instance_of::<PyInt>() {
            let n: i64 = item
                .extract()
                .map_err(|_| invalid(what, format!("item #{i} is out of the 64-bit range")))?;
            values.push(n as f64);
            ints.push(n);
        } else if let Ok(f) = item.extract::<f64>() {
            all_ints = false;
            values.push(f);
        } else {
            return Err(invalid(
                what,
                format!("item #{i} is a {}, not a number", type_name(&item)),
            ));
        }
    }
    Ok(Column {
        values: values.into(),
        f32s: None,
        ints: all_ints.then(|| ints.into()),
        origin: if all_ints {
            Origin::Int
        } else {
            Origin::Float64
        },
        scalar: false,
    })
}

fn from_interface(array: &ArrayInterface<'_>, what: &str) -> PyResult<Column> {
    let (typestr, shape, base) = (&array.typestr, &array.shape, array.base);
    let (n, scalar) = match shape.as_slice() {
        [] => (1, true),
        [n] => (*n, false),
        _ => {
            return Err(invalid(
                what,
                format!("must be a scalar or 1-D, got shape {shape:?}"),
            ))
        }
    };
    let bytes = typestr.as_bytes();
    let (order, kind) = (bytes.first().copied(), bytes.get(1).copied());
    let size: usize = typestr.get(2..).and_then(|s| s.parse().ok()).unwrap_or(0);
    let numeric = matches!(
        (kind, size),
        (Some(b'f'), 2 | 4 | 8) | (Some(b'i' | b'u' | b'b'), 1 | 2 | 4 | 8)
    );
    if !numeric {
        return Err(invalid(
            what,
            format!(
                "dtype {} is not a float or integer type",
                array.dtype_name()
            ),
        ));
    }
    let (order, kind) = (order.unwrap_or(b'|'), kind.unwrap_or(b'f'));
    if order == b'>' && size > 1 {
        return Err(invalid(
            what,
            "big-endian arrays are not supported; convert with .astype('<f4') (or '<f8', '<i8')",
        ));
    }
    let stride = match array.strides.as_deref() {
        None | Some([]) => size as isize,
        Some([s]) => *s,
        Some(other) => return Err(invalid(what, format!("strides {other:?} do not match"))),
    };
    check_count(n, what)?;
    array.check_extent(&[n], &[stride], size, what)?;
    let read = |i: usize, buf: &mut [u8; 8]| {
        // SAFETY: the array is alive and the GIL is held; the interface promises `n`
        // elements of `size` bytes at `base + i * stride`.
        unsafe {
            std::ptr::copy_nonoverlapping(base.offset(i as isize * stride), buf.as_mut_ptr(), size)
        }
    };
    if stride == size as isize && matches!((kind, size), (b'f', 4 | 8)) {
        // Contiguous float32/float64: one block copy.
        // SAFETY: as for `read`; the block is `n * size` bytes, copied into fresh capacity.
        return Ok(unsafe {
            if size == 4 {
                let mut v: Vec<f32> = with_capacity(n, what)?;
                std::ptr::copy_nonoverlapping(base, v.as_mut_ptr().cast::<u8>(), n * 4);
                v.set_len(n);
                Column {
                    values: F64Column::new(),
                    f32s: Some(v),
                    ints: None,
                    origin: Origin::Float32,
                    scalar,
                }
            } else {
                let mut v: Vec<f64> = with_capacity(n, what)?;
                std::ptr::copy_nonoverlapping(base, v.as_mut_ptr().cast::<u8>(), n * 8);
                v.set_len(n);
                Column {
                    values: v.into(),
                    f32s: None,
                    ints: None,
                    origin: Origin::Float64,
                    scalar,
                }
            }
        });
    }
    let mut values = with_capacity(n, what)?;
    let mut ints = Vec::new();
    let origin = match (kind, size) {
        (b'f', 2 | 4 | 8) => {
            for i in 0..n {
                let mut buf = [0u8; 8];
                read(i, &mut buf);
                values.push(match size {
                    2 => f64::from(f16_to_f32(u16::from_le_bytes([buf[0], buf[1]]))),
                    4 => f64::from(f32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]])),
                    _ => f64::from_le_bytes(buf),
                });
            }
            if size == 8 {
                Origin::Float64
            } else {
                Origin::Float32
            }
        }
        (b'i' | b'u' | b'b', 1 | 2 | 4 | 8) => {
            ints = with_capacity(n, what)?;
            for i in 0..n {
                let mut buf = [0u8; 8];
                read(i, &mut buf);
                let v: i64 = match (kind, size) {
                    (b'i', 1) => i64::from(buf[0] as i8),
                    (b'i', 2) => i64::from(i16::from_le_bytes([buf[0], buf[1]])),
                    (b'i', 4) => i64::from(i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]])),
                    (b'i', _) => i64::from_le_bytes(buf),
                    (_, 1) => i64::from(buf[0]),
                    (_, 2) => i64::from(u16::from_le_bytes([buf[0], buf[1]])),
                    (_, 4) => i64::from(u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]])),
                    _ => i64::try_from(u64::from_le_bytes(buf)).map_err(|_| {
                        invalid(what, format!("item #{i} is beyond the 64-bit signed range"))
                    })?,
                };
                values.push(v as f64);
                ints.push(v);
            }
            Origin::Int
        }
        _ => {
            return Err(invalid(
                what,
                format!(
                    "dtype {} is not a float or integer type",
                    array.dtype_name()
                ),
            ))
        }
    };
    Ok(Column {
        values: values.into(),
        f32s: None,
        ints: (origin == Origin::Int).then(|| ints.into()),
        origin,
        scalar,
    })
}

/// IEEE 754 half → single (exact).
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let magnitude = match (exponent, mantissa) {
        (0, 0) => 0,
        (0, m) => {
            // Subnormal: normalize.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            ((127 - 15 - shift + 1) << 23) | (m << 13)
        }
        (0x1f, m) => 0xff << 23 | (m << 13),
        (e, m) => ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(sign | magnitude)
}

//! Arrays through `__array_interface__`: NumPy arrays as they are, anything else (a torch
//! tensor on any device, a DLPack producer, a list of lists) converted once by `_tensors.py`.
//! One place for reading the interface and for the memory contract the raw copies rely on.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::invalid;

/// An array's memory as its `__array_interface__` describes it. Holding it keeps the array
/// alive; with the GIL held, `shape` elements of `typestr` lie at `base + index · strides`.
pub(crate) struct ArrayInterface<'py> {
    array: Bound<'py, PyAny>,
    pub(crate) typestr: String,
    pub(crate) shape: Vec<usize>,
    /// Bytes per axis step; `None` for C-contiguous.
    pub(crate) strides: Option<Vec<isize>>,
    pub(crate) base: *const u8,
}

impl<'py> ArrayInterface<'py> {
    /// Reads `obj`'s interface; `what` names the argument in errors.
    pub(crate) fn of(py: Python<'py>, obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Self> {
        let type_name = || {
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "value".into())
        };
        let array = if obj.hasattr("__array_interface__")? {
            obj.clone()
        } else {
            py.import("numpy").map_err(|_| {
                invalid(
                    what,
                    format!(
                        "a {} is not an array (and NumPy is not installed)",
                        type_name()
                    ),
                )
            })?;
            // Tensors (detached, moved to the host once), DLPack producers, sequences.
            py.import("telemetron._tensors")?
                .call_method1("to_array", (obj,))
                .map_err(|e| {
                    invalid(
                        what,
                        format!("a {} is not convertible to an array: {e}", type_name()),
                    )
                })?
        };
        let interface = array.getattr("__array_interface__")?;
        let interface = interface.cast::<PyDict>()?;
        let item = |key: &str| -> PyResult<Bound<'py, PyAny>> {
            interface
                .get_item(key)?
                .ok_or_else(|| invalid(what, format!("__array_interface__ has no {key:?}")))
        };
        let claimed = |key: &str, e: PyErr| {
            invalid(
                what,
                format!("__array_interface__[{key:?}] is malformed: {}", e.value(py)),
            )
        };
        let typestr: String = item("typestr")?
            .extract()
            .map_err(|e| claimed("typestr", e))?;
        let shape: Vec<usize> = item("shape")?.extract().map_err(|e| claimed("shape", e))?;
        let strides: Option<Vec<isize>> = item("strides")?
            .extract()
            .map_err(|e| claimed("strides", e))?;
        let data = item("data")?;
        let data = data
            .cast::<PyTuple>()
            .map_err(|_| invalid(what, "its memory is not exposed as (pointer, readonly)"))?;
        let base = data
            .get_item(0)?
            .extract::<usize>()
            .map_err(|e| claimed("data", e))? as *const u8;
        Ok(ArrayInterface {
            array,
            typestr,
            shape,
            strides,
            base,
        })
    }

    /// Checks what the interface claims before its memory is touched: `count` elements of
    /// `itemsize` bytes along axes of `dims` and byte `strides` must have a non-null base and
    /// span no more than `isize::MAX` bytes (a forged interface gets an error, not a SIGSEGV or
    /// a capacity overflow).
    pub(crate) fn check_extent(
        &self,
        dims: &[usize],
        strides: &[isize],
        itemsize: usize,
        what: &str,
    ) -> PyResult<()> {
        let bad = |why: &str| invalid(what, format!("its __array_interface__ {why}"));
        let count = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad("claims more elements than memory can hold"))?;
        if count == 0 {
            return Ok(());
        }
        if self.base.is_null() {
            return Err(bad("points at address 0"));
        }
        count
            .checked_mul(itemsize)
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or_else(|| bad("claims more bytes than memory can hold"))?;
        let span = dims
            .iter()
            .zip(strides)
            .try_fold(itemsize, |acc, (&d, &s)| {
                s.unsigned_abs()
                    .checked_mul(d - 1)
                    .and_then(|extent| acc.checked_add(extent))
            });
        match span {
            Some(bytes) if bytes <= isize::MAX as usize => Ok(()),
            _ => Err(bad("has strides that reach past addressable memory")),
        }
    }

    /// The dtype as NumPy names it (the typestr when the object has no `dtype`).
    pub(crate) fn dtype_name(&self) -> String {
        self.array
            .getattr("dtype")
            .map_or_else(|_| self.typestr.clone(), |d| d.to_string())
    }
}

//! Arrays through `__array_interface__`: NumPy arrays as they are, anything else (a CPU torch
//! tensor, a list of lists) converted once with `numpy.asarray`. One place for reading the
//! interface and for the memory contract the raw copies rely on.

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
            let numpy = py.import("numpy").map_err(|_| {
                invalid(
                    what,
                    format!(
                        "a {} is not an array (and NumPy is not installed)",
                        type_name()
                    ),
                )
            })?;
            numpy.call_method1("asarray", (obj,)).map_err(|e| {
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
        let typestr: String = item("typestr")?.extract()?;
        let shape: Vec<usize> = item("shape")?.extract()?;
        let strides: Option<Vec<isize>> = item("strides")?.extract()?;
        let data = item("data")?;
        let data = data
            .cast::<PyTuple>()
            .map_err(|_| invalid(what, "its memory is not exposed as (pointer, readonly)"))?;
        let base = data.get_item(0)?.extract::<usize>()? as *const u8;
        Ok(ArrayInterface {
            array,
            typestr,
            shape,
            strides,
            base,
        })
    }

    /// The dtype as NumPy names it (the typestr when the object has no `dtype`).
    pub(crate) fn dtype_name(&self) -> String {
        self.array
            .getattr("dtype")
            .map_or_else(|_| self.typestr.clone(), |d| d.to_string())
    }
}

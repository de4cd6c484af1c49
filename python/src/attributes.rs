//! Python attribute dicts → typed `Attributes`. bool/int/float/str and homogeneous lists of one
//! of them; nested dicts flatten to `/` paths; anything else is a `TypeError` naming the key.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use telemetron::model::{AttributeValue, Attributes};

use crate::errors::ToPyErr;

/// `None` and `{}` are no attributes.
pub(crate) fn to_attributes(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Attributes> {
    let mut attrs = Attributes::new();
    if let Some(dict) = dict {
        add_dict(&mut attrs, dict, "")?;
    }
    Ok(attrs)
}

fn add_dict(attrs: &mut Attributes, dict: &Bound<'_, PyDict>, prefix: &str) -> PyResult<()> {
    for (k, v) in dict.iter() {
        let key = k.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "attribute keys must be str, got {} ({k:?})",
                type_name(&k)
            ))
        })?;
        let key = if prefix.is_empty() {
            key.to_str()?.to_string()
        } else {
            format!("{prefix}/{}", key.to_str()?)
        };
        if let Ok(nested) = v.cast::<PyDict>() {
            add_dict(attrs, nested, &key)?;
            continue;
        }
        let value = scalar_or_list(&v, &key)?;
        attrs.insert(key, value).map_err(ToPyErr::to_py)?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
}

fn kind_of(v: &Bound<'_, PyAny>) -> Option<Kind> {
    // bool before int: bool is an int subclass in Python.
    if v.is_instance_of::<PyBool>() {
        Some(Kind::Bool)
    } else if v.is_instance_of::<PyInt>() {
        Some(Kind::Int)
    } else if v.is_instance_of::<PyFloat>() {
        Some(Kind::Float)
    } else if v.is_instance_of::<PyString>() {
        Some(Kind::Str)
    } else {
        None
    }
}

fn int(v: &Bound<'_, PyAny>, key: &str) -> PyResult<i64> {
    v.extract::<i64>().map_err(|_| {
        PyOverflowError::new_err(format!(
            "attribute {key:?}: integer {v} does not fit in 64 bits"
        ))
    })
}

fn scalar_or_list(v: &Bound<'_, PyAny>, key: &str) -> PyResult<AttributeValue> {
    if let Some(kind) = kind_of(v) {
        return Ok(match kind {
            Kind::Bool => AttributeValue::Bool(v.extract()?),
            Kind::Int => AttributeValue::I64(int(v, key)?),
            Kind::Float => AttributeValue::F64(v.extract()?),
            Kind::Str => AttributeValue::String(v.extract()?),
        });
    }
    if !(v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>()) {
        return Err(PyTypeError::new_err(format!(
            "attribute {key:?}: unsupported type {} (use bool, int, float, str, a list of one of them, or a dict)",
            type_name(v)
        )));
    }
    let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
    let Some(first) = items.first() else {
        return Ok(AttributeValue::StringList(Vec::new()));
    };
    let kind = kind_of(first).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "attribute {key:?}: unsupported list element type {}",
            type_name(first)
        ))
    })?;
    if let Some((i, bad)) = items
        .iter()
        .enumerate()
        .find(|(_, x)| kind_of(x) != Some(kind))
    {
        return Err(PyTypeError::new_err(format!(
            "attribute {key:?}: lists must be homogeneous; element {i} is {} but element 0 is {}",
            type_name(bad),
            type_name(first)
        )));
    }
    Ok(match kind {
        Kind::Bool => {
            AttributeValue::BoolList(items.iter().map(|x| x.extract()).collect::<PyResult<_>>()?)
        }
        Kind::Int => {
            AttributeValue::I64List(items.iter().map(|x| int(x, key)).collect::<PyResult<_>>()?)
        }
        Kind::Float => {
            AttributeValue::F64List(items.iter().map(|x| x.extract()).collect::<PyResult<_>>()?)
        }
        Kind::Str => {
            AttributeValue::StringList(items.iter().map(|x| x.extract()).collect::<PyResult<_>>()?)
        }
    })
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Attributes as a Python dict (for Python exporters).
pub(crate) fn to_dict<'py>(py: Python<'py>, attrs: &Attributes) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in attrs.iter() {
        match v {
            AttributeValue::Bool(b) => dict.set_item(k, b)?,
            AttributeValue::I64(n) => dict.set_item(k, n)?,
            AttributeValue::F64(f) => dict.set_item(k, f)?,
            AttributeValue::String(s) => dict.set_item(k, s)?,
            AttributeValue::BoolList(l) => dict.set_item(k, l)?,
            AttributeValue::I64List(l) => dict.set_item(k, l)?,
            AttributeValue::F64List(l) => dict.set_item(k, l)?,
            AttributeValue::StringList(l) => dict.set_item(k, l)?,
        }
    }
    Ok(dict)
}

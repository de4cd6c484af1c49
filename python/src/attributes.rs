//! Python attribute dicts → typed `Attributes`. bool/int/float/str and homogeneous lists of one
//! of them; nested dicts flatten to `/` paths; anything else is a `TypeError` naming the key.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use telemetron::model::{AttributeValue, Attributes};

use crate::errors::{invalid, ToPyErr};
use telemetron::model::shown;

/// How deep nested dicts may go (the flattening is recursive; a cycle would never end).
const MAX_DEPTH: usize = 64;

/// `None` and `{}` are no attributes.
pub(crate) fn to_attributes(dict: Option<&Bound<'_, PyDict>>) -> PyResult<Attributes> {
    let mut attrs = Attributes::new();
    if let Some(dict) = dict {
        let mut inserted = 0;
        add_dict(&mut attrs, dict, "", &mut Vec::new(), &mut inserted)?;
        if inserted != attrs.len() {
            // A literal "a/b" key and {"a": {"b": ...}} flatten to one key: refuse, don't overwrite.
            let mut keys: Vec<String> = Vec::with_capacity(inserted);
            collect_keys(dict, "", &mut keys)?;
            keys.sort();
            let twice = keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0].clone());
            return Err(invalid(
                "attributes",
                format!(
                    "{} is given twice (a key with '/' and a nested dict flatten to it)",
                    shown(&twice.unwrap_or_default())
                ),
            ));
        }
    }
    Ok(attrs)
}

/// Every flattened key of `dict` (already known to be acyclic and well-formed).
fn collect_keys(dict: &Bound<'_, PyDict>, prefix: &str, keys: &mut Vec<String>) -> PyResult<()> {
    for (k, v) in dict.iter() {
        let key = format!(
            "{prefix}{}{}",
            if prefix.is_empty() { "" } else { "/" },
            k.cast::<PyString>()?.to_str()?
        );
        match v.cast::<PyDict>() {
            Ok(nested) => collect_keys(nested, &key, keys)?,
            Err(_) => keys.push(key),
        }
    }
    Ok(())
}

/// Flattens `dict` under `prefix`; `open` holds the dicts being flattened (to find cycles).
fn add_dict(
    attrs: &mut Attributes,
    dict: &Bound<'_, PyDict>,
    prefix: &str,
    open: &mut Vec<*mut pyo3::ffi::PyObject>,
    inserted: &mut usize,
) -> PyResult<()> {
    let at = |p: &str| {
        if p.is_empty() {
            "the top level".to_string()
        } else {
            shown(p)
        }
    };
    if open.contains(&dict.as_ptr()) {
        return Err(invalid(
            "attributes",
            format!("the dict at {} contains itself", at(prefix)),
        ));
    }
    if open.len() >= MAX_DEPTH {
        return Err(invalid(
            "attributes",
            format!(
                "dicts nested deeper than {MAX_DEPTH} levels at {}",
                at(prefix)
            ),
        ));
    }
    open.push(dict.as_ptr());
    for (k, v) in dict.iter() {
        let key = k.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "attribute keys must be str, got {} ({})",
                type_name(&k),
                shown(&k.repr().map(|r| r.to_string()).unwrap_or_default())
            ))
        })?;
        let key = key.to_str()?;
        if key.is_empty() {
            return Err(invalid(
                "attributes",
                format!("an empty key at {}", at(prefix)),
            ));
        }
        let key = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}/{key}")
        };
        if let Ok(nested) = v.cast::<PyDict>() {
            add_dict(attrs, nested, &key, open, inserted)?;
            continue;
        }
        let value = scalar_or_list(&v, &key)?;
        attrs.insert(key, value).map_err(ToPyErr::to_py)?;
        *inserted += 1;
    }
    open.pop();
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
        invalid(
            "attributes",
            format!(
                "{}: integer {} does not fit in 64 bits",
                shown(key),
                shown(&v.to_string())
            ),
        )
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
            "attribute {}: unsupported type {} (use bool, int, float, str, a list of one of them, or a dict)",
            shown(key),
            type_name(v)
        )));
    }
    let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
    let Some(first) = items.first() else {
        return Ok(AttributeValue::StringList(Vec::new()));
    };
    let kind = kind_of(first).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "attribute {}: unsupported list element type {}",
            shown(key),
            type_name(first)
        ))
    })?;
    if let Some((i, bad)) = items
        .iter()
        .enumerate()
        .find(|(_, x)| kind_of(x) != Some(kind))
    {
        return Err(PyTypeError::new_err(format!(
            "attribute {}: lists must be homogeneous; element {i} is {} but element 0 is {}",
            shown(key),
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

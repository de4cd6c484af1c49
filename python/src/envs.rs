//! Environment ids of the RL calls: the last list is kept, checked and interned, so an RL loop
//! that logs the same environments every call pays one string comparison per environment
//! instead of a conversion, an allocation, a check and two hash lookups.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};
use telemetron::{EnvList, Runtime};

use crate::errors::ToPyErr;

/// The last environment list of a runtime.
#[derive(Default)]
pub(crate) struct EnvCache {
    last: Mutex<Option<EnvList>>,
}

impl EnvCache {
    /// `envs` (any iterable; items that are not `str` are converted with `str()`) as a checked
    /// list: the kept one when the names are the same.
    pub(crate) fn list(&self, runtime: &Runtime, envs: &Bound<'_, PyAny>) -> PyResult<EnvList> {
        let mut last = self.last.lock();
        if let Some(kept) = last.as_ref().filter(|kept| same_names(kept.names(), envs)) {
            return Ok(kept.clone());
        }
        let list = runtime.env_list(names_of(envs)?).map_err(ToPyErr::to_py)?;
        *last = Some(list.clone());
        Ok(list)
    }
}

/// Whether a list or tuple of exact `str`s spells `names`.
fn same_names(names: &[String], envs: &Bound<'_, PyAny>) -> bool {
    let same = |item: Bound<'_, PyAny>, name: &String| {
        item.is_exact_instance_of::<PyString>()
            && item
                .cast::<PyString>()
                .is_ok_and(|s| s.to_str().is_ok_and(|s| s == name))
    };
    if let Ok(list) = envs.cast::<PyList>() {
        list.len() == names.len() && list.iter().zip(names).all(|(i, n)| same(i, n))
    } else if let Ok(tuple) = envs.cast::<PyTuple>() {
        tuple.len() == names.len() && tuple.iter().zip(names).all(|(i, n)| same(i, n))
    } else {
        false
    }
}

fn names_of(envs: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    envs.try_iter()?
        .map(|item| {
            let item = item?;
            match item.cast_exact::<PyString>() {
                Ok(s) => Ok(s.to_str()?.to_owned()),
                Err(_) => Ok(item.str()?.to_str()?.to_owned()),
            }
        })
        .collect()
}

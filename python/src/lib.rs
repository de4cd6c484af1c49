//! `telemetron._native`: the Rust half of the Python package. Thin wrappers only: the runtime,
//! config and exporters are the Rust crates'; this crate converts values and errors.

mod allocator;
mod array;
mod attributes;
mod cli;
mod columns;
mod convert;
mod envs;
mod errors;
mod indices;
mod metrics;
mod python_exporter;
mod records;
mod relocations;
mod rendering;
mod rl;
mod run_attributes;
mod runtime;
mod series_methods;
mod span_ref;
mod spool;
mod timestamps;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // First, before the module's own start-up touches any of the pages it drops.
    let released = relocations::release();
    m.add("_relocations_released", released)?;
    errors::register(m)?;
    m.add_class::<runtime::PyRuntime>()?;
    m.add_class::<span_ref::SpanRef>()?;
    m.add_function(wrap_pyfunction!(runtime::exporter_types, m)?)?;
    m.add_function(wrap_pyfunction!(python_exporter::refuse_from_exporter, m)?)?;
    m.add_function(wrap_pyfunction!(python_exporter::exporters_inside, m)?)?;
    m.add_function(wrap_pyfunction!(python_exporter::interrupt_exporters, m)?)?;
    m.add_function(wrap_pyfunction!(columns::max_values_per_call, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(spool::replay_spool, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

//! Per-GPU readings through NVML, loaded at run time (`libnvidia-ml.so.1`): without a driver or
//! a GPU there is simply no GPU sampler.

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

use super::Reading;

/// The NVML library and how many devices it reported.
pub(crate) struct GpuSampler {
    nvml: Nvml,
    count: u32,
}

impl GpuSampler {
    /// Loads NVML; `Err` says why there are no GPU metrics (no library, no driver, no device).
    pub(crate) fn open() -> Result<Self, String> {
        let nvml = Nvml::init().map_err(|e| format!("NVML unavailable ({e})"))?;
        let count = nvml
            .device_count()
            .map_err(|e| format!("NVML device count failed ({e})"))?;
        if count == 0 {
            return Err("NVML found no GPU".into());
        }
        Ok(GpuSampler { nvml, count })
    }

    /// Number of GPUs sampled.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// One reading per available value per GPU (a value a device does not support is left out).
    pub(crate) fn sample(&self, out: &mut Vec<Reading>) {
        for index in 0..self.count {
            let Ok(device) = self.nvml.device_by_index(index) else {
                continue;
            };
            let gpu = index.to_string();
            if let Ok(rates) = device.utilization_rates() {
                out.push(Reading::gpu(
                    "system/gpu/utilization_percent",
                    &gpu,
                    f64::from(rates.gpu),
                ));
            }
            if let Ok(memory) = device.memory_info() {
                out.push(Reading::gpu(
                    "system/gpu/memory_used_bytes",
                    &gpu,
                    memory.used as f64,
                ));
                if memory.total > 0 {
                    let percent = 100.0 * memory.used as f64 / memory.total as f64;
                    out.push(Reading::gpu("system/gpu/memory_percent", &gpu, percent));
                }
            }
            if let Ok(celsius) = device.temperature(TemperatureSensor::Gpu) {
                out.push(Reading::gpu(
                    "system/gpu/temperature_celsius",
                    &gpu,
                    f64::from(celsius),
                ));
            }
            if let Ok(milliwatts) = device.power_usage() {
                out.push(Reading::gpu(
                    "system/gpu/power_watts",
                    &gpu,
                    f64::from(milliwatts) / 1000.0,
                ));
            }
        }
    }
}

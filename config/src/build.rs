//! Resolving entries into running parts: `type:` → a registered factory.

use std::collections::HashSet;

use telemetron_plugins::{find_exporter, find_plugin, BuildContext};
use telemetron_runtime::{ExporterSlot, PluginSlot, RuntimeConfig};

use crate::{ConfigError, LoadedConfig};

impl LoadedConfig {
    /// Builds the runtime config: finds each entry's factory by `type:` and validates its
    /// options. Disabled entries are skipped. Unnamed exporters are named by type (`file`,
    /// then `file#2`, ...).
    pub fn runtime_config(&self) -> Result<RuntimeConfig, ConfigError> {
        let ctx = BuildContext {
            run: &self.run,
            settings: &self.settings,
        };
        let explicit: HashSet<&str> = self
            .exporters
            .iter()
            .filter_map(|e| e.spec.name.as_deref())
            .collect();
        let mut taken = HashSet::new();
        let mut exporters = Vec::new();
        for entry in self.exporters.iter().filter(|e| e.spec.enabled) {
            let spec = &entry.spec;
            let fail = |error| ConfigError::Component {
                location: entry.location.clone(),
                list: "exporters",
                position: entry.position,
                source_name: entry.source.clone(),
                error: Box::new(error),
            };
            let registration = find_exporter(&spec.type_name).map_err(fail)?;
            let factory = (registration.build)(&spec.options, &ctx).map_err(fail)?;
            let name = match &spec.name {
                Some(name) if !taken.insert(name.clone()) => {
                    return Err(ConfigError::DuplicateName(name.clone()))
                }
                Some(name) => name.clone(),
                None => {
                    let name = (1..)
                        .map(|n| {
                            if n == 1 {
                                spec.type_name.clone()
                            } else {
                                format!("{}#{n}", spec.type_name)
                            }
                        })
                        .find(|n| !taken.contains(n) && !explicit.contains(n.as_str()))
                        .unwrap_or_else(|| spec.type_name.clone());
                    taken.insert(name.clone());
                    name
                }
            };
            let mut slot = ExporterSlot::new(name, spec.type_name.clone(), factory);
            slot.queue_capacity = spec.queue_capacity;
            slot.batch_max_size = spec.batch_max_size;
            slot.batch_max_age_secs = spec.batch_max_age_secs;
            slot.spool = spec.spool;
            exporters.push(slot);
        }
        let mut plugins = Vec::new();
        for entry in self.plugins.iter().filter(|e| e.spec.enabled) {
            let fail = |error| ConfigError::Component {
                location: entry.location.clone(),
                list: "plugins",
                position: entry.position,
                source_name: entry.source.clone(),
                error: Box::new(error),
            };
            let registration = find_plugin(&entry.spec.type_name).map_err(fail)?;
            let factory = (registration.build)(&entry.spec.options, &ctx).map_err(fail)?;
            plugins.push(PluginSlot {
                name: entry
                    .spec
                    .name
                    .clone()
                    .unwrap_or_else(|| entry.spec.type_name.clone()),
                factory,
            });
        }
        Ok(RuntimeConfig {
            settings: self.settings.clone(),
            run: self.run.clone(),
            exporters,
            plugins,
            codec: None,
        })
    }
}

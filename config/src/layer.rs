//! One configuration source as a figment provider, named for provenance.

use figment::value::{Dict, Map as FigmentMap};
use figment::{Error, Metadata, Profile, Provider};
use serde_json::{Map, Value};

pub(crate) struct Layer {
    pub(crate) name: String,
    pub(crate) values: Map<String, Value>,
}

impl Layer {
    pub(crate) fn new(name: impl Into<String>, values: Map<String, Value>) -> Self {
        Layer {
            name: name.into(),
            values,
        }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<FigmentMap<Profile, Dict>, Error> {
        figment::providers::Serialized::defaults(&self.values).data()
    }
}

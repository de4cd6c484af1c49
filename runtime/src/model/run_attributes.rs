//! Run attributes: config, tags, description and free-form paths, for the run or one
//! environment (and episode).

use super::Timestamp;

/// One attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum RunAttributeValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A string.
    String(String),
    /// A whole set of strings (replaces the stored set): `set_tags`.
    StringSet(Vec<String>),
    /// Strings added to and removed from the stored set: `add_tags` / `remove_tags`.
    StringSetDelta {
        /// Added.
        added: Vec<String>,
        /// Removed.
        removed: Vec<String>,
    },
}

/// Attribute updates for the run, or for one environment (and optionally one episode of it).
#[derive(Clone, Debug, PartialEq)]
pub struct RunAttributes {
    /// `Some(env_id)` for environment attributes.
    pub env_id: Option<String>,
    /// The episode an environment attribute belongs to.
    pub episode: Option<u64>,
    /// `(path, value)` pairs, e.g. `("config/optimizer/lr", Float(3e-4))`.
    pub updates: Vec<(String, RunAttributeValue)>,
    /// When they were logged.
    pub time: Timestamp,
}

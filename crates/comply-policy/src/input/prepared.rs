//! A material's engine input, converted key by key as scripts ask for it.

use super::RESERVED;
use super::scan::{ComplyNeeds, Needs};
use super::to_rego::{Keys, convert, struct_fields};
use crate::material::Material;
use regorus::Value as RegoValue;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// A material converted for the engine, key by key as scripts ask for them: the
/// document's top-level keys (a top-level array as `elements`, another scalar as
/// `value`) and the fields of the normalized view. Share one between the scripts
/// evaluated on the same material; see [`crate::prepare_input`].
pub struct PreparedInput {
    sha256: String,
    kind: String,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: Keys,
    /// Document keys converted so far (`None`: the document has no such key).
    raw: HashMap<String, Option<RegoValue>>,
    /// Normalized-view fields converted so far.
    comply: HashMap<String, Option<RegoValue>>,
    /// Whether every field of the normalized view is in `comply`.
    comply_complete: bool,
}

/// The document's top-level entries as the engine input has them.
fn raw_entries(content: &serde_json::Value) -> Vec<(&str, &serde_json::Value)> {
    match content {
        serde_json::Value::Object(o) => o.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        serde_json::Value::Array(_) => vec![("elements", content)],
        serde_json::Value::Null => Vec::new(),
        other => vec![("value", other)],
    }
}

fn raw_entry<'a>(content: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match content {
        serde_json::Value::Object(o) => o.get(key),
        serde_json::Value::Array(_) => (key == "elements").then_some(content),
        serde_json::Value::Null => None,
        other => (key == "value").then_some(other),
    }
}

impl PreparedInput {
    /// Nothing is converted yet.
    pub fn new(material: &Material) -> PreparedInput {
        PreparedInput {
            sha256: material.sha256.clone(),
            kind: material.kind.clone(),
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Whether this was prepared for `material`.
    pub fn is_for(&self, material: &Material) -> bool {
        self.sha256 == material.sha256 && self.kind == material.kind
    }

    /// The whole material part of the engine input (without `chainloop_metadata` and
    /// `args`): what a script that reads everything gets.
    pub fn whole(&self, material: &Material) -> RegoValue {
        RegoValue::from(self.object_for(material, &Needs::All))
    }

    /// The input object a script with `needs` reads: the material's part of it
    /// (without `chainloop_metadata` and `args`).
    pub(crate) fn object_for(
        &self,
        material: &Material,
        needs: &Needs,
    ) -> BTreeMap<RegoValue, RegoValue> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let cache = &mut *cache;
        let mut out = BTreeMap::new();
        let (top, comply): (Vec<&str>, &ComplyNeeds) = match needs {
            Needs::All => (
                raw_entries(&material.content)
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect(),
                &ComplyNeeds::All,
            ),
            Needs::Keys { top, comply } => (top.iter().map(String::as_str).collect(), comply),
        };
        for key in top {
            if RESERVED.contains(&key) {
                continue;
            }
            if !cache.raw.contains_key(key) {
                let value = raw_entry(&material.content, key).map(|v| convert(v, &mut cache.keys));
                cache.raw.insert(key.to_owned(), value);
            }
            if let Some(Some(value)) = cache.raw.get(key) {
                out.insert(cache.keys.get(key), value.clone());
            }
        }
        let view = &material.normalized;
        let fields: Option<Vec<(String, RegoValue)>> = match comply {
            ComplyNeeds::None => None,
            ComplyNeeds::All => {
                if !cache.comply_complete {
                    let done: BTreeSet<String> = cache.comply.keys().cloned().collect();
                    let missing = |name: &str| !done.contains(name);
                    for (name, value) in struct_fields(view, &missing, &mut cache.keys) {
                        cache.comply.insert(name.to_owned(), Some(value));
                    }
                    cache.comply_complete = true;
                }
                Some(
                    cache
                        .comply
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                        .collect(),
                )
            }
            ComplyNeeds::Fields(wanted) => {
                let missing: BTreeSet<&str> = wanted
                    .iter()
                    .map(String::as_str)
                    .filter(|f| !cache.comply.contains_key(*f))
                    .collect();
                if !missing.is_empty() && !cache.comply_complete {
                    let converted =
                        struct_fields(view, &|name| missing.contains(name), &mut cache.keys);
                    for (name, value) in converted {
                        cache.comply.insert(name.to_owned(), Some(value));
                    }
                }
                // Asked for and absent (a field skipped when empty, or unknown).
                for name in missing {
                    cache.comply.entry(name.to_owned()).or_insert(None);
                }
                Some(
                    wanted
                        .iter()
                        .filter_map(|k| Some((k.clone(), cache.comply.get(k)?.clone()?)))
                        .collect(),
                )
            }
        };
        if let Some(fields) = fields {
            let object: BTreeMap<RegoValue, RegoValue> = fields
                .into_iter()
                .map(|(k, v)| (cache.keys.get(&k), v))
                .collect();
            out.insert(cache.keys.get("comply"), RegoValue::from(object));
        }
        out
    }
}

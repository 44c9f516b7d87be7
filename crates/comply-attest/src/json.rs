//! Reading protobuf-style JSON by hand.
//!
//! Chainloop's statements are protojson, so every key may be spelled camelCase
//! (`projectVersion`) or as the proto field name (`project_version`), and older
//! attestations use the latter. Decoding through this small reader instead of serde
//! derives gives each error the JSON path of the offending field, which is what a user
//! needs to find it in a multi-kilobyte payload.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::AttestError;

pub(crate) type MakeError = fn(String, String) -> AttestError;

/// An object being decoded, with its path for error messages.
#[derive(Clone)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    error: MakeError,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(
        value: &'a Value,
        path: impl Into<String>,
        error: MakeError,
    ) -> Result<Self, AttestError> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj { map, path, error }),
            other => Err(error(
                path,
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }

    pub(crate) fn with_map(
        map: &'a Map<String, Value>,
        path: impl Into<String>,
        error: MakeError,
    ) -> Self {
        Obj {
            map,
            path: path.into(),
            error,
        }
    }

    pub(crate) fn child(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn error(&self, key: &str, reason: impl Into<String>) -> AttestError {
        (self.error)(self.child(key), reason.into())
    }

    /// The value under `key` or its snake_case spelling; JSON null counts as absent.
    pub(crate) fn value(&self, key: &str) -> Option<&'a Value> {
        self.map
            .get(key)
            .or_else(|| self.map.get(&snake_case(key)))
            .filter(|value| !value.is_null())
    }

    /// A string; an empty string counts as absent, as protojson omits empty fields.
    pub(crate) fn str(&self, key: &str) -> Result<Option<String>, AttestError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.error(key, format!("expected a string, found {}", kind(other))))
            }
        }
    }

    pub(crate) fn required_str(&self, key: &str) -> Result<String, AttestError> {
        self.str(key)?
            .ok_or_else(|| self.error(key, "missing or empty"))
    }

    /// A boolean; Chainloop's annotations sometimes carry it as the string "true".
    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, AttestError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" || s.is_empty() => Ok(Some(false)),
            Some(other) => {
                Err(self.error(key, format!("expected a boolean, found {}", kind(other))))
            }
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<bool, AttestError> {
        Ok(self.opt_bool(key)?.unwrap_or(false))
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, AttestError> {
        self.value(key)
            .map(|value| Obj::new(value, self.child(key), self.error))
            .transpose()
    }

    pub(crate) fn array(&self, key: &str) -> Result<&'a [Value], AttestError> {
        match self.value(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.error(key, format!("expected an array, found {}", kind(other))))
            }
        }
    }

    /// A map of strings; numbers and booleans are kept as their JSON text, since
    /// Chainloop's `map<string,string>` fields are sometimes written by hand.
    pub(crate) fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, AttestError> {
        let Some(object) = self.obj(key)? else {
            return Ok(BTreeMap::new());
        };
        object
            .map
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(name, value)| match value {
                Value::String(s) => Ok((name.clone(), s.clone())),
                Value::Bool(_) | Value::Number(_) => Ok((name.clone(), value.to_string())),
                other => {
                    Err(object.error(name, format!("expected a string, found {}", kind(other))))
                }
            })
            .collect()
    }

    pub(crate) fn string_list(&self, key: &str) -> Result<Vec<String>, AttestError> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(index, value)| match value {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.error(
                    &format!("{key}[{index}]"),
                    format!("expected a string, found {}", kind(other)),
                )),
            })
            .collect()
    }

    /// An object kept as JSON (annotations whose values may be of any type).
    pub(crate) fn raw_map(&self, key: &str) -> Result<Map<String, Value>, AttestError> {
        match self.value(key) {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(other) => {
                Err(self.error(key, format!("expected an object, found {}", kind(other))))
            }
        }
    }
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `workflowRunID` → `workflow_run_id`: an underscore before each run of capitals.
pub(crate) fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    let mut previous_lower = false;
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_handles_acronyms() {
        assert_eq!(snake_case("workflowRunID"), "workflow_run_id");
        assert_eq!(snake_case("policyEvaluationsRef"), "policy_evaluations_ref");
        assert_eq!(snake_case("name"), "name");
        assert_eq!(snake_case("predicateType"), "predicate_type");
    }
}

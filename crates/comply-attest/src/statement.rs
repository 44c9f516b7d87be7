//! in-toto Statements, the payload of every attestation.
//!
//! Chainloop writes Statement v1 as protojson (`_type` or `type`, `predicateType` or
//! `predicate_type`); its older runs and cosign wrote v0.1. Both are read into one shape;
//! the predicate stays JSON here and is decoded by the predicate's own module.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::encoding;
use crate::error::AttestError;
use crate::json::{Obj, kind};
use crate::predicate::ChainloopPredicate;

pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    V1,
    V0_1,
}

impl StatementVersion {
    pub fn type_uri(self) -> &'static str {
        match self {
            StatementVersion::V1 => STATEMENT_V1,
            StatementVersion::V0_1 => STATEMENT_V0_1,
        }
    }
}

/// An in-toto ResourceDescriptor: a subject, or a Chainloop material.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceDescriptor {
    pub name: Option<String>,
    pub uri: Option<String>,
    /// Algorithm → lowercase hex, e.g. `sha256` → `…`.
    pub digest: BTreeMap<String, String>,
    pub content: Option<Vec<u8>>,
    /// Values may be any JSON (git subjects carry a `remotes` array).
    pub annotations: Map<String, Value>,
}

impl ResourceDescriptor {
    pub(crate) fn decode(object: &Obj<'_>) -> Result<Self, AttestError> {
        let content = match object.str("content")? {
            Some(text) => Some(
                encoding::decode(&text)
                    .map_err(|e| object.error("content", format!("not valid base64: {e}")))?,
            ),
            None => None,
        };
        Ok(ResourceDescriptor {
            name: object.str("name")?,
            uri: object.str("uri")?,
            digest: object.string_map("digest")?,
            content,
            annotations: object.raw_map("annotations")?,
        })
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(name) = &self.name {
            object.insert("name".into(), name.clone().into());
        }
        if let Some(uri) = &self.uri {
            object.insert("uri".into(), uri.clone().into());
        }
        if !self.digest.is_empty() {
            let digest: Map<String, Value> = self
                .digest
                .iter()
                .map(|(algorithm, hex)| (algorithm.clone(), hex.clone().into()))
                .collect();
            object.insert("digest".into(), digest.into());
        }
        if let Some(content) = &self.content {
            object.insert("content".into(), encoding::encode(content).into());
        }
        if !self.annotations.is_empty() {
            object.insert("annotations".into(), self.annotations.clone().into());
        }
        Value::Object(object)
    }
}

/// An in-toto Statement with its predicate still as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub version: StatementVersion,
    pub subjects: Vec<ResourceDescriptor>,
    pub predicate_type: String,
    pub predicate: Value,
}

impl Statement {
    /// Decodes the predicate as Chainloop's `chainloop.dev/attestation/v0.2`; any other
    /// predicate type is an error naming it.
    pub fn chainloop_predicate(&self) -> Result<ChainloopPredicate, AttestError> {
        ChainloopPredicate::from_statement(self)
    }

    /// The statement as in-toto JSON (v1 keys: `_type`, `subject`, `predicateType`).
    pub fn to_json(&self) -> Vec<u8> {
        let mut object = Map::new();
        object.insert("_type".into(), self.version.type_uri().into());
        object.insert(
            "subject".into(),
            Value::Array(
                self.subjects
                    .iter()
                    .map(ResourceDescriptor::to_json)
                    .collect(),
            ),
        );
        object.insert("predicateType".into(), self.predicate_type.clone().into());
        object.insert("predicate".into(), self.predicate.clone());
        serde_json::to_vec(&Value::Object(object)).expect("JSON values always serialize")
    }
}

fn statement_error(path: String, reason: String) -> AttestError {
    AttestError::NotAStatement(format!("{path}: {reason}"))
}

/// Decodes an in-toto Statement (v1 or v0.1; camelCase or protojson field names).
pub fn parse_statement(payload: &[u8]) -> Result<Statement, AttestError> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| AttestError::NotAStatement(format!("not JSON: {e}")))?;
    let object = Obj::new(&value, "", statement_error)?;
    let type_uri = match object.str("_type")? {
        Some(uri) => uri,
        None => object
            .str("type")?
            .ok_or_else(|| AttestError::NotAStatement("_type is missing".into()))?,
    };
    let version = match type_uri.as_str() {
        STATEMENT_V1 => StatementVersion::V1,
        STATEMENT_V0_1 => StatementVersion::V0_1,
        _ => return Err(AttestError::UnknownStatementType { found: type_uri }),
    };
    let subjects = object
        .array("subject")?
        .iter()
        .enumerate()
        .map(|(index, subject)| {
            ResourceDescriptor::decode(&Obj::new(
                subject,
                format!("subject[{index}]"),
                statement_error,
            )?)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let predicate_type = object.required_str("predicateType")?;
    let predicate = match object.value("predicate") {
        Some(predicate @ Value::Object(_)) => predicate.clone(),
        Some(other) => {
            return Err(AttestError::NotAStatement(format!(
                "predicate: expected an object, found {}",
                kind(other)
            )));
        }
        None => Value::Object(Map::new()),
    };
    Ok(Statement {
        version,
        subjects,
        predicate_type,
        predicate,
    })
}

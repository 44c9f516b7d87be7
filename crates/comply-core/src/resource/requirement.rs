use super::Metadata;
use crate::periodicity::Periodicity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub metadata: Metadata,
    pub spec: RequirementSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyAttachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_proofs: Vec<ManualProof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAttachment {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodicity: Option<Periodicity>,
    /// Hours a failing policy may stay failed before it counts against the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<u32>,
    /// Policy arguments. Chainloop passes them as strings; lists are comma- or
    /// newline-separated.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualProof {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodicity: Option<Periodicity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Scope {
    Project,
    Product,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Project => "PROJECT",
            Scope::Product => "PRODUCT",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        [Scope::Project, Scope::Product]
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl Requirement {
    pub fn scope(&self) -> Scope {
        self.metadata
            .annotations
            .get("scope")
            .and_then(|s| Scope::parse(s))
            .unwrap_or(Scope::Project)
    }

    pub fn categories(&self) -> Vec<&str> {
        self.metadata
            .annotations
            .get("categories")
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

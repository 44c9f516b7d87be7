//! Chainloop workflow contracts (chainloop-formats §3): the v2 `kind: Contract` form.
//!
//! Chainloop keeps a contract's exact bytes and makes a new revision whenever they
//! change; comply does the same (the raw text is part of the stored document and of
//! its digest), while the decoded spec is what coverage and `comply attest` read.

use super::Metadata;
use super::policy::Attachment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub metadata: Metadata,
    pub spec: ContractSpec,
    /// The document exactly as it was written.
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContractSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<ContractMaterial>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_allow_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<NameValue>,
    #[serde(default, skip_serializing_if = "ContractPolicies::is_empty")]
    pub policies: ContractPolicies,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_groups: Vec<GroupAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractMaterial {
    pub name: String,
    #[serde(rename = "type")]
    pub material_type: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub output: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<NameValue>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_upload: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContractPolicies {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation: Vec<Attachment>,
}

impl ContractPolicies {
    pub fn is_empty(&self) -> bool {
        self.materials.is_empty() && self.attestation.is_empty()
    }
}

/// A policy group attached to a contract: group inputs in `with`, member policies to
/// leave out in `skip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAttachment {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<bool>,
    /// The reference as written when it named a file or URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Contract {
    /// What decoding this contract's text again needs: the names its file and URL
    /// references resolved to, and its name when it is a legacy v1 document.
    pub fn context(&self) -> super::FileContext {
        let mut ctx = super::FileContext::default();
        let sources = self
            .attachments()
            .filter_map(|a| Some((a.source.clone()?, a.reference.clone())))
            .chain(
                self.spec
                    .policy_groups
                    .iter()
                    .filter_map(|g| Some((g.source.clone()?, g.reference.clone()))),
            );
        ctx.refs.extend(sources);
        // Only a legacy document reads it; a v2 document carries its own.
        ctx.name = Some(self.metadata.name.clone());
        ctx
    }

    /// Every direct policy attachment, material ones first.
    pub fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.spec
            .policies
            .materials
            .iter()
            .chain(self.spec.policies.attestation.iter())
    }
}

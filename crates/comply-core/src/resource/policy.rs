use super::Metadata;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Chainloop `Policy`: Rego scripts per material kind, with declared inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub metadata: Metadata,
    pub spec: PolicySpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySpec {
    pub policies: Vec<PolicyScript>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PolicyInput>,
    #[serde(rename = "autoMatch", default, skip_serializing_if = "Option::is_none")]
    pub auto_match: Option<AutoMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyScript {
    /// The material type the script evaluates; `ATTESTATION` for the statement; none
    /// for any material a selector picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub embedded: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation_phases: Vec<String>,
    /// Where the CLI read the Rego when the document gave a `path`/`ref` (decision 0023).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoMatch {
    pub embedded: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A declared input. `type` and `kind` are comply's additions (Chainloop inputs are
/// untyped strings): they say how to compare arguments when matching evaluations to
/// requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<InputType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<IntKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    Severity,
    Int,
    DenyList,
    AllowList,
    Bool,
    String,
}

impl InputType {
    pub const ALL: [InputType; 6] = [
        InputType::Severity,
        InputType::Int,
        InputType::DenyList,
        InputType::AllowList,
        InputType::Bool,
        InputType::String,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::Severity => "severity",
            InputType::Int => "int",
            InputType::DenyList => "deny_list",
            InputType::AllowList => "allow_list",
            InputType::Bool => "bool",
            InputType::String => "string",
        }
    }

    pub fn parse(text: &str) -> Option<InputType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text.trim())
    }
}

/// For `int` inputs: whether the value is an upper bound (`max`, e.g. an age limit) or
/// a lower bound (`min`, e.g. a minimum version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntKind {
    Min,
    Max,
}

/// A Chainloop `PolicyGroup`: policies attached to materials and to the attestation,
/// with group inputs bound into their arguments (`{{ inputs.x }}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyGroup {
    pub metadata: Metadata,
    pub spec: PolicyGroupSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyGroupSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PolicyInput>,
    pub policies: GroupPolicies,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupPolicies {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<GroupMaterial>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestation: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub material_type: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_mode: Option<String>,
    pub policies: Vec<Attachment>,
}

/// A policy attached in a contract or group (chainloop-formats §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<bool>,
    /// The reference as written when it named a file or URL (`ref` is then the name of
    /// the policy read from it), or `embedded` for a policy written inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_mode: Option<String>,
}

impl PolicyGroup {
    pub fn attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.spec
            .policies
            .materials
            .iter()
            .flat_map(|m| m.policies.iter())
            .chain(self.spec.policies.attestation.iter())
    }
}

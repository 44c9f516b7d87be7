//! The declarative resource kinds and their decoding from YAML.

mod contract;
mod contract_decode;
mod document;
mod framework;
mod metadata;
mod policy;
mod policy_decode;
mod product;
mod requirement;
mod sources;

pub use contract::{
    Contract, ContractMaterial, ContractPolicies, ContractSpec, GroupAttachment, NameValue,
};
pub use document::{
    LocatedArg, LocatedRef, LocatedScript, ParsedDocument, parse_file, parse_file_with,
};
pub use framework::{Framework, FrameworkSpec, RequirementRef, Section};
pub use metadata::Metadata;
pub use policy::{
    Attachment, AutoMatch, GroupMaterial, GroupPolicies, InputType, IntKind, Policy, PolicyGroup,
    PolicyGroupSpec, PolicyInput, PolicyScript, PolicySpec, Selector,
};
pub use product::{Applicability, Product, ProductSpec, ProductVersion};
pub use requirement::{ManualProof, PolicyAttachment, Requirement, RequirementSpec, Scope};
pub use sources::{FileContext, ResolvedScript, is_location};

use serde::{Deserialize, Serialize};
use std::fmt;

pub const API_VERSION: &str = "chainloop.dev/v1";
pub const LEGACY_POLICY_API_VERSION: &str = "workflowcontract.chainloop.dev/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    Policy,
    PolicyGroup,
    Requirement,
    Framework,
    Contract,
    Product,
}

impl Kind {
    /// In dependency order: a kind may reference only kinds before it.
    pub const ALL: [Kind; 6] = [
        Kind::Policy,
        Kind::PolicyGroup,
        Kind::Requirement,
        Kind::Framework,
        Kind::Contract,
        Kind::Product,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Policy => "Policy",
            Kind::PolicyGroup => "PolicyGroup",
            Kind::Requirement => "Requirement",
            Kind::Framework => "Framework",
            Kind::Contract => "Contract",
            Kind::Product => "Product",
        }
    }

    /// Chainloop also accepts its older API group for policies and groups.
    pub fn accepts_api_version(self, api_version: &str) -> bool {
        api_version == API_VERSION
            || (matches!(self, Kind::Policy | Kind::PolicyGroup)
                && api_version == LEGACY_POLICY_API_VERSION)
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The plural used in URLs and the CLI's `list` headings.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Policy => "policies",
            Kind::PolicyGroup => "policy-groups",
            Kind::Requirement => "requirements",
            Kind::Framework => "frameworks",
            Kind::Contract => "contracts",
            Kind::Product => "products",
        }
    }

    pub fn from_plural(text: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.plural() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated resource in its normalized form.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Policy(Policy),
    PolicyGroup(PolicyGroup),
    Requirement(Requirement),
    Framework(Framework),
    Contract(Contract),
    Product(Product),
}

impl Resource {
    pub fn kind(&self) -> Kind {
        match self {
            Resource::Policy(_) => Kind::Policy,
            Resource::PolicyGroup(_) => Kind::PolicyGroup,
            Resource::Requirement(_) => Kind::Requirement,
            Resource::Framework(_) => Kind::Framework,
            Resource::Contract(_) => Kind::Contract,
            Resource::Product(_) => Kind::Product,
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Resource::Policy(p) => &p.metadata,
            Resource::PolicyGroup(g) => &g.metadata,
            Resource::Requirement(r) => &r.metadata,
            Resource::Framework(f) => &f.metadata,
            Resource::Contract(c) => &c.metadata,
            Resource::Product(p) => &p.metadata,
        }
    }

    pub fn metadata_mut(&mut self) -> &mut Metadata {
        match self {
            Resource::Policy(p) => &mut p.metadata,
            Resource::PolicyGroup(g) => &mut g.metadata,
            Resource::Requirement(r) => &mut r.metadata,
            Resource::Framework(f) => &mut f.metadata,
            Resource::Contract(c) => &mut c.metadata,
            Resource::Product(p) => &mut p.metadata,
        }
    }

    pub fn name(&self) -> &str {
        &self.metadata().name
    }

    /// The document `apply` accepts, without `metadata.organization`: the org is the
    /// context a document is applied in, so an exported document applies anywhere.
    pub fn to_document(&self) -> serde_json::Value {
        let spec = match self {
            Resource::Policy(p) => serde_json::to_value(&p.spec),
            Resource::PolicyGroup(g) => serde_json::to_value(&g.spec),
            Resource::Requirement(r) => serde_json::to_value(&r.spec),
            Resource::Framework(f) => serde_json::to_value(&f.spec),
            Resource::Contract(c) => serde_json::to_value(&c.spec),
            Resource::Product(p) => serde_json::to_value(&p.spec),
        }
        .expect("specs serialize");
        let mut doc = serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": self.kind().as_str(),
            "metadata": self.metadata(),
            "spec": spec,
        });
        // A contract's exact text travels with it (and so changes its digest).
        if let Resource::Contract(c) = self {
            doc["raw"] = serde_json::Value::String(c.raw.clone());
        }
        doc
    }

    /// Reads back a document produced by [`Resource::to_document`] (stored data).
    pub fn from_document(value: &serde_json::Value) -> Result<Resource, String> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .and_then(Kind::parse)
            .ok_or("stored document has no known kind")?;
        let metadata: Metadata = serde_json::from_value(value["metadata"].clone())
            .map_err(|e| format!("stored metadata: {e}"))?;
        let spec = value["spec"].clone();
        let spec_error = |e: serde_json::Error| format!("stored spec: {e}");
        Ok(match kind {
            Kind::Policy => Resource::Policy(Policy {
                metadata,
                spec: serde_json::from_value(spec).map_err(spec_error)?,
            }),
            Kind::PolicyGroup => Resource::PolicyGroup(PolicyGroup {
                metadata,
                spec: serde_json::from_value(spec).map_err(spec_error)?,
            }),
            Kind::Requirement => Resource::Requirement(Requirement {
                metadata,
                spec: serde_json::from_value(spec).map_err(|e| format!("stored spec: {e}"))?,
            }),
            Kind::Framework => Resource::Framework(Framework {
                metadata,
                spec: serde_json::from_value(spec).map_err(|e| format!("stored spec: {e}"))?,
            }),
            Kind::Contract => Resource::Contract(Contract {
                metadata,
                spec: serde_json::from_value(spec).map_err(spec_error)?,
                raw: value["raw"].as_str().unwrap_or_default().to_owned(),
            }),
            Kind::Product => Resource::Product(Product {
                metadata,
                spec: serde_json::from_value(spec).map_err(spec_error)?,
            }),
        })
    }

    /// Digest of the normalized document: equal documents, equal digests.
    pub fn digest(&self) -> String {
        crate::digest::of_canonical_json(&self.to_document())
    }

    /// The resources this one lists, which must exist while it does: a framework's
    /// requirements, a group's policies (by name).
    pub fn references(&self) -> Vec<(Kind, String)> {
        let policy_names = |refs: Vec<&str>| {
            refs.into_iter()
                .filter_map(|r| crate::reference::PolicyRef::parse(r).ok())
                .map(|r| (Kind::Policy, r.name))
                .collect::<Vec<_>>()
        };
        match self {
            Resource::Policy(_) => Vec::new(),
            Resource::Requirement(r) => policy_names(
                r.spec
                    .policies
                    .iter()
                    .map(|p| p.reference.as_str())
                    .collect(),
            ),
            Resource::PolicyGroup(g) => {
                policy_names(g.attachments().map(|a| a.reference.as_str()).collect())
            }
            Resource::Framework(f) => f
                .spec
                .all_refs()
                .map(|r| (Kind::Requirement, r.reference.clone()))
                .collect(),
            Resource::Contract(c) => {
                let mut refs =
                    policy_names(c.attachments().map(|a| a.reference.as_str()).collect());
                refs.extend(
                    c.spec
                        .policy_groups
                        .iter()
                        .filter_map(|g| crate::reference::PolicyRef::parse(&g.reference).ok())
                        .map(|r| (Kind::PolicyGroup, r.name)),
                );
                refs
            }
            Resource::Product(p) => {
                let mut refs: Vec<(Kind, String)> = p
                    .spec
                    .versions
                    .iter()
                    .flat_map(|v| v.frameworks.iter())
                    .map(|f| (Kind::Framework, f.clone()))
                    .collect();
                refs.extend(
                    p.spec
                        .applicability
                        .iter()
                        .map(|a| (Kind::Requirement, a.requirement.clone())),
                );
                refs.sort();
                refs.dedup();
                refs
            }
        }
    }

    /// The document as YAML, as `describe -o schema` prints it.
    pub fn to_yaml(&self) -> String {
        if let Resource::Contract(c) = self
            && !c.raw.is_empty()
        {
            return c.raw.clone();
        }
        serde_saphyr::to_string(&self.to_document()).expect("documents serialize to YAML")
    }
}

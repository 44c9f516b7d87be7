//! Writing a Chainloop predicate back as JSON, for `comply attest`.
//!
//! The output follows Chainloop's renderer (camelCase keys, material annotations,
//! policy reference descriptors, summary counters) so that Chainloop tooling and
//! attestation policies read comply's attestations like Chainloop's, and so that
//! [`crate::parse_statement`] + [`ChainloopPredicate::from_statement`] give back the
//! struct that was rendered. Counters are derived from the evaluations, never stored.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::evaluations::{EvaluationsForm, digest_json};
use crate::predicate::{
    ATTESTATION_EVALUATIONS_KEY, CHAINLOOP_PREDICATE_TYPE, ChainloopPredicate, MATERIAL_CAS,
    MATERIAL_INLINE, MATERIAL_NAME, MATERIAL_TYPE, Material, Metadata,
};
use crate::statement::{ResourceDescriptor, Statement, StatementVersion};

/// An in-toto Statement v1 with `predicate` as its Chainloop predicate, as JSON.
pub fn render_statement(
    subjects: &[ResourceDescriptor],
    predicate: &ChainloopPredicate,
) -> Vec<u8> {
    Statement {
        version: StatementVersion::V1,
        subjects: subjects.to_vec(),
        predicate_type: CHAINLOOP_PREDICATE_TYPE.to_string(),
        predicate: predicate.to_json(),
    }
    .to_json()
}

impl ChainloopPredicate {
    /// The predicate as Chainloop writes it.
    pub fn to_json(&self) -> Value {
        let mut p = Map::new();
        if let Some(build_type) = &self.build_type {
            p.insert("buildType".into(), build_type.clone().into());
        }
        if let Some(id) = &self.builder_id {
            let mut builder = Map::new();
            builder.insert("id".into(), id.clone().into());
            p.insert("builder".into(), builder.into());
        }
        p.insert("metadata".into(), self.metadata.to_json());
        if let Some(runner_type) = &self.runner_type {
            p.insert("runnerType".into(), runner_type.clone().into());
        }
        if let Some(url) = &self.runner_url {
            p.insert("runnerURL".into(), url.clone().into());
        }
        if !self.env.is_empty() {
            p.insert("env".into(), string_map(&self.env));
        }
        if !self.annotations.is_empty() {
            p.insert("annotations".into(), string_map(&self.annotations));
        }
        if !self.materials.is_empty() {
            let materials = self.materials.iter().map(Material::to_json).collect();
            p.insert("materials".into(), Value::Array(materials));
        }
        if let Some(form) = self
            .policy_evaluations_form
            .or((!self.policy_evaluations.is_empty()).then_some(EvaluationsForm::Map))
        {
            p.insert("policyEvaluations".into(), self.evaluations_json(form));
        }
        if let Some(reference) = &self.policy_evaluations_ref {
            let mut object = Map::new();
            object.insert("name".into(), reference.name.clone().into());
            object.insert("digest".into(), digest_json(&reference.digest));
            if let Some(media_type) = &reference.media_type {
                object.insert("mediaType".into(), media_type.clone().into());
            }
            p.insert("policyEvaluationsRef".into(), object.into());
        }
        self.insert_summary(&mut p);
        Value::Object(p)
    }

    fn evaluations_json(&self, form: EvaluationsForm) -> Value {
        match form {
            EvaluationsForm::List => Value::Array(
                self.policy_evaluations
                    .iter()
                    .map(|evaluation| evaluation.to_json())
                    .collect(),
            ),
            EvaluationsForm::Map => {
                let mut by_material = Map::new();
                for evaluation in &self.policy_evaluations {
                    let key = evaluation
                        .material_name
                        .as_deref()
                        .unwrap_or(ATTESTATION_EVALUATIONS_KEY);
                    let list = by_material
                        .entry(key)
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = list {
                        list.push(evaluation.to_json());
                    }
                }
                Value::Object(by_material)
            }
        }
    }

    /// Chainloop's summary fields (`shared/reference/chainloop-formats.md` §15.5).
    fn insert_summary(&self, p: &mut Map<String, Value>) {
        let evaluations = &self.policy_evaluations;
        let active: usize = evaluations
            .iter()
            .map(|e| e.violations.iter().filter(|v| !v.suppressed).count())
            .sum();
        let suppressed: usize = evaluations
            .iter()
            .map(|e| e.violations.iter().filter(|v| v.suppressed).count())
            .sum();
        let skipped = evaluations
            .iter()
            .filter(|e| !e.has_active_violations() && e.skipped)
            .count();
        let passed = evaluations
            .iter()
            .filter(|e| !e.has_active_violations() && !e.skipped)
            .count();
        let gated_violations = evaluations
            .iter()
            .any(|e| e.gate && e.has_active_violations());
        let enforced = self.policy_check_blocking_strategy.as_deref() == Some("ENFORCED");
        let has_gates = enforced || evaluations.iter().any(|e| e.gate);

        if !evaluations.is_empty() {
            p.insert("policyEvaluationsCount".into(), evaluations.len().into());
            p.insert("policyHasViolations".into(), (active > 0).into());
            p.insert("policyViolationsCount".into(), active.into());
            for (key, count) in [
                ("policyPassedCount", passed),
                ("policySkippedCount", skipped),
                ("policySuppressedCount", suppressed),
            ] {
                if count > 0 {
                    p.insert(key.into(), count.into());
                }
            }
            p.insert("policyHasGatedViolations".into(), gated_violations.into());
            p.insert("policyHasGates".into(), has_gates.into());
        }
        if let Some(strategy) = &self.policy_check_blocking_strategy {
            p.insert(
                "policyCheckBlockingStrategy".into(),
                strategy.clone().into(),
            );
        }
        p.insert(
            "policyBlockBypassEnabled".into(),
            self.policy_block_bypass_enabled.into(),
        );
        p.insert("policyAttBlocked".into(), self.policy_att_blocked.into());
    }
}

impl Metadata {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.workflow.clone().into());
        m.insert("workflowName".into(), self.workflow.clone().into());
        let optional = [
            ("workflowID", &self.workflow_id),
            ("workflowRunID", &self.workflow_run_id),
            ("project", &self.project),
            ("projectVersion", &self.project_version),
            ("contractName", &self.contract_name),
            ("contractVersion", &self.contract_revision),
            ("organization", &self.organization),
            ("team", &self.team),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                m.insert(key.into(), value.clone().into());
            }
        }
        if let Some(prerelease) = self.project_version_prerelease {
            m.insert("projectVersionPrerelease".into(), prerelease.into());
        }
        for (key, ms) in [
            ("initializedAt", self.initialized_at_ms),
            ("finishedAt", self.finished_at_ms),
        ] {
            if let Some(time) = ms.and_then(|ms| Timestamp::from_millisecond(ms).ok()) {
                m.insert(key.into(), time.to_string().into());
            }
        }
        Value::Object(m)
    }
}

impl Material {
    fn to_json(&self) -> Value {
        let mut annotations = Map::new();
        annotations.insert(MATERIAL_NAME.into(), self.name.clone().into());
        annotations.insert(MATERIAL_TYPE.into(), self.kind.clone().into());
        if self.uploaded_to_cas {
            annotations.insert(MATERIAL_CAS.into(), true.into());
        }
        if self.embedded {
            annotations.insert(MATERIAL_INLINE.into(), true.into());
        }
        for (key, value) in &self.annotations {
            annotations.insert(key.clone(), value.clone());
        }
        ResourceDescriptor {
            name: self.artifact.clone(),
            uri: self.uri.clone(),
            digest: self.digest.clone(),
            content: self.content.clone(),
            annotations,
        }
        .to_json()
    }
}

fn string_map(map: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(key, value)| (key.clone(), value.clone().into()))
            .collect(),
    )
}

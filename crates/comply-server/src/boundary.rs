//! What an attestation may hold before it is verified and stored (`docs/limits.md`,
//! decision 0026): the names it files evidence under follow the name rules, and its
//! lists are bounded so one request costs a bounded amount of memory and time.

use crate::error::{ApiError, NUL_IN_BODY, json_has_nul};
use comply_attest::{ChainloopPredicate, PolicyEvaluation, Statement};
use comply_core::name::{dns1123_problem, version_problem};

pub const MAX_SUBJECTS: usize = 1_000;
pub const MAX_MATERIALS: usize = 1_000;
pub const MAX_EVALUATIONS: usize = 10_000;

fn rejected(message: String) -> ApiError {
    ApiError::BadRequest(format!("attestation rejected: {message}"))
}

/// Refuses NUL anywhere in decoded JSON (the envelope's payload, a bundle): PostgreSQL
/// cannot store it, and no Chainloop field needs it.
pub fn refuse_nul(what: &str, json: &[u8]) -> Result<(), ApiError> {
    if json_has_nul(json) {
        return Err(rejected(format!(
            "its {what}: {}",
            NUL_IN_BODY.trim_start_matches("the request body ")
        )));
    }
    Ok(())
}

/// The statement's and predicate's sizes and the names evidence is filed under.
pub fn check_statement(
    statement: &Statement,
    predicate: &ChainloopPredicate,
) -> Result<(), ApiError> {
    if statement.subjects.len() > MAX_SUBJECTS {
        return Err(rejected(format!(
            "it has {} subjects; at most {MAX_SUBJECTS} are accepted",
            statement.subjects.len()
        )));
    }
    if predicate.materials.len() > MAX_MATERIALS {
        return Err(rejected(format!(
            "it has {} materials; at most {MAX_MATERIALS} are accepted",
            predicate.materials.len()
        )));
    }
    let meta = &predicate.metadata;
    if let Some(project) = meta.project.as_deref().filter(|p| !p.is_empty())
        && let Some(problem) = dns1123_problem(project)
    {
        return Err(rejected(format!("predicate.metadata.project: {problem}")));
    }
    if !meta.workflow.is_empty()
        && let Some(problem) = dns1123_problem(&meta.workflow)
    {
        return Err(rejected(format!(
            "predicate.metadata.name (the workflow): {problem}"
        )));
    }
    if let Some(version) = meta.project_version.as_deref().filter(|v| !v.is_empty())
        && let Some(problem) = version_problem(version)
    {
        return Err(rejected(format!(
            "predicate.metadata.projectVersion: {problem}"
        )));
    }
    if let Some(contract) = meta.contract_name.as_deref().filter(|c| !c.is_empty())
        && let Some(problem) = dns1123_problem(contract)
    {
        return Err(rejected(format!(
            "predicate.metadata.contractName: {problem}"
        )));
    }
    Ok(())
}

pub fn check_evaluations(evaluations: &[PolicyEvaluation]) -> Result<(), ApiError> {
    if evaluations.len() > MAX_EVALUATIONS {
        return Err(rejected(format!(
            "it has {} policy evaluations; at most {MAX_EVALUATIONS} are accepted",
            evaluations.len()
        )));
    }
    Ok(())
}

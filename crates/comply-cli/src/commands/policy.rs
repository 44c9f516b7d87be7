//! `comply policy …`: server-side list/describe/delete, and offline `eval` and `lint`
//! (Chainloop's `policy develop eval`: exit 0 whenever the evaluation ran).

use super::resources::{Kind, delete, describe, list_filtered};
use crate::cli::{EvalArgs, Global, LintArgs, PolicyCommand};
use crate::client::Client;
use crate::error::{CliError, Result};
use comply_core::resource::{Resource, parse_file};
use comply_policy::{CompiledPolicy, Evaluation, Limits, Script, builtin, material};
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(global: &Global, cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::List(a) => list_filtered(
            &mut Client::from_global(global)?,
            global.output,
            Kind::Policy,
            a.custom,
        ),
        PolicyCommand::Describe(a) => describe(
            &mut Client::from_global(global)?,
            global.output,
            Kind::Policy,
            &a.name,
        ),
        PolicyCommand::Delete(a) => delete(
            &mut Client::from_global(global)?,
            global.output,
            Kind::Policy,
            &a.name,
        ),
        PolicyCommand::Duplicate(a) => super::resources::duplicate(
            &mut Client::from_global(global)?,
            global.output,
            Kind::Policy,
            &a.name,
            &a.new_name,
        ),
        PolicyCommand::Eval(args) => eval(args),
        PolicyCommand::Lint(args) => lint(args),
    }
}

/// Reads a policy file: exactly one `Policy` document, every problem located.
fn read_policy(path: &Path) -> Result<comply_core::resource::Policy> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let file = path.display().to_string();
    let (docs, diagnostics) = parse_file(&file, &text, "local");
    if !diagnostics.is_empty() {
        return Err(CliError::usage(format!("{file} is not a valid policy"))
            .with_details(diagnostics.iter().map(ToString::to_string).collect()));
    }
    let mut policies = docs.into_iter().filter_map(|d| match d.resource {
        Resource::Policy(p) => Some(p),
        _ => None,
    });
    match (policies.next(), policies.next()) {
        (Some(p), None) => Ok(p),
        (None, _) => Err(CliError::usage(format!("{file} holds no Policy document"))),
        (Some(_), Some(_)) => Err(CliError::usage(format!(
            "{file} holds several Policy documents; give one"
        ))),
    }
}

fn lint(args: LintArgs) -> Result<()> {
    let policy = read_policy(&args.policy)?;
    let file = args.policy.display().to_string();
    let mut problems = Vec::new();
    for (i, script) in policy.spec.policies.iter().enumerate() {
        if let Err(e) = Script::compile(&policy.metadata.name, &script.embedded) {
            problems.push(format!("{file}: spec.policies[{i}]: {e}"));
        }
    }
    if let Some(auto) = &policy.spec.auto_match
        && let Err(e) = Script::compile(&policy.metadata.name, &auto.embedded)
    {
        problems.push(format!("{file}: spec.autoMatch: {e}"));
    }
    if problems.is_empty() {
        println!("{file}: policy {} is valid", policy.metadata.name);
        Ok(())
    } else {
        Err(
            CliError::usage(format!("{file}: the policy's Rego does not compile"))
                .with_details(problems),
        )
    }
}

/// A policy by file path, else by built-in name.
fn resolve_policy(reference: &str) -> Result<CompiledPolicy> {
    let path = Path::new(reference);
    if path.exists() {
        let policy = read_policy(path)?;
        return CompiledPolicy::compile(policy).map_err(|e| CliError::failed(e.to_string()));
    }
    builtin::check().map_err(|e| CliError::failed(e.to_string()))?;
    builtin::policy(reference).cloned().ok_or_else(|| {
        let names = builtin::policy_names();
        let hint = comply_core::suggest::nearest(reference, names.iter().copied())
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        CliError::usage(format!(
            "'{reference}' is neither a policy file nor a built-in policy{hint}"
        ))
    })
}

/// Reference data for policies: the KEV catalog and VEX statements.
fn reference_data(args: &EvalArgs) -> Result<serde_json::Value> {
    let mut data = serde_json::Map::new();
    if let Some(kev) = &args.kev {
        let bytes = std::fs::read(kev)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", kev.display())))?;
        let catalog: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            CliError::usage(format!(
                "{} is not a KEV catalog (JSON): {e}",
                kev.display()
            ))
        })?;
        data.insert("kev".into(), catalog);
    }
    let mut statements = Vec::new();
    for vex in &args.vex {
        let bytes = std::fs::read(vex)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", vex.display())))?;
        let m = material::load(&vex.display().to_string(), &bytes, None)
            .map_err(|e| CliError::usage(e.to_string()))?;
        statements.extend(
            m.normalized
                .vex
                .iter()
                .map(|s| serde_json::to_value(s).expect("serializes")),
        );
    }
    if !statements.is_empty() {
        data.insert("vex".into(), serde_json::Value::Array(statements));
    }
    Ok(if data.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(data)
    })
}

fn eval(args: EvalArgs) -> Result<()> {
    let compiled = resolve_policy(&args.policy)?;
    let bytes = std::fs::read(&args.material)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.material.display())))?;
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = compiled.kinds().into_iter().flatten().collect();
        k.sort();
        k.dedup();
        k
    };
    let kind = match (&args.kind, kinds.as_slice()) {
        (Some(k), _) => Some(k.clone()),
        (None, [only]) => Some((*only).to_owned()),
        (None, _) => material::detect(&bytes).map(str::to_owned),
    };
    let name = args
        .material
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let material = material::load(&name, &bytes, kind.as_deref())
        .map_err(|e| CliError::failed(e.to_string()))?;
    if !compiled.applies_to(&material.kind) {
        return Err(CliError::usage(format!(
            "the policy has no script for material kind {} (it has: {})",
            material.kind,
            kinds.join(", ")
        )));
    }
    let mut with = BTreeMap::new();
    for pair in &args.inputs {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--input '{pair}' must be KEY=VALUE")))?;
        with.insert(k.trim().to_owned(), v.to_owned());
    }
    let data = reference_data(&args)?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let outcome = compiled
        .evaluate(
            Evaluation {
                material: &material,
                with: &with,
                bindings: &BTreeMap::new(),
                now_ms,
                data: &data,
            },
            &Limits::default(),
        )
        .map_err(|e| CliError::failed(e.to_string()))?;
    let Some(outcome) = outcome else {
        println!(
            "{}",
            serde_json::json!({"result": {"violations": [], "skip_reasons": ["every script asked to be ignored"], "skipped": true}})
        );
        return Ok(());
    };
    for dropped in &outcome.dropped {
        eprintln!("warning: input '{dropped}' is not declared by the policy and was ignored");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&outcome.verdict.to_eval_output()).expect("JSON serializes")
    );
    Ok(())
}

//! `comply policy …`: server-side list/describe/delete, and offline `eval` and `lint`
//! (Chainloop's `policy develop eval`: exit 0 whenever the evaluation ran).

use super::resources::{Kind, delete, describe, list_filtered};
use crate::cli::{EvalArgs, Global, LintArgs, PolicyCommand};
use crate::client::Client;
use crate::error::{CliError, Result};
use comply_core::resource::{Resource, parse_file_with};
use comply_policy::{CompiledPolicy, Evaluation, Limits, Network, Script, builtin, material};
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

/// Reads a policy file: exactly one `Policy` document, every problem located; Rego
/// beside it (`path:`) is read as `comply apply` reads it.
fn read_policy(path: &Path) -> Result<comply_core::resource::Policy> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let file = path.display().to_string();
    let doc = super::resolve::Resolver::default().document(
        &file,
        text,
        Some(path),
        super::resolve::LegacyName::Stem,
    )?;
    let (docs, diagnostics) = parse_file_with(&file, &doc.content, "local", &doc.sources);
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
    let file = args.policy.display().to_string();
    if args.format {
        eprintln!("note: comply has no Rego formatter; --format was ignored and the policy linted");
    }
    // A bare module, as `chainloop policy develop lint` takes one.
    if args.policy.extension().and_then(|e| e.to_str()) == Some("rego") {
        let source = std::fs::read_to_string(&args.policy)
            .map_err(|e| CliError::usage(format!("cannot read {file}: {e}")))?;
        let name = args
            .policy
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return match Script::compile(&name, &source) {
            Ok(_) => {
                println!("{file}: Rego module is valid");
                Ok(())
            }
            Err(e) => Err(
                CliError::usage(format!("{file}: the Rego does not compile"))
                    .with_details(vec![format!("{file}: {e}")]),
            ),
        };
    }
    let policy = read_policy(&args.policy)?;
    let mut problems = Vec::new();
    for (i, script) in policy.spec.policies.iter().enumerate() {
        if let Err(e) = Script::compile(&policy.metadata.name, &script.embedded) {
            let at = script
                .source
                .clone()
                .unwrap_or_else(|| format!("{file}: spec.policies[{i}]"));
            problems.push(format!("{at}: {e}"));
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

/// Raw control characters inside JSON strings, escaped: SARIF written by some tools
/// carries them, and Chainloop's reader tolerates them.
fn escape_control_characters(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            } else if b < 0x20 {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                continue;
            }
        } else if b == b'"' {
            in_string = true;
        }
        out.push(b);
    }
    out
}

/// A material that looks like JSON must be JSON: say where it is not, with or without
/// `--kind`. Returns the bytes to evaluate (control characters in strings escaped).
fn checked_json(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let looks_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[');
    if !looks_json {
        return Ok(bytes);
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        Ok(_) => Ok(bytes),
        Err(e) if e.to_string().contains("control character") => {
            let escaped = escape_control_characters(&bytes);
            match serde_json::from_slice::<serde::de::IgnoredAny>(&escaped) {
                Ok(_) => Ok(escaped),
                Err(e) => Err(not_json(path, &e)),
            }
        }
        Err(e) => Err(not_json(path, &e)),
    }
}

fn not_json(path: &Path, e: &serde_json::Error) -> CliError {
    CliError::usage(format!(
        "{}:{}:{}: the material is not valid JSON: {e}",
        path.display(),
        e.line(),
        e.column()
    ))
}

/// Findings as Chainloop's `policy develop eval` prints them: keyed by the policy's
/// finding type (`{"vulnerability": {"external_id": …}}`).
fn chainloop_findings(output: &mut serde_json::Value, finding_type: Option<&str>) {
    let key = match finding_type {
        Some("VULNERABILITY") => "vulnerability",
        Some("SAST") => "sast",
        Some("LICENSE_VIOLATION") => "license_violation",
        _ => return,
    };
    if let Some(findings) = output["result"]["findings"].as_array_mut() {
        for f in findings.iter_mut() {
            if let Some(o) = f.as_object_mut() {
                o.remove("message");
                o.remove("suppress");
            }
            *f = serde_json::json!({ key: f.take() });
        }
    }
}

fn eval(args: EvalArgs) -> Result<()> {
    if let Some(kind) = &args.kind
        && !comply_core::material::is_material_type(kind)
    {
        return Err(CliError::usage(format!(
            "invalid material kind '{kind}'; valid kinds: {}",
            comply_core::material::MATERIAL_TYPES.join(", ")
        )));
    }
    let compiled = resolve_policy(&args.policy)?;
    let bytes = std::fs::read(&args.material)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.material.display())))?;
    let bytes = checked_json(&args.material, bytes)?;
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
    let mut material = material::load(&name, &bytes, kind.as_deref())
        .map_err(|e| CliError::failed(e.to_string()))?;
    for pair in &args.annotations {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--annotation '{pair}' must be KEY=VALUE")))?;
        material
            .annotations
            .insert(k.trim().to_owned(), v.to_owned());
    }
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
    let limits = Limits {
        network: Network::allow(&args.allowed_hostnames),
        ..Limits::default()
    };
    let outcome = compiled
        .evaluate(
            Evaluation {
                material: &material,
                with: &with,
                bindings: &BTreeMap::new(),
                now_ms,
                data: &data,
            },
            &limits,
        )
        .map_err(|e| CliError::failed(e.to_string()))?;
    let Some(outcome) = outcome else {
        return Err(CliError::failed(format!(
            "no execution branch matched, or all of them were ignored, for kind {}",
            material.kind
        )));
    };
    for dropped in &outcome.dropped {
        eprintln!("warning: input '{dropped}' is not declared by the policy and was ignored");
    }
    let mut output = outcome.verdict.to_eval_output();
    chainloop_findings(
        &mut output,
        compiled.policy.metadata.finding_type.as_deref(),
    );
    // Beside Chainloop's `result`, never inside it: a networked verdict says so.
    if limits.network.is_enabled() {
        output["networked"] = serde_json::json!({"allowed_hostnames": limits.network.hosts()});
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&output).expect("JSON serializes")
    );
    Ok(())
}

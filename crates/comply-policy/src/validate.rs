//! Validation of declarative documents that needs the engine: parsing (in comply-core)
//! plus compiling every embedded Rego script, with compile errors mapped to the line
//! of the YAML file they come from. The server's `apply`, the offline `comply lint`
//! and the start-up check of the built-in content all go through here, so the three
//! can never disagree about what is valid.

use crate::PolicyError;
use crate::script::Script;
use comply_core::Diagnostic;
use comply_core::apply::Known;
use comply_core::resource::{FileContext, ParsedDocument, Resource, parse_file_with};

/// Parses `(file name, text)` pairs and compiles their Rego. Returns every document
/// that parsed and every problem found, in file order.
pub fn parse_and_compile<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
    org: &str,
) -> (Vec<ParsedDocument>, Vec<Diagnostic>) {
    let none = FileContext::default();
    parse_and_compile_with(files.into_iter().map(|(f, t)| (f, t, &none)), org)
}

/// [`parse_and_compile`] with what the CLI resolved for each file (decision 0023).
/// A script read from a file reports compile errors at its own lines.
pub fn parse_and_compile_with<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str, &'a FileContext)>,
    org: &str,
) -> (Vec<ParsedDocument>, Vec<Diagnostic>) {
    let mut parsed = Vec::new();
    let mut diagnostics = Vec::new();
    for (file, text, sources) in files {
        let (docs, diags) = parse_file_with(file, text, org, sources);
        parsed.extend(docs);
        diagnostics.extend(diags);
    }
    for doc in &parsed {
        for script in &doc.scripts {
            if let Err(err) = Script::compile(doc.resource.name(), &script.source) {
                // A block scalar's position is its first content line; map the Rego
                // position into the file.
                let (line, column, message) = match (&err, &script.origin) {
                    (
                        PolicyError::Compile {
                            message,
                            line: Some(l),
                            column: Some(c),
                            ..
                        },
                        Some(_),
                    ) => (u64::from(*l), u64::from(*c), message.clone()),
                    (
                        PolicyError::Compile {
                            message,
                            line: Some(l),
                            column: Some(c),
                            ..
                        },
                        None,
                    ) => (
                        script.pos.line + u64::from(*l) - 1,
                        script.pos.column + u64::from(*c) - 1,
                        message.clone(),
                    ),
                    (other, _) => (script.pos.line, script.pos.column, other.to_string()),
                };
                diagnostics.push(Diagnostic::new(
                    script.origin.as_deref().unwrap_or(&doc.file),
                    line,
                    column,
                    format!("{}: Rego does not compile: {message}", script.path),
                ));
            }
        }
    }
    (parsed, diagnostics)
}

/// What an org with no custom resources knows: the names of the built-in resources
/// and the declared inputs of the built-in policies. Offline validation plans against
/// this, exactly as the server plans against the store.
pub fn builtin_known(builtins: &[Resource]) -> Known {
    let mut known = Known::default();
    for resource in builtins {
        known
            .builtin
            .insert((resource.kind(), resource.name().to_owned()));
        if let Resource::Policy(p) = resource {
            known
                .policy_inputs
                .insert(p.metadata.name.clone(), p.spec.inputs.clone());
        }
    }
    known
}

/// The embedded content (`content/`), parsed. Errors name file, line and column.
pub fn builtin_resources() -> Result<Vec<Resource>, Vec<Diagnostic>> {
    let files: Vec<(String, &str)> = comply_content::yaml_files()
        .map(|(path, text)| (format!("content/{path}"), text))
        .collect();
    let (docs, diagnostics) =
        parse_and_compile(files.iter().map(|(p, t)| (p.as_str(), *t)), "_builtin");
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    // The content is planned as one apply into an empty org: every reference must
    // resolve within it and every argument must suit the policy it is given to.
    let resources: Vec<Resource> = docs.iter().map(|d| d.resource.clone()).collect();
    comply_core::apply::plan(docs, &Known::default())?;
    Ok(resources)
}

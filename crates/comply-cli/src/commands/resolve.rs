//! Reading resource files as Chainloop's CLI reads them (decision 0023): Rego beside a
//! Policy (`path:`/`ref:`), policies and groups referenced by `file://` or `https://`
//! from contracts and groups. The CLI reads them here and sends their content with the
//! documents, so the server stays self-contained and never reads files or fetches URLs.
//!
//! A referenced policy or group file becomes a document of the same invocation (applied
//! under its `metadata.name`), and the reference is recorded with the name it resolved
//! to; `describe` shows where each came from.

use crate::error::{CliError, Result};
use comply_core::resource::{FileContext, ResolvedScript, is_location};
use comply_core::yaml::{self, Node, Pos, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One file as sent to the server (or linted): its text and what was resolved for it.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    pub content: String,
    pub sources: FileContext,
    /// A legacy v1 contract named by the CLI (for the output).
    pub legacy_name: Option<String>,
}

/// How `--name` and the file stem name legacy v1 contracts.
#[derive(Debug, Clone, Copy)]
pub enum LegacyName<'a> {
    /// `--name N` or `contract apply N`: the only document's name.
    Given(&'a str),
    /// The file's stem, as `chainloop workflow contract create` would need a name.
    Stem,
}

fn collect(path: &Path, top: bool, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let ext = entry.extension().and_then(|e| e.to_str());
            if entry.is_dir() || matches!(ext, Some("yaml" | "yml")) {
                collect(&entry, false, out)?;
            } else if ext == Some("json") && looks_like_document(&entry) {
                // A directory holds test fixtures too; only resource documents are read.
                out.push(entry);
            }
        }
    } else {
        if path.extension().and_then(|e| e.to_str()) == Some("cue") && top {
            return Err(CliError::usage(format!(
                "{}: CUE contracts are not read; export the contract to YAML or JSON \
                 (`cue export {} --out yaml`) and apply that",
                path.display(),
                path.display()
            )));
        }
        out.push(path.to_owned());
    }
    Ok(())
}

/// A JSON file whose top level is a resource document (a `kind` or a `schemaVersion`).
fn looks_like_document(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .is_some_and(|o| o.contains_key("kind") || o.contains_key("schemaVersion"))
}

/// Every YAML (and JSON document) file under `paths`, read and resolved, followed by the
/// files and URLs they reference. `legacy` names legacy v1 contracts.
pub fn read_all(paths: &[PathBuf], legacy: Option<&str>) -> Result<Vec<Document>> {
    let mut files = Vec::new();
    // `-f -`: the documents come on standard input (a pipeline such as
    // `generate | comply apply -f -`); relative references resolve from the current
    // directory.
    let stdin = paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin > 1 {
        return Err(CliError::usage(
            "standard input (-f -) can be read only once",
        ));
    }
    let stdin = if stdin == 1 {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
        Some(text)
    } else {
        None
    };
    for path in paths.iter().filter(|p| p.as_os_str() != "-") {
        collect(path, true, &mut files)?;
    }
    if files.is_empty() && stdin.is_none() {
        return Err(CliError::usage("no *.yaml or *.yml files found"));
    }
    let mut resolver = Resolver::default();
    for file in &files {
        if let Ok(canonical) = file.canonicalize() {
            resolver.listed.insert(canonical.display().to_string());
        }
    }
    let naming = match legacy {
        Some(name) => {
            if files.len() + usize::from(stdin.is_some()) != 1 {
                return Err(CliError::usage(
                    "--name names one legacy contract; give a single file",
                ));
            }
            LegacyName::Given(name)
        }
        None => LegacyName::Stem,
    };
    let mut out = Vec::new();
    if let Some(content) = stdin {
        if legacy.is_none() {
            // A legacy contract has no name of its own, and stdin has no file stem.
            naming_needs_name(&content)?;
        }
        out.push(resolver.document("<stdin>", content, None, naming)?);
    }
    for file in &files {
        let content = std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
        let doc = resolver.document(&file.display().to_string(), content, Some(file), naming)?;
        out.push(doc);
    }
    out.append(&mut resolver.added);
    Ok(out)
}

/// Refuses a legacy (`schemaVersion: v1`) contract on standard input without `--name`.
fn naming_needs_name(content: &str) -> Result<()> {
    let legacy = yaml::parse_documents("<stdin>", content)
        .map(|nodes| nodes.iter().any(|n| get(n, "schemaVersion").is_some()))
        .unwrap_or(false);
    if legacy {
        return Err(CliError::usage(
            "a legacy schemaVersion v1 contract on standard input needs --name",
        ));
    }
    Ok(())
}

/// The name the file's stem gives a legacy contract: lowercase, `_`, `.` and spaces as
/// `-`, so that it is a valid resource name.
pub fn stem_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = stem
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    name.trim_matches('-').to_owned()
}

#[derive(Default)]
pub struct Resolver {
    /// Canonical paths of files the user listed: referenced, they are not added twice.
    listed: BTreeSet<String>,
    /// Files and URLs already read for a reference: location → document name.
    seen: BTreeMap<String, String>,
    /// Documents read for references, in the order they were met.
    added: Vec<Document>,
}

fn get<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

fn text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Str(s) => Some(s.trim()),
        _ => None,
    }
}

fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

fn at(file: &str, pos: Pos) -> String {
    format!("{file}:{}:{}", pos.line, pos.column)
}

/// A location with an optional `@sha256:<hex>` pin, as Chainloop's loaders accept.
fn split_digest(location: &str) -> (&str, Option<&str>) {
    match location.rsplit_once("@sha256:") {
        Some((loc, hex)) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            (loc, Some(hex))
        }
        _ => (location, None),
    }
}

/// Reads a URL with a plain GET (Chainloop's HTTPS loader).
pub fn fetch_url(url: &str) -> std::result::Result<String, String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())
}

/// Where a reference found in `file` (at `pos`) points, read: `(origin, content)`.
/// `file://` references are tried against the current directory first (Chainloop's
/// rule) and then the referencing document's directory; plain paths (a Policy's
/// `path:`) against the document's directory first.
fn load(
    written: &str,
    file: &str,
    base: Option<&Path>,
    pos: Pos,
    cwd_first: bool,
    what: &str,
) -> Result<(String, String)> {
    let (location, pin) = split_digest(written);
    let (origin, content) = if location.starts_with("http://") || location.starts_with("https://") {
        let content = fetch_url(location).map_err(|e| {
            CliError::usage(format!(
                "{}: cannot fetch {what} '{written}': {e}",
                at(file, pos)
            ))
        })?;
        (location.to_owned(), content)
    } else {
        let relative = location.strip_prefix("file://").unwrap_or(location);
        let relative = Path::new(relative);
        let mut candidates = Vec::new();
        if relative.is_absolute() {
            candidates.push(relative.to_path_buf());
        } else {
            let beside = base.and_then(Path::parent).map(|dir| dir.join(relative));
            if cwd_first {
                candidates.push(relative.to_path_buf());
                candidates.extend(beside);
            } else {
                candidates.extend(beside);
                candidates.push(relative.to_path_buf());
            }
        }
        candidates.dedup();
        let found = candidates.iter().find(|c| c.is_file());
        let Some(found) = found else {
            let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            return Err(CliError::usage(format!(
                "{}: cannot read {what} '{written}': no such file (tried {})",
                at(file, pos),
                tried.join(", ")
            )));
        };
        let content = std::fs::read_to_string(found).map_err(|e| {
            CliError::usage(format!(
                "{}: cannot read {what} '{written}' ({}): {e}",
                at(file, pos),
                found.display()
            ))
        })?;
        (found.display().to_string(), content)
    };
    if let Some(hex) = pin {
        let actual = comply_core::digest::sha256(content.as_bytes());
        let actual = actual.strip_prefix("sha256:").unwrap_or(&actual);
        if !actual.eq_ignore_ascii_case(hex) {
            return Err(CliError::usage(format!(
                "{}: {what} '{written}' does not match its pinned digest (it is sha256:{actual})",
                at(file, pos)
            )));
        }
    }
    Ok((origin, content))
}

impl Resolver {
    /// Resolves one file's references. `path` is the file on disk (None for a URL).
    pub fn document(
        &mut self,
        file: &str,
        content: String,
        path: Option<&Path>,
        naming: LegacyName<'_>,
    ) -> Result<Document> {
        let mut sources = FileContext::default();
        let mut legacy_name = None;
        // A file that does not parse is sent as it is: the validation reports it with
        // its line and column.
        if let Ok(nodes) = yaml::parse_documents(file, &content) {
            for node in &nodes {
                if get(node, "schemaVersion").is_some() {
                    let name = match naming {
                        LegacyName::Given(n) => n.to_owned(),
                        LegacyName::Stem => path.map(stem_name).unwrap_or_default(),
                    };
                    sources.name = Some(name.clone());
                    legacy_name = Some(name);
                    self.contract_refs(file, path, node, node, &mut sources)?;
                    continue;
                }
                let spec = get(node, "spec");
                match get(node, "kind").and_then(text) {
                    Some("Policy") => self.policy_scripts(file, path, node, &mut sources)?,
                    Some("Contract") => {
                        if let Some(spec) = spec {
                            self.contract_refs(file, path, node, spec, &mut sources)?;
                        }
                    }
                    Some("PolicyGroup") => {
                        if let Some(spec) = spec {
                            self.group_refs(file, path, spec, &mut sources)?;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Document {
            file: file.to_owned(),
            content,
            sources,
            legacy_name,
        })
    }

    fn policy_scripts(
        &mut self,
        file: &str,
        path: Option<&Path>,
        node: &Node,
        sources: &mut FileContext,
    ) -> Result<()> {
        let Some(spec) = get(node, "spec") else {
            return Ok(());
        };
        let mut holders: Vec<&Node> = items(get(spec, "policies")).iter().collect();
        holders.push(spec);
        holders.extend(get(spec, "autoMatch").or_else(|| get(spec, "auto_match")));
        for holder in holders {
            let Some(n) = get(holder, "ref").or_else(|| get(holder, "path")) else {
                continue;
            };
            let Some(written) = text(n) else { continue };
            if sources.scripts.contains_key(written) {
                continue;
            }
            // Relative to the policy file's location, as Chainloop resolves scripts.
            let (origin, content) = load(written, file, path, n.pos, false, "script")?;
            sources
                .scripts
                .insert(written.to_owned(), ResolvedScript { content, origin });
        }
        Ok(())
    }

    fn contract_refs(
        &mut self,
        file: &str,
        path: Option<&Path>,
        _doc: &Node,
        spec: &Node,
        sources: &mut FileContext,
    ) -> Result<()> {
        if let Some(p) = get(spec, "policies") {
            for a in items(get(p, "materials"))
                .iter()
                .chain(items(get(p, "attestation")))
            {
                self.reference(file, path, a, "policy", sources)?;
            }
        }
        let groups = get(spec, "policyGroups").or_else(|| get(spec, "policy_groups"));
        for g in items(groups) {
            self.reference(file, path, g, "policy group", sources)?;
        }
        Ok(())
    }

    fn group_refs(
        &mut self,
        file: &str,
        path: Option<&Path>,
        spec: &Node,
        sources: &mut FileContext,
    ) -> Result<()> {
        let Some(p) = get(spec, "policies") else {
            return Ok(());
        };
        let mut attachments: Vec<&Node> = items(get(p, "attestation")).iter().collect();
        for m in items(get(p, "materials")) {
            attachments.extend(items(get(m, "policies")));
        }
        for a in attachments {
            self.reference(file, path, a, "policy", sources)?;
            // A policy embedded in the attachment may itself read Rego beside the group.
            if let Some(embedded) = get(a, "embedded") {
                self.policy_scripts(file, path, embedded, sources)?;
            }
        }
        Ok(())
    }

    /// One attachment's `ref`, when it names a file or URL: read it (once per
    /// invocation), resolve what it references in turn, and record its name.
    fn reference(
        &mut self,
        file: &str,
        path: Option<&Path>,
        attachment: &Node,
        what: &str,
        sources: &mut FileContext,
    ) -> Result<()> {
        let Some(n) = get(attachment, "ref") else {
            return Ok(());
        };
        let Some(written) = text(n) else {
            return Ok(());
        };
        if !is_location(written) || sources.refs.contains_key(written) {
            return Ok(());
        }
        let (origin, content) = load(written, file, path, n.pos, true, what)?;
        let key = Path::new(&origin)
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| origin.clone());
        let name = match self.seen.get(&key) {
            Some(name) => name.clone(),
            None => {
                let name = document_name(&origin, &content).ok_or_else(|| {
                    CliError::usage(format!(
                        "{}: {what} '{written}' ({origin}) holds no document with a metadata.name",
                        at(file, n.pos)
                    ))
                })?;
                self.seen.insert(key.clone(), name.clone());
                if !self.listed.contains(&key) {
                    let is_url = origin.starts_with("http://") || origin.starts_with("https://");
                    let origin_path = (!is_url).then(|| PathBuf::from(&origin));
                    let doc =
                        self.document(&origin, content, origin_path.as_deref(), LegacyName::Stem)?;
                    self.added.push(doc);
                }
                name
            }
        };
        sources.refs.insert(written.to_owned(), name);
        Ok(())
    }
}

/// The `metadata.name` of the first document of a file.
fn document_name(file: &str, content: &str) -> Option<String> {
    let nodes = yaml::parse_documents(file, content).ok()?;
    nodes.iter().find_map(|n| {
        get(get(n, "metadata")?, "name")
            .and_then(text)
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_become_resource_names() {
        assert_eq!(stem_name(Path::new("dir/contract_v1.yaml")), "contract-v1");
        assert_eq!(stem_name(Path::new("My Contract.yml")), "my-contract");
    }

    #[test]
    fn digest_pins_split_off() {
        assert_eq!(
            split_digest("file://p.yaml@sha256:abcd"),
            ("file://p.yaml", Some("abcd"))
        );
        assert_eq!(split_digest("file://p.yaml"), ("file://p.yaml", None));
    }
}

//! Loading the embedded content into the store at startup.

use comply_core::resource::{Resource, parse_file};
use comply_store::Store;

/// Parses the embedded content (failing on any problem: shipped content must be valid)
/// and makes the stored built-ins equal to it.
pub async fn load_builtins(store: &Store) -> Result<usize, String> {
    let resources = parse_content(comply_content::yaml_files())?;
    // Every built-in policy's Rego must compile, or the server does not start.
    comply_policy::builtin::check().map_err(|e| e.to_string())?;
    let report = store
        .sync_builtins(&resources, crate::state::now_ms())
        .await
        .map_err(|e| e.to_string())?;
    for (kind, name, action) in &report {
        tracing::info!(%kind, %name, action, "built-in content changed");
    }
    Ok(resources.len())
}

pub fn parse_content<'a>(
    files: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Resource>, String> {
    let mut resources = Vec::new();
    let mut problems = Vec::new();
    for (path, text) in files {
        let (docs, diagnostics) = parse_file(&format!("content/{path}"), text, "_builtin");
        problems.extend(diagnostics.iter().map(ToString::to_string));
        resources.extend(docs.into_iter().map(|d| d.resource));
    }
    if problems.is_empty() {
        Ok(resources)
    } else {
        Err(format!(
            "built-in content is invalid:\n{}",
            problems.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_content;

    #[test]
    fn shipped_content_is_valid() {
        parse_content(comply_content::yaml_files()).expect("content/ must always load");
    }

    #[test]
    fn invalid_content_names_file_and_line() {
        let files = [
            (
                "requirements/ok.yaml",
                "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: ok\nspec:\n  manual_proofs: [{name: p}]\n",
            ),
            (
                "frameworks/bad.yaml",
                "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: Bad\nspec: {}\n",
            ),
        ];
        let err = parse_content(files.into_iter()).unwrap_err();
        assert!(err.contains("content/frameworks/bad.yaml:4:9"), "{err}");
        let ok = parse_content(files[..1].iter().copied()).unwrap();
        assert_eq!(ok.len(), 1);
    }
}

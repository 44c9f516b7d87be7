//! Loading the embedded content into the store at startup.

use comply_store::Store;

/// Validates the embedded content (failing on any problem: shipped content must be
/// valid) and makes the stored built-ins equal to it.
pub async fn load_builtins(store: &Store) -> Result<usize, String> {
    let resources = comply_policy::validate::builtin_resources().map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        format!("built-in content is invalid:\n{}", lines.join("\n"))
    })?;
    // Every built-in policy's Rego must compile, or the server does not start.
    comply_policy::builtin::check().map_err(|e| e.to_string())?;
    let report = store
        .sync_builtins(&resources, crate::state::now_ms())
        .await
        .map_err(|e| e.to_string())?;
    for (kind, name, action) in &report {
        tracing::debug!(%kind, %name, action, "built-in content changed");
    }
    if !report.is_empty() {
        let count = |a: &str| report.iter().filter(|(_, _, x)| *x == a).count();
        tracing::info!(
            changed = report.len(),
            created = count("builtin.created"),
            updated = count("builtin.updated"),
            "built-in content synced ({} resources)",
            resources.len()
        );
    }
    crate::routes::reference_data::sync_snapshot(store, crate::state::now_ms()).await?;
    Ok(resources.len())
}

//! Declarative resources: apply, read, delete, duplicate, lifecycle, built-ins.

use crate::audit::AuditWriter;
use crate::{BUILTIN_ORG, Store, StoreError, Tx, flag};
use comply_core::Diagnostic;
use comply_core::apply::{Action, Change, Existing, Known};
use comply_core::audit::NewEvent;
use comply_core::name;
use comply_core::resource::{Kind, Resource};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub kind: Kind,
    pub name: String,
    pub builtin: bool,
    /// A custom resource whose name is also a built-in's.
    pub shadows_builtin: bool,
    pub revision: i64,
    pub digest: String,
    pub document: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
    /// Requirements only: the org's lifecycle state (active unless deactivated).
    pub active: bool,
}

impl StoredResource {
    pub fn resource(&self) -> Result<Resource, StoreError> {
        Resource::from_document(&self.document).map_err(StoreError::Corrupt)
    }
}

/// The result of an apply: what each document did, in input order.
pub type ApplyOutcome = Result<Vec<Change>, Vec<Diagnostic>>;

const RESOURCE_SELECT: &str = "SELECT r.org_id, r.kind, r.name, r.revision, r.digest, r.document, \
     r.created_at, r.updated_at, s.active FROM resources r \
     LEFT JOIN requirement_state s ON s.org_id = $1 AND s.name = r.name AND r.kind = 'Requirement'";

pub(crate) fn resource_from_row(row: &AnyRow) -> Result<StoredResource, StoreError> {
    let kind: String = row.try_get(1)?;
    let document: String = row.try_get(5)?;
    let active: Option<i64> = row.try_get(8)?;
    Ok(StoredResource {
        kind: Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind '{kind}'")))?,
        name: row.try_get(2)?,
        builtin: row.try_get::<i64, _>(0)? == BUILTIN_ORG,
        shadows_builtin: false,
        revision: row.try_get(3)?,
        digest: row.try_get(4)?,
        document: serde_json::from_str(&document)
            .map_err(|e| StoreError::Corrupt(format!("document: {e}")))?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
        active: active.is_none_or(|a| a != 0),
    })
}

fn target(kind: Kind, name: &str) -> String {
    format!("{kind}/{name}")
}

impl Store {
    /// Reads what the org holds, lets `plan` decide, and writes the plan, all in one
    /// transaction under the org's lock: a concurrent apply sees all of it or none.
    /// With `dry_run` the plan is returned and nothing is written.
    pub async fn apply<F>(
        &self,
        org_id: i64,
        actor: &str,
        now_ms: i64,
        dry_run: bool,
        plan: F,
    ) -> Result<ApplyOutcome, StoreError>
    where
        F: FnOnce(&Known) -> ApplyOutcome,
    {
        self.apply_as(org_id, actor, now_ms, dry_run, None, plan)
            .await
    }

    /// [`Store::apply`] of a change a command made (`applicability.set`,
    /// `product.version.create`, …): its changed resources are audited under that
    /// action instead of `apply.created` / `apply.updated`.
    pub async fn apply_as<F>(
        &self,
        org_id: i64,
        actor: &str,
        now_ms: i64,
        dry_run: bool,
        label: Option<&str>,
        plan: F,
    ) -> Result<ApplyOutcome, StoreError>
    where
        F: FnOnce(&Known) -> ApplyOutcome,
    {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let known = load_known(&mut tx, org_id).await?;
        let mut changes = match plan(&known) {
            Ok(changes) => changes,
            Err(diagnostics) => return Ok(Err(diagnostics)),
        };
        if dry_run {
            return Ok(Ok(changes));
        }
        for change in &mut changes {
            let action = match (change.action, label) {
                (Action::Unchanged, _) => continue,
                (_, Some(label)) => label,
                (Action::Created, None) => "apply.created",
                (Action::Updated, None) => "apply.updated",
            };
            write_change(&mut tx, org_id, change, actor, now_ms).await?;
            audit.push(
                NewEvent::new(
                    actor,
                    action,
                    target(change.resource.kind(), change.resource.name()),
                )
                .revision(change.revision, &change.digest),
            );
        }
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(Ok(changes))
    }

    /// Every resource of a kind the org can see: its own and the built-in ones, by name.
    pub async fn list_resources(
        &self,
        org_id: i64,
        kind: Kind,
    ) -> Result<Vec<StoredResource>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{RESOURCE_SELECT} WHERE r.org_id IN ($1, $2) AND r.kind = $3 ORDER BY r.name, r.org_id DESC"
        )))
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<StoredResource> = rows
            .iter()
            .map(resource_from_row)
            .collect::<Result<_, _>>()?;
        mark_shadows(&mut out);
        Ok(out)
    }

    /// Resolves a name as references do: the org's own resource, else the built-in one.
    pub async fn get_resource(
        &self,
        org_id: i64,
        kind: Kind,
        name: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{RESOURCE_SELECT} WHERE r.org_id IN ($1, $2) AND r.kind = $3 AND r.name = $4 ORDER BY r.org_id DESC"
        )))
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .bind(kind.as_str())
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        let mut found: Vec<StoredResource> = rows
            .iter()
            .map(resource_from_row)
            .collect::<Result<_, _>>()?;
        mark_shadows(&mut found);
        Ok(found.into_iter().next())
    }

    /// Deletes one of the org's resources. Refused for built-ins and while another
    /// resource lists it (unless a built-in of that name takes over the reference).
    pub async fn delete_resource(
        &self,
        org_id: i64,
        kind: Kind,
        name: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let owners: Vec<i64> = sqlx::query(
            "SELECT org_id FROM resources WHERE org_id IN ($1, $2) AND kind = $3 AND name = $4",
        )
        .bind(org_id)
        .bind(BUILTIN_ORG)
        .bind(kind.as_str())
        .bind(name)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        let builtin_exists = owners.contains(&BUILTIN_ORG);
        if !owners.contains(&org_id) {
            return Err(if builtin_exists {
                StoreError::Forbidden(format!(
                    "{kind}/{name} is built in and read-only; duplicate it to make a custom copy"
                ))
            } else {
                StoreError::NotFound(format!("{kind}/{name} does not exist"))
            });
        }
        if !builtin_exists {
            let referrers: Vec<String> = sqlx::query(
                "SELECT from_kind, from_name FROM resource_refs WHERE org_id = $1 AND to_kind = $2 AND to_name = $3 ORDER BY from_kind, from_name",
            )
            .bind(org_id)
            .bind(kind.as_str())
            .bind(name)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok(format!("{}/{}", r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
            if !referrers.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "{kind}/{name} cannot be deleted: it is listed by {}; remove it from there first",
                    referrers.join(", ")
                )));
            }
            sqlx::query("DELETE FROM requirement_state WHERE org_id = $1 AND name = $2 AND $3 = 'Requirement'")
                .bind(org_id)
                .bind(name)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
        }
        delete_refs_from(&mut tx, org_id, kind, name).await?;
        // The revisions stay, and the deletion is recorded against the last one, so a
        // status as of a time before it still reads the resource; a later resource of
        // the same name continues the numbering (a revision number is never reused).
        record_deletion(&mut tx, org_id, kind, name, actor, now_ms).await?;
        audit.push(NewEvent::new(actor, "delete", target(kind, name)));
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Copies a resource (the org's or a built-in) into a new custom one.
    pub async fn duplicate_resource(
        &self,
        org_id: i64,
        kind: Kind,
        name: &str,
        new_name: &str,
        actor: &str,
        now_ms: i64,
    ) -> Result<Change, StoreError> {
        if let Some(problem) = name::dns1123_problem(new_name) {
            return Err(StoreError::Conflict(format!("invalid new name: {problem}")));
        }
        let source = self
            .get_resource(org_id, kind, name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("{kind}/{name} does not exist")))?;
        let mut resource = source.resource()?;
        resource.metadata_mut().name = new_name.to_owned();
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let taken =
            sqlx::query("SELECT 1 FROM resources WHERE org_id = $1 AND kind = $2 AND name = $3")
                .bind(org_id)
                .bind(kind.as_str())
                .bind(new_name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "{kind}/{new_name} already exists"
            )));
        }
        let builtin_named =
            sqlx::query("SELECT 1 FROM resources WHERE org_id = $1 AND kind = $2 AND name = $3")
                .bind(BUILTIN_ORG)
                .bind(kind.as_str())
                .bind(new_name)
                .fetch_optional(&mut *tx)
                .await?;
        let mut change = Change {
            digest: resource.digest(),
            resource,
            action: Action::Created,
            revision: 1,
            shadows_builtin: builtin_named.is_some(),
        };
        write_change(&mut tx, org_id, &mut change, actor, now_ms).await?;
        audit.push(
            NewEvent::new(actor, "duplicate", target(kind, new_name))
                .revision(1, &change.digest)
                .detail(
                    serde_json::json!({"from": target(kind, name), "from_builtin": source.builtin}),
                ),
        );
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(change)
    }

    /// Activates or deactivates a requirement for the org (built-in ones too: the
    /// lifecycle is the org's choice, not the content's). Returns whether it changed.
    pub async fn set_requirement_active(
        &self,
        org_id: i64,
        name: &str,
        active: bool,
        actor: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, org_id, now_ms).await?;
        let exists = sqlx::query("SELECT 1 FROM resources WHERE org_id IN ($1, $2) AND kind = 'Requirement' AND name = $3")
            .bind(org_id)
            .bind(BUILTIN_ORG)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!(
                "Requirement/{name} does not exist"
            )));
        }
        let current: Option<i64> =
            sqlx::query("SELECT active FROM requirement_state WHERE org_id = $1 AND name = $2")
                .bind(org_id)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        if current.is_none_or(|a| a != 0) == active {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO requirement_state (org_id, name, active, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, name) DO UPDATE SET active = excluded.active, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(name)
        .bind(flag(active))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let action = if active {
            "requirement.activate"
        } else {
            "requirement.deactivate"
        };
        audit.push(NewEvent::new(
            actor,
            action,
            target(Kind::Requirement, name),
        ));
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Makes the stored built-ins equal to `resources` (the content shipped in this
    /// binary). Changes are audited in the built-in chain as actor `system`. Safe to run
    /// from several servers at once: they queue on the built-in org's lock.
    pub async fn sync_builtins(
        &self,
        resources: &[Resource],
        now_ms: i64,
    ) -> Result<Vec<(Kind, String, &'static str)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut audit = AuditWriter::lock(self, &mut tx, BUILTIN_ORG, now_ms).await?;
        let known = load_known(&mut tx, BUILTIN_ORG).await?;
        let mut report = Vec::new();
        let mut shipped = std::collections::HashSet::new();
        for resource in resources {
            let key = (resource.kind(), resource.name().to_owned());
            let digest = resource.digest();
            let (action, revision) = match known.custom.get(&key) {
                None => (Action::Created, 1),
                Some(e) if e.digest == digest => (Action::Unchanged, e.revision),
                Some(e) => (Action::Updated, e.revision + 1),
            };
            shipped.insert(key.clone());
            if action == Action::Unchanged {
                continue;
            }
            let mut change = Change {
                resource: resource.clone(),
                action,
                revision,
                digest,
                shadows_builtin: false,
            };
            write_change(&mut tx, BUILTIN_ORG, &mut change, "system", now_ms).await?;
            let revision = change.revision;
            let verb = if action == Action::Created {
                "builtin.created"
            } else {
                "builtin.updated"
            };
            audit.push(
                NewEvent::new("system", verb, target(key.0, &key.1))
                    .revision(revision, &change.digest),
            );
            report.push((key.0, key.1, verb));
        }
        for (kind, name) in known.custom.keys().filter(|k| !shipped.contains(*k)) {
            delete_refs_from(&mut tx, BUILTIN_ORG, *kind, name).await?;
            record_deletion(&mut tx, BUILTIN_ORG, *kind, name, "system", now_ms).await?;
            audit.push(NewEvent::new(
                "system",
                "builtin.removed",
                target(*kind, name),
            ));
            report.push((*kind, name.clone(), "builtin.removed"));
        }
        audit.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// Marks custom resources that share a name with a built-in one (rows sorted by name,
/// custom first).
pub(crate) fn mark_shadows(rows: &mut [StoredResource]) {
    let builtin: std::collections::HashSet<(Kind, String)> = rows
        .iter()
        .filter(|r| r.builtin)
        .map(|r| (r.kind, r.name.clone()))
        .collect();
    for r in rows.iter_mut().filter(|r| !r.builtin) {
        r.shadows_builtin = builtin.contains(&(r.kind, r.name.clone()));
    }
}

async fn load_known(tx: &mut Tx, org_id: i64) -> Result<Known, StoreError> {
    // Policies' documents are read for their declared inputs (arguments are checked
    // against them); other kinds need only name, revision and digest.
    let rows = sqlx::query(
        "SELECT org_id, kind, name, revision, digest, CASE WHEN kind = 'Policy' THEN document END \
         FROM resources WHERE org_id IN ($1, $2) ORDER BY org_id",
    )
    .bind(BUILTIN_ORG)
    .bind(org_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut known = Known {
        custom: HashMap::with_capacity(rows.len()),
        ..Known::default()
    };
    // Built-in rows come first (org 0), so the org's own policy replaces their inputs.
    for row in &rows {
        let owner: i64 = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let kind =
            Kind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind '{kind}'")))?;
        let name: String = row.try_get(2)?;
        if let Some(document) = row.try_get::<Option<String>, _>(5)? {
            let doc: serde_json::Value = serde_json::from_str(&document)
                .map_err(|e| StoreError::Corrupt(format!("document of {name}: {e}")))?;
            let inputs = serde_json::from_value(doc["spec"]["inputs"].clone()).unwrap_or_default();
            known.policy_inputs.insert(name.clone(), inputs);
        }
        if owner == org_id {
            known.custom.insert(
                (kind, name),
                Existing {
                    revision: row.try_get(3)?,
                    digest: row.try_get(4)?,
                },
            );
        } else {
            known.builtin.insert((kind, name));
        }
    }
    Ok(known)
}

/// Writes a created or updated resource and its revision. A created resource whose
/// name had an earlier, deleted life continues that life's numbering: `change.revision`
/// is set to the number actually written.
async fn write_change(
    tx: &mut Tx,
    org_id: i64,
    change: &mut Change,
    actor: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let kind = change.resource.kind();
    let name = change.resource.name().to_owned();
    let name = name.as_str();
    let document = change.resource.to_document().to_string();
    match change.action {
        Action::Unchanged => return Ok(()),
        Action::Created => {
            let previous: Option<i64> = sqlx::query(
                "SELECT MAX(revision) FROM resource_revisions WHERE org_id = $1 AND kind = $2 AND name = $3",
            )
            .bind(org_id)
            .bind(kind.as_str())
            .bind(name)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            change.revision = previous.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO resources (org_id, kind, name, revision, digest, document, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(org_id)
            .bind(kind.as_str())
            .bind(name)
            .bind(change.revision)
            .bind(&change.digest)
            .bind(&document)
            .bind(now_ms)
            .execute(&mut **tx)
            .await?;
        }
        Action::Updated => {
            sqlx::query(
                "UPDATE resources SET revision = $1, digest = $2, document = $3, updated_at = $4 \
                 WHERE org_id = $5 AND kind = $6 AND name = $7",
            )
            .bind(change.revision)
            .bind(&change.digest)
            .bind(&document)
            .bind(now_ms)
            .bind(org_id)
            .bind(kind.as_str())
            .bind(name)
            .execute(&mut **tx)
            .await?;
            delete_refs_from(tx, org_id, kind, name).await?;
        }
    }
    sqlx::query(
        "INSERT INTO resource_revisions (org_id, kind, name, revision, digest, document, created_at, actor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(change.revision)
    .bind(&change.digest)
    .bind(&document)
    .bind(now_ms)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    let mut references = change.resource.references();
    references.sort();
    references.dedup();
    for (to_kind, to_name) in references {
        sqlx::query(
            "INSERT INTO resource_refs (org_id, from_kind, from_name, to_kind, to_name) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org_id)
        .bind(kind.as_str())
        .bind(name)
        .bind(to_kind.as_str())
        .bind(to_name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Ends a resource's current life: the row goes, its revisions stay, and the deletion
/// is recorded against the revision it ended.
async fn record_deletion(
    tx: &mut Tx,
    org_id: i64,
    kind: Kind,
    name: &str,
    actor: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO resource_deletions (org_id, kind, name, revision, deleted_at, actor) \
         SELECT org_id, kind, name, revision, $4, $5 FROM resources \
         WHERE org_id = $1 AND kind = $2 AND name = $3",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(name)
    .bind(now_ms)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM resources WHERE org_id = $1 AND kind = $2 AND name = $3")
        .bind(org_id)
        .bind(kind.as_str())
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn delete_refs_from(
    tx: &mut Tx,
    org_id: i64,
    kind: Kind,
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM resource_refs WHERE org_id = $1 AND from_kind = $2 AND from_name = $3",
    )
    .bind(org_id)
    .bind(kind.as_str())
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

//! Attestation ingestion and trusted keys, on both backends.

use crate::support::{each_backend, org};
use comply_store::{KeyRow, NewAttestation, NewEvaluation};
use serde_json::json;
use std::collections::BTreeMap;

fn evaluation(policy: &str, violations: usize) -> NewEvaluation {
    NewEvaluation {
        policy: policy.into(),
        policy_ref: format!("chainloop://{policy}"),
        policy_digest: None,
        material: Some("sbom".into()),
        material_type: Some("SBOM_CYCLONEDX_JSON".into()),
        args: BTreeMap::from([("severity".to_owned(), "HIGH".to_owned())]),
        violations: json!(
            (0..violations)
                .map(|i| json!({"message": format!("v{i}")}))
                .collect::<Vec<_>>()
        ),
        skipped: false,
        skip_reasons: vec![],
        requirements: vec!["my-fw/no-vulns".into()],
        gate: false,
        networked: None,
    }
}

pub fn attestation(digest: &str, project: &str, version: &str, finished_at: i64) -> NewAttestation {
    NewAttestation {
        digest: digest.into(),
        project: project.into(),
        version: version.into(),
        prerelease: None,
        workflow: Some("build".into()),
        contract: Some("build-contract".into()),
        finished_at,
        signer: "ci-key".into(),
        verified: true,
        envelope: "{}".into(),
        evaluations: vec![evaluation("vulnerabilities", 1), evaluation("sbom-ntia", 0)],
        evaluations_ref: None,
        evaluations_supplied: false,
    }
}

#[tokio::test]
async fn ingest_creates_project_version_workflow_once() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let a = attestation("sha256:aa", "api", "1.0.0", 5_000);
        let first = store.ingest(acme.id, &a, 6_000).await.unwrap();
        assert!(first.created);
        let again = store.ingest(acme.id, &a, 7_000).await.unwrap();
        assert!(!again.created, "same envelope stored once");
        assert_eq!(again.id, first.id);
        store
            .ingest(
                acme.id,
                &attestation("sha256:bb", "api", "1.1.0", 9_000),
                9_500,
            )
            .await
            .unwrap();

        let projects = store.list_projects(acme.id).await.unwrap();
        assert_eq!(projects.len(), 1);
        let api = &projects[0];
        assert_eq!(api.name, "api");
        assert_eq!(api.versions.len(), 2);
        assert!(api.versions.iter().all(|v| v.prerelease));
        assert_eq!(
            api.latest.as_deref(),
            Some("1.1.0"),
            "latest follows the newest attestation"
        );
        assert_eq!(api.workflows.len(), 1);
        assert_eq!(api.workflows[0].contract.as_deref(), Some("build-contract"));

        let list = store
            .list_attestations(acme.id, Some("api"), None, 100, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].digest, "sha256:bb");
        // Pages continue after the last digest shown, in the same order.
        let page = store
            .list_attestations(acme.id, Some("api"), None, 1, Some("sha256:bb"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].digest, list[1].digest);
        let rest = store
            .list_attestations(acme.id, Some("api"), None, 1, Some(&list[1].digest))
            .await
            .unwrap()
            .unwrap();
        assert!(rest.is_empty());
        let unknown = store
            .list_attestations(acme.id, None, None, 1, Some("sha256:nope"))
            .await
            .unwrap();
        assert!(unknown.is_none());
        let (row, _, evaluations) = store
            .get_attestation(acme.id, "sha256:aa")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.version, "1.0.0");
        assert_eq!(evaluations.len(), 2);
        assert_eq!(evaluations[0].policy, "vulnerabilities");
        assert_eq!(evaluations[0].violations.as_array().unwrap().len(), 1);
        assert_eq!(evaluations[0].requirements, ["my-fw/no-vulns"]);
        assert_eq!(evaluations[0].time_ms, 5_000);

        // Another org sees none of it, and may store the same envelope for itself.
        let other = org(&store, "other").await;
        assert!(store.list_projects(other.id).await.unwrap().is_empty());
        assert!(
            store
                .get_attestation(other.id, "sha256:aa")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.ingest(other.id, &a, 8_000).await.unwrap().created);
    })
    .await;
}

#[tokio::test]
async fn released_versions_stay_released() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let mut a = attestation("sha256:01", "web", "2.0", 1_000);
        a.prerelease = Some(false);
        store.ingest(acme.id, &a, 1_000).await.unwrap();
        let mut b = attestation("sha256:02", "web", "2.0", 2_000);
        b.prerelease = Some(true);
        store.ingest(acme.id, &b, 2_000).await.unwrap();
        let v = &store.list_projects(acme.id).await.unwrap()[0].versions[0];
        assert!(!v.prerelease);
        assert_eq!(v.released_at, Some(1_000));
    })
    .await;
}

#[tokio::test]
async fn concurrent_ingestion_loses_nothing() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let mut tasks = Vec::new();
        for client in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let digest = format!("sha256:{client}-{i}");
                    // Every client names the same project: creation races are the point.
                    let a = attestation(&digest, "shared", &format!("v{}", i % 3), 1_000 + i);
                    store.ingest(acme.id, &a, 2_000).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let all = store
            .list_attestations(acme.id, None, None, 1_000, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all.len(), 200);
        let projects = store.list_projects(acme.id).await.unwrap();
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].versions.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn attestations_arriving_together_fail_alone() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let before = store.ingest_stats();
        // Twenty at once, one of them for an org that does not exist (the database
        // refuses it): on SQLite they share transactions, and the refused one fails only
        // its own request.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let store = store.clone();
            let org_id = if i == 7 { 999_999 } else { acme.id };
            tasks.spawn(async move {
                let a = attestation(&format!("sha256:t{i}"), "api", "1.0.0", 1_000 + i);
                (i, store.ingest(org_id, &a, 2_000).await)
            });
        }
        let mut results: Vec<_> = tasks.join_all().await;
        results.sort_by_key(|(i, _)| *i);
        let results: Vec<_> = results.into_iter().map(|(_, r)| r).collect();
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 7, "attestation {i}: {r:?}");
        }
        let all = store
            .list_attestations(acme.id, None, None, 100, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all.len(), 19);
        let (row, _, evaluations) = store
            .get_attestation(acme.id, "sha256:t8")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.version, "1.0.0");
        assert_eq!(
            evaluations.len(),
            2,
            "the neighbour of the refused one is whole"
        );
        let after = store.ingest_stats();
        assert_eq!(after.attestations - before.attestations, 19);
        if store.backend() == comply_store::Backend::Sqlite {
            assert!(
                after.transactions - before.transactions < 19,
                "grouped: {before:?} → {after:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn keys_are_per_org_and_audited() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let key = KeyRow {
            name: "ci".into(),
            kind: "public_key".into(),
            algorithm: "ed25519".into(),
            pem: "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n".into(),
            fingerprint: "sha256:ff".into(),
            created_at: 0,
        };
        assert!(store.add_key(acme.id, &key, "alice", 10).await.unwrap());
        assert!(
            !store.add_key(acme.id, &key, "alice", 11).await.unwrap(),
            "name taken"
        );
        let other = org(&store, "other").await;
        assert!(store.list_keys(other.id).await.unwrap().is_empty());
        assert_eq!(store.list_keys(acme.id).await.unwrap()[0].created_at, 10);
        assert!(store.remove_key(acme.id, "ci", "alice", 12).await.unwrap());
        assert!(!store.remove_key(acme.id, "ci", "alice", 13).await.unwrap());
        let actions: Vec<String> = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(
            actions.ends_with(&["key.add".to_owned(), "key.remove".to_owned()]),
            "{actions:?}"
        );
    })
    .await;
}

fn decision(kind: &str, status: Option<&str>) -> comply_store::NewDecision {
    comply_store::NewDecision {
        kind: kind.into(),
        product: "portal".into(),
        product_version: "1.0".into(),
        project: Some("api".into()),
        requirement: "no-vulns".into(),
        forced_status: status.map(str::to_owned),
        reason: "because".into(),
        expires_at: None,
        needs_approval: false,
    }
}

#[tokio::test]
async fn one_active_decision_per_cell_and_history_kept() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let exception = store
            .add_decision(acme.id, &decision("exception", None), "alice", 100)
            .await
            .unwrap();
        let over = store
            .add_decision(acme.id, &decision("override", Some("passed")), "bob", 200)
            .await
            .unwrap();
        let all = store
            .list_decisions(acme.id, Some("portal"), None)
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let old = all.iter().find(|d| d.id == exception.id).unwrap();
        assert_eq!(old.ended_at, Some(200), "the override ended the exception");
        assert!(old.active_at(150) && !old.active_at(200));
        assert!(all.iter().find(|d| d.id == over.id).unwrap().active_at(250));
        // Revoking needs the right kind and an active decision.
        assert!(
            store
                .end_decision(acme.id, over.id, "exception", "bob", 300)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .end_decision(acme.id, over.id, "override", "bob", 300)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .end_decision(acme.id, over.id, "override", "bob", 301)
                .await
                .unwrap()
                .is_none()
        );
        let other = org(&store, "other").await;
        assert!(
            store
                .list_decisions(other.id, None, None)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .end_decision(other.id, exception.id, "exception", "eve", 400)
                .await
                .unwrap()
                .is_none()
        );
        let actions: Vec<String> = store
            .audit_list(acme.id, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "org.create",
                "exception.create",
                "exception.end",
                "override.create",
                "override.end"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn proofs_keep_files_by_digest() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let bytes = b"%PDF-1.7 threat model".to_vec();
        let digest = comply_core::digest::sha256(&bytes);
        let proof = comply_store::NewProof {
            product: "portal".into(),
            product_version: "1.0".into(),
            project: None,
            requirement: "threat-model".into(),
            proof: "threat-model".into(),
            kind: "file".into(),
            value: digest.clone(),
            collected_at: 50,
        };
        store
            .add_proof(acme.id, &proof, Some(&bytes), "alice", 60)
            .await
            .unwrap();
        store
            .add_proof(acme.id, &proof, Some(&bytes), "alice", 70)
            .await
            .unwrap();
        let proofs = store.list_proofs(acme.id, "portal", "1.0").await.unwrap();
        assert_eq!(proofs.len(), 2);
        assert_eq!((proofs[0].collected_at, proofs[0].created_at), (50, 60));
        assert_eq!(store.blob(acme.id, &digest).await.unwrap(), Some(bytes));
        let other = org(&store, "other").await;
        assert_eq!(store.blob(other.id, &digest).await.unwrap(), None);
        assert!(
            store
                .list_proofs(other.id, "portal", "1.0")
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

/// An attestation that references its evaluations (Chainloop's `policyEvaluationsRef`)
/// is stored without them and marked; supplying them later files them as received
/// then, once, audited; statuses before that instant still see them missing.
#[tokio::test]
async fn referenced_evaluations_are_attached_once() {
    each_backend(|store| async move {
        use comply_store::{AttachOutcome, EvaluationsRef};
        let acme = org(&store, "acme").await;
        let reference = EvaluationsRef {
            name: "policy-evaluations".into(),
            digest: "sha256:abcd".into(),
            media_type: Some("application/vnd.chainloop.policy-evaluations.v1+json".into()),
        };
        let mut a = attestation("sha256:ref", "api", "1.0.0", 5_000);
        a.evaluations = vec![];
        a.evaluations_ref = Some(reference.clone());
        store.ingest(acme.id, &a, 6_000).await.unwrap();
        let (row, _, evaluations) = store
            .get_attestation(acme.id, "sha256:ref")
            .await
            .unwrap()
            .unwrap();
        assert!(evaluations.is_empty());
        assert_eq!(row.evaluations_ref.as_ref(), Some(&reference));
        assert_eq!(row.evaluations_supplied_at, None);
        let versions = store
            .project_versions(acme.id, &["api".to_owned()])
            .await
            .unwrap();
        let pv = versions["api"].1["1.0.0"];
        let marks_before = store.attestation_marks(acme.id).await.unwrap()[&pv];

        let missing = store
            .referenced_evaluations(acme.id, &[pv], 7_000)
            .await
            .unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].digest, "sha256:ref");
        assert!(
            store
                .referenced_evaluations(acme.id, &[pv], 5_500)
                .await
                .unwrap()
                .is_empty(),
            "not received yet at 5.5 s"
        );

        let mut supplied = vec![evaluation("vulnerabilities", 1)];
        // Run with networking on: kept with the evaluation, read back by status.
        supplied[0].networked = Some("127.0.0.1".into());
        let outcome = store
            .attach_evaluations(acme.id, "sha256:ref", &supplied, "ci", 8_000)
            .await
            .unwrap();
        assert_eq!(outcome, AttachOutcome::Attached { evaluations: 1 });
        let again = store
            .attach_evaluations(acme.id, "sha256:ref", &supplied, "ci", 9_000)
            .await
            .unwrap();
        assert_eq!(again, AttachOutcome::AlreadySupplied { at: 8_000 });
        let (row, _, evaluations) = store
            .get_attestation(acme.id, "sha256:ref")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.evaluations_supplied_at, Some(8_000));
        assert_eq!(evaluations.len(), 1);
        assert_eq!(evaluations[0].received_at, 8_000, "received when supplied");
        assert_eq!(evaluations[0].time_ms, 5_000, "dated by the attestation");
        assert_eq!(evaluations[0].networked.as_deref(), Some("127.0.0.1"));
        // At 7 s the evaluations had not arrived: still missing then, not after.
        assert_eq!(
            store
                .referenced_evaluations(acme.id, &[pv], 7_000)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .referenced_evaluations(acme.id, &[pv], 8_000)
                .await
                .unwrap()
                .is_empty()
        );
        let facts = store
            .status_evidence(
                acme.id,
                &[pv],
                10_000,
                &BTreeMap::from([("vulnerabilities".to_owned(), 86_400_000)]),
            )
            .await
            .unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].1.received_at, 8_000);
        assert_eq!(facts[0].1.networked.as_deref(), Some("127.0.0.1"));
        assert_ne!(
            store.attestation_marks(acme.id).await.unwrap()[&pv],
            marks_before,
            "cached statuses of the version are invalidated"
        );
        let events = store
            .audit_list(
                acme.id,
                &comply_store::AuditQuery {
                    target: Some("Attestation/sha256:ref".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, "attestation.attach_evaluations");
        assert!(
            store.audit_verify(acme.id).await.unwrap().is_ok(),
            "the chain holds"
        );

        // An attestation carrying its evaluations references none.
        store
            .ingest(
                acme.id,
                &attestation("sha256:inline", "api", "1.0.0", 5_000),
                6_000,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .attach_evaluations(acme.id, "sha256:inline", &supplied, "ci", 9_000)
                .await
                .unwrap(),
            AttachOutcome::NoReference
        );
        assert_eq!(
            store
                .attach_evaluations(acme.id, "sha256:none", &supplied, "ci", 9_000)
                .await
                .unwrap(),
            AttachOutcome::NoSuchAttestation
        );
    })
    .await;
}

#[tokio::test]
async fn the_id_cache_stays_bounded_and_ingestion_stays_right() {
    use std::num::NonZeroUsize;
    each_backend(|store| async move {
        let one = NonZeroUsize::new(1).unwrap();
        store.limit_id_cache(one, one);
        let acme = org(&store, "acme").await;
        for i in 0..5 {
            let a = attestation(
                &format!("sha256:c{i}"),
                "api",
                &format!("1.{i}.0"),
                1_000 + i,
            );
            store.ingest(acme.id, &a, 2_000).await.unwrap();
            let (versions, workflows, series) = store.id_cache_entries();
            assert!(versions <= 1 && workflows <= 1 && series <= 1, "bounded");
        }
        // 1.0.0 was forgotten long ago: its ids are found again, not made twice.
        let again = attestation("sha256:c-again", "api", "1.0.0", 3_000);
        assert!(store.ingest(acme.id, &again, 3_500).await.unwrap().created);
        let projects = store.list_projects(acme.id).await.unwrap();
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].versions.len(), 5);
        assert_eq!(projects[0].workflows.len(), 1);
        let pv = projects[0]
            .versions
            .iter()
            .find(|v| v.version == "1.0.0")
            .unwrap()
            .id;
        let windows = BTreeMap::from([
            ("vulnerabilities".to_owned(), 86_400_000),
            ("sbom-ntia".to_owned(), 86_400_000),
        ]);
        let facts = store
            .status_evidence(acme.id, &[pv], 10_000, &windows)
            .await
            .unwrap();
        let mut seen: Vec<(String, String)> = facts
            .iter()
            .map(|(_, f)| (f.policy.clone(), f.attestation.clone()))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("sbom-ntia".to_owned(), "sha256:c-again".to_owned()),
                ("sbom-ntia".to_owned(), "sha256:c0".to_owned()),
                ("vulnerabilities".to_owned(), "sha256:c-again".to_owned()),
                ("vulnerabilities".to_owned(), "sha256:c0".to_owned()),
            ],
            "both attestations' evaluations in the version's two series"
        );
    })
    .await;
}

/// The dashboard's projects list reads a page and a count; the project page reads one
/// project; a project's attestations come newest first by version, with or without a
/// version, and never another project's or org's.
#[tokio::test]
async fn projects_by_page_by_name_and_their_attestations() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let other = org(&store, "other").await;
        for (i, name) in ["web", "api", "api-gw", "worker", "x_y", "x%y"]
            .iter()
            .enumerate()
        {
            let t = 1_000 * (i as i64 + 1);
            store
                .ingest(
                    acme.id,
                    &attestation(&format!("sha256:{i:02}"), name, "1.0", t),
                    t,
                )
                .await
                .unwrap();
        }
        store
            .ingest(
                acme.id,
                &attestation("sha256:a2", "api", "2.0", 50_000),
                50_000,
            )
            .await
            .unwrap();
        store
            .ingest(
                other.id,
                &attestation("sha256:o1", "api", "1.0", 60_000),
                60_000,
            )
            .await
            .unwrap();
        let names = |rows: &[comply_store::ProjectRow]| {
            rows.iter().map(|p| p.name.clone()).collect::<Vec<_>>()
        };
        let (page, total) = store.list_projects_page(acme.id, "", 2, 0).await.unwrap();
        assert_eq!(total, 6);
        assert_eq!(names(&page), ["api", "api-gw"]);
        assert_eq!(page[0].versions.len(), 2, "the page's versions: {page:?}");
        assert_eq!(page[0].latest.as_deref(), Some("2.0"));
        assert_eq!(page[0].workflows.len(), 1);
        let (page, _) = store.list_projects_page(acme.id, "", 2, 2).await.unwrap();
        assert_eq!(names(&page), ["web", "worker"]);
        let (page, total) = store.list_projects_page(acme.id, "", 2, 10).await.unwrap();
        assert!(page.is_empty());
        assert_eq!(total, 6);
        // Contains, case-insensitively; `_` and `%` are themselves.
        let (page, total) = store
            .list_projects_page(acme.id, "API", 10, 0)
            .await
            .unwrap();
        assert_eq!(
            (names(&page), total),
            (vec!["api".into(), "api-gw".into()], 2)
        );
        let (page, _) = store.list_projects_page(acme.id, "_", 10, 0).await.unwrap();
        assert_eq!(names(&page), ["x_y"]);
        let (page, _) = store.list_projects_page(acme.id, "%", 10, 0).await.unwrap();
        assert_eq!(names(&page), ["x%y"]);
        let (page, total) = store.list_projects_page(other.id, "", 10, 0).await.unwrap();
        assert_eq!((names(&page), total), (vec!["api".into()], 1));

        let api = store.project(acme.id, "api").await.unwrap().unwrap();
        let listed = store.list_projects(acme.id).await.unwrap();
        let same = listed.iter().find(|p| p.name == "api").unwrap();
        assert_eq!(
            serde_json::to_value(&api).unwrap(),
            serde_json::to_value(same).unwrap()
        );
        assert!(store.project(acme.id, "nope").await.unwrap().is_none());
        assert_eq!(
            store
                .project(other.id, "api")
                .await
                .unwrap()
                .unwrap()
                .versions
                .len(),
            1
        );

        let digests = |project: Option<&str>, version: Option<&str>| {
            let store = store.clone();
            let (project, version) = (project.map(str::to_owned), version.map(str::to_owned));
            async move {
                store
                    .list_attestations(acme.id, project.as_deref(), version.as_deref(), 10, None)
                    .await
                    .unwrap()
                    .unwrap()
                    .into_iter()
                    .map(|a| a.digest)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(digests(Some("api"), None).await, ["sha256:a2", "sha256:01"]);
        assert_eq!(digests(Some("api"), Some("1.0")).await, ["sha256:01"]);
        assert!(digests(Some("api"), Some("9.9")).await.is_empty());
        assert!(digests(Some("nope"), None).await.is_empty());
        assert_eq!(digests(None, Some("2.0")).await, ["sha256:a2"]);
        assert_eq!(digests(None, None).await.len(), 7);
    })
    .await;
}

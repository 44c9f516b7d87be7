//! Reads as of a past instant (issue 14, "history as it was"): the revision written
//! at or before it, deletions and lifecycle events as they were.

use crate::support::{FW, REQ_A, apply_yaml, each_backend, org};
use comply_core::resource::Kind;

#[tokio::test]
async fn resources_and_activity_read_as_they_were() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        let names = |rows: Vec<comply_store::StoredResource>| -> Vec<(String, i64, bool)> {
            rows.into_iter()
                .filter(|r| !r.builtin)
                .map(|r| (r.name, r.revision, r.active))
                .collect()
        };
        apply_yaml(&store, &acme, &format!("{REQ_A}---\n{FW}"), 100).await.unwrap();
        apply_yaml(&store, &acme, &REQ_A.replace("HIGH", "CRITICAL"), 200).await.unwrap();
        store.set_requirement_active(acme.id, "req-a", false, "alice", 300).await.unwrap();
        store.delete_resource(acme.id, Kind::Framework, "fw", "alice", 400).await.unwrap();

        let req = |t| store.list_resources_as_of(acme.id, Kind::Requirement, t);
        assert!(names(req(99).await.unwrap()).is_empty(), "nothing before the first apply");
        assert_eq!(names(req(150).await.unwrap()), [("req-a".to_owned(), 1, true)]);
        let at_250 = req(250).await.unwrap();
        assert_eq!(
            at_250.iter().find(|r| r.name == "req-a").unwrap().document["spec"]["policies"][0]["with"]["severity"],
            "CRITICAL"
        );
        assert_eq!(names(req(350).await.unwrap()), [("req-a".to_owned(), 2, false)]);

        let fw = |t| store.list_resources_as_of(acme.id, Kind::Framework, t);
        assert_eq!(names(fw(399).await.unwrap()), [("fw".to_owned(), 1, true)]);
        assert!(names(fw(400).await.unwrap()).is_empty(), "deleted at 400");
        assert!(store.list_resources(acme.id, Kind::Framework).await.unwrap().iter().all(|r| r.builtin));

        // Created again: a new life, revision 2, visible from then on only.
        apply_yaml(&store, &acme, FW, 500).await.unwrap();
        assert!(names(fw(450).await.unwrap()).is_empty());
        assert_eq!(names(fw(500).await.unwrap()), [("fw".to_owned(), 2, true)]);

        // Epochs: equal configuration, equal epoch; nothing after now.
        let e = |t| store.config_epoch(acme.id, t);
        assert_eq!(e(120).await.unwrap().before, e(180).await.unwrap().before);
        assert!(e(250).await.unwrap().before > e(180).await.unwrap().before);
        assert_eq!(e(350).await.unwrap().last_change_ms, Some(300), "the deactivation counts");
        assert_eq!(e(10_000).await.unwrap().after, 0);
        assert!(e(450).await.unwrap().after > 0);
    })
    .await;
}

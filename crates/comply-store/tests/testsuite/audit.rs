use crate::support::{REQ_A, apply_yaml, each_backend, org};
use comply_store::AuditQuery;

#[tokio::test]
async fn chain_verifies_and_filters() {
    each_backend(|store| async move {
        let acme = org(&store, "acme").await;
        apply_yaml(&store, &acme, REQ_A, 2_000).await.unwrap();
        apply_yaml(&store, &acme, &REQ_A.replace("HIGH", "LOW"), 3_000)
            .await
            .unwrap();
        assert_eq!(store.audit_verify(acme.id).await.unwrap(), Ok(3));
        let since = store
            .audit_list(
                acme.id,
                &AuditQuery {
                    since_ms: Some(2_500),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(since.len(), 1);
        let by_target = store
            .audit_list(
                acme.id,
                &AuditQuery {
                    target: Some("Requirement/req-a".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(by_target.len(), 2);
        assert_eq!(by_target[1].revision, Some(2));
    })
    .await;
}

//! The CLI facing a hostile or limited server (issue #15): clear sentences for
//! refusals, never a terminal escape it received.

use crate::support::Env;
use comply_store::{NewAttestation, Store};

/// Defect 7: a 413 was reported as "cannot reach the comply server …: Broken pipe".
#[test]
fn an_oversized_upload_is_explained() {
    let env = Env::start();
    let payload = "A".repeat(17 * 1024 * 1024);
    let file = env.write(
        "huge.json",
        &format!(r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{payload}","signatures":[]}}"#),
    );
    let run = env.run(&["attestation", "push", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the file is larger than the server accepts (16 MiB)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Broken pipe"), "{}", run.stderr);
}

/// Defect 2: `comply project list` printed the escape codes of a stored name.
#[test]
fn names_from_the_server_never_reach_the_terminal_raw() {
    let env = Env::start();
    let hostile = "\u{1b}[2J\u{1b}[31mowned\u{7}";
    let url = env.database_url().to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Planted in the database: the API itself refuses such a name.
        let store = Store::connect(&url).await.unwrap();
        let org = store.org_by_name("default").await.unwrap().unwrap();
        store
            .ingest(
                org.id,
                &NewAttestation {
                    digest: format!("sha256:{}", "ab".repeat(32)),
                    project: hostile.into(),
                    version: "1.0\u{1b}[0m".into(),
                    prerelease: None,
                    workflow: None,
                    contract: None,
                    finished_at: 1_700_000_000_000,
                    signer: "unsigned".into(),
                    verified: false,
                    envelope: "{}".into(),
                    evaluations: vec![],
                    evaluations_ref: None,
                    evaluations_supplied: false,
                },
                1_700_000_000_000,
            )
            .await
            .unwrap();
    });
    for args in [
        &["project", "list"][..],
        &["attestation", "list"][..],
        &["project", "list", "-o", "yaml"][..],
        &["project", "list", "-o", "json"][..],
    ] {
        let out = env.ok(args);
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} printed a control character: {out:?}"
        );
        assert!(out.contains("owned"), "{args:?}: {out}");
    }
}

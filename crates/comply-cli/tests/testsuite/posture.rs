//! Issue 14, "truthful posture": answers that cannot be fooled by a typo, explanations
//! that name what decided, round trips that hold.

use crate::compliance::{HOUR, RESOURCES, cell, envelope, push};
use crate::support::Env;
use comply_attest::{KeyAlgorithm, SigningKey};

fn portal() -> (Env, SigningKey) {
    let env = Env::start();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    env.write("script.pub", &key.public().to_pem());
    env.ok(&["key", "add", "script", "--public-key", "script.pub"]);
    env.write("resources.yaml", RESOURCES);
    env.ok(&["apply", "-f", "resources.yaml"]);
    (env, key)
}

#[test]
fn filters_that_name_nothing_are_errors() {
    let (env, _) = portal();
    for (args, expected) in [
        (
            vec![
                "status",
                "portal",
                "--project",
                "apii",
                "--fail-on-noncompliant",
            ],
            "no project 'apii' in portal 1.0; it has: api, web (did you mean 'api'?)",
        ),
        (
            vec!["status", "portal", "--requirement", "no-such"],
            "no requirement 'no-such' in portal 1.0; it has: architecture-review, no-vulns-high",
        ),
        (
            vec!["status", "portal", "--framework", "nosuch"],
            "no framework 'nosuch' in the frameworks attached to portal 1.0; it has: fw",
        ),
        (
            vec!["status", "portal", "--version", "9.9"],
            "no version '9.9' in product portal; it has: 1.0",
        ),
        (
            vec![
                "history",
                "portal",
                "--version",
                "9.9",
                "--from",
                "2026-11-28",
                "--to",
                "2026-11-29",
            ],
            "no version '9.9' in product portal",
        ),
        (
            vec!["exception", "list", "--product", "portl"],
            "no product 'portl' in org default; it has: portal",
        ),
        (
            vec![
                "override",
                "list",
                "--product",
                "portal",
                "--version",
                "2.0",
            ],
            "no version '2.0' in product portal",
        ),
        (
            vec![
                "requirement",
                "coverage",
                "no-vulns-high",
                "--product",
                "portl",
            ],
            "no product 'portl' in org default",
        ),
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(!run.stdout.contains("compliant: yes"), "{}", run.stdout);
    }
    // Filters that do name something still answer.
    let s = env.json(&[
        "status",
        "portal",
        "--project",
        "api",
        "--requirement",
        "no-vulns-high",
    ]);
    assert_eq!(s["cells"].as_array().unwrap().len(), 1, "{s}");
}

#[test]
fn plain_dates_are_accepted_as_the_end_of_that_day() {
    let (env, _) = portal();
    let h = env.json(&[
        "history",
        "portal",
        "--from",
        "2026-11-28",
        "--to",
        "2026-11-30",
    ]);
    let at: Vec<&str> = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        [
            "2026-11-28T23:59:59.999Z",
            "2026-11-29T23:59:59.999Z",
            "2026-11-30T23:59:59.999Z"
        ]
    );
    // Today's date: the end of today, when the product exists.
    let today = &jiff::Timestamp::now().to_string()[..10];
    let s = env.json(&["status", "portal", "--at", today]);
    assert_eq!(s["at"], format!("{today}T23:59:59.999Z"));
    // On the 28th of November it had not been applied yet.
    let run = env.run(&["status", "portal", "--at", "2026-11-28"]);
    assert!(
        run.stderr
            .contains("product 'portal' did not exist at 2026-11-28T23:59:59.999Z"),
        "{}",
        run.stderr
    );
    let run = env.run(&["status", "portal", "--at", "28/11/2026"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("neither a date"), "{}", run.stderr);
}

#[test]
fn explanations_name_findings_and_why_nothing_matched() {
    let (env, key) = portal();
    let now = jiff::Timestamp::now().as_millisecond();
    push(
        &env,
        "web.json",
        &envelope(&key, "web", now - 8 * HOUR, "HIGH", &["CRITICAL", "HIGH"]),
    );
    let s = env.json(&["status", "portal", "--explain"]);
    let web = cell(&s, "no-vulns-high", Some("web"));
    assert_eq!(web["status"], "FAILED");
    let text = web["explanation"].to_string();
    assert!(text.contains("CVE-2026-0000 (CRITICAL)"), "{text}");
    assert!(text.contains("CVE-2026-0001 (HIGH)"), "{text}");
    let findings = &web["components"][0]["evaluation"]["findings"];
    assert_eq!(findings[0]["id"], "CVE-2026-0000", "{web}");
    // api has no evaluation at all.
    let api = cell(&s, "no-vulns-high", Some("api"));
    let text = api["explanation"].to_string();
    assert!(text.contains("no evaluation of this policy yet"), "{text}");
    assert!(!text.contains("evaluated nothing"), "{text}");

    // With auto-matching off, web's scan matches nothing, and the explanation says why.
    env.ok(&["org", "settings", "--requirements-auto-matching", "off"]);
    let s = env.json(&["status", "portal", "--explain", "--project", "web"]);
    let text = cell(&s, "no-vulns-high", Some("web"))["explanation"].to_string();
    assert!(text.contains("auto-matching is off in this org"), "{text}");

    // The table explanation too.
    let out = env.ok(&["status", "portal", "--explain", "--project", "web"]);
    assert!(out.contains("auto-matching is off in this org"), "{out}");
}

const CONTRACT: &str = r#"# The build contract, as a team writes it: comments and key order are kept.
apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: build
  description: Build and scan
spec:
  materials:
    - name: sbom
      type: SBOM_CYCLONEDX_JSON
  policies:
    materials:
      - ref: vulnerabilities
        with:
          severity: HIGH
"#;

const GROUP: &str = r#"apiVersion: chainloop.dev/v1
kind: PolicyGroup
metadata:
  name: my-scans
spec:
  policies:
    materials:
      - name: sbom
        type: SBOM_CYCLONEDX_JSON
        policies:
          - ref: vulnerabilities
            with:
              severity: HIGH
"#;

#[test]
fn every_schema_output_reapplies_unchanged() {
    let (env, _) = portal();
    env.write("contract.yaml", CONTRACT);
    env.write("group.yaml", GROUP);
    env.ok(&["apply", "-f", "contract.yaml", "-f", "group.yaml"]);
    env.ok(&["policy", "duplicate", "vulnerabilities", "--as", "my-vulns"]);
    for (kind, name) in [
        ("requirement", "no-vulns-high"),
        ("framework", "fw"),
        ("product", "portal"),
        ("contract", "build"),
        ("policy-group", "my-scans"),
        ("policy", "my-vulns"),
        // Built-ins: describing one and applying what it printed changes nothing.
        ("framework", "best-practices"),
        ("requirement", "no-vulnerabilities-high"),
        ("policy", "vulnerabilities"),
        ("policy-group", "sbom-quality"),
    ] {
        let schema = env.ok(&[kind, "describe", name, "-o", "schema"]);
        let file = env.write(&format!("{kind}-{name}.exported.yaml"), &schema);
        let run = env.run(&["apply", "-f", file.to_str().unwrap(), "-o", "json"]);
        assert_eq!(run.code, 0, "{kind} {name}: {}\n{schema}", run.stderr);
        let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            out[0]["action"], "unchanged",
            "{kind} {name}: {out}\n{schema}"
        );
    }
    // The contract's own text comes back, comments included.
    assert_eq!(
        env.ok(&["contract", "describe", "build", "-o", "schema"]),
        CONTRACT
    );
    // Nothing shadows a built-in after those applies.
    let frameworks = env.json(&["framework", "list"]);
    let bp = frameworks
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "best-practices")
        .unwrap();
    assert_eq!(bp["builtin"], true, "{bp}");
}

#[test]
fn dangling_references_are_reported_at_apply_and_in_coverage() {
    let (env, _) = portal();
    env.write(
        "contract.yaml",
        r#"apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: build
spec:
  materials:
    - name: scan
      type: SARIF
  policies:
    materials:
      - ref: vulnerabilities
        with: {severity: HIGH}
        requirements:
          - fw/no-vulns-high
          - acme/does-not-exist
          - fx/no-vulns-high
"#,
    );
    let run = env.run(&["apply", "-f", "contract.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Contract/build created"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "warning: contract.yaml:15:13: requirement reference 'acme/does-not-exist' names no framework 'acme'"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("contract.yaml:16:13: requirement reference 'fx/no-vulns-high' names no framework 'fx' (did you mean 'fw'?)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("'fw/no-vulns-high'"), "{}", run.stderr);

    let c = env.json(&["requirement", "coverage", "no-vulns-high"]);
    let dangling = c["dangling_references"].as_array().unwrap();
    assert_eq!(dangling.len(), 1, "{c}");
    assert_eq!(dangling[0]["reference"], "fx/no-vulns-high");
    let out = env.ok(&["requirement", "coverage", "no-vulns-high"]);
    assert!(
        out.contains("warning: contract build: requirement reference 'fx/no-vulns-high'"),
        "{out}"
    );
}

#[test]
fn preview_frameworks_turned_off_stay_attached_visible_and_editable() {
    let (env, _) = portal();
    env.ok(&["org", "settings", "--in-preview-frameworks", "on"]);
    env.ok(&["product", "create", "shop", "--project", "api"]);
    env.ok(&[
        "product",
        "version",
        "create",
        "shop",
        "1.0",
        "--framework",
        "cra",
    ]);
    env.ok(&["org", "settings", "--in-preview-frameworks", "off"]);

    // Still listed (marked preview) and describable, because shop attaches it.
    let list = env.json(&["framework", "list"]);
    let cra = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "cra")
        .unwrap_or_else(|| panic!("cra hidden: {list}"));
    assert_eq!(cra["preview"], true);
    assert!(
        !list.as_array().unwrap().iter().any(|f| f["name"] == "ssdf"),
        "an unattached preview stays hidden: {list}"
    );
    env.ok(&["framework", "describe", "cra"]);
    // Still scored.
    let s = env.json(&["status", "shop"]);
    assert!(s["counted"].as_u64().unwrap() > 0, "{s}");
    // The product stays editable…
    let requirement = s["cells"][0]["requirement"].as_str().unwrap().to_owned();
    env.ok(&[
        "applicability",
        "set",
        "--product",
        "shop",
        "--requirement",
        &requirement,
        "--not-applicable",
        "--rationale",
        "not ours",
    ]);
    env.ok(&["product", "version", "create", "shop", "1.1"]);
    // …but attaching a preview framework anew is still refused.
    let run = env.run(&["product", "attach", "shop", "--version", "1.1", "ssdf"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("framework 'ssdf' is in preview"),
        "{}",
        run.stderr
    );
}

#[test]
fn product_commands_are_revisions_audited_as_what_they_are() {
    let (env, _) = portal();
    let run = env.run(&["product", "create", "portal", "--project", "batch"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("comply product add-project portal batch"),
        "{}",
        run.stderr
    );
    assert!(
        env.ok(&["product", "add-project", "portal", "batch"])
            .contains("Product/portal updated (revision 2)")
    );
    env.ok(&[
        "product",
        "version",
        "create",
        "portal",
        "2.0",
        "--framework",
        "fw",
    ]);
    assert!(
        env.ok(&["product", "pin", "portal", "--version", "2.0", "api=1.8.0"])
            .contains("revision 4")
    );
    let versions = env.json(&["product", "version", "list", "portal"]);
    assert_eq!(versions[1]["name"], "2.0", "{versions}");
    assert_eq!(versions[1]["projectVersions"]["api"], "1.8.0", "{versions}");
    let table = env.ok(&["product", "version", "list", "portal"]);
    assert!(table.contains("api=1.8.0"), "{table}");
    env.ok(&["product", "pin", "portal", "--version", "2.0", "api="]);
    let run = env.run(&["product", "pin", "portal", "--version", "2.0", "nope=1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("product 'portal' has no project 'nope'"),
        "{}",
        run.stderr
    );
    env.ok(&[
        "applicability",
        "set",
        "--product",
        "portal",
        "--requirement",
        "no-vulns-high",
        "--project",
        "batch",
        "--not-applicable",
    ]);
    env.ok(&["product", "version", "delete", "portal", "2.0"]);
    let run = env.run(&["product", "version", "delete", "portal", "2.0"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no version '2.0' in product portal; it has: 1.0"),
        "{}",
        run.stderr
    );
    let doc = env.json(&["product", "describe", "portal"]);
    assert_eq!(doc["revision"], 7, "{doc}");

    let audit = env.json(&["audit", "list", "--target", "Product/portal"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "apply.created",
        "product.project.added",
        "product.version.created",
        "product.pinned",
        "applicability.set",
        "product.version.deleted",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing in {actions:?}"
        );
    }
    // The family of product edits, and one action exactly, as the server filters them.
    let family = env.json(&[
        "audit",
        "list",
        "--target",
        "Product/portal",
        "--action",
        "product.",
    ]);
    let family: Vec<&str> = family
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        !family.is_empty() && family.iter().all(|a| a.starts_with("product.")),
        "{family:?}"
    );
    assert_eq!(
        family.len(),
        actions.iter().filter(|a| a.starts_with("product.")).count()
    );
    let pinned = env.json(&[
        "audit",
        "list",
        "--action",
        "product.pinned",
        "--until",
        "2999-01-01T00:00:00Z",
    ]);
    assert_eq!(
        pinned.as_array().unwrap().len(),
        actions.iter().filter(|a| **a == "product.pinned").count()
    );
    let none = env.json(&["audit", "list", "--until", "2000-01-01T00:00:00Z"]);
    assert_eq!(none, serde_json::json!([]));
    assert!(!actions.contains(&"apply.updated"), "{actions:?}");
}

#[test]
fn errors_of_command_made_changes_speak_of_the_command() {
    let (env, _) = portal();
    // The requirement is not in the product: the document made for the user is invalid.
    let run = env.run(&[
        "applicability",
        "set",
        "--product",
        "portal",
        "--requirement",
        "nonexistent",
        "--not-applicable",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "comply applicability set --product portal --requirement nonexistent --not-applicable: "
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("product portal:"), "{}", run.stderr);
    let run = env.run(&["product", "attach", "portal", "--version", "1.0", "nosuch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("comply product attach portal --version 1.0 nosuch: "),
        "{}",
        run.stderr
    );
}

const KEV_CONTRACT: &str = r#"apiVersion: chainloop.dev/v1
kind: Contract
metadata:
  name: scan
spec:
  materials:
    - name: scan
      type: EVIDENCE
  policies:
    materials:
      - ref: cves-in-kev
        selector: {name: scan}
"#;

/// `../shared/fixtures/vuln-reports/trivy-spring4shell-jre11.json`, when present.
fn spring4shell() -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/vuln-reports/trivy-spring4shell-jre11.json");
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

#[test]
fn kev_is_managed_reference_data_and_flags_spring4shell_in_the_attest_flow() {
    let Some(report) = spring4shell() else { return };
    let env = Env::start();
    // A fresh server has the embedded snapshot, named and dated.
    let list = env.json(&["reference-data", "list"]);
    assert_eq!(list[0]["kind"], "kev", "{list}");
    assert_eq!(list[0]["scope"], "instance");
    assert_eq!(list[0]["source"], "embedded snapshot");
    assert!(list[0]["entries"].as_u64().unwrap() > 1000, "{list}");
    let table = env.ok(&["reference-data", "list"]);
    assert!(table.contains("embedded snapshot"), "{table}");

    env.ok(&["key", "generate", "--out", "ci"]);
    env.ok(&["key", "add", "ci", "--public-key", "ci.pub"]);
    env.write("contract.yaml", KEV_CONTRACT);
    env.ok(&["apply", "-f", "contract.yaml"]);
    std::fs::copy(&report, env.dir().join("trivy.json")).unwrap();
    env.ok(&[
        "attest",
        "init",
        "--contract",
        "scan",
        "--project",
        "api",
        "--version",
        "1.0.0",
    ]);
    env.ok(&["attest", "add", "--name", "scan", "--value", "trivy.json"]);
    let out = env.json(&["attest", "push", "--key", "ci.key"]);
    let described = env.json(&["attestation", "describe", out["digest"].as_str().unwrap()]);
    let e = &described["evaluations"][0];
    assert_eq!(e["policy"], "cves-in-kev", "{described}");
    assert_eq!(e["skipped"], false, "{described}");
    let violations = e["violations"].to_string();
    assert!(violations.contains("CVE-2022-22965"), "{violations}");

    // An org's own import wins, and names itself in the list.
    let catalog = serde_json::json!({
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2026.12.01",
        "dateReleased": jiff::Timestamp::now().to_string(),
        "count": 1,
        "vulnerabilities": [{"cveID": "CVE-2022-22965", "vendorProject": "VMware",
                             "product": "Spring Framework"}],
    });
    env.write("kev.json", &catalog.to_string());
    let run = env.run(&["reference-data", "import", "kev", "kev.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("kev catalog 2026.12.01 (1 entries"),
        "{}",
        run.stdout
    );
    let list = env.json(&["reference-data", "list"]);
    assert_eq!(list[0]["scope"], "org", "{list}");
    assert_eq!(list[0]["stale"], false, "{list}");
    let audit = env.ok(&["audit", "list"]);
    assert!(audit.contains("reference_data.import"), "{audit}");
    // Not a catalog: a usage error, nothing stored.
    env.write("bad.json", "{\"vulnerabilities\": 3}");
    assert_eq!(
        env.run(&["reference-data", "import", "kev", "bad.json"])
            .code,
        2
    );
}

#[test]
fn status_explanations_name_the_kev_catalog_and_its_staleness() {
    let env = Env::start();
    env.write("resources.yaml", crate::support::REQUIREMENT);
    env.write(
        "fw.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: fw}\nspec:\n  requirements:\n    - ref: no-vulnerabilities-high\n---\napiVersion: chainloop.dev/v1\nkind: Product\nmetadata: {name: portal}\nspec:\n  projects: [api]\n  versions:\n    - name: \"1\"\n      frameworks: [fw]\n",
    );
    env.ok(&["apply", "-f", "resources.yaml", "-f", "fw.yaml"]);
    let s = env.json(&["status", "portal", "--explain"]);
    let text = s["cells"][0]["explanation"].to_string();
    // The embedded snapshot is from 2025: older than seven days, and said so.
    assert!(
        text.contains("reference data: CISA KEV catalog 2025.08.25"),
        "{text}"
    );
    assert!(text.contains("STALE: older than 7 days"), "{text}");
    assert!(
        s["reference_data"][0]
            .as_str()
            .unwrap()
            .contains("embedded snapshot"),
        "{s}"
    );
    // The limit is the org's: ten years makes the 2025 snapshot current.
    let settings = env.json(&["org", "settings", "--reference-data-max-age-days", "3650"]);
    assert_eq!(settings["reference_data_max_age_days"], 3650, "{settings}");
    let s = env.json(&["status", "portal", "--explain"]);
    let text = s["cells"][0]["explanation"].to_string();
    assert!(text.contains("CISA KEV catalog 2025.08.25"), "{text}");
    assert!(!text.contains("STALE"), "{text}");
    let list = env.json(&["reference-data", "list"]);
    assert_eq!(list[0]["stale"], false, "{list}");
    let run = env.run(&["org", "settings", "--reference-data-max-age-days", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn the_status_table_fits_120_columns_grouped_by_framework_and_section() {
    let env = Env::start();
    env.ok(&["org", "settings", "--in-preview-frameworks", "on"]);
    env.ok(&[
        "product",
        "create",
        "portal",
        "--project",
        "customer-facing-api",
        "--project",
        "web",
    ]);
    env.ok(&[
        "product",
        "version",
        "create",
        "portal",
        "2.4",
        "--framework",
        "best-practices",
        "--framework",
        "cra",
    ]);
    let out = env.ok(&["status", "portal"]);
    for line in out.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} wide: {line}",
            line.chars().count()
        );
    }
    // One group per framework, each with its subtotal, then its rows.
    let bp = out
        .find("best-practices: score")
        .expect("best-practices group");
    let cra = out.find("cra: score").expect("cra group");
    assert!(bp < cra, "{out}");
    assert!(out[bp..cra].contains("SECTION"), "{out}");
    assert!(
        !out[bp..cra].contains("cra-annex"),
        "frameworks are not interleaved: {out}"
    );
    let s = env.json(&["status", "portal"]);
    assert!(
        s["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["section"].as_str().is_some_and(|x| !x.is_empty())),
        "{s}"
    );
    assert!(s["frameworks"][0]["counted"].as_u64().is_some(), "{s}");
    // Issue 18: each framework's score per section; the sections partition its cells.
    for fw in s["frameworks"].as_array().unwrap() {
        let sections = fw["sections"].as_array().unwrap();
        assert!(sections.len() > 1, "{fw}");
        let counted: u64 = sections
            .iter()
            .map(|x| x["counted"].as_u64().unwrap())
            .sum();
        let passing: u64 = sections
            .iter()
            .map(|x| x["passing"].as_u64().unwrap())
            .sum();
        assert_eq!(counted, fw["counted"].as_u64().unwrap(), "{fw}");
        assert_eq!(passing, fw["passing"].as_u64().unwrap(), "{fw}");
        assert!(sections.iter().all(|x| x["section"].is_string()), "{fw}");
    }
    // The overview and history carry the same per-framework scores.
    let overview = env.json(&["status"]);
    let row = overview["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"] == "portal" && p["version"] == s["version"])
        .unwrap();
    let scores = row["framework_scores"].as_array().unwrap();
    assert_eq!(
        scores.len(),
        s["frameworks"].as_array().unwrap().len(),
        "{row}"
    );
    for (a, b) in scores.iter().zip(s["frameworks"].as_array().unwrap()) {
        assert_eq!(
            (&a["framework"], &a["counted"]),
            (&b["framework"], &b["counted"])
        );
    }
    let today = &jiff::Timestamp::now().to_string()[..10];
    let h = env.json(&["history", "portal", "--from", today, "--to", today]);
    assert_eq!(
        h["points"][0]["framework_scores"][0]["counted"], s["frameworks"][0]["counted"],
        "{h}"
    );
    let wide = env.ok(&["status", "portal", "--wide"]);
    assert!(
        wide.lines().any(|l| l.chars().count() > 120) || !wide.contains('…'),
        "{wide}"
    );
    assert!(out.contains("compliant: no"), "{out}");
}

#[test]
fn the_readme_tour_runs() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("skipped: openssl is not installed (the tour signs an image with it)");
        return;
    }
    let env = Env::start();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tour.sh");
    let out = env
        .command()
        .arg("--version")
        .output()
        .map(|_| ())
        .and_then(|()| {
            let mut cmd = std::process::Command::new("bash");
            cmd.arg(&script)
                .env("COMPLY", crate::support::BIN)
                .env("COMPLY_SERVER", &env.server)
                .env("COMPLY_TOKEN", &env.token)
                .env("XDG_CONFIG_HOME", env.dir().join("config"))
                .env("HOME", env.dir());
            cmd.output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tour failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("tour: done"), "{stdout}");
    // Spring4Shell is flagged by cves-in-kev, named with its package and fix.
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("cves-in-kev on scan: 1 violation"), "{all}");
    assert!(
        stdout.contains("CVE-2022-22965 in pkg:maven/org.springframework/spring-beans@5.3.17"),
        "{stdout}"
    );
    assert!(all.contains("container-signed on image: passed"), "{all}");
    assert!(
        stdout.contains("score 67% (2 of 3 counted cells passing)"),
        "{stdout}"
    );
}

/// Issue 14, "history rewrites the past": a status at a past time reads the product,
/// frameworks, requirements and activity as they were then.
#[test]
fn the_past_is_scored_against_its_own_definitions() {
    let (env, _) = portal();
    let applied = jiff::Timestamp::now().to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Then: a second framework attached, and the review requirement deactivated.
    let extra = r#"apiVersion: chainloop.dev/v1
kind: Requirement
metadata:
  name: threat-model
  annotations: {scope: PRODUCT}
spec:
  manual_proofs: [{name: threat-model}]
---
apiVersion: chainloop.dev/v1
kind: Framework
metadata:
  name: design
spec:
  requirements: [{ref: threat-model}]
"#;
    env.write("extra.yaml", extra);
    env.ok(&["apply", "-f", "extra.yaml"]);
    env.write(
        "resources.yaml",
        &RESOURCES.replace("frameworks: [fw]", "frameworks: [fw, design]"),
    );
    env.ok(&["apply", "-f", "resources.yaml"]);
    env.ok(&["requirement", "deactivate", "architecture-review"]);

    let frameworks = |s: &serde_json::Value| -> Vec<String> {
        s["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["framework"].as_str().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let now = env.json(&["status", "portal"]);
    assert_eq!(frameworks(&now), ["design", "fw"], "{now}");
    let review_now = cell(&now, "architecture-review", None);
    assert_eq!(review_now["status"], "INACTIVE", "{now}");

    let then = env.json(&["status", "portal", "--at", &applied]);
    assert_eq!(
        frameworks(&then),
        ["fw"],
        "only fw was attached then: {then}"
    );
    assert!(
        then["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["requirement"] != "threat-model"),
        "{then}"
    );
    assert_eq!(
        cell(&then, "architecture-review", None)["status"],
        "NO_DATA",
        "active then: {then}"
    );
}

/// Issue 18: `status -o csv` gives one row per cell under stable columns; quotes and
/// commas in values survive a spreadsheet.
#[test]
fn status_as_csv_has_stable_columns() {
    let (env, _) = portal();
    let json = env.json(&["status", "portal", "--explain"]);
    let csv = env.ok(&["status", "portal", "--explain", "-o", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "product,version,at,framework,section,requirement,scope,project,project_version,status,counted,passing,overridden,deadline,explanation"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), json["cells"].as_array().unwrap().len(), "{csv}");
    assert!(
        rows.iter().any(|r| r.starts_with("portal,1.0,")
            && r.contains(",no-vulns-high,")
            && r.contains(",api,")),
        "{csv}"
    );
    // With --explain, the explanation's lines are one field.
    assert!(
        rows.iter()
            .any(|r| r.contains("no evaluation of this policy yet |")),
        "{csv}"
    );
    let run = env.run(&["status", "-o", "csv"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("-o csv is only for"), "{}", run.stderr);
}

/// Issue 18: `status diff` names the cells that differ between two versions or two
/// times, with the reason from the second side's explanation.
#[test]
fn status_diff_between_versions_and_times() {
    let (env, key) = portal();
    env.write(
        "design.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: threat-model\n  annotations: {scope: PRODUCT}\nspec:\n  manual_proofs: [{name: threat-model}]\n---\napiVersion: chainloop.dev/v1\nkind: Framework\nmetadata: {name: design}\nspec:\n  requirements: [{ref: threat-model}]\n",
    );
    env.write(
        "resources.yaml",
        &RESOURCES.replace(
            "      frameworks: [fw]\n",
            "      frameworks: [fw]\n    - name: \"2.0\"\n      frameworks: [fw, design]\n",
        ),
    );
    let applied = env.run(&["apply", "-f", "design.yaml", "-f", "resources.yaml"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let d = env.json(&[
        "status",
        "diff",
        "portal",
        "--version",
        "1.0",
        "--to",
        "2.0",
    ]);
    let changed = d["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{d}");
    assert_eq!(changed[0]["framework"], "design");
    assert_eq!(changed[0]["requirement"], "threat-model");
    assert_eq!(changed[0]["project"], serde_json::Value::Null);
    assert_eq!(changed[0]["from"], serde_json::Value::Null);
    assert_eq!(changed[0]["to"], "NO_DATA");
    assert!(
        changed[0]["explanation"]
            .to_string()
            .contains("threat-model"),
        "{d}"
    );
    let table = env.ok(&[
        "status",
        "diff",
        "portal",
        "--version",
        "1.0",
        "--to",
        "2.0",
    ]);
    assert!(table.contains("(absent)"), "{table}");
    assert!(table.contains("portal: 1.0 at"), "{table}");

    // The same version at two times: a scan signed after the first instant.
    let first = jiff::Timestamp::now().to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let now = jiff::Timestamp::now().as_millisecond();
    push(
        &env,
        "api.json",
        &envelope(&key, "api", now, "MEDIUM", &["MEDIUM"]),
    );
    let d = env.json(&[
        "status",
        "diff",
        "portal",
        "--version",
        "1.0",
        "--at",
        &first,
        "--to-at",
        &jiff::Timestamp::now().to_string(),
    ]);
    let changed = d["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{d}");
    assert_eq!(
        (changed[0]["from"].as_str(), changed[0]["to"].as_str()),
        (Some("NO_DATA"), Some("PASSED")),
        "{d}"
    );
    assert_eq!(d["from"]["version"], d["to"]["version"]);

    let run = env.run(&["status", "diff", "portal"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("two versions (--to V) or two times"),
        "{}",
        run.stderr
    );
    // `status PRODUCT` still works beside the subcommand.
    assert_eq!(env.run(&["status", "portal"]).code, 0);
}

/// Issue 18, four eyes: with `--decision-approval on`, an exception waits (shown in the
/// explanation, not applied) until a second admin or owner approves it; its author
/// cannot; a rejected one never takes effect; every step is audited.
#[test]
fn exceptions_wait_for_a_second_persons_approval() {
    let (env, _) = portal();
    env.ok(&["org", "settings", "--decision-approval", "on"]);
    let admin = env.json(&["token", "create", "--name", "second", "--role", "admin"]);
    let admin = admin["token"].as_str().unwrap().to_owned();
    let cell_args = |project: &'static str| {
        vec![
            "exception",
            "create",
            "--product",
            "portal",
            "--version",
            "1.0",
            "--project",
            project,
            "--requirement",
            "no-vulns-high",
            "--reason",
            "vendor fix due",
        ]
    };
    let out = env.ok(&cell_args("api"));
    assert!(
        out.contains("takes effect once a second admin or owner approves it"),
        "{out}"
    );
    let id = out.split_whitespace().nth(1).unwrap().to_owned();

    let s = env.json(&["status", "portal", "--explain"]);
    let api = cell(&s, "no-vulns-high", Some("api"));
    assert_eq!(api["status"], "NO_DATA", "{api}");
    assert!(
        api["explanation"].to_string().contains("awaits approval"),
        "{api}"
    );
    let list = env.json(&["exception", "list"]);
    assert_eq!(list[0]["approval"], "pending", "{list}");
    assert_eq!(list[0]["active"], false, "{list}");

    // Its author cannot approve it.
    let own = env.run(&["exception", "approve", &id]);
    assert_ne!(own.code, 0);
    assert!(
        own.stderr.contains("a second admin or owner approves it"),
        "{}",
        own.stderr
    );
    // A second admin can.
    let run = env.run_as(&admin, &["exception", "approve", &id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = env.json(&["status", "portal", "--explain"]);
    assert_eq!(
        cell(&s, "no-vulns-high", Some("api"))["status"],
        "EXCEPTED",
        "{s}"
    );
    let again = env.run_as(&admin, &["exception", "approve", &id]);
    assert_ne!(again.code, 0, "approved once");

    // Rejected: never in effect.
    let out = env.ok(&cell_args("web"));
    let web_id = out.split_whitespace().nth(1).unwrap().to_owned();
    let run = env.run_as(&admin, &["exception", "reject", &web_id]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let s = env.json(&["status", "portal", "--explain"]);
    let web = cell(&s, "no-vulns-high", Some("web"));
    assert_eq!(web["status"], "NO_DATA", "{web}");
    assert!(
        !web["explanation"].to_string().contains("awaits approval"),
        "{web}"
    );

    let audit = env.json(&["audit", "list"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"exception.approve"), "{actions:?}");
    assert!(actions.contains(&"exception.reject"), "{actions:?}");
}

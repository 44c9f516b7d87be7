//! Built-in frameworks as users meet them: listed with a preview flag, hidden while
//! previews are off, described as a section tree, copied into equal custom ones, and
//! attachable to products only when previews are on.

use crate::support::Env;

fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn preview_frameworks_appear_only_when_enabled() {
    let env = Env::start();
    let list = env.json(&["framework", "list"]);
    assert_eq!(names(&list), ["best-practices", "slsa"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|f| f["builtin"] == true && f["preview"] == false)
    );
    let run = env.run(&["framework", "describe", "cra"]);
    assert_eq!(run.code, 1, "hidden: {}", run.stderr);

    env.ok(&["org", "settings", "--in-preview-frameworks", "on"]);
    let list = env.json(&["framework", "list"]);
    assert_eq!(
        names(&list),
        ["best-practices", "cra", "osps-baseline", "slsa", "ssdf"]
    );
    let ssdf = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ssdf")
        .unwrap();
    assert_eq!(ssdf["preview"], true);
    assert_eq!(ssdf["requirements"], 42);
}

#[test]
fn describe_shows_the_section_tree_with_counts() {
    let env = Env::start();
    let out = env.ok(&["framework", "describe", "slsa"]);
    assert!(out.contains("Requirements:  22"), "{out}");
    assert!(out.contains("Build track (8)"), "{out}");
    assert!(out.contains("Source track (14)"), "{out}");
    assert!(out.contains("- slsa-build-provenance-exists"), "{out}");
}

#[test]
fn a_builtin_copied_or_exported_is_an_equal_custom_framework() {
    let env = Env::start();
    env.ok(&[
        "framework",
        "duplicate",
        "best-practices",
        "--as",
        "our-practices",
    ]);
    let original = env.json(&["framework", "describe", "best-practices"]);
    let copy = env.json(&["framework", "describe", "our-practices"]);
    assert_eq!(copy["builtin"], false);
    assert_eq!(copy["document"]["spec"], original["document"]["spec"]);

    let schema = env.ok(&["framework", "describe", "best-practices", "-o", "schema"]);
    let renamed = schema.replacen("name: best-practices", "name: exported-practices", 1);
    let file = env.write("exported.yaml", &renamed);
    env.ok(&["apply", "-f", file.to_str().unwrap()]);
    let exported = env.json(&["framework", "describe", "exported-practices"]);
    assert_eq!(exported["document"]["spec"], original["document"]["spec"]);
    assert_eq!(exported["requirements"], 20);
}

#[test]
fn the_product_brief_framework_applies_against_builtins() {
    let env = Env::start();
    let file = env.write(
        "brief.yaml",
        "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: my-best-practices\nspec:\n  sections:\n    - name: Source Code\n      requirements:\n        - ref: branch-protection\n        - ref: code-review\n        - ref: commits-signed-required\n    - name: Artifacts\n      requirements:\n        - ref: container-signed\n    - name: Vulnerability Management\n      requirements:\n        - ref: no-vulnerabilities-high\n",
    );
    let out = env.ok(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(out, "Framework/my-best-practices created (revision 1)\n");
}

#[test]
fn products_attach_preview_frameworks_only_when_enabled() {
    let env = Env::start();
    let product = "apiVersion: chainloop.dev/v1\nkind: Product\nmetadata:\n  name: portal\nspec:\n  projects: [api, web]\n  versions:\n    - name: \"1.0\"\n      frameworks: [best-practices, cra]\n";
    let file = env.write("product.yaml", product);
    let run = env.run(&["apply", "-f", file.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("product.yaml:9:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("framework 'cra' is in preview"),
        "{}",
        run.stderr
    );
    assert_eq!(env.json(&["product", "list"]), serde_json::json!([]));

    env.ok(&["org", "settings", "--in-preview-frameworks", "on"]);
    env.ok(&["apply", "-f", file.to_str().unwrap()]);
    env.ok(&[
        "product",
        "version",
        "create",
        "portal",
        "1.1",
        "--framework",
        "slsa",
    ]);
    env.ok(&["product", "attach", "portal", "--version", "1.1", "ssdf"]);
    env.ok(&["product", "detach", "portal", "--version", "1.0", "cra"]);
    let doc = env.json(&["product", "describe", "portal"]);
    assert_eq!(doc["revision"], 4);
    let versions = &doc["document"]["spec"]["versions"];
    assert_eq!(
        versions[0]["frameworks"],
        serde_json::json!(["best-practices"])
    );
    assert_eq!(
        versions[1]["frameworks"],
        serde_json::json!(["slsa", "ssdf"])
    );
    let run = env.run(&["framework", "delete", "my-missing"]);
    assert_eq!(run.code, 1);
}

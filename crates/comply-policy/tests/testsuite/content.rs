//! The built-in frameworks (`content/frameworks`, `content/requirements`): they load,
//! every reference resolves with valid arguments, and each framework holds every
//! requirement of its source. The source tables are read from
//! `../shared/reference/frameworks.md` when it is there (a fresh clone has no
//! `../shared`); the counts below are checked either way.

use comply_core::resource::{Framework, Requirement, Resource, Scope};
use comply_policy::validate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const SOURCE_ID: &str = "comply.dev/source-id";
const PREVIEW: &str = "comply.dev/preview";

/// Framework name, preview, requirements with a source id, from the sources.
const EXPECTED: &[(&str, bool, usize)] = &[
    ("best-practices", false, 20), // BP-01…BP-19 and comply's BP-01a (signed commits)
    ("slsa", false, 22),           // Build 8, Source 14
    ("cra", true, 38),             // Annex I Part I 14, Part II 8, Annex VII 13, Art. 14 3
    ("ssdf", true, 42),
    ("osps-baseline", true, 64),
];

struct Content {
    frameworks: BTreeMap<String, Framework>,
    requirements: BTreeMap<String, Requirement>,
}

fn content() -> Content {
    let resources = validate::builtin_resources().unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("built-in content is invalid:\n{}", lines.join("\n"))
    });
    let mut frameworks = BTreeMap::new();
    let mut requirements = BTreeMap::new();
    for r in resources {
        match r {
            Resource::Framework(f) => {
                frameworks.insert(f.metadata.name.clone(), f);
            }
            Resource::Requirement(r) => {
                requirements.insert(r.metadata.name.clone(), r);
            }
            _ => {}
        }
    }
    Content {
        frameworks,
        requirements,
    }
}

fn source_ids(c: &Content, framework: &str) -> BTreeSet<String> {
    c.frameworks[framework]
        .spec
        .all_refs()
        .filter_map(|r| {
            c.requirements[&r.reference]
                .metadata
                .annotations
                .get(SOURCE_ID)
        })
        .cloned()
        .collect()
}

#[test]
fn frameworks_are_present_complete_and_flagged() {
    let c = content();
    for (name, preview, count) in EXPECTED {
        let fw = c
            .frameworks
            .get(*name)
            .unwrap_or_else(|| panic!("built-in framework {name} is missing"));
        let is_preview = fw.metadata.annotations.get(PREVIEW).map(String::as_str) == Some("true");
        assert_eq!(is_preview, *preview, "{name}: preview flag");
        assert_eq!(
            source_ids(&c, name).len(),
            *count,
            "{name}: source requirements"
        );
        assert!(fw.metadata.description.is_some(), "{name}: description");
    }
}

#[test]
fn every_requirement_is_evidenced_and_scoped_sensibly() {
    let c = content();
    let listed: BTreeSet<&String> = c
        .frameworks
        .values()
        .flat_map(|f| f.spec.all_refs().map(|r| &r.reference))
        .collect();
    for (name, r) in &c.requirements {
        assert!(listed.contains(name), "{name} is in no framework");
        assert!(
            !r.spec.policies.is_empty() || !r.spec.manual_proofs.is_empty(),
            "{name} has neither policies nor proofs"
        );
        // Product-scoped requirements take only product-level proofs: a policy there
        // could never be satisfied.
        if r.scope() == Scope::Product {
            assert!(
                r.spec.policies.is_empty(),
                "{name}: PRODUCT scope with policies"
            );
        }
        assert!(r.metadata.display_name.is_some(), "{name}: displayName");
        assert!(!r.categories().is_empty(), "{name}: categories");
    }
}

#[test]
fn best_practices_has_the_product_brief_example_names() {
    let c = content();
    let refs: BTreeSet<&str> = c.frameworks["best-practices"]
        .spec
        .all_refs()
        .map(|r| r.reference.as_str())
        .collect();
    for name in [
        "branch-protection",
        "code-review",
        "commits-signed-required",
        "container-signed",
        "no-vulnerabilities-high",
    ] {
        assert!(refs.contains(name), "best-practices lacks {name}");
    }
    let vulns = &c.requirements["no-vulnerabilities-high"].spec.policies;
    let high = vulns
        .iter()
        .find(|p| p.reference == "vulnerabilities")
        .unwrap();
    assert_eq!(high.with.get("severity").map(String::as_str), Some("HIGH"));
}

/// IDs from the first column of the table rows between two headings of the reference.
fn table_ids(text: &str, from: &str, to: &str) -> Vec<String> {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("no heading {from}"));
    let end = text[start..].find(to).map_or(text.len(), |e| start + e);
    text[start..end]
        .lines()
        .filter(|l| l.starts_with("| "))
        .filter_map(|l| l.split('|').nth(1).map(|c| c.trim().replace("**", "")))
        .filter(|c| !c.is_empty() && !c.chars().all(|ch| ch == '-'))
        .collect()
}

#[test]
fn frameworks_match_their_source_tables() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/frameworks.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        crate::support::skip(&format!("{} is absent", path.display()));
        return;
    };
    let c = content();
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();

    let ssdf = set(table_ids(&text, "### 1.4 Tasks", "### 1.5"))
        .into_iter()
        .filter(|id| id != "Task")
        .collect::<BTreeSet<_>>();
    assert_eq!(ssdf.len(), 42);
    assert_eq!(source_ids(&c, "ssdf"), ssdf);

    let osps = set(table_ids(&text, "### 4.3", "### 4.4"))
        .into_iter()
        .filter(|id| id.starts_with("OSPS-"))
        .collect::<BTreeSet<_>>();
    assert_eq!(osps.len(), 64);
    assert_eq!(source_ids(&c, "osps-baseline"), osps);

    let bp = set(table_ids(&text, "## 5. Best Practices", "## 6."))
        .into_iter()
        .filter(|id| id.starts_with("BP-"))
        .map(|id| id.split_whitespace().next().unwrap().to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(bp.len(), 19);
    let mut ours = source_ids(&c, "best-practices");
    assert!(ours.remove("BP-01a"), "comply's signed-commits addition");
    assert_eq!(ours, bp);

    // CRA: Annex I Part I and II by their IDs, Annex VII items prefixed "VII".
    let mut cra = set(table_ids(&text, "### 2.2 Annex I, Part I", "### 2.3"));
    cra.extend(table_ids(&text, "### 2.3 Annex I, Part II", "### 2.4"));
    cra.extend(
        table_ids(&text, "### 2.5 Annex VII", "### 2.6")
            .into_iter()
            .map(|id| format!("VII {id}")),
    );
    cra.retain(|id| id != "ID" && id != "VII #");
    let ours = source_ids(&c, "cra");
    let annexes: BTreeSet<String> = ours
        .iter()
        .filter(|id| !id.starts_with("Art."))
        .cloned()
        .collect();
    assert_eq!(annexes, cra);
    for art in ["Art. 14(1)", "Art. 14(3)", "Art. 14(8)"] {
        assert!(ours.contains(art), "cra lacks {art}");
    }

    // SLSA: "Track: Requirement" from the Requirement column of 3.2 and 3.3.
    let mut slsa: BTreeSet<String> = table_ids(
        &text,
        "| Requirement | Who | L1 | L2 | L3 | Summary",
        "### 3.3",
    )
    .into_iter()
    .filter(|id| id != "Requirement")
    .map(|id| format!("Build: {id}"))
    .collect();
    slsa.extend(
        table_ids(&text, "| Requirement | Who | L1 | L2 | L3 | L4", "### 3.4")
            .into_iter()
            .filter(|id| id != "Requirement")
            .map(|id| format!("Source: {id}")),
    );
    assert_eq!(slsa.len(), 22);
    assert_eq!(source_ids(&c, "slsa"), slsa);
}

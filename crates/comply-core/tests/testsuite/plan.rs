//! Planning an apply against what the store holds.

use comply_core::apply::{Action, Existing, Known, plan};
use comply_core::resource::{Kind, parse_file};

fn docs(text: &str) -> Vec<comply_core::resource::ParsedDocument> {
    let (docs, diags) = parse_file("m.yaml", text, "acme");
    assert!(diags.is_empty(), "{diags:?}");
    docs
}

const FRAMEWORK_FIRST: &str = "apiVersion: chainloop.dev/v1\nkind: Framework\nmetadata:\n  name: fw\nspec:\n  requirements: [{ref: req-a}, {ref: builtin-b}]\n---\napiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: req-a\nspec:\n  manual_proofs: [{name: p}]\n";

fn known_with_builtin() -> Known {
    let mut known = Known::default();
    known
        .builtin
        .insert((Kind::Requirement, "builtin-b".into()));
    known
}

#[test]
fn framework_may_precede_its_requirements() {
    let changes = plan(docs(FRAMEWORK_FIRST), &known_with_builtin()).unwrap();
    let actions: Vec<_> = changes
        .iter()
        .map(|c| (c.resource.name(), c.action, c.revision))
        .collect();
    assert_eq!(
        actions,
        [("fw", Action::Created, 1), ("req-a", Action::Created, 1)]
    );
}

#[test]
fn unchanged_and_updated_revisions() {
    let first = plan(docs(FRAMEWORK_FIRST), &known_with_builtin()).unwrap();
    let mut known = known_with_builtin();
    for c in &first {
        known.custom.insert(
            (c.resource.kind(), c.resource.name().to_owned()),
            Existing {
                revision: 3,
                digest: c.digest.clone(),
            },
        );
    }
    let again = plan(docs(FRAMEWORK_FIRST), &known).unwrap();
    assert!(
        again
            .iter()
            .all(|c| c.action == Action::Unchanged && c.revision == 3)
    );

    let edited = FRAMEWORK_FIRST.replace("name: p}", "name: p, optional: true}");
    let changed = plan(docs(&edited), &known).unwrap();
    assert_eq!(changed[0].action, Action::Unchanged);
    assert_eq!(
        (changed[1].action, changed[1].revision),
        (Action::Updated, 4)
    );
}

#[test]
fn missing_reference_is_reported_with_a_suggestion() {
    let text = FRAMEWORK_FIRST.replace("{ref: builtin-b}", "{ref: builtin-c}");
    let errs = plan(docs(&text), &known_with_builtin()).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].line, errs[0].column), (6, 38));
    insta::assert_snapshot!(errs[0].to_string(), @"m.yaml:6:38: requirement 'builtin-c' does not exist (neither in this invocation, nor in the organization, nor built in); did you mean 'builtin-b'?");
}

#[test]
fn same_resource_twice_in_one_invocation() {
    let text = format!(
        "{FRAMEWORK_FIRST}---\n{}",
        FRAMEWORK_FIRST.split("---\n").nth(1).unwrap()
    );
    let errs = plan(docs(&text), &known_with_builtin()).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("defined twice"), "{errs:?}");
}

#[test]
fn shadowing_a_builtin_is_flagged() {
    let text = "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: builtin-b\nspec:\n  manual_proofs: [{name: p}]\n";
    let changes = plan(docs(text), &known_with_builtin()).unwrap();
    assert!(changes[0].shadows_builtin);
    assert_eq!(changes[0].action, Action::Created);
}

const POLICY: &str = "apiVersion: chainloop.dev/v1\nkind: Policy\nmetadata:\n  name: vulns\nspec:\n  inputs:\n    - {name: severity, type: severity, default: HIGH}\n    - {name: max_age, type: int, kind: max}\n  policies:\n    - {kind: SARIF, embedded: 'package main'}\n";

fn requirement(with: &str) -> String {
    format!(
        "apiVersion: chainloop.dev/v1\nkind: Requirement\nmetadata:\n  name: r\nspec:\n  policies:\n    - ref: vulns\n      with: {with}\n"
    )
}

#[test]
fn policy_references_and_arguments_are_checked() {
    let ok = plan(
        docs(&format!(
            "{}---\n{POLICY}",
            requirement("{severity: MEDIUM, max_age: 30}")
        )),
        &Known::default(),
    );
    assert!(ok.is_ok(), "{ok:?}");

    let text = format!(
        "{}---\n{POLICY}",
        requirement("{severty: HIGH, max_age: soon}")
    );
    let errs = plan(docs(&text), &Known::default()).unwrap_err();
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(rendered.join("\n"), @r"
    m.yaml:8:14: policy 'vulns' has no input 'severty'; did you mean 'severity'?
    m.yaml:8:29: input 'max_age' of policy 'vulns' must be a number, not 'soon'
    ");

    let missing = plan(
        docs(&requirement("{severity: LOW}").replace("ref: vulns", "ref: vulnz")),
        &Known::default(),
    )
    .unwrap_err();
    assert!(
        missing[0]
            .message
            .starts_with("policy 'vulnz' does not exist"),
        "{missing:?}"
    );

    // Inputs known from the store (a built-in policy) are checked the same way.
    let mut known = Known::default();
    known.builtin.insert((Kind::Policy, "vulns".into()));
    let (policy_docs, _) = parse_file("p.yaml", POLICY, "acme");
    let comply_core::resource::Resource::Policy(p) = &policy_docs[0].resource else {
        panic!()
    };
    known
        .policy_inputs
        .insert("vulns".into(), p.spec.inputs.clone());
    let errs = plan(docs(&requirement("{severity: HUGE}")), &known).unwrap_err();
    assert!(errs[0].message.contains("must be a severity"), "{errs:?}");
}

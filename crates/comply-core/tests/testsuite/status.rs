//! Requirement status at a time t (semantics §2–§4): the precedence and combination
//! tables, the product brief's examples, and the interactions between them.

use comply_core::periodicity::Periodicity;
use comply_core::resource::{InputType, ManualProof, PolicyAttachment, PolicyInput, Scope};
use comply_core::status::{
    ApplicabilityFact, AutoMatchHook, CellStatus, ComponentKind, ComponentStatus, Context,
    DecisionFact, DecisionKind, DecisionRefKind, EvaluationFact, Evidence, Forced, MatchSource,
    ProductVersionFacts, ProjectFacts, ProofFact, RequirementFacts, Score, Status, Subject,
    Violation, cell_status, combine, explain, product_status, product_status_part, project_status,
};
use std::collections::BTreeMap;

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
/// An arbitrary origin, 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------
// Builders

fn catalog() -> BTreeMap<String, Vec<PolicyInput>> {
    let input = |name: &str, ty: Option<InputType>, default: Option<&str>| PolicyInput {
        name: name.into(),
        description: None,
        required: false,
        default: default.map(Into::into),
        input_type: ty,
        kind: None,
    };
    BTreeMap::from([
        (
            "vulnerabilities".to_owned(),
            vec![input("severity", Some(InputType::Severity), Some("HIGH"))],
        ),
        ("container-signed".to_owned(), vec![]),
        ("sbom-present".to_owned(), vec![]),
        (
            "sast-findings".to_owned(),
            vec![input("level", Some(InputType::String), None)],
        ),
    ])
}

trait EvalExt: Sized {
    fn with(self, key: &str, value: &str) -> Self;
    fn violation(self, message: &str, severity: Option<&str>) -> Self;
    fn suppressed(self, message: &str, severity: &str) -> Self;
    fn skipped(self, reason: &str) -> Self;
    fn explicit(self, reference: &str) -> Self;
    fn attestation(self, digest: &str) -> Self;
    fn receipt(self, n: u64) -> Self;
    fn received(self, at: i64) -> Self;
    fn digest(self, d: &str) -> Self;
}

impl EvalExt for EvaluationFact {
    fn with(mut self, key: &str, value: &str) -> Self {
        self.arguments.insert(key.into(), value.into());
        self
    }
    fn violation(mut self, message: &str, severity: Option<&str>) -> Self {
        self.violations.push(Violation {
            message: message.into(),
            severity: severity.map(Into::into),
            suppressed: false,
        });
        self
    }
    fn suppressed(mut self, message: &str, severity: &str) -> Self {
        self.violations.push(Violation {
            message: message.into(),
            severity: Some(severity.into()),
            suppressed: true,
        });
        self
    }
    fn skipped(mut self, reason: &str) -> Self {
        self.skipped = true;
        self.skip_reasons.push(reason.into());
        self
    }
    fn explicit(mut self, reference: &str) -> Self {
        self.requirements.push(reference.into());
        self
    }
    fn attestation(mut self, digest: &str) -> Self {
        self.attestation = digest.into();
        self
    }
    fn receipt(mut self, n: u64) -> Self {
        self.receipt = n;
        self
    }
    fn received(mut self, at: i64) -> Self {
        self.received_at = at;
        self
    }
    fn digest(mut self, d: &str) -> Self {
        self.policy_digest = Some(d.into());
        self
    }
}

/// A passing evaluation of `policy` finished (and received) at `time`, alone in its
/// attestation.
fn eval(id: &str, policy: &str, time: i64) -> EvaluationFact {
    EvaluationFact {
        id: id.into(),
        attestation: format!("sha256:att-{id}"),
        policy: policy.into(),
        policy_digest: None,
        arguments: BTreeMap::new(),
        violations: Vec::new(),
        skipped: false,
        skip_reasons: Vec::new(),
        requirements: Vec::new(),
        time,
        received_at: time,
        receipt: u64::try_from(time).unwrap(),
        networked: None,
    }
}

fn scan(id: &str, time: i64, threshold: &str) -> EvaluationFact {
    eval(id, "vulnerabilities", time).with("severity", threshold)
}

fn attach(reference: &str, with: &[(&str, &str)]) -> PolicyAttachment {
    PolicyAttachment {
        reference: reference.into(),
        periodicity: None,
        sla: None,
        with: with
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn timed(
    mut p: PolicyAttachment,
    periodicity: Option<Periodicity>,
    sla: Option<u32>,
) -> PolicyAttachment {
    p.periodicity = periodicity;
    p.sla = sla;
    p
}

fn manual(name: &str, optional: bool, periodicity: Option<Periodicity>) -> ManualProof {
    ManualProof {
        name: name.into(),
        description: None,
        optional,
        periodicity,
    }
}

fn requirement(
    name: &str,
    policies: Vec<PolicyAttachment>,
    proofs: Vec<ManualProof>,
) -> RequirementFacts {
    RequirementFacts {
        name: name.into(),
        active: true,
        scope: Scope::Project,
        policies,
        manual_proofs: proofs,
        frameworks: vec!["my-best-practices".into()],
    }
}

fn product_scoped(
    name: &str,
    policies: Vec<PolicyAttachment>,
    proofs: Vec<ManualProof>,
) -> RequirementFacts {
    RequirementFacts {
        scope: Scope::Product,
        ..requirement(name, policies, proofs)
    }
}

/// The brief's `container-security`.
fn container_security() -> RequirementFacts {
    requirement(
        "container-security",
        vec![
            attach("container-signed", &[]),
            attach("vulnerabilities", &[("severity", "HIGH")]),
        ],
        vec![],
    )
}

/// The brief's freshness example: a daily scan at HIGH with a 6 h SLA.
fn daily_scan() -> RequirementFacts {
    requirement(
        "no-vulnerabilities-high",
        vec![timed(
            attach("vulnerabilities", &[("severity", "HIGH")]),
            Some(Periodicity::Daily),
            Some(6),
        )],
        vec![],
    )
}

fn proof(
    id: &str,
    requirement: &str,
    name: &str,
    project: Option<&str>,
    collected: i64,
    created: i64,
) -> ProofFact {
    ProofFact {
        id: id.into(),
        requirement: requirement.into(),
        proof: name.into(),
        project: project.map(Into::into),
        collected_at: collected,
        created_at: created,
    }
}

fn decision(
    id: &str,
    requirement: &str,
    project: Option<&str>,
    kind: DecisionKind,
    created: i64,
) -> DecisionFact {
    DecisionFact {
        id: id.into(),
        requirement: requirement.into(),
        project: project.map(Into::into),
        kind,
        reason: format!("reason {id}"),
        author: "alice".into(),
        created_at: created,
        expires_at: None,
        ended_at: None,
        approval: Default::default(),
    }
}

fn not_applicable(
    id: &str,
    requirement: &str,
    project: Option<&str>,
    created: i64,
) -> ApplicabilityFact {
    ApplicabilityFact {
        id: id.into(),
        requirement: requirement.into(),
        project: project.map(Into::into),
        rationale: Some("ships no container".into()),
        created_at: created,
        ended_at: None,
    }
}

const OVERRIDE_PASSED: DecisionKind = DecisionKind::Override(Forced::Passed);
const OVERRIDE_FAILED: DecisionKind = DecisionKind::Override(Forced::Failed);

/// One cell's inputs besides the requirement.
#[derive(Default, Clone)]
struct Cell {
    evaluations: Vec<EvaluationFact>,
    proofs: Vec<ProofFact>,
    applicability: Vec<ApplicabilityFact>,
    decisions: Vec<DecisionFact>,
    auto_matching: Option<bool>,
    /// The requirement is inactive at t.
    inactive: bool,
}

/// A hook for policies with an `autoMatch` module: `strict-sev` decides parameters by
/// equality; `vetoing` refuses any evaluation that reported violations.
struct Hook;

impl AutoMatchHook for Hook {
    fn matches_parameters(
        &self,
        policy: &str,
        arguments: &BTreeMap<String, String>,
        expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        (policy == "vulnerabilities").then(|| arguments.get("severity") == expected.get("severity"))
    }

    fn matches_evaluation(
        &self,
        policy: &str,
        violations: &[&str],
        _expected: &BTreeMap<String, String>,
    ) -> Option<bool> {
        (policy == "container-signed").then_some(violations.is_empty())
    }
}

fn status_with(
    requirement: &RequirementFacts,
    cell: &Cell,
    at: i64,
    hook: Option<&dyn AutoMatchHook>,
) -> CellStatus {
    let policies = catalog();
    let mut ctx = Context::new("acme", at, &policies);
    ctx.auto_matching = cell.auto_matching.unwrap_or(true);
    let requirement = &RequirementFacts {
        active: requirement.active && !cell.inactive,
        ..requirement.clone()
    };
    if let Some(hook) = hook {
        ctx.hook = hook;
    }
    let evidence = Evidence::new(cell.evaluations.clone());
    let subject = match requirement.scope {
        Scope::Project => Subject::Project {
            name: "api",
            version: Some("1.0.0"),
            evidence: &evidence,
        },
        Scope::Product => Subject::Product,
    };
    cell_status(
        &ctx,
        requirement,
        subject,
        &cell.proofs,
        &cell.applicability,
        &cell.decisions,
    )
    .expect("the subject fits the scope")
}

fn status(requirement: &RequirementFacts, cell: &Cell, at: i64) -> CellStatus {
    status_with(requirement, cell, at, None)
}

fn component_statuses(cell: &CellStatus) -> Vec<(&str, ComponentStatus)> {
    cell.components
        .iter()
        .map(|c| (c.name.as_str(), c.status))
        .collect()
}

// ---------------------------------------------------------------------------------
// §3 precedence, one row at a time

/// What a precedence row expects: the status, whether an override set it, and which
/// kind of decision (if any) settled the cell. Counted and passing follow from these.
type Expect = (Status, bool, Option<DecisionRefKind>);

#[test]
fn precedence_table() {
    use DecisionRefKind::{Applicability, Exception, Override};
    let req = container_security();
    let failing = vec![
        eval("signed", "container-signed", T0).violation("unsigned image", None),
        scan("scan", T0, "HIGH"),
    ];
    let cs = "container-security";
    let na_product = not_applicable("na", cs, None, T0);
    let na_project = not_applicable("na-api", cs, Some("api"), T0);
    let na_other = not_applicable("na-web", cs, Some("web"), T0);
    let over_pass = decision("o1", cs, Some("api"), OVERRIDE_PASSED, T0);
    let over_fail = decision("o2", cs, Some("api"), OVERRIDE_FAILED, T0);
    let exception = decision("x1", cs, Some("api"), DecisionKind::Exception, T0);
    let cell = |applicability: &[&ApplicabilityFact], decisions: &[&DecisionFact]| Cell {
        evaluations: failing.clone(),
        applicability: applicability.iter().map(|a| (*a).clone()).collect(),
        decisions: decisions.iter().map(|d| (*d).clone()).collect(),
        ..Cell::default()
    };
    let everything = cell(&[&na_product], &[&over_pass, &exception]);
    let rows: Vec<(&str, Cell, Expect)> = vec![
        // 1: inactive wins over everything below it.
        (
            "1 inactive",
            Cell {
                inactive: true,
                ..everything.clone()
            },
            (Status::Inactive, false, None),
        ),
        // 2: not applicable, product-wide or for this project, wins over 3–5.
        (
            "2 product-wide",
            everything.clone(),
            (Status::NotApplicable, false, Some(Applicability)),
        ),
        (
            "2 this project",
            cell(&[&na_project], &[&over_pass]),
            (Status::NotApplicable, false, Some(Applicability)),
        ),
        (
            "2 another project's entry",
            cell(&[&na_other], &[]),
            (Status::Failed, false, None),
        ),
        // 3: an override counts as its forced status, and wins over an exception.
        (
            "3 forced passed",
            cell(&[], &[&over_pass]),
            (Status::Passed, true, Some(Override)),
        ),
        (
            "3 forced failed",
            cell(&[], &[&over_fail]),
            (Status::Failed, true, Some(Override)),
        ),
        (
            "3 before an exception",
            cell(&[], &[&exception, &over_pass]),
            (Status::Passed, true, Some(Override)),
        ),
        // 4: an exception excludes the cell.
        (
            "4 exception",
            cell(&[], &[&exception]),
            (Status::Excepted, false, Some(Exception)),
        ),
        // 5: otherwise computed from the components.
        ("5 computed", cell(&[], &[]), (Status::Failed, false, None)),
    ];
    for (name, cell, (expected, overridden, decision)) in rows {
        let s = status(&req, &cell, T0 + H);
        assert_eq!((s.status, s.overridden), (expected, overridden), "{name}");
        assert_eq!(s.decision.as_ref().map(|d| d.kind), decision, "{name}");
        let counted = !matches!(
            expected,
            Status::Inactive | Status::NotApplicable | Status::Excepted
        );
        assert_eq!(s.counted, counted, "{name}: in score");
        assert_eq!(s.passing, expected == Status::Passed, "{name}: passing");
    }
}

#[test]
fn decisions_count_only_while_in_effect() {
    let req = container_security();
    let mut over = decision(
        "o",
        "container-security",
        Some("api"),
        OVERRIDE_PASSED,
        T0 + H,
    );
    over.expires_at = Some(T0 + 3 * H);
    let cell = Cell {
        decisions: vec![over],
        ..Cell::default()
    };
    // created ≤ t < expiry
    for (at, expected) in [
        (T0, Status::NoData),
        (T0 + H, Status::Passed),
        (T0 + 3 * H - 1, Status::Passed),
        (T0 + 3 * H, Status::NoData),
    ] {
        assert_eq!(
            status(&req, &cell, at).status,
            expected,
            "at T0+{}ms",
            at - T0
        );
    }
    let s = status(&req, &cell, T0 + 2 * H);
    assert_eq!(s.deadline, Some(T0 + 3 * H), "the override's expiry");
    assert_eq!(s.computed, Some(Status::NoData));

    let na = ApplicabilityFact {
        ended_at: Some(T0 + 2 * H),
        ..not_applicable("na", "container-security", None, T0 + H)
    };
    let cell = Cell {
        applicability: vec![na],
        ..Cell::default()
    };
    let at = |t| status(&req, &cell, t).status;
    assert_eq!(
        [at(T0), at(T0 + H), at(T0 + 2 * H)],
        [Status::NoData, Status::NotApplicable, Status::NoData],
        "applicability entries travel in time too"
    );
}

/// Issue 18, four eyes: a decision that needs approval is shown, not applied, until a
/// second person approves it; from then on it is in effect, and the past stays as it was.
#[test]
fn decisions_awaiting_approval_are_shown_not_applied() {
    let req = container_security();
    let mut over = decision(
        "o",
        "container-security",
        Some("api"),
        OVERRIDE_PASSED,
        T0 + H,
    );
    over.approval = comply_core::status::Approval::Required {
        approved_at: None,
        approved_by: None,
    };
    let pending = Cell {
        decisions: vec![over.clone()],
        ..Cell::default()
    };
    let s = status(&req, &pending, T0 + 2 * H);
    assert_eq!(s.status, Status::NoData, "not in effect while pending");
    assert!(s.decision.is_none());
    assert_eq!(
        s.pending_decision.as_ref().map(|d| d.id.as_str()),
        Some("o")
    );
    let text = comply_core::status::explain(&s, &|t| t.to_string()).join("\n");
    assert!(
        text.contains("awaits approval by a second admin or owner"),
        "{text}"
    );

    over.approval = comply_core::status::Approval::Required {
        approved_at: Some(T0 + 3 * H),
        approved_by: Some("bob".into()),
    };
    let approved = Cell {
        decisions: vec![over],
        ..Cell::default()
    };
    let at = |t| status(&req, &approved, t);
    assert_eq!(at(T0 + 2 * H).status, Status::NoData, "before its approval");
    assert!(at(T0 + 2 * H).pending_decision.is_some());
    assert_eq!(
        at(T0 + 3 * H).status,
        Status::Passed,
        "from its approval on"
    );
    assert!(at(T0 + 3 * H).pending_decision.is_none());
}

// ---------------------------------------------------------------------------------
// §3 combination

#[test]
fn combination_table() {
    use ComponentStatus::*;
    let rows: &[(&[ComponentStatus], Status)] = &[
        // 1. any FAILED
        (&[Failed, Expired, NoData, Grace, Passed], Status::Failed),
        (&[Provided, Failed], Status::Failed),
        // 2. else any EXPIRED
        (&[Expired, NoData, Grace, Passed], Status::Expired),
        (&[Provided, Expired], Status::Expired),
        // 3. else all NO_DATA/MISSING
        (&[NoData, Missing], Status::NoData),
        (&[NoData], Status::NoData),
        (&[], Status::NoData),
        // 4. else any NO_DATA/MISSING
        (&[NoData, Passed], Status::Partial),
        (&[Missing, Grace], Status::Partial),
        // 5. else any GRACE
        (&[Grace, Passed, Provided], Status::Grace),
        // 6. else PASSED
        (&[Passed, Provided], Status::Passed),
        (&[Provided], Status::Passed),
    ];
    for (components, expected) in rows {
        assert_eq!(
            combine(components.iter().copied()),
            *expected,
            "{components:?}"
        );
    }
}

#[test]
fn combination_through_a_cell_marks_the_decisive_components() {
    let req = requirement(
        "mixed",
        vec![attach("container-signed", &[]), attach("sbom-present", &[])],
        vec![
            manual("review", false, None),
            manual("nice-to-have", true, None),
        ],
    );
    let cell = Cell {
        evaluations: vec![eval("s", "container-signed", T0)],
        proofs: vec![proof("p", "mixed", "review", Some("api"), T0, T0)],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(s.status, Status::Partial);
    assert_eq!(
        component_statuses(&s),
        [
            ("container-signed", ComponentStatus::Passed),
            ("sbom-present", ComponentStatus::NoData),
            ("review", ComponentStatus::Provided),
        ],
        "the optional proof is ignored entirely"
    );
    let decisive: Vec<bool> = s.components.iter().map(|c| c.decisive).collect();
    assert_eq!(decisive, [false, true, false]);
}

// ---------------------------------------------------------------------------------
// The product brief's examples

fn product(
    projects: Vec<(&str, Vec<EvaluationFact>)>,
    requirements: Vec<RequirementFacts>,
) -> ProductVersionFacts {
    ProductVersionFacts {
        requirements,
        projects: projects
            .into_iter()
            .map(|(name, evaluations)| ProjectFacts {
                name: name.into(),
                version: Some("1.0.0".into()),
                evidence: Evidence::new(evaluations),
            })
            .collect(),
        ..ProductVersionFacts::default()
    }
}

fn run(facts: &ProductVersionFacts, at: i64) -> Vec<CellStatus> {
    let policies = catalog();
    product_status(&Context::new("acme", at, &policies), facts)
}

#[test]
fn container_security_across_three_projects() {
    let facts = product(
        vec![
            (
                "project-a",
                vec![eval("a1", "container-signed", T0), scan("a2", T0, "HIGH")],
            ),
            ("project-b", vec![eval("b1", "container-signed", T0)]),
            ("project-c", vec![eval("c1", "sbom-present", T0)]),
        ],
        vec![container_security()],
    );
    let cells = run(&facts, T0 + H);
    let got: Vec<_> = cells
        .iter()
        .map(|c| (c.project.as_deref().unwrap(), c.status))
        .collect();
    assert_eq!(
        got,
        [
            ("project-a", Status::Passed),
            ("project-b", Status::Partial),
            ("project-c", Status::NoData),
        ]
    );
    let score = Score::of(&cells);
    assert_eq!((score.passing, score.counted), (1, 3));
    assert_eq!(score.score, Some(1.0 / 3.0));
    assert!(!score.compliant);
}

#[test]
fn a_medium_scan_satisfies_a_high_requirement() {
    let req = container_security();
    let signed = eval("s", "container-signed", T0);
    let rows = [
        ("MEDIUM", Status::Passed),
        ("low", Status::Passed),
        ("HIGH", Status::Passed),
        ("CRITICAL", Status::Partial),
    ];
    for (threshold, expected) in rows {
        let cell = Cell {
            evaluations: vec![signed.clone(), scan("v", T0, threshold)],
            ..Cell::default()
        };
        let s = status(&req, &cell, T0 + H);
        assert_eq!(s.status, expected, "scan at {threshold}");
    }
    // No `severity` argument: the input's default (HIGH) is compared.
    let cell = Cell {
        evaluations: vec![signed.clone(), eval("v", "vulnerabilities", T0)],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(s.status, Status::Passed);
    let args = &s.components[1].arguments[0];
    assert_eq!(
        (args.evaluated.as_deref(), args.compatible),
        (Some("HIGH"), true)
    );
    assert_eq!(
        s.components[1].evaluation.as_ref().unwrap().matched_by,
        MatchSource::Auto
    );
}

#[test]
fn freshness_and_sla_timeline() {
    let req = daily_scan();
    let failing = scan("fail", T0, "HIGH").violation("CVE-1 in openssl", Some("HIGH"));
    let mut cell = Cell {
        evaluations: vec![failing],
        ..Cell::default()
    };
    let at = |cell: &Cell, t: i64| status(&req, cell, t);

    let s = at(&cell, T0);
    assert_eq!(s.status, Status::Grace);
    assert!(
        s.passing && s.counted,
        "a failure in grace does not count against"
    );
    assert_eq!(s.deadline, Some(T0 + 6 * H), "grace end");
    assert_eq!(s.components[0].failing_since, Some(T0));
    assert_eq!(at(&cell, T0 + 6 * H - 1).status, Status::Grace);
    let s = at(&cell, T0 + 6 * H);
    assert_eq!(s.status, Status::Failed);
    assert_eq!(s.deadline, Some(T0 + DAY), "it still expires");
    assert!(!s.passing);

    // A passing scan restores PASSED, fresh for 24 h.
    let fixed = T0 + 8 * H;
    cell.evaluations.push(scan("ok", fixed, "HIGH"));
    let s = at(&cell, fixed);
    assert_eq!(s.status, Status::Passed);
    assert_eq!(s.deadline, Some(fixed + DAY));
    assert_eq!(s.components[0].failing_since, None);
    assert_eq!(
        at(&cell, fixed + DAY).status,
        Status::Passed,
        "t − e.time = period"
    );
    let s = at(&cell, fixed + DAY + 1);
    assert_eq!(s.status, Status::Expired, "24 h without a scan");
    assert!(s.counted && !s.passing);
    assert_eq!(s.deadline, None);

    // The past is unchanged by later evidence.
    assert_eq!(at(&cell, T0 + 7 * H).status, Status::Failed);

    // A new failure starts a new run: grace again from its own onset.
    cell.evaluations
        .push(scan("again", fixed + 2 * H, "HIGH").violation("CVE-2", Some("CRITICAL")));
    let s = at(&cell, fixed + 3 * H);
    assert_eq!(s.status, Status::Grace);
    assert_eq!(s.components[0].grace_ends_at, Some(fixed + 8 * H));
}

#[test]
fn failure_onset_is_the_start_of_the_unbroken_failing_run() {
    let req = daily_scan();
    let bad = |id: &str, t: i64| scan(id, t, "HIGH").violation("CVE", Some("HIGH"));
    let cell = Cell {
        evaluations: vec![
            bad("f0", T0 - 2 * H),
            scan("p", T0 - H, "HIGH"),
            bad("f1", T0),
            // Not a candidate (does not match the requirement's arguments): no break.
            scan("other", T0 + H, "CRITICAL"),
            // Skipped: not a candidate either.
            scan("skip", T0 + 2 * H, "HIGH").skipped("no SARIF material"),
            bad("f2", T0 + 3 * H),
        ],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + 4 * H);
    let c = &s.components[0];
    assert_eq!(c.evaluation.as_ref().unwrap().id, "f2");
    assert_eq!(c.failing_since, Some(T0));
    assert_eq!(c.grace_ends_at, Some(T0 + 6 * H));
    assert_eq!(s.status, Status::Grace);
    assert_eq!(status(&req, &cell, T0 + 6 * H).status, Status::Failed);
}

#[test]
fn exceptions_are_excluded_from_the_score_and_overrides_counted() {
    let reqs = vec![
        requirement("r-pass", vec![attach("sbom-present", &[])], vec![]),
        requirement("r-fail", vec![attach("container-signed", &[])], vec![]),
        requirement("r-excepted", vec![attach("container-signed", &[])], vec![]),
        requirement(
            "r-overridden",
            vec![attach("container-signed", &[])],
            vec![],
        ),
        RequirementFacts {
            active: false,
            ..requirement("r-inactive", vec![attach("container-signed", &[])], vec![])
        },
        requirement("r-na", vec![attach("container-signed", &[])], vec![]),
    ];
    let mut facts = product(
        vec![(
            "api",
            vec![
                eval("sbom", "sbom-present", T0),
                eval("sig", "container-signed", T0).violation("unsigned", None),
            ],
        )],
        reqs,
    );
    facts.decisions = vec![
        decision("x", "r-excepted", Some("api"), DecisionKind::Exception, T0),
        decision("o", "r-overridden", Some("api"), OVERRIDE_PASSED, T0),
    ];
    facts.applicability = vec![not_applicable("na", "r-na", None, T0)];
    let cells = run(&facts, T0 + H);
    let got: Vec<_> = cells
        .iter()
        .map(|c| (c.requirement.as_str(), c.status, c.counted, c.passing))
        .collect();
    assert_eq!(
        got,
        [
            ("r-excepted", Status::Excepted, false, false),
            ("r-fail", Status::Failed, true, false),
            ("r-inactive", Status::Inactive, false, false),
            ("r-na", Status::NotApplicable, false, false),
            ("r-overridden", Status::Passed, true, true),
            ("r-pass", Status::Passed, true, true),
        ]
    );
    let score = Score::of(&cells);
    assert_eq!(
        (score.passing, score.counted, score.score),
        (2, 3, Some(2.0 / 3.0))
    );
    assert!(!score.compliant);

    let excluded: Vec<_> = cells.iter().filter(|c| !c.counted).collect();
    let none = Score::of(excluded);
    assert_eq!(
        (none.score, none.compliant),
        (None, true),
        "n/a, never 100%"
    );
}

#[test]
fn product_and_project_scope_are_kept_apart() {
    let review = product_scoped(
        "architecture-review",
        vec![attach("container-signed", &[])],
        vec![manual("review", false, Some(Periodicity::Yearly))],
    );
    let sbom = requirement("sbom", vec![], vec![manual("sbom-doc", false, None)]);
    let mut facts = product(
        vec![
            // Project evidence that would satisfy the policy: it must not count.
            (
                "api",
                vec![
                    eval("s", "container-signed", T0)
                        .explicit("my-best-practices/architecture-review"),
                ],
            ),
            ("web", vec![]),
        ],
        vec![review.clone(), sbom.clone()],
    );
    facts.proofs = vec![
        // Project-level proof of a product-scoped requirement: ignored.
        proof(
            "p-api",
            "architecture-review",
            "review",
            Some("api"),
            T0,
            T0,
        ),
        // Product-level proof of a project-scoped requirement: ignored.
        proof("p-prod", "sbom", "sbom-doc", None, T0, T0),
    ];
    let cells = run(&facts, T0 + H);
    let got: Vec<_> = cells
        .iter()
        .map(|c| (c.requirement.as_str(), c.project.as_deref(), c.status))
        .collect();
    assert_eq!(
        got,
        [
            ("architecture-review", None, Status::NoData),
            ("sbom", Some("api"), Status::NoData),
            ("sbom", Some("web"), Status::NoData),
        ]
    );
    assert_eq!(
        component_statuses(&cells[0]),
        [("review", ComponentStatus::Missing)],
        "product-scoped: policies are not evaluated"
    );

    facts
        .proofs
        .push(proof("p-ok", "architecture-review", "review", None, T0, T0));
    facts
        .proofs
        .push(proof("p-api-sbom", "sbom", "sbom-doc", Some("api"), T0, T0));
    let cells = run(&facts, T0 + H);
    let got: Vec<_> = cells.iter().map(|c| c.status).collect();
    assert_eq!(got, [Status::Passed, Status::Passed, Status::NoData]);
    assert_eq!(cells[0].components[0].evidence.as_deref(), Some("p-ok"));
    assert_eq!(cells[0].deadline, Some(T0 + 365 * DAY));

    // The subject must fit the scope.
    let policies = catalog();
    let ctx = Context::new("acme", T0, &policies);
    let evidence = Evidence::default();
    let project = Subject::Project {
        name: "api",
        version: None,
        evidence: &evidence,
    };
    assert!(cell_status(&ctx, &review, project, &[], &[], &[]).is_none());
    assert!(cell_status(&ctx, &sbom, Subject::Product, &[], &[], &[]).is_none());
}

// ---------------------------------------------------------------------------------
// Interactions

#[test]
fn override_during_grace() {
    let req = daily_scan();
    let mut over = decision(
        "o",
        "no-vulnerabilities-high",
        Some("api"),
        OVERRIDE_FAILED,
        T0 + H,
    );
    over.expires_at = Some(T0 + 4 * H);
    let cell = Cell {
        evaluations: vec![scan("f", T0, "HIGH").violation("CVE", Some("HIGH"))],
        decisions: vec![over],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + 2 * H);
    assert_eq!(
        (s.status, s.overridden, s.passing),
        (Status::Failed, true, false)
    );
    assert_eq!(s.computed, Some(Status::Grace));
    assert_eq!(
        s.deadline,
        Some(T0 + 4 * H),
        "the override's expiry, not the grace end"
    );
    // Expired override: the grace period is still running.
    let s = status(&req, &cell, T0 + 5 * H);
    assert_eq!((s.status, s.overridden), (Status::Grace, false));
    assert_eq!(status(&req, &cell, T0 + 6 * H).status, Status::Failed);
}

#[test]
fn an_exception_that_expires() {
    let req = container_security();
    let mut x = decision(
        "x",
        "container-security",
        Some("api"),
        DecisionKind::Exception,
        T0,
    );
    x.expires_at = Some(T0 + DAY);
    let cell = Cell {
        evaluations: vec![
            eval("s", "container-signed", T0).violation("unsigned", None),
            scan("v", T0, "HIGH"),
        ],
        decisions: vec![x],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!((s.status, s.counted), (Status::Excepted, false));
    assert_eq!(s.deadline, Some(T0 + DAY));
    assert_eq!(
        s.decision.as_ref().unwrap().reason.as_deref(),
        Some("reason x")
    );
    let s = status(&req, &cell, T0 + DAY);
    assert_eq!(
        (s.status, s.counted, s.decision),
        (Status::Failed, true, None)
    );
}

#[test]
fn an_exception_ends_the_override_it_replaces() {
    let req = container_security();
    let mut over = decision("o", "container-security", Some("api"), OVERRIDE_PASSED, T0);
    over.ended_at = Some(T0 + 2 * H);
    let x = decision(
        "x",
        "container-security",
        Some("api"),
        DecisionKind::Exception,
        T0 + 2 * H,
    );
    let cell = Cell {
        decisions: vec![x, over],
        ..Cell::default()
    };
    assert_eq!(
        status(&req, &cell, T0 + H).status,
        Status::Passed,
        "before the exception"
    );
    assert_eq!(status(&req, &cell, T0 + 2 * H).status, Status::Excepted);
    assert_eq!(status(&req, &cell, T0 - 1).status, Status::NoData);
}

#[test]
fn a_stricter_scan_is_refiltered_at_the_requirements_threshold() {
    let req = container_security();
    let signed = eval("s", "container-signed", T0);
    let medium_scan = || scan("v", T0, "MEDIUM");
    let rows: Vec<(&str, EvaluationFact, Status, bool)> = vec![
        (
            "failed only on MEDIUM",
            medium_scan()
                .violation("CVE-1", Some("MEDIUM"))
                .violation("CVE-2", Some("low")),
            Status::Passed,
            true,
        ),
        (
            "a HIGH finding",
            medium_scan()
                .violation("CVE-1", Some("MEDIUM"))
                .violation("CVE-3", Some("HIGH")),
            Status::Failed,
            false,
        ),
        (
            "a violation without a structured severity",
            medium_scan()
                .violation("CVE-1", Some("MEDIUM"))
                .violation("scanner crashed", None),
            Status::Failed,
            false,
        ),
        (
            "an UNKNOWN severity cannot be shown to be below HIGH",
            medium_scan().violation("CVE-4", Some("UNKNOWN")),
            Status::Failed,
            false,
        ),
        (
            "a suppressed HIGH finding",
            medium_scan()
                .violation("CVE-1", Some("MEDIUM"))
                .suppressed("CVE-5", "HIGH"),
            Status::Passed,
            true,
        ),
    ];
    for (name, scan, expected, refiltered) in rows {
        let cell = Cell {
            evaluations: vec![signed.clone(), scan],
            ..Cell::default()
        };
        let s = status(&req, &cell, T0 + H);
        assert_eq!(s.status, expected, "{name}");
        let verdict = s.components[1].evaluation.as_ref().unwrap().verdict;
        assert_eq!(verdict.refiltered, refiltered, "{name}");
    }

    // No threshold in the requirement: nothing to re-filter against.
    let loose = requirement("loose", vec![attach("vulnerabilities", &[])], vec![]);
    let cell = Cell {
        evaluations: vec![medium_scan().violation("CVE-1", Some("MEDIUM"))],
        ..Cell::default()
    };
    assert_eq!(status(&loose, &cell, T0 + H).status, Status::Failed);

    // An input that is not of type `severity`: no re-filter either.
    let sast = requirement(
        "sast",
        vec![attach("sast-findings", &[("level", "HIGH")])],
        vec![],
    );
    let cell = Cell {
        evaluations: vec![
            eval("f", "sast-findings", T0)
                .with("level", "HIGH")
                .violation("sql injection", Some("LOW")),
        ],
        ..Cell::default()
    };
    assert_eq!(status(&sast, &cell, T0 + H).status, Status::Failed);
}

#[test]
fn skipped_evaluations_are_never_candidates() {
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let only_skipped = Cell {
        evaluations: vec![
            eval("k1", "container-signed", T0).skipped("no container image"),
            eval("k2", "container-signed", T0 + H).skipped("no container image"),
        ],
        ..Cell::default()
    };
    let s = status(&req, &only_skipped, T0 + 2 * H);
    assert_eq!(s.status, Status::NoData);
    let c = &s.components[0];
    assert_eq!(c.skipped_total, 2);
    assert_eq!(c.skipped[0].id, "k2", "newest first");
    assert_eq!(c.skipped[0].reasons, ["no container image"]);

    let mut cell = only_skipped.clone();
    cell.evaluations
        .push(eval("ok", "container-signed", T0 - H));
    let s = status(&req, &cell, T0 + 2 * H);
    assert_eq!(s.status, Status::Passed, "an older real run decides");
    let c = &s.components[0];
    assert_eq!(c.evaluation.as_ref().unwrap().id, "ok");
    assert_eq!(
        c.skipped_total, 2,
        "the skipped runs newer than it are shown"
    );
}

#[test]
fn explicit_mapping_to_a_requirement_lacking_the_policy() {
    let mut req = requirement(
        "container-security",
        vec![attach("container-signed", &[])],
        vec![],
    );
    req.frameworks = vec!["my-best-practices".into(), "cra".into()];
    let signed = eval("s", "container-signed", T0);
    let rows: Vec<(&str, &str, bool)> = vec![
        (
            "framework/requirement",
            "my-best-practices/container-security",
            true,
        ),
        (
            "through the other framework",
            "cra/container-security",
            true,
        ),
        ("with this org", "acme/cra/container-security", true),
        (
            "a version is not compared",
            "cra/container-security@2024",
            true,
        ),
        ("another org", "other/cra/container-security", false),
        (
            "a framework not listing it",
            "slsa/container-security",
            false,
        ),
        ("another requirement", "cra/something-else", false),
        ("not a reference", "container-security", false),
    ];
    for (name, reference, matches) in rows {
        let cell = Cell {
            evaluations: vec![
                signed.clone(),
                eval("x", "sbom-present", T0)
                    .explicit(reference)
                    .violation("no SBOM", None),
            ],
            ..Cell::default()
        };
        let s = status(&req, &cell, T0 + H);
        if matches {
            assert_eq!(s.components.len(), 2, "{name}");
            let extra = &s.components[1];
            assert!(extra.explicit_only, "{name}");
            assert_eq!(
                (extra.name.as_str(), extra.status),
                ("sbom-present", ComponentStatus::Failed),
                "{name}"
            );
            assert_eq!((extra.periodicity, extra.sla_hours), (None, None));
            assert_eq!(
                extra.evaluation.as_ref().unwrap().matched_by,
                MatchSource::Explicit
            );
            assert_eq!(s.status, Status::Failed, "{name}");
        } else {
            assert_eq!(s.components.len(), 1, "{name}");
            assert_eq!(s.status, Status::Passed, "{name}");
        }
    }

    // An explicit-only policy that only ever skipped adds nothing.
    let cell = Cell {
        evaluations: vec![
            signed.clone(),
            eval("x", "sbom-present", T0)
                .explicit("cra/container-security")
                .skipped("no SBOM material"),
        ],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!((s.status, s.components.len()), (Status::Passed, 1));
}

#[test]
fn explicit_mapping_fills_a_listed_policy_regardless_of_arguments() {
    let req = container_security();
    let critical = scan("v", T0, "CRITICAL").explicit("my-best-practices/container-security");
    let cell = Cell {
        evaluations: vec![eval("s", "container-signed", T0), critical.clone()],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(s.status, Status::Passed);
    let c = &s.components[1];
    assert_eq!(
        c.evaluation.as_ref().unwrap().matched_by,
        MatchSource::Explicit
    );
    assert!(
        !c.arguments[0].compatible,
        "the explanation still shows the mismatch"
    );

    // Auto-matching off: only explicit matches count.
    let off = Cell {
        auto_matching: Some(false),
        ..cell.clone()
    };
    let s = status(&req, &off, T0 + H);
    assert_eq!(
        component_statuses(&s),
        [
            ("container-signed", ComponentStatus::NoData),
            ("vulnerabilities", ComponentStatus::Passed),
        ]
    );
    assert_eq!(s.status, Status::Partial);
}

#[test]
fn a_pinned_digest_must_match() {
    let pin = format!("sha256:{}", "a".repeat(64));
    let req = requirement(
        "pinned",
        vec![attach(
            &format!("chainloop://builtin:container-signed@{pin}"),
            &[],
        )],
        vec![],
    );
    let cell = |d: Option<&str>| {
        let mut e = eval("s", "container-signed", T0);
        if let Some(d) = d {
            e = e.digest(d);
        }
        Cell {
            evaluations: vec![e],
            ..Cell::default()
        }
    };
    let at = |c: &Cell| status(&req, c, T0 + H).status;
    assert_eq!(
        at(&cell(Some(&pin.to_uppercase().replace("SHA256", "sha256")))),
        Status::Passed
    );
    assert_eq!(
        at(&cell(Some(&format!("sha256:{}", "b".repeat(64))))),
        Status::NoData
    );
    assert_eq!(at(&cell(None)), Status::NoData);
}

#[test]
fn a_requirement_in_two_frameworks_is_one_cell() {
    let mut req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    req.frameworks = vec!["slsa".into()];
    let mut again = req.clone();
    again.frameworks = vec!["my-best-practices".into()];
    let facts = product(
        vec![(
            "api",
            vec![
                eval("s", "container-signed", T0)
                    .explicit("slsa/signed")
                    .violation("unsigned", None),
            ],
        )],
        vec![req, again],
    );
    let policies = catalog();
    let mut ctx = Context::new("acme", T0 + H, &policies);
    ctx.auto_matching = false;
    let cells = product_status(&ctx, &facts);
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0].frameworks, ["my-best-practices", "slsa"]);
    assert_eq!(
        cells[0].status,
        Status::Failed,
        "the explicit ref through slsa matches"
    );
    assert_eq!(Score::of(&cells).counted, 1);
    assert_eq!(Score::of_framework(&cells, "slsa").counted, 1);
    assert_eq!(Score::of_framework(&cells, "other").score, None);
}

#[test]
fn evaluations_of_one_attestation_are_judged_together() {
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let cell = Cell {
        evaluations: vec![
            eval("a", "container-signed", T0)
                .attestation("sha256:one")
                .receipt(7),
            eval("b", "container-signed", T0)
                .attestation("sha256:one")
                .receipt(7)
                .violation("image 2 unsigned", None),
            eval("c", "container-signed", T0)
                .attestation("sha256:one")
                .receipt(7),
        ],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(s.status, Status::Failed);
    assert_eq!(s.components[0].evaluation.as_ref().unwrap().id, "b");
}

#[test]
fn ties_in_time_go_to_the_later_receipt() {
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let fail = eval("f", "container-signed", T0).violation("unsigned", None);
    let pass = eval("p", "container-signed", T0);
    for (fail_receipt, pass_receipt, expected) in [(1, 2, Status::Passed), (2, 1, Status::Failed)] {
        let cell = Cell {
            evaluations: vec![
                fail.clone().receipt(fail_receipt),
                pass.clone().receipt(pass_receipt),
            ],
            ..Cell::default()
        };
        assert_eq!(status(&req, &cell, T0).status, expected);
    }
}

#[test]
fn evidence_counts_only_once_it_existed() {
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let cell = Cell {
        evaluations: vec![eval("late", "container-signed", T0).received(T0 + 2 * H)],
        ..Cell::default()
    };
    assert_eq!(
        status(&req, &cell, T0 + H).status,
        Status::NoData,
        "pushed after t"
    );
    assert_eq!(status(&req, &cell, T0 + 2 * H).status, Status::Passed);
    assert_eq!(status(&req, &cell, T0 - 1).status, Status::NoData);

    let req = requirement(
        "reviewed",
        vec![],
        vec![manual("review", false, Some(Periodicity::Weekly))],
    );
    let cell = Cell {
        proofs: vec![
            // Collected before it was submitted.
            proof("p1", "reviewed", "review", Some("api"), T0, T0 + DAY),
            // Dated later than it was submitted (a planned review): counts from then.
            proof(
                "p2",
                "reviewed",
                "review",
                Some("api"),
                T0 + 3 * DAY,
                T0 + 2 * DAY,
            ),
        ],
        ..Cell::default()
    };
    let at = |t: i64| status(&req, &cell, t);
    assert_eq!(at(T0 + H).status, Status::NoData);
    let s = at(T0 + DAY);
    assert_eq!(
        (s.status, s.components[0].evidence.as_deref()),
        (Status::Passed, Some("p1"))
    );
    assert_eq!(s.deadline, Some(T0 + 7 * DAY));
    assert_eq!(
        at(T0 + 3 * DAY).components[0].evidence.as_deref(),
        Some("p2")
    );
    assert_eq!(at(T0 + 10 * DAY + 1).status, Status::Expired);
}

#[test]
fn auto_match_hooks() {
    let req = container_security();
    let cell = Cell {
        evaluations: vec![
            eval("s", "container-signed", T0),
            // Typed comparison would accept MEDIUM for HIGH; the module wants equality.
            scan("v", T0, "MEDIUM"),
        ],
        ..Cell::default()
    };
    assert_eq!(status(&req, &cell, T0 + H).status, Status::Passed);
    let s = status_with(&req, &cell, T0 + H, Some(&Hook));
    assert_eq!(
        s.status,
        Status::Partial,
        "matches_parameters decides step 2"
    );

    // matches_evaluation vetoes a verdict that would pass; here one that passed only
    // because its violations were suppressed.
    let cell = Cell {
        evaluations: vec![
            eval("s", "container-signed", T0).suppressed("unsigned but accepted", "LOW"),
            scan("v", T0, "HIGH"),
        ],
        ..Cell::default()
    };
    assert_eq!(
        status_with(&req, &cell, T0 + H, Some(&Hook)).status,
        Status::Passed
    );
    let cell = Cell {
        evaluations: vec![
            eval("s", "container-signed", T0).violation("unsigned", Some("LOW")),
            scan("v", T0, "HIGH"),
        ],
        ..Cell::default()
    };
    let s = status_with(&req, &cell, T0 + H, Some(&Hook));
    assert_eq!(s.status, Status::Failed);
    assert!(
        !s.components[0].evaluation.as_ref().unwrap().verdict.vetoed,
        "it failed on its own"
    );
}

#[test]
fn a_veto_turns_a_refiltered_pass_into_a_failure() {
    struct Veto;
    impl AutoMatchHook for Veto {
        fn matches_evaluation(
            &self,
            policy: &str,
            violations: &[&str],
            expected: &BTreeMap<String, String>,
        ) -> Option<bool> {
            if policy != "vulnerabilities" {
                return None;
            }
            assert_eq!(expected.get("severity").map(String::as_str), Some("HIGH"));
            Some(violations.is_empty())
        }
    }
    let req = container_security();
    let cell = Cell {
        evaluations: vec![
            eval("s", "container-signed", T0),
            scan("v", T0, "MEDIUM").violation("CVE-1", Some("MEDIUM")),
        ],
        ..Cell::default()
    };
    let s = status_with(&req, &cell, T0 + H, Some(&Veto));
    assert_eq!(s.status, Status::Failed);
    let verdict = s.components[1].evaluation.as_ref().unwrap().verdict;
    assert!(verdict.vetoed && !verdict.passed);
}

#[test]
fn the_deadline_is_the_earliest_pending_change() {
    let req = requirement(
        "both",
        vec![timed(
            attach("container-signed", &[]),
            Some(Periodicity::Weekly),
            None,
        )],
        vec![manual("review", false, Some(Periodicity::Daily))],
    );
    let cell = Cell {
        evaluations: vec![eval("s", "container-signed", T0)],
        proofs: vec![proof("p", "both", "review", Some("api"), T0 + H, T0 + H)],
        ..Cell::default()
    };
    assert_eq!(status(&req, &cell, T0 + 2 * H).deadline, Some(T0 + H + DAY));
    let s = status(&req, &cell, T0 + 2 * DAY);
    assert_eq!(s.status, Status::Expired);
    assert_eq!(
        s.deadline,
        Some(T0 + 7 * DAY),
        "the proof has expired; the policy has not"
    );
}

#[test]
fn a_cell_with_nothing_to_evaluate_has_no_data() {
    let req = requirement("optional-only", vec![], vec![manual("nice", true, None)]);
    let cell = Cell {
        proofs: vec![proof("p", "optional-only", "nice", Some("api"), T0, T0)],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!((s.status, s.components.len()), (Status::NoData, 0));
}

// ---------------------------------------------------------------------------------
// Output shape

#[test]
fn statuses_serialize_as_the_cli_contract_says() {
    let names: Vec<String> = Status::ALL
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "PASSED",
            "GRACE",
            "PARTIAL",
            "NO_DATA",
            "EXPIRED",
            "FAILED",
            "EXCEPTED",
            "NOT_APPLICABLE",
            "INACTIVE"
        ]
    );
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
    }

    let req = daily_scan();
    let cell = Cell {
        evaluations: vec![scan("v", T0, "HIGH").violation("CVE", Some("HIGH"))],
        ..Cell::default()
    };
    let json = serde_json::to_value(status(&req, &cell, T0 + H)).unwrap();
    assert_eq!(json["status"], "GRACE");
    assert_eq!(json["scope"], "PROJECT");
    assert_eq!(json["project"], "api");
    assert_eq!(json["overridden"], false);
    assert_eq!(json["counted"], true);
    assert_eq!(json["passing"], true);
    assert_eq!(json["deadline"], T0 + 6 * H);
    let c = &json["components"][0];
    assert_eq!(c["kind"], "policy");
    assert_eq!(c["status"], "GRACE");
    assert_eq!(c["evidence"], "sha256:att-v");
    assert_eq!(c["grace_ends_at"], T0 + 6 * H);
    assert_eq!(c["evaluation"]["matched_by"], "auto");
    assert_eq!(c["evaluation"]["violations"], 1);
    assert_eq!(c["periodicity"], "daily");

    let score = serde_json::to_value(Score::of(&[])).unwrap();
    assert_eq!(
        score,
        serde_json::json!({"passing": 0, "counted": 0, "score": null, "compliant": true})
    );
    assert_eq!(
        ComponentKind::Proof,
        serde_json::from_value(serde_json::json!("proof")).unwrap()
    );
}

#[test]
fn explanations_name_the_evidence_and_the_deadlines() {
    let req = daily_scan();
    let mut over = decision(
        "o-1",
        "no-vulnerabilities-high",
        Some("api"),
        OVERRIDE_PASSED,
        T0 + H,
    );
    over.expires_at = Some(T0 + 5 * H);
    let cell = Cell {
        evaluations: vec![
            scan("v", T0, "MEDIUM").violation("CVE", Some("HIGH")),
            scan("k", T0 + H, "HIGH").skipped("no SARIF material"),
        ],
        decisions: vec![over],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + 2 * H);
    let time = |ms: i64| format!("T0+{}h", (ms - T0) / H);
    let text = explain(&s, &time).join("\n");
    for expected in [
        "no-vulnerabilities-high for project api@1.0.0: PASSED (overridden)",
        "override o-1 forces passed (set by alice at T0+1h): reason o-1; expires T0+5h",
        "the components alone say GRACE",
        "policy vulnerabilities: GRACE — evaluation v of attestation sha256:att-v at T0+0h (auto-matched), 1 violation(s)",
        "failing since T0+0h, grace ends T0+6h",
        "fresh until T0+24h",
        "severity: requires HIGH, evaluated MEDIUM (compatible)",
        "skipped: evaluation k of attestation sha256:att-k at T0+1h: no SARIF material",
        "next change: T0+5h",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

// ---------------------------------------------------------------------------------
// Properties

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

const SEVERITIES: [&str; 6] = ["LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN", "high"];
const PROJECTS: [&str; 3] = ["api", "web", "worker"];

fn random_facts(rng: &mut Rng) -> ProductVersionFacts {
    let periodicities = [None, Some(Periodicity::Hourly), Some(Periodicity::Daily)];
    let mut requirements = Vec::new();
    for r in 0..6 {
        let mut policies = Vec::new();
        for policy in ["vulnerabilities", "container-signed", "sbom-present"] {
            if rng.below(2) == 0 {
                let with: &[(&str, &str)] = if policy == "vulnerabilities" {
                    &[("severity", "HIGH")]
                } else {
                    &[]
                };
                policies.push(timed(
                    attach(policy, with),
                    *rng.pick(&periodicities),
                    [None, Some(0), Some(6)][rng.below(3) as usize],
                ));
            }
        }
        let proofs = (0..rng.below(3))
            .map(|i| {
                manual(
                    &format!("proof-{i}"),
                    rng.below(4) == 0,
                    *rng.pick(&periodicities),
                )
            })
            .collect();
        let mut req = requirement(&format!("req-{r}"), policies, proofs);
        req.scope = if rng.below(5) == 0 {
            Scope::Product
        } else {
            Scope::Project
        };
        req.active = rng.below(8) != 0;
        req.frameworks = ["fw-a", "fw-b"][..1 + rng.below(2) as usize]
            .iter()
            .map(|f| (*f).to_owned())
            .collect();
        requirements.push(req);
    }
    let projects = PROJECTS
        .iter()
        .map(|p| {
            let mut evaluations = Vec::new();
            for a in 0..rng.below(12) {
                let time = T0 + (rng.below(48) as i64) * H;
                let receipt = rng.below(4);
                for (k, policy) in ["vulnerabilities", "container-signed", "sbom-present"]
                    .iter()
                    .enumerate()
                {
                    if rng.below(3) == 0 {
                        continue;
                    }
                    let mut e = eval(&format!("{p}-{a}-{k}"), policy, time)
                        .attestation(&format!("sha256:{p}-{a}"))
                        .receipt(receipt)
                        .received(time + rng.below(3) as i64 * H);
                    if *policy == "vulnerabilities" {
                        e = e.with("severity", SEVERITIES[rng.below(6) as usize]);
                    }
                    for v in 0..rng.below(3) {
                        e = e.violation(
                            &format!("v{v}"),
                            Some(*rng.pick(&SEVERITIES)).filter(|_| rng.below(4) != 0),
                        );
                    }
                    if rng.below(6) == 0 {
                        e = e.skipped("nothing to check");
                    }
                    if rng.below(5) == 0 {
                        e = e.explicit(&format!("fw-a/req-{}", rng.below(6)));
                    }
                    evaluations.push(e);
                }
            }
            ProjectFacts {
                name: (*p).into(),
                version: Some("1".into()),
                evidence: Evidence::new(evaluations),
            }
        })
        .collect();
    let subject = |rng: &mut Rng| -> Option<String> {
        (rng.below(3) != 0).then(|| (*rng.pick(&PROJECTS)).to_owned())
    };
    let mut proofs = Vec::new();
    for i in 0..rng.below(15) {
        let t = T0 + rng.below(48) as i64 * H;
        proofs.push(proof(
            &format!("p{i}"),
            &format!("req-{}", rng.below(6)),
            &format!("proof-{}", rng.below(3)),
            subject(rng).as_deref(),
            t,
            t + rng.below(2) as i64 * H,
        ));
    }
    let mut decisions = Vec::new();
    for i in 0..rng.below(6) {
        let kind = *rng.pick(&[OVERRIDE_PASSED, OVERRIDE_FAILED, DecisionKind::Exception]);
        let mut d = decision(
            &format!("d{i}"),
            &format!("req-{}", rng.below(6)),
            subject(rng).as_deref(),
            kind,
            T0 + rng.below(48) as i64 * H,
        );
        d.expires_at = (rng.below(2) == 0).then(|| d.created_at + rng.below(24) as i64 * H);
        decisions.push(d);
    }
    let mut applicability = Vec::new();
    for i in 0..rng.below(3) {
        applicability.push(not_applicable(
            &format!("a{i}"),
            &format!("req-{}", rng.below(6)),
            subject(rng).as_deref(),
            T0 + rng.below(48) as i64 * H,
        ));
    }
    ProductVersionFacts {
        requirements,
        projects,
        proofs,
        applicability,
        decisions,
    }
}

fn shuffled(facts: &ProductVersionFacts, rng: &mut Rng) -> ProductVersionFacts {
    let mut out = facts.clone();
    rng.shuffle(&mut out.requirements);
    rng.shuffle(&mut out.projects);
    for p in &mut out.projects {
        let mut evaluations = p.evidence.evaluations().to_vec();
        rng.shuffle(&mut evaluations);
        p.evidence = Evidence::new(evaluations);
    }
    rng.shuffle(&mut out.proofs);
    rng.shuffle(&mut out.applicability);
    rng.shuffle(&mut out.decisions);
    out
}

#[test]
fn results_never_depend_on_the_order_of_facts() {
    let policies = catalog();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..150 {
        let facts = random_facts(&mut rng);
        let at = T0 + rng.below(60) as i64 * H;
        let mut ctx = Context::new("acme", at, &policies);
        ctx.auto_matching = rng.below(4) != 0;
        let expected = serde_json::to_string(&product_status(&ctx, &facts)).unwrap();
        for _ in 0..4 {
            let again = shuffled(&facts, &mut rng);
            let got = serde_json::to_string(&product_status(&ctx, &again)).unwrap();
            assert_eq!(got, expected);
        }
        // Computed in parts (as a server does on several threads), the same cells.
        let parts = 1 + rng.below(5) as usize;
        let joined: Vec<_> = (0..parts)
            .flat_map(|part| product_status_part(&ctx, &facts, part, parts))
            .collect();
        assert_eq!(
            serde_json::to_string(&joined).unwrap(),
            expected,
            "{parts} parts"
        );
        // Without details: the same statuses, deadlines and components' states.
        let mut lean = ctx;
        lean.details = false;
        let full = product_status(&ctx, &facts);
        let short = product_status(&lean, &facts);
        assert_eq!(full.len(), short.len());
        for (f, l) in full.iter().zip(&short) {
            assert_eq!(
                (f.status, f.deadline, f.counted, f.passing),
                (l.status, l.deadline, l.counted, l.passing)
            );
            let states = |c: &CellStatus| {
                c.components
                    .iter()
                    .map(|c| (c.status, c.expires_at, c.grace_ends_at))
                    .collect::<Vec<_>>()
            };
            assert_eq!(states(f), states(l));
            assert!(l.components.iter().all(|c| c.evaluation.is_none()));
        }
        for cell in product_status(&ctx, &facts) {
            seen.insert(cell.status);
        }
    }
    assert!(
        seen.len() >= 8,
        "the generator reaches most statuses: {seen:?}"
    );
}

/// A project's cells alone (what a project page computes) are the cells the whole
/// product version gives that project, whether the other projects' facts are there or
/// not; the product-level cells are not among them.
#[test]
fn a_projects_cells_alone_are_its_cells_of_the_whole() {
    let policies = catalog();
    let mut rng = Rng(0x5EED_0FCE_1100);
    let mut compared = 0;
    for _ in 0..300 {
        let facts = random_facts(&mut rng);
        let at = T0 + rng.below(60) as i64 * H;
        let mut ctx = Context::new("acme", at, &policies);
        ctx.auto_matching = rng.below(4) != 0;
        ctx.details = rng.below(3) != 0;
        let whole = product_status(&ctx, &facts);
        for project in PROJECTS {
            let expected: Vec<&CellStatus> = whole
                .iter()
                .filter(|c| c.project.as_deref() == Some(project))
                .collect();
            let mut alone = shuffled(&facts, &mut rng);
            alone.projects.retain(|p| p.name == project);
            for given in [&facts, &alone] {
                let got = project_status(&ctx, given, project);
                assert!(got.iter().all(|c| c.scope == Scope::Project));
                assert_eq!(
                    serde_json::to_string(&got).unwrap(),
                    serde_json::to_string(&expected).unwrap(),
                    "{project} at {at}"
                );
            }
            compared += expected.len();
        }
        assert!(project_status(&ctx, &facts, "absent").is_empty());
    }
    assert!(compared > 1000, "the comparison saw cells: {compared}");
}

#[test]
fn scores_are_fractions_or_undefined() {
    let policies = catalog();
    let mut rng = Rng(42);
    for _ in 0..200 {
        let facts = random_facts(&mut rng);
        let ctx = Context::new("acme", T0 + rng.below(60) as i64 * H, &policies);
        let cells = product_status(&ctx, &facts);
        for c in &cells {
            assert_eq!(c.counted, c.status.counted(), "{c:?}");
            assert!(!c.passing || c.counted);
        }
        let score = Score::of(&cells);
        assert!(score.passing <= score.counted);
        match score.score {
            None => assert_eq!(score.counted, 0),
            Some(s) => {
                assert!((0.0..=1.0).contains(&s), "{s}");
                assert_eq!(score.compliant, s == 1.0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Explanations say what decided (issue 14)

fn explained(requirement: &RequirementFacts, cell: &Cell, at: i64) -> String {
    let time = |ms: i64| format!("T0+{}h", (ms - T0) / H);
    explain(&status(requirement, cell, at), &time).join("\n")
}

#[test]
fn explanations_say_why_nothing_matched() {
    let req = daily_scan();
    // Nothing at all: not "evaluated nothing (incompatible)".
    let text = explained(&req, &Cell::default(), T0 + H);
    assert!(
        text.contains("policy vulnerabilities: NO_DATA — no evaluation of this policy yet"),
        "{text}"
    );
    assert!(!text.contains("incompatible"), "{text}");
    assert!(text.contains("severity: requires HIGH"), "{text}");

    // A scan at a laxer threshold exists: the newest is named with its arguments.
    let lax = Cell {
        evaluations: vec![scan("low", T0, "CRITICAL")],
        ..Cell::default()
    };
    let text = explained(&req, &lax, T0 + H);
    assert!(
        text.contains("none of the 1 evaluation(s) of this policy matches; the newest, evaluation low of attestation sha256:att-low at T0+0h, ran with severity=CRITICAL"),
        "{text}"
    );

    // The same scan at the right threshold, but auto-matching is off.
    let off = Cell {
        evaluations: vec![scan("v", T0, "HIGH")],
        auto_matching: Some(false),
        ..Cell::default()
    };
    let text = explained(&req, &off, T0 + H);
    assert!(
        text.contains("auto-matching is off in this org, and none of the 1 evaluation(s) of this policy is explicitly mapped"),
        "{text}"
    );
}

#[test]
fn explanations_list_findings_and_real_times() {
    let req = daily_scan();
    let cell = Cell {
        evaluations: vec![scan("v", T0, "HIGH").violation("CVE", Some("CRITICAL"))],
        ..Cell::default()
    };
    let mut s = status(&req, &cell, T0 + 10 * H);
    let e = s.components[0]
        .evaluation
        .as_mut()
        .expect("deciding evaluation");
    e.findings = vec![comply_core::status::Finding {
        id: Some("CVE-2022-22965".into()),
        package: Some("pkg:maven/org.springframework/spring-beans@5.3.17".into()),
        severity: Some("CRITICAL".into()),
        fixed_version: Some("5.3.18".into()),
        message: "CRITICAL vulnerability CVE-2022-22965".into(),
    }];
    e.findings_total = 3;
    let time = |ms: i64| format!("T0+{}h", (ms - T0) / H);
    let text = explain(&s, &time).join("\n");
    assert!(
        text.contains("CVE-2022-22965 in pkg:maven/org.springframework/spring-beans@5.3.17 (CRITICAL), fixed in 5.3.18"),
        "{text}"
    );
    assert!(text.contains("… and 2 more violation(s)"), "{text}");

    // An applicability entry of unknown start never prints i64::MIN.
    let na = Cell {
        applicability: vec![not_applicable(
            "portal/applicability/0",
            "no-vulnerabilities-high",
            None,
            i64::MIN,
        )],
        ..Cell::default()
    };
    let s = status(&req, &na, T0);
    let text = explain(&s, &|ms: i64| ms.to_string()).join("\n");
    assert!(text.contains("by entry portal/applicability/0"), "{text}");
    assert!(!text.contains("-9223372036854775808"), "{text}");
}

#[test]
fn explanations_report_references_that_match_nothing() {
    let req = daily_scan();
    let cell = Cell {
        evaluations: vec![
            scan("x", T0, "CRITICAL")
                .explicit("my-best-practises/no-vulnerabilities-high")
                .explicit("my-best-practices/no-vulnerabilities-high"),
            scan("y", T0, "CRITICAL")
                .explicit("other-org/my-best-practices/no-vulnerabilities-high"),
        ],
        auto_matching: Some(false),
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(
        s.unmatched_references,
        [
            "my-best-practises/no-vulnerabilities-high",
            "other-org/my-best-practices/no-vulnerabilities-high"
        ]
    );
    let text = explained(&req, &cell, T0 + H);
    assert!(
        text.contains(
            "evidence names 'my-best-practises/no-vulnerabilities-high', which matches nothing here"
        ),
        "{text}"
    );
}

/// An attestation that referenced its policy evaluations (Chainloop's
/// `policyEvaluationsRef`) without carrying them: the cell has no evaluation, and says
/// why, until the evaluations arrive; its status does not depend on it.
#[test]
fn referenced_evaluations_not_supplied_are_explained() {
    use comply_core::status::ReferencedEvaluationsFact;
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let referenced = ReferencedEvaluationsFact {
        attestation: "sha256:ref".into(),
        time: T0,
        received_at: T0 + H,
        supplied_at: Some(T0 + 3 * H),
    };
    let facts = ProductVersionFacts {
        requirements: vec![req],
        projects: vec![ProjectFacts {
            name: "api".into(),
            version: Some("1.0.0".into()),
            evidence: Evidence::new(vec![
                eval("late", "container-signed", T0).received(T0 + 3 * H),
            ])
            .with_referenced(vec![referenced]),
        }],
        ..ProductVersionFacts::default()
    };
    let time = |t: i64| t.to_string();
    let at = |t: i64| run(&facts, t).remove(0);

    let before = at(T0 + H / 2);
    assert_eq!(before.status, Status::NoData);
    assert!(
        before.evaluations_not_supplied.is_empty(),
        "not received yet"
    );

    let missing = at(T0 + 2 * H);
    assert_eq!(missing.status, Status::NoData, "the status is unchanged");
    assert_eq!(missing.evaluations_not_supplied, ["sha256:ref"]);
    let text = explain(&missing, &time).join("\n");
    assert!(
        text.contains(
            "attestation sha256:ref referenced its policy evaluations (policyEvaluationsRef) but they were not supplied"
        ),
        "{text}"
    );
    assert!(
        text.contains("comply attestation attach-evaluations sha256:ref"),
        "{text}"
    );

    let supplied = at(T0 + 4 * H);
    assert_eq!(supplied.status, Status::Passed);
    assert!(supplied.evaluations_not_supplied.is_empty());
    assert!(
        !explain(&supplied, &time)
            .join("\n")
            .contains("not supplied")
    );

    // Statuses without details (an overview) do not carry it.
    let policies = catalog();
    let mut ctx = Context::new("acme", T0 + 2 * H, &policies);
    ctx.details = false;
    assert!(
        product_status(&ctx, &facts)[0]
            .evaluations_not_supplied
            .is_empty()
    );
}

/// A verdict that depended on hosts the policy could reach says so where it decides.
#[test]
fn networked_evaluations_say_so_in_explanations() {
    let req = requirement("signed", vec![attach("container-signed", &[])], vec![]);
    let mut networked = eval("n1", "container-signed", T0);
    networked.networked = Some("127.0.0.1,app.chainloop.dev".into());
    let cell = Cell {
        evaluations: vec![networked],
        ..Cell::default()
    };
    let s = status(&req, &cell, T0 + H);
    assert_eq!(s.status, Status::Passed, "evidence like any other");
    let text = explained(&req, &cell, T0 + H);
    assert!(
        text.contains("networked (http.send could reach 127.0.0.1, app.chainloop.dev)"),
        "{text}"
    );
    let sealed = Cell {
        evaluations: vec![eval("s1", "container-signed", T0)],
        ..Cell::default()
    };
    assert!(!explained(&req, &sealed, T0 + H).contains("networked"));
}

//! Status answers in words: which decision or component decided, on what evidence, and
//! what happens next. Times are rendered by the caller (the server writes RFC 3339).

use super::candidates::MatchSource;
use super::cell::{CellStatus, DecisionRefKind, Status};
use super::component::{Component, ComponentKind, ComponentStatus, Finding};
use std::fmt::Write;

/// One line per fact, indented under the cell's headline.
pub fn explain(cell: &CellStatus, time: &dyn Fn(i64) -> String) -> Vec<String> {
    let mut lines = Vec::new();
    let subject = match &cell.project {
        Some(p) => match &cell.project_version {
            Some(v) => format!("project {p}@{v}"),
            None => format!("project {p} (no version)"),
        },
        None => "the product".to_owned(),
    };
    let mut head = format!(
        "{} for {subject}: {}",
        cell.requirement,
        cell.status.as_str()
    );
    if cell.overridden {
        head.push_str(" (overridden)");
    }
    if !cell.counted {
        head.push_str(", not counted in the score");
    }
    lines.push(head);
    if cell.status == Status::Inactive {
        lines.push("  the requirement is inactive".to_owned());
    }
    if let Some(d) = &cell.decision {
        let mut line = match d.kind {
            DecisionRefKind::Applicability => {
                let scope = if d.project.is_some() {
                    "for this project"
                } else {
                    "for the whole product"
                };
                // An entry whose start is unknown (i64::MIN: in effect since before any
                // recorded revision) has no time to show.
                if d.created_at == i64::MIN {
                    format!("  marked not applicable {scope} by entry {}", d.id)
                } else {
                    format!(
                        "  marked not applicable {scope} by entry {} since {}",
                        d.id,
                        time(d.created_at)
                    )
                }
            }
            DecisionRefKind::Override => format!(
                "  override {} forces {} (set by {} at {})",
                d.id,
                d.forced.map_or("?", |f| match f {
                    super::facts::Forced::Passed => "passed",
                    super::facts::Forced::Failed => "failed",
                }),
                d.author.as_deref().unwrap_or("?"),
                time(d.created_at)
            ),
            DecisionRefKind::Exception => format!(
                "  exception {} (granted by {} at {})",
                d.id,
                d.author.as_deref().unwrap_or("?"),
                time(d.created_at)
            ),
        };
        if let Some(reason) = &d.reason {
            let _ = write!(line, ": {reason}");
        }
        if let Some(x) = d.expires_at {
            let _ = write!(line, "; expires {}", time(x));
        }
        lines.push(line);
    }
    if let Some(p) = &cell.pending_decision {
        let what = match p.kind {
            DecisionRefKind::Override => format!(
                "override {} forcing {}",
                p.id,
                p.forced.map_or("?", |f| match f {
                    super::facts::Forced::Passed => "passed",
                    super::facts::Forced::Failed => "failed",
                })
            ),
            _ => format!("exception {}", p.id),
        };
        lines.push(format!(
            "  {what} (requested by {} at {}) awaits approval by a second admin or owner: not in effect",
            p.author.as_deref().unwrap_or("?"),
            time(p.created_at)
        ));
    }
    if let Some(computed) = cell.computed {
        lines.push(format!("  the components alone say {}", computed.as_str()));
    }
    if cell.components.is_empty() && cell.decision.is_none() && cell.status == Status::NoData {
        lines.push("  nothing at this level can satisfy the requirement".to_owned());
    }
    for c in &cell.components {
        component(&mut lines, c, time);
    }
    match cell.evaluations_not_supplied.as_slice() {
        [] => {}
        [one] => lines.push(format!(
            "  attestation {one} referenced its policy evaluations (policyEvaluationsRef) but they were not supplied; supply them with: comply attestation attach-evaluations {one} --policy-evaluations BUNDLE"
        )),
        many => lines.push(format!(
            "  {} attestations referenced their policy evaluations (policyEvaluationsRef) but they were not supplied: {}; supply each with: comply attestation attach-evaluations DIGEST --policy-evaluations BUNDLE",
            many.len(),
            many.join(", ")
        )),
    }
    for r in &cell.unmatched_references {
        lines.push(format!(
            "  evidence names '{r}', which matches nothing here: no such framework attached to this product version, or another org"
        ));
    }
    if let Some(d) = cell.deadline {
        lines.push(format!("  next change: {}", time(d)));
    }
    lines
}

fn finding(f: &Finding) -> String {
    let mut out = f.id.clone().unwrap_or_else(|| f.message.clone());
    if let Some(p) = f.package.as_deref().filter(|p| !p.is_empty()) {
        let _ = write!(out, " in {p}");
    }
    if let Some(s) = &f.severity {
        let _ = write!(out, " ({s})");
    }
    match &f.fixed_version {
        Some(v) if !v.is_empty() => {
            let _ = write!(out, ", fixed in {v}");
        }
        _ if f.id.is_some() => out.push_str(", no fixed version known"),
        _ => {}
    }
    out
}

fn component(lines: &mut Vec<String>, c: &Component, time: &dyn Fn(i64) -> String) {
    let kind = match c.kind {
        ComponentKind::Policy if c.explicit_only => "policy (explicitly mapped)",
        ComponentKind::Policy => "policy",
        ComponentKind::Proof => "proof",
    };
    let mut line = format!(
        "  {}{kind} {}: {}",
        if c.decisive { "* " } else { "" },
        c.name,
        c.status.as_str()
    );
    if let Some(e) = &c.evaluation {
        let _ = write!(
            line,
            " — evaluation {} of attestation {} at {} ({})",
            e.id,
            e.attestation,
            time(e.time),
            match e.matched_by {
                MatchSource::Explicit => "explicit mapping",
                MatchSource::Auto => "auto-matched",
            }
        );
        if let Some(hosts) = &e.networked {
            let _ = write!(
                line,
                ", networked (http.send could reach {})",
                hosts.replace(',', ", ")
            );
        }
        if e.verdict.vetoed {
            line.push_str(", vetoed by the policy's matches_evaluation");
        } else if e.verdict.refiltered {
            let _ = write!(
                line,
                ", its {} violation(s) all below the requirement's threshold",
                e.verdict.violations
            );
        } else if !e.verdict.passed {
            let _ = write!(line, ", {} violation(s)", e.verdict.violations);
        }
        lines.push(line);
        for f in &e.findings {
            lines.push(format!("      {}", finding(f)));
        }
        if e.findings_total > e.findings.len() && !e.findings.is_empty() {
            lines.push(format!(
                "      … and {} more violation(s)",
                e.findings_total - e.findings.len()
            ));
        }
        line = String::new();
    } else if let Some(p) = &c.proof {
        let _ = write!(
            line,
            " — proof {} collected at {} (submitted {})",
            p.id,
            time(p.collected_at),
            time(p.created_at)
        );
    } else if c.status == ComponentStatus::NoData {
        match &c.unmatched {
            Some(u) if u.evaluations == 0 => line.push_str(" — no evaluation of this policy yet"),
            Some(u) if u.auto_matching_off => {
                let _ = write!(
                    line,
                    " — auto-matching is off in this org, and none of the {} evaluation(s) of this policy is explicitly mapped to this requirement",
                    u.evaluations
                );
            }
            Some(u) => {
                let _ = write!(
                    line,
                    " — none of the {} evaluation(s) of this policy matches",
                    u.evaluations
                );
                if let Some(n) = &u.newest {
                    let _ = write!(
                        line,
                        "; the newest, evaluation {} of attestation {} at {}, ran with {}",
                        n.id,
                        n.attestation,
                        time(n.time),
                        if n.arguments.is_empty() {
                            "no arguments".to_owned()
                        } else {
                            n.arguments
                                .iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        }
                    );
                }
            }
            None => line.push_str(" — no matching evaluation"),
        }
    } else if c.status == ComponentStatus::Missing {
        line.push_str(" — not submitted");
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if let Some(f) = c.failing_since {
        let mut l = format!("      failing since {}", time(f));
        if let Some(g) = c.grace_ends_at {
            let _ = write!(l, ", grace ends {}", time(g));
        }
        lines.push(l);
    }
    if let Some(x) = c.expires_at {
        let verb = if c.status == ComponentStatus::Expired {
            "expired after"
        } else {
            "fresh until"
        };
        lines.push(format!("      {verb} {}", time(x)));
    }
    for a in c.arguments.iter().filter(|_| c.evaluation.is_none()) {
        lines.push(format!("      {}: requires {}", a.name, a.required));
    }
    for a in c.arguments.iter().filter(|_| c.evaluation.is_some()) {
        lines.push(format!(
            "      {}: requires {}, evaluated {} ({})",
            a.name,
            a.required,
            a.evaluated.as_deref().unwrap_or("nothing"),
            if a.compatible {
                "compatible"
            } else {
                "incompatible"
            }
        ));
    }
    for s in &c.skipped {
        let mut l = format!(
            "      skipped: evaluation {} of attestation {} at {}",
            s.id,
            s.attestation,
            time(s.time)
        );
        if !s.reasons.is_empty() {
            let _ = write!(l, ": {}", s.reasons.join("; "));
        }
        lines.push(l);
    }
    if c.skipped_total > c.skipped.len() {
        lines.push(format!(
            "      … and {} more skipped",
            c.skipped_total - c.skipped.len()
        ));
    }
}

//! The pack's human-readable report: one self-contained HTML file (no scripts, no
//! external resources) that prints with a page break before each framework.

use super::{DecisionsFile, EnvelopeEntry, Manifest, Posture};
use std::fmt::Write as _;

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn score(s: Option<f64>) -> String {
    s.map_or_else(|| "n/a".into(), |s| format!("{:.0}%", s * 100.0))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#111}\
h1{margin-bottom:.2rem}table{border-collapse:collapse;width:100%;margin:1rem 0}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}\
th{background:#f3f3f3}.s{font-weight:600;white-space:nowrap}\
.PASSED{color:#0a6b2d}.FAILED,.EXPIRED{color:#a40e0e}.GRACE,.PARTIAL{color:#8a5a00}\
.meta td:first-child{width:12rem;font-weight:600}code{font-size:.8rem;word-break:break-all}\
td.none{color:#555;font-style:italic}section.framework{break-before:page}@media print{body{margin:0}a{color:inherit}}";

const NO_ROWS_7: &str = "<tr><td colspan=\"7\" class=\"none\">No exception, override or applicability decision.</td></tr>";

pub(super) fn render(
    manifest: &Manifest,
    posture: &Posture,
    decisions: &DecisionsFile,
    envelopes: &[&EnvelopeEntry],
) -> String {
    let mut h = String::new();
    let title = format!(
        "{} {}: compliance evidence",
        manifest.product, manifest.version
    );
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(&title)
    );
    let _ = write!(h, "<h1>{}</h1><table class=\"meta\">", esc(&title));
    let rows = [
        ("Organization", manifest.org.clone()),
        ("Posture at", manifest.at.clone()),
        (
            "Framework",
            manifest.framework.clone().unwrap_or_else(|| "all attached".into()),
        ),
        (
            "Score",
            format!(
                "{} ({} of {} counted cells passing; {})",
                score(posture.score),
                posture.passing,
                posture.counted,
                if posture.compliant { "compliant" } else { "not compliant" }
            ),
        ),
        ("Pack made", manifest.created_at.clone()),
        (
            "Verify",
            "comply report verify PACK (checks the signed manifest, every envelope's signature, the audit chain, and recomputes this posture)".into(),
        ),
    ];
    for (k, v) in rows {
        let _ = write!(h, "<tr><td>{k}</td><td>{}</td></tr>", esc(&v));
    }
    h.push_str("</table>");
    for fw in &posture.frameworks {
        let _ = write!(
            h,
            "<section class=\"framework\"><h2>{}: {}</h2>",
            esc(&fw.framework),
            score(fw.score)
        );
        // Scores per section first, then the cells.
        if !fw.sections.is_empty() {
            h.push_str("<table class=\"sections\"><tr><th>Section</th><th>Score</th></tr>");
            for s in &fw.sections {
                let name = if s.section.is_empty() {
                    "(top level)"
                } else {
                    s.section.as_str()
                };
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{} ({} of {} counted cells passing)</td></tr>",
                    esc(name),
                    score(s.score),
                    s.passing,
                    s.counted
                );
            }
            h.push_str("</table>");
        }
        h.push_str("<table><tr><th>Requirement</th><th>Subject</th><th>Status</th><th>Explanation</th></tr>");
        for c in posture.cells.iter().filter(|c| {
            c.cell["frameworks"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == fw.framework.as_str()))
        }) {
            let status = c.cell["status"].as_str().unwrap_or_default();
            let subject = match (
                c.cell["project"].as_str(),
                c.cell["project_version"].as_str(),
            ) {
                (Some(p), Some(v)) => format!("{p}@{v}"),
                (Some(p), None) => p.to_owned(),
                _ => "product".into(),
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"s {status}\">{status}</td><td>{}</td></tr>",
                esc(c.cell["requirement"].as_str().unwrap_or_default()),
                esc(&subject),
                c.explanation
                    .iter()
                    .map(|l| esc(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
        h.push_str("</table></section>");
    }
    h.push_str("<section class=\"framework\"><h2>Decisions</h2><table><tr><th>Kind</th><th>Cell</th><th>Reason</th><th>Author</th><th>Created</th><th>Expires</th><th>Ended</th></tr>");
    let t = |ms: Option<i64>| ms.map_or_else(|| "—".into(), crate::state::fmt_time);
    for d in &decisions.decisions {
        let kind = match &d.forced_status {
            Some(f) => format!("override ({f})"),
            None => d.kind.clone(),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&kind),
            esc(&d.requirement),
            d.project
                .as_deref()
                .map(|p| format!(" / {}", esc(p)))
                .unwrap_or_default(),
            esc(&d.reason),
            esc(&d.author),
            t(Some(d.created_at)),
            t(d.expires_at),
            t(d.ended_at)
        );
    }
    for a in &decisions.applicability {
        let _ = write!(
            h,
            "<tr><td>not applicable</td><td>{}{}</td><td>{}</td><td>—</td><td>—</td><td>—</td><td>—</td></tr>",
            esc(&a.requirement),
            a.project
                .as_deref()
                .map(|p| format!(" / {}", esc(p)))
                .unwrap_or_default(),
            esc(a.rationale.as_deref().unwrap_or("(no rationale)"))
        );
    }
    if decisions.decisions.is_empty() && decisions.applicability.is_empty() {
        h.push_str(NO_ROWS_7);
    }
    h.push_str("</table><h2>Manual proofs</h2><table><tr><th>Requirement</th><th>Proof</th><th>Kind</th><th>Value</th><th>Collected</th><th>By</th></tr>");
    for p in &decisions.proofs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&p.requirement),
            esc(&p.proof),
            esc(&p.kind),
            esc(&p.value),
            t(Some(p.collected_at)),
            esc(&p.submitter)
        );
    }
    if decisions.proofs.is_empty() {
        h.push_str("<tr><td colspan=\"6\" class=\"none\">No manual proof.</td></tr>");
    }
    h.push_str("</table><h2>Attestations</h2><table><tr><th>Digest</th><th>Project</th><th>Finished</th><th>Signer</th></tr>");
    for e in envelopes {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}@{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.digest),
            esc(&e.project),
            esc(&e.version),
            t(Some(e.finished_at)),
            esc(if e.verified {
                &e.signer
            } else {
                "unsigned (accepted by setting)"
            })
        );
    }
    if envelopes.is_empty() {
        h.push_str("<tr><td colspan=\"4\" class=\"none\">No attestation decides a cell.</td></tr>");
    }
    h.push_str("</table></section></body></html>\n");
    h
}

//! `comply status`, `proof`, `exception`, `override`, `applicability`.

use crate::cli::{
    ApplicabilityCommand, CellArgs, DecisionArgs, DecisionListArgs, ExceptionCommand, ForcedStatus,
    HistoryArgs, Output, OverrideCommand, ProofCommand, StatusArgs, StatusDiffArgs,
};
use crate::client::{Client, query};
use crate::error::{CliError, Result};
use crate::output::{emit, printable, table, text};
use base64::Engine as _;
use serde_json::{Value, json};

fn score_text(score: &Value) -> String {
    score
        .as_f64()
        .map_or_else(|| "n/a".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

pub fn status(client: &mut Client, output: Output, args: StatusArgs) -> Result<()> {
    let Some(product) = &args.product else {
        let path = client.org_path(&format!("/status{}", query(&[("at", args.at.as_deref())])))?;
        let overview = client.get(&path)?;
        emit(output, &overview, |o| {
            table(
                &[
                    "product",
                    "version",
                    "score",
                    "compliant",
                    "passing",
                    "counted",
                    "frameworks",
                ],
                o["products"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let fws: Vec<String> = p["frameworks"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(text)
                            .collect();
                        vec![
                            text(&p["product"]),
                            text(&p["version"]),
                            score_text(&p["score"]),
                            if p["compliant"] == Value::Bool(true) {
                                "yes"
                            } else {
                                "no"
                            }
                            .into(),
                            text(&p["passing"]),
                            text(&p["counted"]),
                            fws.join(", "),
                        ]
                    })
                    .collect(),
            )
        })?;
        return Ok(());
    };
    let path = client.org_path(&format!(
        "/products/{product}/status{}",
        query(&[
            ("version", args.version.as_deref()),
            ("framework", args.framework.as_deref()),
            ("project", args.project.as_deref()),
            ("requirement", args.requirement.as_deref()),
            ("at", args.at.as_deref()),
            ("explain", args.explain.then_some("true")),
        ])
    ))?;
    let answer = client.get(&path)?;
    let explain = args.explain;
    let wide = args.wide;
    if output == Output::Csv {
        print!("{}", status_csv(&answer)?);
    } else {
        emit(output, &answer, |a| {
            let mut out = status_table(a, wide);
            if explain {
                for c in a["cells"].as_array().into_iter().flatten() {
                    let subject = c["project"].as_str().unwrap_or("(product)");
                    out.push_str(&format!(
                        "\n{} / {} — {}\n",
                        text(&c["requirement"]),
                        subject,
                        text(&c["status"])
                    ));
                    for line in c["explanation"].as_array().into_iter().flatten() {
                        out.push_str(&format!("  {}\n", text(line)));
                    }
                }
            }
            out.push_str(&format!(
                "\n{} {} at {}: score {} ({} of {} counted cells passing), compliant: {}\n",
                text(&a["product"]),
                text(&a["version"]),
                text(&a["at"]),
                score_text(&a["score"]),
                text(&a["passing"]),
                text(&a["counted"]),
                if a["compliant"] == Value::Bool(true) {
                    "yes"
                } else {
                    "no"
                }
            ));
            out
        })?;
    }
    if args.fail_on_noncompliant && answer["compliant"] != Value::Bool(true) {
        return Err(CliError::failed(format!(
            "{product} {} is not compliant",
            text(&answer["version"])
        )));
    }
    Ok(())
}

/// `status diff`: both sides are the server's status answers (with explanations); the
/// CLI only lines their cells up by (framework, requirement, subject). No rule of the
/// engine is repeated here.
pub fn status_diff(client: &mut Client, output: Output, a: StatusDiffArgs) -> Result<()> {
    if a.to.is_none() && a.to_at.is_none() {
        return Err(CliError::usage(
            "status diff compares two versions (--to V) or two times (--to-at T); give one",
        ));
    }
    let mut side = |version: Option<&str>, at: Option<&str>| -> Result<Value> {
        let path = client.org_path(&format!(
            "/products/{}/status{}",
            a.product,
            query(&[
                ("version", version),
                ("framework", a.framework.as_deref()),
                ("project", a.project.as_deref()),
                ("at", at),
                ("explain", Some("true")),
            ])
        ))?;
        client.get(&path)
    };
    let from = side(a.version.as_deref(), a.at.as_deref())?;
    let to_version =
        a.to.clone()
            .or_else(|| from["version"].as_str().map(str::to_owned));
    let to = side(
        to_version.as_deref(),
        a.to_at.as_deref().or(a.at.as_deref()),
    )?;
    let key = |c: &Value| {
        (
            text(&c["framework"]),
            text(&c["requirement"]),
            c["project"].as_str().map(str::to_owned),
        )
    };
    let cells = |s: &Value| -> std::collections::BTreeMap<(String, String, Option<String>), Value> {
        s["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| (key(c), c.clone()))
            .collect()
    };
    let (before, after) = (cells(&from), cells(&to));
    let mut keys: Vec<_> = before.keys().chain(after.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let mut changed = Vec::new();
    for k in keys {
        let (b, n) = (before.get(&k), after.get(&k));
        let status = |c: Option<&Value>| c.map(|c| c["status"].clone()).unwrap_or(Value::Null);
        if status(b) == status(n) {
            continue;
        }
        changed.push(json!({
            "framework": k.0,
            "requirement": k.1,
            "project": k.2,
            "from": status(b),
            "to": status(n),
            // Why the second side is what it is; a cell that left says why it was.
            "explanation": n.or(b).map(|c| c["explanation"].clone()).unwrap_or(Value::Null),
        }));
    }
    let summary = |s: &Value| {
        json!({"version": s["version"], "at": s["at"], "score": s["score"],
               "compliant": s["compliant"], "passing": s["passing"], "counted": s["counted"]})
    };
    let answer = json!({
        "product": a.product,
        "from": summary(&from),
        "to": summary(&to),
        "changed": changed,
    });
    emit(output, &answer, |d| {
        let rows = d["changed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let why = c["explanation"]
                    .as_array()
                    .and_then(|lines| lines.get(1).or(lines.first()))
                    .map(|l| text(l).trim().to_owned())
                    .unwrap_or_default();
                vec![
                    text(&c["framework"]),
                    text(&c["requirement"]),
                    c["project"].as_str().unwrap_or("(product)").to_owned(),
                    if c["from"].is_null() {
                        "(absent)".into()
                    } else {
                        text(&c["from"])
                    },
                    if c["to"].is_null() {
                        "(absent)".into()
                    } else {
                        text(&c["to"])
                    },
                    fit(why, 60),
                ]
            })
            .collect();
        let side = |s: &Value| {
            format!(
                "{} at {}: score {}, compliant: {}",
                text(&s["version"]),
                text(&s["at"]),
                score_text(&s["score"]),
                if s["compliant"] == Value::Bool(true) {
                    "yes"
                } else {
                    "no"
                }
            )
        };
        let mut out = if d["changed"].as_array().is_some_and(|c| c.is_empty()) {
            "No cell changed.\n".to_owned()
        } else {
            table(
                &["framework", "requirement", "subject", "from", "to", "why"],
                rows,
            )
        };
        out.push_str(&format!(
            "\n{}: {} → {}\n",
            text(&d["product"]),
            side(&d["from"]),
            side(&d["to"])
        ));
        out
    })
}

/// The columns of `status -o csv`, in order: a contract for spreadsheets and scripts
/// (add at the end, never rename or reorder).
pub const CSV_COLUMNS: [&str; 15] = [
    "product",
    "version",
    "at",
    "framework",
    "section",
    "requirement",
    "scope",
    "project",
    "project_version",
    "status",
    "counted",
    "passing",
    "overridden",
    "deadline",
    "explanation",
];

/// One CSV row per cell (with `--explain`, the explanation's lines joined by ` | `).
fn status_csv(a: &Value) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| CliError::usage(format!("cannot write CSV: {e}"));
    w.write_record(CSV_COLUMNS).map_err(fail)?;
    let plain = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => printable(s),
        other => other.to_string(),
    };
    for c in a["cells"].as_array().into_iter().flatten() {
        let explanation: Vec<String> = c["explanation"]
            .as_array()
            .into_iter()
            .flatten()
            .map(plain)
            .collect();
        w.write_record([
            plain(&a["product"]),
            plain(&a["version"]),
            plain(&a["at"]),
            plain(&c["framework"]),
            plain(&c["section"]),
            plain(&c["requirement"]),
            plain(&c["scope"]),
            plain(&c["project"]),
            plain(&c["project_version"]),
            plain(&c["status"]),
            plain(&c["counted"]),
            plain(&c["passing"]),
            plain(&c["overridden"]),
            plain(&c["deadline"]),
            explanation.join(" | "),
        ])
        .map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| CliError::usage(format!("cannot write CSV: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Column limits that keep the default table within 120 characters (with the two-space
/// gaps): section, requirement, subject, status, evidence, deadline.
const NARROW: [usize; 6] = [20, 28, 14, 14, 14, 16];

/// `text` cut to `max` characters, the cut marked with `…`.
fn fit(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The status cells grouped by framework (in the version's order), each framework's
/// rows sorted by section and requirement, with the framework's subtotal above them.
fn status_table(a: &Value, wide: bool) -> String {
    let cells: Vec<&Value> = a["cells"].as_array().into_iter().flatten().collect();
    let mut frameworks: Vec<(String, Value)> = a["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (text(&f["framework"]), f.clone()))
        .collect();
    for c in &cells {
        let f = text(&c["framework"]);
        if !frameworks.iter().any(|(n, _)| *n == f) {
            frameworks.push((f, Value::Null));
        }
    }
    let mut out = String::new();
    for (framework, summary) in frameworks {
        let mut rows: Vec<&Value> = cells
            .iter()
            .copied()
            .filter(|c| text(&c["framework"]) == framework)
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by_key(|c| {
            (
                c["section"].as_str().unwrap_or("").to_owned(),
                text(&c["requirement"]),
                c["project"].as_str().unwrap_or("").to_owned(),
            )
        });
        if !out.is_empty() {
            out.push('\n');
        }
        let subtotal = if summary.is_null() {
            String::new()
        } else {
            format!(
                ": score {} ({} of {} counted passing)",
                score_text(&summary["score"]),
                text(&summary["passing"]),
                text(&summary["counted"])
            )
        };
        out.push_str(&format!("{framework}{subtotal}\n"));
        let rows = rows
            .into_iter()
            .map(|c| {
                let subject = match c["project"].as_str() {
                    Some(p) => format!("{p}@{}", c["project_version"].as_str().unwrap_or("-")),
                    None => "(product)".into(),
                };
                let mut status = text(&c["status"]);
                if c["overridden"] == Value::Bool(true) {
                    status.push_str(" (override)");
                }
                let evidence = c["components"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|x| x["decisive"] == Value::Bool(true))
                    .map(|x| {
                        format!(
                            "{}: {}",
                            text(&x["name"]),
                            text(&x["status"]).to_lowercase()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let deadline = match c["deadline"].as_str() {
                    // `2026-12-02T20:11:00.000Z` as `2026-12-02 20:11` unless wide.
                    Some(d) if !wide && d.len() >= 16 => d[..16].replace('T', " "),
                    Some(d) => d.to_owned(),
                    None => "-".into(),
                };
                let row = [
                    c["section"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .unwrap_or("-")
                        .to_owned(),
                    text(&c["requirement"]),
                    subject,
                    status,
                    if evidence.is_empty() {
                        "-".into()
                    } else {
                        evidence
                    },
                    deadline,
                ];
                if wide {
                    row.to_vec()
                } else {
                    row.into_iter()
                        .zip(NARROW)
                        .map(|(t, max)| fit(t, max))
                        .collect()
                }
            })
            .collect();
        for line in table(
            &[
                "section",
                "requirement",
                "subject",
                "status",
                "evidence",
                "deadline",
            ],
            rows,
        )
        .lines()
        {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

fn cell_json(c: &CellArgs) -> Value {
    json!({"product": c.product, "version": c.version, "project": c.project,
           "requirement": c.requirement})
}

fn decision_table(list: &Value) -> String {
    table(
        &[
            "id",
            "product",
            "version",
            "subject",
            "requirement",
            "status",
            "reason",
            "expires",
            "active",
        ],
        list.as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                vec![
                    text(&d["id"]),
                    text(&d["product"]),
                    text(&d["version"]),
                    d["project"].as_str().unwrap_or("(product)").to_owned(),
                    text(&d["requirement"]),
                    text(&d["status"]),
                    text(&d["reason"]),
                    text(&d["expires"]),
                    if d["active"] == Value::Bool(true) {
                        "yes"
                    } else {
                        "no"
                    }
                    .into(),
                ]
            })
            .collect(),
    )
}

fn decision_body(d: &DecisionArgs) -> Value {
    let mut body = cell_json(&d.cell);
    body["reason"] = json!(d.reason);
    body["expires"] = json!(d.expires);
    body
}

pub fn proof(client: &mut Client, output: Output, cmd: ProofCommand) -> Result<()> {
    match cmd {
        ProofCommand::Submit(a) => {
            let mut body = cell_json(&a.cell);
            body["proof"] = json!(a.proof);
            body["collected_at"] = json!(a.collected_at);
            if let Some(file) = &a.file {
                let bytes = std::fs::read(file)
                    .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
                body["file_base64"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(&bytes));
                body["file_name"] =
                    json!(file.file_name().map(|n| n.to_string_lossy().into_owned()));
            }
            if let Some(url) = &a.url {
                body["url"] = json!(url);
            }
            if let Some(t) = &a.text {
                body["text"] = json!(t);
            }
            let path = client.org_path("/proofs")?;
            let answer = client.post(&path, &body)?;
            emit(output, &answer, |p| {
                format!(
                    "proof {} recorded ({}: {}, collected {})\n",
                    text(&p["id"]),
                    text(&p["kind"]),
                    text(&p["value"]),
                    text(&p["collected_at"])
                )
            })
        }
        ProofCommand::List(f) => {
            let version = match f.version {
                Some(v) => v,
                None => latest_version(client, &f.product)?,
            };
            let path = client.org_path(&format!(
                "/proofs{}",
                query(&[("product", Some(&f.product)), ("version", Some(&version))])
            ))?;
            let list = client.get(&path)?;
            emit(output, &list, |l| {
                table(
                    &[
                        "id",
                        "subject",
                        "requirement",
                        "proof",
                        "kind",
                        "value",
                        "collected",
                    ],
                    l.as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            vec![
                                text(&p["id"]),
                                p["project"].as_str().unwrap_or("(product)").to_owned(),
                                text(&p["requirement"]),
                                text(&p["proof"]),
                                text(&p["kind"]),
                                text(&p["value"]),
                                text(&p["collected_at"]),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

fn latest_version(client: &mut Client, product: &str) -> Result<String> {
    let path = client.org_path(&format!("/products/{product}"))?;
    let p = client.get(&path)?;
    p["document"]["spec"]["versions"]
        .as_array()
        .and_then(|v| v.last())
        .map(|v| text(&v["name"]))
        .ok_or_else(|| CliError::failed(format!("product '{product}' has no versions")))
}

pub fn exception(client: &mut Client, output: Output, cmd: ExceptionCommand) -> Result<()> {
    match cmd {
        ExceptionCommand::Create(d) => {
            let path = client.org_path("/exceptions")?;
            let answer = client.post(&path, &decision_body(&d))?;
            emit(output, &answer, |e| granted("exception", "granted", e))
        }
        ExceptionCommand::List(f) => list_decisions(client, output, "exceptions", &f),
        ExceptionCommand::Revoke(a) => end_decision(client, output, "exception", &a.id, "revoked"),
        ExceptionCommand::Approve(a) => approval(client, output, "exception", &a.id, true),
        ExceptionCommand::Reject(a) => approval(client, output, "exception", &a.id, false),
    }
}

pub fn override_(client: &mut Client, output: Output, cmd: OverrideCommand) -> Result<()> {
    match cmd {
        OverrideCommand::Set(o) => {
            let mut body = decision_body(&o.decision);
            body["status"] = json!(match o.status {
                ForcedStatus::Passed => "passed",
                ForcedStatus::Failed => "failed",
            });
            let path = client.org_path("/overrides")?;
            let answer = client.post(&path, &body)?;
            emit(output, &answer, |e| {
                granted("override", &format!("set ({})", text(&e["status"])), e)
            })
        }
        OverrideCommand::List(f) => list_decisions(client, output, "overrides", &f),
        OverrideCommand::Clear(a) => end_decision(client, output, "override", &a.id, "cleared"),
        OverrideCommand::Approve(a) => approval(client, output, "override", &a.id, true),
        OverrideCommand::Reject(a) => approval(client, output, "override", &a.id, false),
    }
}

/// `GET /exceptions` or `/overrides`, optionally narrowed to a product (version).
fn list_decisions(
    client: &mut Client,
    output: Output,
    collection: &str,
    f: &DecisionListArgs,
) -> Result<()> {
    let path = client.org_path(&format!(
        "/{collection}{}",
        query(&[
            ("product", f.product.as_deref()),
            ("version", f.version.as_deref())
        ])
    ))?;
    let list = client.get(&path)?;
    emit(output, &list, decision_table)
}

/// Ends one exception (`revoked`) or override (`cleared`).
/// "exception 3 granted", or, when the org requires four eyes, that it waits.
fn granted(kind: &str, verb: &str, e: &Value) -> String {
    if e["approval"] == "pending" {
        format!(
            "{kind} {} recorded; it takes effect once a second admin or owner approves it (comply {kind} approve {})\n",
            text(&e["id"]),
            text(&e["id"])
        )
    } else {
        format!("{kind} {} {verb}\n", text(&e["id"]))
    }
}

fn approval(
    client: &mut Client,
    output: Output,
    kind: &str,
    id: &str,
    approve: bool,
) -> Result<()> {
    let verb = if approve { "approve" } else { "reject" };
    let path = client.org_path(&format!("/{kind}s/{id}/{verb}"))?;
    let answer = client.post(&path, &json!({}))?;
    emit(output, &answer, |e| {
        if approve {
            format!("{kind} {} approved: in effect from now\n", text(&e["id"]))
        } else {
            format!("{kind} {} rejected: it never took effect\n", text(&e["id"]))
        }
    })
}

fn end_decision(
    client: &mut Client,
    output: Output,
    kind: &str,
    id: &str,
    ended: &str,
) -> Result<()> {
    let path = client.org_path(&format!("/{kind}s/{id}"))?;
    let answer = client.delete(&path)?;
    emit(output, &answer, |e| {
        format!("{kind} {} {ended}\n", text(&e["id"]))
    })
}

/// Applicability is part of the Product document: `set` edits it and applies it, so
/// it is revisioned and audited like every other change to the product.
pub fn applicability(client: &mut Client, output: Output, cmd: ApplicabilityCommand) -> Result<()> {
    match cmd {
        ApplicabilityCommand::Set(a) => {
            let path = client.org_path(&format!("/products/{}", a.product))?;
            let mut doc = client.get(&path)?["document"].clone();
            if !doc["spec"]["applicability"].is_array() {
                doc["spec"]["applicability"] = json!([]);
            }
            let entries = doc["spec"]["applicability"]
                .as_array_mut()
                .expect("an array");
            entries.retain(|e| {
                !(e["requirement"] == json!(a.requirement)
                    && e["project"].as_str() == a.project.as_deref())
            });
            if a.not_applicable {
                let mut entry = json!({"requirement": a.requirement, "applicable": false});
                if let Some(p) = &a.project {
                    entry["project"] = json!(p);
                }
                if let Some(r) = &a.rationale {
                    entry["rationale"] = json!(r);
                }
                entries.push(entry);
            }
            let mut command = format!(
                "applicability set --product {} --requirement {}",
                a.product, a.requirement
            );
            if let Some(p) = &a.project {
                command.push_str(&format!(" --project {p}"));
            }
            command.push_str(if a.not_applicable {
                " --not-applicable"
            } else {
                " --applicable"
            });
            let change = super::product::Change::new("applicability.set", command);
            let results = super::product::apply_change(client, &doc, &change)?;
            emit(output, &results, |r| {
                let scope = a.project.as_deref().map_or_else(
                    || "the whole product".to_owned(),
                    |p| format!("project {p}"),
                );
                format!(
                    "{} is {} for {} of {} (Product/{} revision {})\n",
                    a.requirement,
                    if a.not_applicable {
                        "not applicable"
                    } else {
                        "applicable"
                    },
                    scope,
                    a.product,
                    a.product,
                    text(&r[0]["revision"])
                )
            })
        }
        ApplicabilityCommand::List(a) => {
            let path = client.org_path(&format!("/products/{}", a.product))?;
            let entries = client.get(&path)?["document"]["spec"]["applicability"].clone();
            let entries = if entries.is_array() {
                entries
            } else {
                json!([])
            };
            emit(output, &entries, |l| {
                table(
                    &["requirement", "subject", "applicable", "rationale"],
                    l.as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| {
                            vec![
                                text(&e["requirement"]),
                                e["project"]
                                    .as_str()
                                    .unwrap_or("(whole product)")
                                    .to_owned(),
                                text(&e["applicable"]),
                                e["rationale"].as_str().unwrap_or("-").to_owned(),
                            ]
                        })
                        .collect(),
                )
            })
        }
    }
}

pub fn history(client: &mut Client, output: Output, a: HistoryArgs) -> Result<()> {
    let path = client.org_path(&format!(
        "/products/{}/history{}",
        a.product,
        query(&[
            ("version", a.version.as_deref()),
            ("from", Some(&a.from)),
            ("to", Some(&a.to)),
        ])
    ))?;
    let answer = client.get(&path)?;
    emit(output, &answer, |h| {
        table(
            &["at", "score", "compliant", "passing", "counted"],
            h["points"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    vec![
                        text(&p["at"]),
                        score_text(&p["score"]),
                        if p["defined"] == Value::Bool(false) {
                            "not defined"
                        } else if p["compliant"] == Value::Bool(true) {
                            "yes"
                        } else {
                            "no"
                        }
                        .into(),
                        text(&p["passing"]),
                        text(&p["counted"]),
                    ]
                })
                .collect(),
        )
    })
}

//! What a policy says about its input: Chainloop's result contract (§12.1, §12.3).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub message: String,
    /// A structured finding (vulnerability, SAST, license violation), as the policy
    /// returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<Value>,
    /// Recorded but not counted toward gates or violation counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppress: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// The input was not understood. Not a pass.
    pub skipped: bool,
    pub skip_reasons: Vec<String>,
    /// The policy asked for its result to be dropped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore: bool,
}

impl Verdict {
    /// Reads a policy's `result` object.
    pub fn from_result(result: &Value) -> Result<Verdict, String> {
        let Value::Object(obj) = result else {
            return Err(format!("`result` must be an object, found {result}"));
        };
        let flag = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);
        let suppressed: Vec<&Value> = obj
            .get("suppressed_findings")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let findings = obj
            .get("findings")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty());
        let violations = match findings {
            Some(findings) => findings
                .iter()
                .map(|f| {
                    let mut v = violation(f)?;
                    v.suppress |= suppressed.contains(&f);
                    Ok(v)
                })
                .collect::<Result<Vec<_>, String>>()?,
            None => obj
                .get("violations")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(violation).collect::<Result<Vec<_>, String>>())
                .transpose()?
                .unwrap_or_default(),
        };
        let skipped = flag("skipped");
        let reason = obj.get("skip_reason").and_then(Value::as_str).unwrap_or("");
        Ok(Verdict {
            violations,
            skipped,
            skip_reasons: if skipped && !reason.is_empty() {
                vec![reason.to_owned()]
            } else {
                Vec::new()
            },
            ignore: flag("ignore"),
        })
    }

    /// Merges the verdicts of a policy's scripts: violations concatenated, skipped only
    /// if every script skipped; ignored scripts drop out. `None` when all ignored.
    pub fn merge(verdicts: Vec<Verdict>) -> Option<Verdict> {
        let kept: Vec<Verdict> = verdicts.into_iter().filter(|v| !v.ignore).collect();
        if kept.is_empty() {
            return None;
        }
        let skipped = kept.iter().all(|v| v.skipped);
        let mut merged = Verdict {
            skipped,
            ..Verdict::default()
        };
        for v in kept {
            merged.violations.extend(v.violations);
            if skipped {
                merged.skip_reasons.extend(v.skip_reasons);
            }
        }
        Some(merged)
    }

    /// Ran, understood its input, and found nothing unsuppressed.
    pub fn passed(&self) -> bool {
        !self.skipped && self.violations.iter().all(|v| v.suppress)
    }

    /// The output of `comply policy eval` (Chainloop's `policy develop eval`).
    pub fn to_eval_output(&self) -> Value {
        let messages: Vec<&str> = self.violations.iter().map(|v| v.message.as_str()).collect();
        let findings: Vec<&Value> = self
            .violations
            .iter()
            .filter_map(|v| v.finding.as_ref())
            .collect();
        json!({"result": {
            "violations": messages,
            "findings": findings,
            "skip_reasons": self.skip_reasons,
            "skipped": self.skipped,
        }})
    }
}

fn violation(v: &Value) -> Result<Violation, String> {
    match v {
        Value::String(s) => Ok(Violation {
            message: s.clone(),
            finding: None,
            suppress: false,
        }),
        Value::Object(o) => {
            let message = o
                .get("message")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a violation object needs a string `message`: {v}"))?;
            let suppress = o.get("suppress").and_then(Value::as_bool).unwrap_or(false);
            let has_fields = o.keys().any(|k| k != "message" && k != "suppress");
            Ok(Violation {
                message: message.to_owned(),
                finding: has_fields.then(|| v.clone()),
                suppress,
            })
        }
        other => Err(format!(
            "a violation must be a string or an object, found {other}"
        )),
    }
}

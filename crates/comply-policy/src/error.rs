use thiserror::Error;

#[derive(Debug, Error)]
pub enum PolicyError {
    /// The Rego module does not parse or compile. `line` and `column` are within the
    /// module, when the engine says where.
    #[error("policy '{policy}': {message}{}", location(*line, *column))]
    Compile {
        policy: String,
        message: String,
        line: Option<u32>,
        column: Option<u32>,
    },
    /// Evaluation failed: a builtin error, the time limit, a malformed result.
    #[error("policy '{policy}': evaluation failed: {message}")]
    Eval { policy: String, message: String },
    #[error("policy '{policy}': evaluation exceeded the time limit of {limit_ms} ms")]
    Timeout { policy: String, limit_ms: u64 },
}

fn location(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (Rego line {l}, column {c})"),
        _ => String::new(),
    }
}

/// Splits regorus's rendered error (`--> file.rego:4:1`, a snippet, `error: …`) into a
/// one-line message and a position.
pub(crate) fn compile_error(policy: &str, rendered: &str) -> PolicyError {
    let mut line = None;
    let mut column = None;
    let mut message = None;
    for text in rendered.lines().map(str::trim) {
        if let Some(rest) = text.strip_prefix("-->") {
            let mut parts = rest.trim().rsplitn(3, ':');
            column = parts.next().and_then(|c| c.parse().ok());
            line = parts.next().and_then(|l| l.parse().ok());
        } else if let Some(m) = text.strip_prefix("error:") {
            message = Some(m.trim().to_owned());
        }
    }
    PolicyError::Compile {
        policy: policy.to_owned(),
        message: message.unwrap_or_else(|| {
            rendered
                .trim()
                .lines()
                .last()
                .unwrap_or("invalid Rego")
                .to_owned()
        }),
        line,
        column,
    }
}

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PolicyError {
    /// The Rego module does not parse or compile.
    #[error("policy '{policy}': {message}")]
    Compile { policy: String, message: String },
    /// Evaluation failed: a builtin error, the time limit, a malformed result.
    #[error("policy '{policy}': evaluation failed: {message}")]
    Eval { policy: String, message: String },
    #[error("policy '{policy}': evaluation exceeded the time limit of {limit_ms} ms")]
    Timeout { policy: String, limit_ms: u64 },
}

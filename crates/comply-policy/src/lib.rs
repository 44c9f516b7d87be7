//! comply's policy engine: Chainloop-compatible Rego policies evaluated with regorus.
//!
//! Chainloop's contract (`shared/reference/chainloop-formats.md` §9–§12) is followed:
//! arguments are split the way Chainloop splits them, missing `result` rules are
//! injected, and the result carries violations, skip state and reasons.
//!
//! Evaluation is deterministic and sealed: `time.now_ns` returns the `now` the caller
//! passes, `http.send` and the other impure builtins fail, and every evaluation runs
//! under a time limit. The one exception is opt-in: [`Limits::network`] lets `http.send`
//! reach listed hosts (decision 0025).

mod boilerplate;
pub mod builtin;
mod error;
mod group;
mod input;
pub mod input_args;
pub mod material;
mod network;
mod policy;
mod script;
pub mod validate;
mod verdict;

pub use error::PolicyError;
pub use group::{GroupResult, evaluate_group};
pub use input::PreparedInput;
pub use material::Material;
pub use network::Network;
pub use policy::{
    CompiledPolicy, Evaluation, Outcome, engine_input, material_metadata, prepare_input,
};
pub use script::{AutoMatch, Limits, Script, Syntax, to_rego};
pub use verdict::{Verdict, Violation};

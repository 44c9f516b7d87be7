//! The engine input, converted once per material and only as far as a script reads it.
//!
//! A large material costs more to convert into regorus values than most policies cost
//! to evaluate. Two things keep that cost down without changing what any policy sees:
//!
//! - **Direct conversion.** Values are built straight from the material's JSON tree and
//!   from the normalized view's Rust types (through serde), without printing and
//!   re-parsing JSON text; object keys are shared, not allocated once per object.
//! - **Conversion on demand.** A script's module is scanned at compile time for the
//!   parts of `input` it can reach ([`Needs`]). When every reference to `input` names a
//!   top-level key (`input.bomFormat`, `input.comply.components`), only those keys are
//!   put in that script's input; any other use of `input` (`input[k]`, `walk(input)`,
//!   `object.keys(input)`, `with input as …`, `import input`) gives it everything. A
//!   key a script never names cannot influence its result, so each script sees exactly
//!   what it would see in the whole document. Converted keys are kept in a
//!   [`PreparedInput`] and shared by every script evaluated on the same material.
//!
//! `scan` finds what a module reads, `to_rego` converts values, `prepared` keeps the
//! converted keys of one material.

mod prepared;
mod scan;
mod to_rego;

pub use prepared::PreparedInput;
pub use scan::{Needs, scan};
pub use to_rego::json_to_rego;

/// Keys the evaluation itself sets: never taken from the document.
const RESERVED: [&str; 3] = ["comply", "chainloop_metadata", "args"];

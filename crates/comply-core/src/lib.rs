//! comply's domain, free of I/O.
//!
//! Invariants (see ARCHITECTURE.md): nothing in this crate reads the clock, touches the
//! file system or the network, or spawns tasks. Time arrives as a parameter; text
//! arrives as `&str` together with the name of the file it came from.

pub mod apply;
pub mod arguments;
pub mod audit;
pub mod compatibility;
pub mod coverage;
pub mod diagnostic;
pub mod digest;
pub mod material;
pub mod name;
pub mod periodicity;
pub mod reference;
pub mod resource;
pub mod role;
pub mod settings;
pub mod status;
pub mod suggest;
pub mod yaml;

pub use diagnostic::Diagnostic;
pub use resource::{Kind, Resource};
pub use role::Role;

//! Built-in policies: sbom (see the module list in main.rs).

#[allow(unused_imports)]
use crate::support::*;

//! Built-in policies: provenance (see the module list in main.rs).

#[allow(unused_imports)]
use crate::support::*;

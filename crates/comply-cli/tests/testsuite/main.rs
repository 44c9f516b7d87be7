//! The `comply` binary, run as users run it, against a real server.

mod browser;
mod builtins;
mod compliance;
mod coverage;
mod declarative;
mod evidence;
mod policy;
mod serve;
mod support;
mod tenancy;

//! The `comply` binary, run as users run it, against a real server.

mod builtins;
mod completion;
mod compliance;
mod coverage;
mod declarative;
mod evidence;
mod policy;
mod report;
mod serve;
mod support;
mod tenancy;

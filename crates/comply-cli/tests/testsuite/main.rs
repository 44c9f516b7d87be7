//! The `comply` binary, run as users run it, against a real server.

mod browser;
mod builtins;
mod chainloop;
mod completion;
mod compliance;
mod coverage;
mod crash;
mod declarative;
mod evidence;
mod hardening;
mod memory;
mod policy;
mod posture;
mod report;
mod serve;
mod support;
mod tenancy;
mod webhooks;

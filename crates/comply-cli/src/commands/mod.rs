mod apply;
mod attest;
mod audit;
mod completion;
mod compliance;
mod coverage;
mod deadlines;
mod evidence;
mod org;
mod policy;
mod product;
mod reference_data;
mod report;
mod resolve;
mod resources;
mod serve;
mod trust;
mod webhook;

use crate::cli::{Cli, Command};
use crate::client::Client;
use crate::error::Result;

pub fn run(cli: Cli) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Apply(args) => apply::run(&mut Client::from_global(&global)?, global.output, args),
        Command::Lint(args) => apply::lint(global.output, args),
        Command::Requirement(cmd) => {
            resources::requirement(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Framework(cmd) => {
            resources::framework(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Policy(cmd) => policy::run(&global, cmd),
        Command::PolicyGroup(cmd) => {
            resources::policy_group(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Contract(cmd) => {
            product::contract(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Product(cmd) => {
            product::product(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Key(cmd) => {
            if matches!(cmd, crate::cli::KeyCommand::Generate(_)) {
                evidence::key(None, global.output, cmd)
            } else {
                evidence::key(Some(&mut Client::from_global(&global)?), global.output, cmd)
            }
        }
        Command::Attestation(cmd) => {
            evidence::attestation(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Project(cmd) => {
            evidence::project(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Workflow(cmd) => {
            evidence::workflow(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Attest(cmd) => attest::run(&global, cmd),
        Command::Report(args) => report::run(&global, args),
        Command::Deadlines(args) => {
            deadlines::run(&mut Client::from_global(&global)?, global.output, args)
        }
        Command::Status(cmd) => match cmd.diff {
            Some(crate::cli::StatusSubcommand::Diff(args)) => {
                compliance::status_diff(&mut Client::from_global(&global)?, global.output, args)
            }
            None => compliance::status(&mut Client::from_global(&global)?, global.output, cmd.args),
        },
        Command::History(args) => {
            compliance::history(&mut Client::from_global(&global)?, global.output, args)
        }
        Command::Proof(cmd) => {
            compliance::proof(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Exception(cmd) => {
            compliance::exception(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Override(cmd) => {
            compliance::override_(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Applicability(cmd) => {
            compliance::applicability(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Org(cmd) => org::org(&mut Client::from_global(&global)?, global.output, cmd),
        Command::Token(cmd) => org::token(&mut Client::from_global(&global)?, global.output, cmd),
        Command::Webhook(cmd) => {
            webhook::run(&mut Client::from_global(&global)?, global.output, cmd)
        }
        Command::Audit(cmd) => audit::run(&mut Client::from_global(&global)?, global.output, cmd),
        Command::Completion(args) => completion::completion(args),
        Command::Manpage(args) => completion::manpages(args),
        Command::ReferenceData(cmd) => {
            reference_data::run(&mut Client::from_global(&global)?, global.output, cmd)
        }
    }
}

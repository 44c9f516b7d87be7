//! Shell completion scripts and man pages, generated from the same clap definition the
//! parser uses, so they can never disagree with the commands.

use crate::cli::{Cli, CompletionArgs, ManpageArgs};
use crate::error::{CliError, Result};
use clap::CommandFactory;

pub fn completion(args: CompletionArgs) -> Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "comply", &mut script);
    // Written in one piece so a closed pipe (`| head`) is an error, not a panic.
    std::io::Write::write_all(&mut std::io::stdout(), &script)
        .map_err(|e| CliError::failed(format!("cannot write the completion script: {e}")))
}

pub fn manpages(args: ManpageArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", args.out.display())))?;
    let written = write_pages(Cli::command(), &args.out, "comply")?;
    println!("{written} man pages written to {}", args.out.display());
    Ok(())
}

/// Writes `NAME.1` for `command` and, recursively, `NAME-SUB.1` for its subcommands.
fn write_pages(command: clap::Command, dir: &std::path::Path, name: &str) -> Result<usize> {
    let command = command
        .display_name(name.to_owned())
        .bin_name(name.replace('-', " "));
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(name)
        .render(&mut page)
        .map_err(|e| CliError::failed(format!("cannot render {name}.1: {e}")))?;
    std::fs::write(&path, page)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    let mut written = 1;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        written += write_pages(sub.clone(), dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(written)
}

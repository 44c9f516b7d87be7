//! `comply`: the server and its command-line client in one binary.

mod cli;
mod client;
mod commands;
mod config;
mod error;
mod memory;
mod output;

use clap::Parser;
use std::process::ExitCode;

/// The server's answers are built from many small allocations across threads, where
/// mimalloc is markedly faster than the system allocator (decision 0017).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.message);
            for detail in &err.details {
                for line in detail.lines() {
                    eprintln!("  {line}");
                }
            }
            ExitCode::from(err.code())
        }
    }
}

//! The `keylint` binary: parse arguments, run, map the result to an exit code.

use std::{io::Write, process::ExitCode};

use keylint::ExitStatus;

mod cli;
mod progress;

fn main() -> ExitCode {
    match cli::run() {
        Ok(status) => status.into(),
        Err(e) => {
            // Not eprintln!: it panics when stderr is a closed pipe.
            let _ = writeln!(std::io::stderr(), "keylint: error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

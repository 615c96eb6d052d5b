//! The `keylint` binary: parse arguments, run, map the result to an exit code.

use std::process::ExitCode;

use keylint::ExitStatus;

mod cli;
mod progress;

fn main() -> ExitCode {
    match cli::run() {
        Ok(status) => status.into(),
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("keylint: error: {e:#}");
            }
            ExitStatus::Error.into()
        }
    }
}

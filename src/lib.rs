//! keylint: a secret-scanning linter.
//!
//! It finds hard-coded API keys, private keys, tokens and passwords in files,
//! staged changes and git history, reports where each one is, and says how to
//! rotate it. The pipeline:
//!
//! ```text
//! rules/*.toml ─▶ RuleSet ─┐
//! source (fs | stdin | staged | history) ─▶ bytes ─▶ engine::Scanner ─▶ RawMatch
//!     ─▶ scan::Detector (locate, fingerprint, suppress) ─▶ Finding ─▶ report::write
//! ```

pub mod config;
pub mod engine;
pub mod finding;
pub mod hook;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;

pub use config::{ConfigError, ScanConfig};
pub use rules::LoadError;
pub use source::SourceError;

/// Anything that stops keylint from doing its job (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file is invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The project config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A source could not be opened at all.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The baseline is missing or malformed.
    #[error(transparent)]
    Baseline(#[from] suppress::baseline::BaselineError),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing found (exit 0).
    Clean,
    /// Findings reported (exit 1).
    Findings,
    /// keylint could not do its job (exit 2).
    Error,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(match s {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        })
    }
}

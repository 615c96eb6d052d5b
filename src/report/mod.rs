//! Reports: the findings of a run, rendered into any writer. Reporters never
//! print directly and never show a full secret unless asked.

pub mod github;
pub mod human;
pub mod json;
pub mod paths;
pub mod sarif;
pub mod scrub;

use std::{io::Write, str::FromStr};

use serde::Serialize;

pub use self::paths::PathBase;
use crate::{finding::Finding, rules::RuleSet, suppress::baseline::BaselineEntry};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped by file, with rotation advice; for people.
    Human,
    /// The JSON contract (`version: 1`).
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards (GitHub code scanning).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "human" => Format::Human,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            "sarif" => Format::Sarif,
            "github" => Format::Github,
            _ => return Err(format!("unknown format {s:?}")),
        })
    }
}

/// Counts of a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Files scanned.
    pub files: u64,
    /// Blobs scanned (files, stdin, staged or history blobs).
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Commits walked (history).
    pub commits: u64,
    /// Binary files or blobs skipped.
    pub skipped_binary: u64,
    /// Files or blobs over `--max-file-size` skipped.
    pub skipped_large: u64,
    /// Symlinks, special files, submodules and LFS pointers skipped.
    pub skipped_other: u64,
    /// Paths skipped by the config's path allowlist.
    pub skipped_allowlisted: u64,
    /// Findings hidden by inline markers.
    pub suppressed_inline: u64,
    /// Findings hidden by config allowlists.
    pub suppressed_allowlist: u64,
    /// Findings hidden by the baseline.
    pub suppressed_baseline: u64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

impl Stats {
    /// Adds another worker's counts.
    pub fn merge(&mut self, o: &Stats) {
        self.files += o.files;
        self.blobs += o.blobs;
        self.bytes += o.bytes;
        self.commits += o.commits;
        self.skipped_binary += o.skipped_binary;
        self.skipped_large += o.skipped_large;
        self.skipped_other += o.skipped_other;
        self.skipped_allowlisted += o.skipped_allowlisted;
        self.suppressed_inline += o.suppressed_inline;
        self.suppressed_allowlist += o.suppressed_allowlist;
        self.suppressed_baseline += o.suppressed_baseline;
    }
}

/// Something keylint could not read or do; the rest of the run went on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The path or object concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What happened (never contains a secret).
    pub message: String,
}

impl Warning {
    /// A warning about a path.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Warning { path: Some(path.into()), message: message.into() }
    }

    /// A warning about the run as a whole.
    pub fn general(message: impl Into<String>) -> Self {
        Warning { path: None, message: message.into() }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", printable(p), printable(&self.message)),
            None => f.write_str(&printable(&self.message)),
        }
    }
}

/// A suppression introduced by the scanned change.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct SuppressionChange {
    /// Repository-relative path.
    pub path: String,
    /// 1-based line of an inline marker (none for a config or baseline change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// `inline-marker`, `config` or `baseline`.
    pub kind: &'static str,
    /// The marker and what follows it on its line (never the text before it,
    /// which may hold the secret), or what changed.
    pub detail: String,
    /// The commit that added it (history ranges; none for staged changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Text from scanned content (file names, commit fields) made safe for a
/// terminal: control characters, such as the escape that starts a terminal
/// command, are shown escaped (`\u{1b}`) instead of being sent as they are.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect::<String>()
        .into()
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings, sorted by path, line, column, rule.
    pub findings: Vec<Finding>,
    /// Problems that did not stop the run.
    pub warnings: Vec<Warning>,
    /// Counts.
    pub stats: Stats,
    /// Whether findings come from git history (changes the rotation advice).
    pub history: bool,
    /// Baseline entries that matched no finding (see `suppress::baseline`).
    pub stale_baseline: Vec<BaselineEntry>,
    /// Suppressions the scanned change adds (staged and incremental history
    /// scans): inline markers on
    /// added lines, and changes to `.keylint.toml` or a baseline. Not
    /// failures: listed so a reviewer sees a key being waved through.
    pub suppressions_added: Vec<SuppressionChange>,
    /// Whether findings come from staged changes (the human report then says
    /// how to get the commit through).
    pub staged: bool,
}

impl Report {
    /// Sorts findings and warnings so output never depends on thread count.
    pub fn sort(&mut self) {
        // The origin and fingerprint break ties between paths that display
        // alike (names that are not UTF-8), so the order is total.
        self.findings.sort_by(|a, b| {
            a.sort_key()
                .cmp(&b.sort_key())
                .then_with(|| a.origin.cmp(&b.origin))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        self.warnings.sort();
        self.warnings.dedup();
        self.suppressions_added.sort();
    }
}

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    /// Print full secrets (never in SARIF or annotations, which end up in
    /// dashboards and CI logs).
    pub show_secrets: bool,
    /// Use ANSI colour.
    pub color: bool,
    /// What working-tree paths are made relative to in SARIF and annotations
    /// (`None`: shown as in the other formats).
    pub base: Option<PathBase<'a>>,
}

/// Renders a report.
pub fn write(
    format: Format,
    report: &Report,
    rules: &RuleSet,
    opts: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::write(report, rules, opts, out),
        Format::Json => json::write(report, rules, opts, out),
        Format::Jsonl => json::write_lines(report, rules, opts, out),
        Format::Sarif => sarif::write(report, rules, opts, out),
        Format::Github => github::write(report, rules, opts, out),
    }
}

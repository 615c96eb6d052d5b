//! Baselines: a file of findings a team has accepted (`keylint baseline`
//! writes it; `--baseline FILE` applies it), so old findings do not fail new
//! builds while new ones still do.
//!
//! An entry is a fingerprint (a hash of the rule id and the secret, see
//! `Fingerprint`), with the rule id and the paths for the people reviewing the
//! file. No line numbers, no timestamps and no secret: an entry survives
//! edits, moves, renames, rebases and squashes, and the file is sorted and
//! written one entry per line, so two branches that each add an entry merge
//! cleanly. Applying a baseline is a function over a `Report`, so every
//! scanning command (`scan`, `history`, `staged`) applies it the same way.
//! This module performs no I/O except `Baseline::load`.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{
    finding::{Finding, Fingerprint},
    report::{Report, Warning},
    rules::load::line_of,
};

/// Where `keylint baseline` writes by default (relative to the working directory).
pub const DEFAULT_BASELINE_FILE: &str = ".keylint-baseline.json";

/// The baseline format this keylint reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// The finding's fingerprint (`sha256:` and 64 hex digits).
    pub fingerprint: String,
    /// The rule that reported it (for people; the fingerprint already covers it).
    pub rule_id: String,
    /// Where it was when accepted, `/`-separated (for people; never matched).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    entries: Vec<BaselineEntry>,
}

/// A baseline file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read (missing, unreadable).
    #[error("{path}: cannot read baseline: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or not the shape of a keylint baseline.
    #[error("{path}:{line}: not a keylint baseline: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A baseline written by a newer (or older) keylint.
    #[error(
        "{path}: baseline version {version} is not supported (this keylint reads version {BASELINE_VERSION})"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        version: u32,
    },
}

/// Accepted fingerprints, each with its rule id and paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<String, BaselineEntry>,
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| BaselineError::Io { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    /// Parses and checks baseline text (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, BaselineError> {
        let malformed = |line: usize, message: String| BaselineError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            // serde_json appends " at line L column C"; the line is given in front.
            let message = match message.rfind(" at line ") {
                Some(at) => message[..at].to_string(),
                None => message,
            };
            malformed(e.line().max(1), message)
        })?;
        if file.version != BASELINE_VERSION {
            return Err(BaselineError::Version { path: path.to_path_buf(), version: file.version });
        }
        let mut entries = BTreeMap::new();
        for e in file.entries {
            if !is_fingerprint(&e.fingerprint) {
                let line = text.find(&e.fingerprint).map_or(1, |o| line_of(text, o));
                return Err(malformed(
                    line,
                    format!("fingerprint {:?} is not sha256: and 64 hex digits", e.fingerprint),
                ));
            }
            // The same fingerprint twice (a merge that kept both sides) is one entry.
            entries
                .entry(e.fingerprint.clone())
                .and_modify(|old: &mut BaselineEntry| old.paths.extend(e.paths.iter().cloned()))
                .or_insert(e);
        }
        let mut b = Baseline { entries };
        b.tidy();
        Ok(b)
    }

    /// Whether `text` is a keylint baseline (which `keylint baseline` may rewrite).
    pub fn is_baseline(text: &str) -> bool {
        Self::parse(Path::new(""), text).is_ok()
    }

    /// The baseline accepting every finding of a report; `path_of` gives the
    /// path recorded for a finding (relative to the baseline, for people).
    pub fn from_report(report: &Report, path_of: impl Fn(&Finding) -> String) -> Self {
        let mut entries: BTreeMap<String, BaselineEntry> = BTreeMap::new();
        for f in &report.findings {
            let entry = entries.entry(f.fingerprint.0.clone()).or_insert_with(|| BaselineEntry {
                fingerprint: f.fingerprint.0.clone(),
                rule_id: f.rule_id.clone(),
                paths: Vec::new(),
            });
            entry.paths.push(path_of(f));
        }
        let mut b = Baseline { entries };
        b.tidy();
        b
    }

    fn tidy(&mut self) {
        for e in self.entries.values_mut() {
            let paths: BTreeSet<String> = e.paths.drain(..).collect();
            e.paths = paths.into_iter().collect();
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, sorted by fingerprint.
    pub fn entries(&self) -> impl Iterator<Item = &BaselineEntry> {
        self.entries.values()
    }

    /// Whether the baseline accepts this fingerprint.
    pub fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.entries.contains_key(&fingerprint.0)
    }

    /// The file's text: sorted, stable, one entry per line, so that two
    /// branches adding entries merge cleanly and rewriting an unchanged
    /// baseline changes nothing.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\n  \"version\": {BASELINE_VERSION},\n  \"entries\": [");
        let mut first = true;
        for e in self.entries.values() {
            out.push_str(if first { "\n    " } else { ",\n    " });
            first = false;
            out.push_str(&serde_json::to_string(e).expect("a baseline entry serializes"));
        }
        out.push_str(if first { "]\n}\n" } else { "\n  ]\n}\n" });
        out
    }

    /// Removes the findings this baseline accepts from `report` (counted in
    /// `stats.suppressed_baseline`) and returns the entries that matched no
    /// finding, sorted. `staged` scans (which see a few files) use this
    /// directly; full scans use `apply`, which also reports the stale entries.
    pub fn hide(&self, report: &mut Report) -> Vec<BaselineEntry> {
        let found: HashSet<&str> =
            report.findings.iter().map(|f| f.fingerprint.0.as_str()).collect();
        let stale: Vec<BaselineEntry> = self
            .entries
            .values()
            .filter(|e| !found.contains(e.fingerprint.as_str()))
            .cloned()
            .collect();
        let before = report.findings.len();
        report.findings.retain(|f| !self.contains(&f.fingerprint));
        report.stats.suppressed_baseline += (before - report.findings.len()) as u64;
        stale
    }

    /// `hide`, then lists the stale entries in the report (`stale_baseline`)
    /// with one warning naming the baseline (`name`) and how to prune it.
    pub fn apply(&self, report: &mut Report, name: &str) {
        let stale = self.hide(report);
        if !stale.is_empty() {
            let n = stale.len();
            report.warnings.push(Warning::at(
                name,
                format!(
                    "{n} stale baseline {} no finding (fixed or removed); prune with `keylint baseline`",
                    if n == 1 { "entry matches" } else { "entries match" }
                ),
            ));
            report.warnings.sort();
            report.stale_baseline = stale;
        }
    }
}

fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const FP2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn parse(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::parse(Path::new("b.json"), text)
    }

    #[test]
    fn text_is_sorted_stable_and_round_trips() {
        let text = format!(
            "{{\"version\":1,\"entries\":[{{\"fingerprint\":\"{FP2}\",\"rule_id\":\"r2\",\"paths\":[\"b\",\"a\"]}},\
             {{\"fingerprint\":\"{FP1}\",\"rule_id\":\"r1\",\"paths\":[\"x\"]}},\
             {{\"fingerprint\":\"{FP1}\",\"rule_id\":\"r1\",\"paths\":[\"x\",\"y\"]}}]}}"
        );
        let b = parse(&text).unwrap();
        assert_eq!(b.len(), 2);
        let out = b.to_json();
        assert_eq!(
            out,
            format!(
                "{{\n  \"version\": 1,\n  \"entries\": [\n    \
                 {{\"fingerprint\":\"{FP1}\",\"rule_id\":\"r1\",\"paths\":[\"x\",\"y\"]}},\n    \
                 {{\"fingerprint\":\"{FP2}\",\"rule_id\":\"r2\",\"paths\":[\"a\",\"b\"]}}\n  ]\n}}\n"
            )
        );
        assert_eq!(parse(&out).unwrap(), b);
        assert_eq!(Baseline::default().to_json(), "{\n  \"version\": 1,\n  \"entries\": []\n}\n");
        assert!(Baseline::is_baseline(&Baseline::default().to_json()));
    }

    #[test]
    fn malformed_baselines_name_the_problem() {
        let e = parse("{\"version\": 1,\n \"entries\": [\n {\"fingerprint\": 3}]}").unwrap_err();
        assert!(e.to_string().starts_with("b.json:3: not a keylint baseline: invalid type"), "{e}");
        let e = parse("{\"version\": 2, \"entries\": []}").unwrap_err();
        assert!(e.to_string().contains("baseline version 2 is not supported"), "{e}");
        let e = parse("{\"version\": 1, \"entries\": [\n{\"fingerprint\": \"sha256:xyz\", \"rule_id\": \"r\"}]}")
            .unwrap_err();
        assert!(e.to_string().starts_with("b.json:2: not a keylint baseline: fingerprint"), "{e}");
        assert!(!Baseline::is_baseline("{\"version\": 1, \"findings\": []}"));
        assert!(!Baseline::is_baseline("password=hunter2"));
    }
}

//! Orchestration: sources → engine (on worker threads) → findings → report.
//!
//! `Detector` turns one blob's bytes into findings (engine, location,
//! suppression); `run` drives it over the filesystem or stdin.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
    time::Instant,
};

use crate::{
    config::{ProjectConfig, ScanConfig},
    engine::{MAX_MATCHES_PER_BLOB, Scanner, lines::LineIndex},
    finding::{Finding, Fingerprint, Location, Secret, Snippet},
    report::{Report, Stats, Warning},
    rules::{Confidence, RuleSet},
    source::{self, Origin},
    suppress::inline,
};

/// Widest text shown on either side of a secret in the human report.
const SNIPPET_WIDTH: usize = 60;

/// Everything needed to turn blobs into findings, shared by all workers.
pub struct Detector<'a> {
    /// The rules.
    pub rules: &'a RuleSet,
    /// The project config (allowlists).
    pub project: &'a ProjectConfig,
    /// Lowest confidence reported.
    pub min_confidence: Confidence,
    /// Honour inline markers.
    pub inline_allow: bool,
    root: Option<PathBuf>,
}

/// Per-worker counts and warnings.
#[derive(Default)]
pub struct Tally {
    /// Counts.
    pub stats: Stats,
    /// Problems.
    pub warnings: Vec<Warning>,
}

impl<'a> Detector<'a> {
    /// A detector.
    pub fn new(
        rules: &'a RuleSet,
        project: &'a ProjectConfig,
        min_confidence: Confidence,
        inline_allow: bool,
    ) -> Self {
        let root = project.root().and_then(|r| std::fs::canonicalize(r).ok());
        Detector { rules, project, min_confidence, inline_allow, root }
    }

    /// A scanner for one worker.
    pub fn scanner(&self) -> Scanner<'a> {
        Scanner::new(self.rules).min_confidence(self.min_confidence)
    }

    /// Whether a working-tree path is excluded by the config's path allowlist.
    pub fn fs_path_allowed(&self, path: &Path) -> bool {
        let (Some(root), Some(_)) = (&self.root, &self.project.paths) else { return false };
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            match std::env::current_dir().and_then(std::fs::canonicalize) {
                Ok(cwd) => cwd.join(path),
                Err(_) => return false,
            }
        };
        let abs: PathBuf = abs.components().collect();
        abs.strip_prefix(root).is_ok_and(|rel| self.project.path_allowed(rel))
    }

    /// Whether a repository-relative path is excluded by the path allowlist.
    pub fn repo_path_allowed(&self, path: &Path) -> bool {
        self.project.path_allowed(path)
    }

    /// The findings of one blob (UTF-16 with a BOM is decoded first).
    pub fn findings(
        &self,
        scanner: &mut Scanner<'_>,
        origin: &Origin,
        bytes: &[u8],
        tally: &mut Tally,
    ) -> Vec<Finding> {
        let decoded;
        let bytes = match source::decode_utf16(bytes) {
            Some(d) => {
                decoded = d;
                &decoded[..]
            }
            None => bytes,
        };
        let matches = scanner.scan(bytes);
        if matches.truncated {
            tally.warnings.push(Warning::at(
                origin.display_path(),
                format!("more than {MAX_MATCHES_PER_BLOB} matches; the rest of this file was not reported"),
            ));
        }
        if matches.list.is_empty() {
            return Vec::new();
        }
        let index = LineIndex::new(bytes);
        let is_rule = |id: &str| self.rules.get(id).is_some();
        let mut out = Vec::with_capacity(matches.list.len());
        for m in matches.list {
            let rule = &self.rules.rules[m.rule];
            let secret = m.secret_bytes(bytes);
            if self.project.secret_allowed(secret) {
                tally.stats.suppressed_allowlist += 1;
                continue;
            }
            let loc = m.location();
            let (line, column) = index.locate(loc.start);
            let (end_line, end_column) = index.locate(loc.end.saturating_sub(1).max(loc.start));
            let line_span = index.line_span(bytes, line);
            if self.inline_allow {
                let rel = loc.start - line_span.start
                    ..loc.end.min(line_span.end).max(loc.start) - line_span.start;
                let previous = (line > 1).then(|| &bytes[index.line_span(bytes, line - 1)]);
                if inline::is_allowed(&bytes[line_span.clone()], rel, previous, &rule.id, &is_rule)
                {
                    tally.stats.suppressed_inline += 1;
                    continue;
                }
            }
            let before = &bytes[line_span.start..loc.start.min(line_span.end)];
            let after =
                if loc.end <= line_span.end { &bytes[loc.end..line_span.end] } else { &[][..] };
            out.push(Finding {
                rule: m.rule,
                rule_id: rule.id.clone(),
                origin: origin.clone(),
                location: Location { line, column, end_line, end_column },
                secret: Secret::new(secret),
                fingerprint: Fingerprint::new(&rule.id, secret),
                confidence: m.confidence,
                validated: m.validated,
                decoded: m.decoded_secret.is_some(),
                snippet: Snippet {
                    before: tail(before, SNIPPET_WIDTH),
                    after: head(after, SNIPPET_WIDTH),
                },
            });
        }
        out
    }
}

fn clean(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

fn tail(bytes: &[u8], width: usize) -> String {
    let s = clean(bytes);
    let n = s.chars().count();
    if n <= width { s } else { format!("…{}", s.chars().skip(n - width).collect::<String>()) }
}

fn head(bytes: &[u8], width: usize) -> String {
    let s = clean(bytes);
    if s.chars().count() <= width {
        s
    } else {
        format!("{}…", s.chars().take(width).collect::<String>())
    }
}

/// Scans files and directories (and `-` for stdin) as `keylint scan` does.
pub fn scan_paths(cfg: &ScanConfig, detector: &Detector<'_>) -> Report {
    let start = Instant::now();
    let findings = Mutex::new(Vec::new());
    let total = Mutex::new(Tally::default());
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        cfg.paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut tally = Tally::default();
        match source::stdin::read_stdin() {
            Ok(blob) => {
                let mut scanner = detector.scanner();
                tally.stats.blobs += 1;
                tally.stats.bytes += blob.bytes.len() as u64;
                let f = detector.findings(&mut scanner, &blob.origin, &blob.bytes, &mut tally);
                lock(&findings).extend(f);
            }
            Err(e) => tally.warnings.push(Warning::general(e.to_string())),
        }
        merge(&total, tally);
    }
    if !paths.is_empty() {
        let owned: Vec<PathBuf> = paths.into_iter().cloned().collect();
        source::fs::walk(&owned, cfg, detector, |found, tally| {
            if !found.is_empty() {
                lock(&findings).extend(found);
            }
            if let Some(t) = tally {
                merge(&total, t);
            }
        });
    }
    let total = total.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut report = Report {
        findings: findings.into_inner().unwrap_or_else(|e| e.into_inner()),
        warnings: total.warnings,
        stats: total.stats,
        ..Default::default()
    };
    report.stats.duration_ms = start.elapsed().as_millis() as u64;
    report.sort();
    report
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn merge(total: &Mutex<Tally>, t: Tally) {
    let mut g = lock(total);
    g.stats.merge(&t.stats);
    g.warnings.extend(t.warnings);
}

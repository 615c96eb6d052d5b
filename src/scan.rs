//! Orchestration: sources → engine (on worker threads) → findings → report.
//!
//! `Detector` turns one blob's bytes into findings (engine, location,
//! suppression); `run` drives it over the filesystem or stdin.

use std::{
    collections::BTreeMap,
    ops::Range,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Instant,
};

use crate::{
    config::{ProjectConfig, ScanConfig},
    engine::{
        MAX_MATCHES_PER_BLOB, RawMatch, Scanner,
        lines::{LineIndex, Utf16Columns, utf16_len},
    },
    finding::{Finding, Fingerprint, Location, Secret, Snippet},
    report::{Report, Stats, Warning, paths::normalize},
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
    /// The working directory (canonical), read once rather than per file.
    cwd: Option<PathBuf>,
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
        let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
        Detector { rules, project, min_confidence, inline_allow, root, cwd }
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
            match &self.cwd {
                Some(cwd) => cwd.join(path),
                None => return false,
            }
        };
        // Lexically, so `../docs/a.md` scanned from a subdirectory matches `/docs/a.md`.
        let abs = normalize(&abs);
        abs.strip_prefix(root).is_ok_and(|rel| self.project.path_allowed(rel))
    }

    /// When the blob is the project config itself, the name its `[[rule]]`s
    /// were loaded under (their `source.file`): those rules must not report
    /// their own examples there. Staged and history paths are compared with
    /// a config at the repository root.
    fn project_rules_file(&self, origin: &Origin) -> Option<String> {
        let config = self.project.path.as_ref()?;
        if self.project.spec.rules.is_empty() {
            return None;
        }
        let name = config.file_name()?;
        let is_config = match origin {
            Origin::File { path } => {
                let abs =
                    if path.is_absolute() { path.clone() } else { self.cwd.as_ref()?.join(path) };
                self.root.as_ref().is_some_and(|r| normalize(&abs) == r.join(name))
            }
            Origin::Staged { path } | Origin::Commit { path, .. } => path.as_os_str() == name,
            Origin::Stdin => false,
        };
        is_config.then(|| config.display().to_string())
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
        // Every match's location, so that no snippet shows another secret of
        // the same line.
        let spans: Vec<Range<usize>> = matches.list.iter().map(RawMatch::location).collect();
        let mut marked_lines: BTreeMap<usize, bool> = BTreeMap::new();
        let mut line_marked = |n: usize| {
            *marked_lines
                .entry(n)
                .or_insert_with(|| inline::has_marker(&bytes[index.line_span(bytes, n)]))
        };
        let mut out = Vec::with_capacity(matches.list.len());
        let mut utf16 = Utf16Columns::default();
        let own_rules = self.project_rules_file(origin);
        for m in matches.list {
            let rule = &self.rules.rules[m.rule];
            // The config's own rules would report their examples in it.
            if own_rules.as_deref() == Some(rule.source.file.as_str()) {
                continue;
            }
            let secret = m.secret_bytes(bytes);
            if self.project.secret_allowed(secret) {
                tally.stats.suppressed_allowlist += 1;
                continue;
            }
            let loc = m.location();
            let (line, column) = index.locate(loc.start);
            let (end_line, end_column) = index.locate(loc.end.saturating_sub(1).max(loc.start));
            let line_span = index.line_span(bytes, line);
            if self.inline_allow && (line_marked(line) || line > 1 && line_marked(line - 1)) {
                let rel = loc.start - line_span.start
                    ..loc.end.min(line_span.end).max(loc.start) - line_span.start;
                let previous = (line > 1).then(|| &bytes[index.line_span(bytes, line - 1)]);
                if inline::is_allowed(&bytes[line_span.clone()], rel, previous, &rule.id, &is_rule)
                {
                    tally.stats.suppressed_inline += 1;
                    continue;
                }
            }
            let utf16_column = utf16.column(bytes, line_span.start, loc.start);
            let utf16_end_column = if end_line == line {
                utf16_column + utf16_len(&bytes[loc.clone()])
            } else {
                let end_start = index.line_span(bytes, end_line).start;
                utf16_len(&bytes[end_start..loc.end]) + 1
            };
            let before_start = line_span.start.max(loc.start.saturating_sub(SNIPPET_BYTES));
            let before = masked(bytes, before_start..loc.start.min(line_span.end), &spans);
            let after = if loc.end <= line_span.end {
                masked(bytes, loc.end..line_span.end.min(loc.end + SNIPPET_BYTES), &spans)
            } else {
                Vec::new()
            };
            out.push(Finding {
                rule: m.rule,
                rule_id: rule.id.clone(),
                origin: origin.clone(),
                location: Location {
                    line,
                    column,
                    end_line,
                    end_column,
                    utf16_column,
                    utf16_end_column,
                },
                secret: Secret::new(secret),
                fingerprint: Fingerprint::new(&rule.id, secret),
                confidence: m.confidence,
                validated: m.validated,
                decoded: m.decoded_secret.is_some(),
                snippet: Snippet {
                    before: tail(&before, SNIPPET_WIDTH),
                    after: head(&after, SNIPPET_WIDTH),
                },
            });
        }
        out
    }
}

/// Bytes of a snippet side decoded at most: enough for `SNIPPET_WIDTH`
/// characters of any width, and the "…" that says the line goes on.
const SNIPPET_BYTES: usize = 4 * SNIPPET_WIDTH + 4;

/// `bytes[range]` with every byte inside one of `spans` (other matches)
/// replaced by `*`.
fn masked(bytes: &[u8], range: Range<usize>, spans: &[Range<usize>]) -> Vec<u8> {
    let mut out = bytes[range.clone()].to_vec();
    for s in spans {
        let (start, end) = (s.start.max(range.start), s.end.min(range.end));
        if start < end {
            out[start - range.start..end - range.start].fill(b'*');
        }
    }
    out
}

fn clean(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

/// Bytes enough for `width` characters and one more (a UTF-8 character is at
/// most 4 bytes): a snippet then costs O(width), not O(line), for each of the
/// many findings a long minified line can hold.
fn window(width: usize) -> usize {
    width * 4 + 4
}

fn tail(bytes: &[u8], width: usize) -> String {
    let s = clean(&bytes[bytes.len().saturating_sub(window(width))..]);
    let n = s.chars().count();
    if n <= width { s } else { format!("…{}", s.chars().skip(n - width).collect::<String>()) }
}

fn head(bytes: &[u8], width: usize) -> String {
    let s = clean(&bytes[..bytes.len().min(window(width))]);
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
        match source::stdin::read_stdin(cfg.max_file_size) {
            Ok(None) => {
                tally.stats.skipped_large += 1;
                tally.warnings.push(Warning::at(
                    "-",
                    format!("skipped: over --max-file-size ({})", cfg.max_file_size),
                ));
            }
            Ok(Some(blob)) if source::is_binary(&blob.bytes) => {
                tally.stats.skipped_binary += 1;
            }
            Ok(Some(blob)) => {
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
        ..Report::default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_bounded_and_cut_at_characters() {
        let long = "é".repeat(1000);
        assert_eq!(tail(long.as_bytes(), 3), "…ééé");
        assert_eq!(head(long.as_bytes(), 3), "ééé…");
        assert_eq!(tail(b"ab", 3), "ab");
        assert_eq!(head(b"abcd", 3), "abc…");
        let mixed = format!("{}x😀", "a".repeat(500));
        assert_eq!(tail(mixed.as_bytes(), 2), "…x😀");
    }
}

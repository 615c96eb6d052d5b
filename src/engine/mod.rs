//! The engine: a `RuleSet` and bytes in, matches out.
//!
//! This module performs no I/O: no paths, no git, no printing. It takes a byte
//! slice (any encoding, not necessarily UTF-8) and returns byte ranges, like a
//! regex matcher. One `Scanner` per worker thread holds the scratch state; the
//! `RuleSet` is shared.

pub mod decode;
pub mod entropy;
pub mod lines;
pub mod placeholder;
pub mod prefilter;
#[cfg(test)]
mod props;
pub mod validate;

use std::{collections::BTreeMap, ops::Range};

use crate::rules::{Confidence, LineSpan, Rule, RuleSet};

/// Most matches kept from one blob; past it the blob's output is capped and noted.
pub const MAX_MATCHES_PER_BLOB: usize = 1000;

/// One match of one rule in a blob. Ranges are half-open byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Index of the rule in `RuleSet::rules`.
    pub rule: usize,
    /// The whole regex match.
    pub span: Range<usize>,
    /// The secret (within `span`, or within the decoded text when `decoded`).
    pub secret: Range<usize>,
    /// Confidence after context adjustments.
    pub confidence: Confidence,
    /// The validator the secret passed, if the rule has one.
    pub validated: Option<&'static str>,
    /// Whether the rule's context was found around the match.
    pub in_context: bool,
    /// Set when the secret was found inside a base64 run: `span` is then the
    /// run in the blob, and the secret's text is in `decoded_secret`.
    pub decoded_secret: Option<Vec<u8>>,
}

impl RawMatch {
    /// The secret's bytes.
    pub fn secret_bytes<'a>(&'a self, blob: &'a [u8]) -> &'a [u8] {
        match &self.decoded_secret {
            Some(s) => s,
            None => &blob[self.secret.clone()],
        }
    }

    /// Where the finding is reported in the blob.
    pub fn location(&self) -> Range<usize> {
        if self.decoded_secret.is_some() { self.span.clone() } else { self.secret.clone() }
    }
}

/// The matches of one blob.
#[derive(Debug, Default)]
pub struct Matches {
    /// Matches sorted by location, overlaps resolved.
    pub list: Vec<RawMatch>,
    /// Whether `MAX_MATCHES_PER_BLOB` cut the list short.
    pub truncated: bool,
}

/// Per-thread scanning state over a shared `RuleSet`.
pub struct Scanner<'r> {
    rules: &'r RuleSet,
    min_confidence: Confidence,
    decode: bool,
    hits: Vec<prefilter::Hit>,
    /// Per rule, its keyword hits in the current blob (indices into `hits`).
    rule_hits: Vec<Vec<u32>>,
    /// For each hit, its line: start offset and the offset of the newline
    /// ending it (or the blob's length).
    hit_lines: Vec<(usize, usize)>,
    candidates: Vec<usize>,
    windows: Vec<Range<usize>>,
}

impl<'r> Scanner<'r> {
    /// A scanner reporting matches of every confidence.
    pub fn new(rules: &'r RuleSet) -> Self {
        Scanner {
            rules,
            min_confidence: Confidence::Low,
            decode: true,
            hits: Vec::new(),
            rule_hits: vec![Vec::new(); rules.rules.len()],
            hit_lines: Vec::new(),
            candidates: Vec::new(),
            windows: Vec::new(),
        }
    }

    /// Drops matches below `min`; rules that cannot reach it are not run at all.
    pub fn min_confidence(mut self, min: Confidence) -> Self {
        self.min_confidence = min;
        self
    }

    /// Whether base64 runs are decoded and scanned inside (on by default).
    pub fn decode_base64(mut self, yes: bool) -> Self {
        self.decode = yes;
        self
    }

    /// Scans one blob.
    pub fn scan(&mut self, bytes: &[u8]) -> Matches {
        let mut found = Vec::new();
        let mut truncated = self.scan_into(bytes, &mut found);
        if self.decode && !truncated {
            let windows = self.decode_windows(bytes);
            truncated = decode::scan_base64_runs(self, bytes, &windows, &mut found);
        }
        Matches { list: resolve_overlaps(found), truncated }
    }

    /// Where base64 is decoded: around each decode hint, the lines before
    /// and after its line (`"auth": "…"`, `Authorization: Basic …`), and
    /// for a block hint from its line to `DECODE_REACH` bytes after it (a
    /// Kubernetes `data:` block lists its values on the lines below).
    fn decode_windows(&self, bytes: &[u8]) -> Vec<Range<usize>> {
        let mut windows = Vec::new();
        // The line of the last hint used (its newline, from `hit_lines`): a
        // later hint on that line gives the same window (many hints on one
        // long line must not each search that line again).
        let mut last_line = None;
        for (h, &(line_start, nl)) in self.hits.iter().zip(&self.hit_lines) {
            let end_nl = match self.rules.prefilter.hint(h.keyword) {
                prefilter::Hint::No => continue,
                prefilter::Hint::Line if last_line == Some(nl) => continue,
                prefilter::Hint::Line => nl,
                prefilter::Hint::Block => {
                    let end = (h.start + DECODE_REACH).min(bytes.len());
                    memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |p| end + p)
                }
            };
            if windows.last().is_some_and(|w: &Range<usize>| h.start + DECODE_REACH / 2 < w.end) {
                continue;
            }
            last_line = Some(nl);
            let w = lines::start_before(bytes, line_start, 1)..lines::end_after(bytes, end_nl, 1);
            push_merged(&mut windows, w);
        }
        windows
    }

    /// Every match of every rule, before overlaps are resolved and without
    /// decoding base64 (for rule checks).
    pub fn scan_raw(&mut self, bytes: &[u8]) -> Vec<RawMatch> {
        let mut found = Vec::new();
        self.scan_into(bytes, &mut found);
        found
    }

    /// Runs the rules over `bytes`, appending matches; true when the cap was hit.
    fn scan_into(&mut self, bytes: &[u8], found: &mut Vec<RawMatch>) -> bool {
        // Cleared first: `decode_windows` reads the hits of this blob.
        self.hits.clear();
        self.hit_lines.clear();
        if bytes.is_empty() {
            return false;
        }
        self.rules.prefilter.hits(bytes, &mut self.hits);
        if self.hits.is_empty() {
            return false;
        }
        // The line of each hit, found once (hits are in offset order, so
        // each byte is searched for newlines about once in all).
        let mut line = (0, 0);
        let mut known = false;
        for h in &self.hits {
            if !(known && h.start <= line.1) {
                let from = if known { line.1 + 1 } else { 0 };
                let start =
                    memchr::memrchr(b'\n', &bytes[from..h.start]).map_or(from, |p| from + p + 1);
                let end =
                    memchr::memchr(b'\n', &bytes[h.start..]).map_or(bytes.len(), |p| h.start + p);
                line = (start, end);
                known = true;
            }
            self.hit_lines.push(line);
        }
        // Each candidate rule's hits, in offset order.
        self.candidates.clear();
        for (ix, h) in self.hits.iter().enumerate() {
            for &r in self.rules.prefilter.rules_of(h.keyword) {
                let hits = &mut self.rule_hits[r];
                if hits.is_empty() {
                    self.candidates.push(r);
                }
                hits.push(ix as u32);
            }
        }
        self.candidates.sort_unstable();
        let mut capped = false;
        for i in 0..self.candidates.len() {
            let index = self.candidates[i];
            let hits = std::mem::take(&mut self.rule_hits[index]);
            let rule = &self.rules.rules[index];
            if !capped && rule.confidence >= self.min_confidence {
                self.windows_for(rule, &hits, bytes);
                capped = match_rule(rule, index, bytes, &self.windows, self.min_confidence, found);
            }
            // Kept for its allocation; emptied so the next blob starts clean.
            self.rule_hits[index] = hits;
            self.rule_hits[index].clear();
        }
        capped
    }

    /// The parts of `bytes` where `rule` runs, into `self.windows`: the lines
    /// within its reach of each of its keyword hits. The reach is the rule's
    /// context lines (0 without a context); a pattern that can match a
    /// newline also reaches one more line back and `MULTILINE_REACH` bytes
    /// forward. A pattern that can hold a newline only as its first or last
    /// byte (a delimiter) runs on its lines plus the newline before them.
    /// Windows start at line starts (or that newline) and end after a newline
    /// (or at the end of the blob), so `\b` behaves as on the whole blob.
    fn windows_for(&mut self, rule: &Rule, hits: &[u32], bytes: &[u8]) {
        self.windows.clear();
        let reach = rule.context.as_ref().map_or(0, |c| c.lines);
        let span = rule.line_span();
        let multiline = span == LineSpan::Any;
        // A match that can only begin with a newline (a leading delimiter)
        // may start at the newline that ends the line before; one that can
        // hold a few newlines reaches that many lines each way.
        let back = usize::from(matches!(span, LineSpan::Edges | LineSpan::Lines(_)));
        let reach = match span {
            LineSpan::Lines(n) => reach + n,
            _ => reach,
        };
        // A window depends only on the line of the hit and the line of its
        // forward reach. `same` holds, for the last window computed, the
        // offsets of the newlines ending those two lines: a hit before both
        // gives the same window again, so it is skipped without searching its
        // line again (otherwise many hits on one long line, as in minified
        // files, would each scan the whole line: quadratic).
        let mut same: Option<(usize, usize)> = None;
        // Lines each way: a multi-line pattern also reaches one line back.
        let n = if multiline { reach + 1 } else { reach };
        for &ix in hits {
            let start = self.hits[ix as usize].start;
            // The hit's own line, known from `scan_into`.
            let (line_start, hit_nl) = self.hit_lines[ix as usize];
            let reach_end =
                if multiline { (start + MULTILINE_REACH).min(bytes.len()) } else { start };
            if same.is_some_and(|(hit, reach)| start <= hit && reach_end <= reach) {
                continue;
            }
            let reach_nl = if reach_end <= hit_nl {
                hit_nl
            } else {
                memchr::memchr(b'\n', &bytes[reach_end..]).map_or(bytes.len(), |p| reach_end + p)
            };
            same = Some((hit_nl, reach_nl));
            // A hit whose line starts inside the last window extends it:
            // where the new window starts does not matter then.
            let inside = self.windows.last().is_some_and(|w| line_start <= w.end);
            let first = if inside { line_start } else { lines::start_before(bytes, line_start, n) };
            let end = lines::end_after(bytes, reach_nl, n);
            push_merged(&mut self.windows, first.saturating_sub(back)..end);
        }
    }
}

/// A small deterministic generator for the engine's randomised tests.
#[cfg(test)]
pub(crate) fn test_rng(seed: u32) -> impl FnMut() -> usize {
    let mut seed = seed;
    move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (seed >> 16) as usize
    }
}

/// How far forward (bytes) from a decode hint base64 runs are decoded.
pub const DECODE_REACH: usize = 4 * 1024;

/// How far forward (bytes) a pattern that can cross lines may reach from its
/// keyword: enough for the largest PEM and PGP private key blocks.
pub const MULTILINE_REACH: usize = 16 * 1024;

/// How far (bytes) before and after a match its context is searched, at most,
/// whatever its `lines` say: bounds the cost of each match on long lines.
pub const CONTEXT_REACH: usize = 4 * 1024;

/// Appends a window, merging it with the last one when they touch (windows
/// arrive in increasing order of start).
fn push_merged(windows: &mut Vec<Range<usize>>, w: Range<usize>) {
    if let Some(last) = windows.last_mut() {
        if w.start <= last.end {
            last.end = last.end.max(w.end);
            return;
        }
    }
    windows.push(w);
}

/// Runs one rule over the windows of `bytes`; true when the per-blob cap was hit.
fn match_rule(
    rule: &Rule,
    index: usize,
    bytes: &[u8],
    windows: &[Range<usize>],
    min: Confidence,
    found: &mut Vec<RawMatch>,
) -> bool {
    let regex = rule.regex.get();
    for w in windows {
        let base = w.start;
        // Most windows hold no match: `find` answers that without setting up
        // capture slots (and, unlike `is_match`, with the regex's inner
        // literal prefilter, several times faster on the generic rules).
        if regex.find(&bytes[w.clone()]).is_none() {
            continue;
        }
        for caps in regex.captures_iter(&bytes[w.clone()]) {
            let (Some(whole), Some(sec)) = (caps.get(0), caps.get(rule.secret_group)) else {
                continue;
            };
            if sec.is_empty() {
                continue;
            }
            let whole = whole.start() + base..whole.end() + base;
            let sec = sec.start() + base..sec.end() + base;
            if let Some(m) = check_candidate(rule, index, bytes, whole, sec, min) {
                found.push(m);
                if found.len() >= MAX_MATCHES_PER_BLOB {
                    return true;
                }
            }
        }
    }
    false
}

/// Applies entropy, placeholder, validator and context checks to one match.
fn check_candidate(
    rule: &Rule,
    index: usize,
    bytes: &[u8],
    whole: Range<usize>,
    sec: Range<usize>,
    min: Confidence,
) -> Option<RawMatch> {
    let secret = &bytes[sec.clone()];
    if rule.min_entropy.is_some_and(|min| entropy::shannon(secret) < min) {
        return None;
    }
    if placeholder::is_placeholder(secret) {
        return None;
    }
    let mut validated = None;
    if let Some(v) = rule.validator {
        if !v.check(secret) {
            return None;
        }
        validated = Some(v.evidence());
    }
    let mut confidence = rule.confidence;
    let mut in_context = false;
    if let Some(ctx) = &rule.context {
        // On very long lines (minified files) only the bytes near the match
        // count as its context, and only they are searched for line ends:
        // going through the whole line for each match would make a blob
        // with many matches quadratic.
        let lo = whole.start.saturating_sub(CONTEXT_REACH);
        let hi = whole.end.saturating_add(CONTEXT_REACH).min(bytes.len());
        let near = &bytes[lo..hi];
        let window = lines::around(near, whole.start - lo..whole.end - lo, ctx.lines);
        in_context = ctx.regex.get().is_match(&near[window]);
        if !in_context {
            if ctx.required {
                return None;
            }
            confidence = confidence.lowered();
        }
    }
    if confidence < min {
        return None;
    }
    Some(RawMatch {
        rule: index,
        span: whole,
        secret: sec,
        confidence,
        validated,
        in_context,
        decoded_secret: None,
    })
}

/// How strongly a match claims its span, highest first: confidence, then a
/// direct match over one inside decoded base64, then a validated one, then one
/// whose provider context is present, then the longest secret. Ties go to the
/// earliest rule (built-in rules are ordered by tier, generic last).
pub fn priority(m: &RawMatch) -> (Confidence, bool, bool, bool, usize) {
    (
        m.confidence,
        m.decoded_secret.is_none(),
        m.validated.is_some(),
        m.in_context,
        m.secret_bytes_len(),
    )
}

/// Keeps, among matches whose locations overlap, the one with the highest
/// `priority`, and sorts what remains by location and rule.
fn resolve_overlaps(mut found: Vec<RawMatch>) -> Vec<RawMatch> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by(|a, b| {
        priority(b)
            .cmp(&priority(a))
            .then(a.rule.cmp(&b.rule))
            .then(a.secret.start.cmp(&b.secret.start))
    });
    let mut accepted: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(found.len());
    for m in found {
        let loc = m.location();
        let (start, end) = (loc.start, loc.end.max(loc.start + 1));
        let before = accepted.range(..end).next_back().is_some_and(|(_, &e)| e > start);
        if before {
            continue;
        }
        accepted.insert(start, end);
        kept.push(m);
    }
    kept.sort_by_key(|m| (m.location().start, m.rule));
    kept
}

impl RawMatch {
    fn secret_bytes_len(&self) -> usize {
        self.decoded_secret.as_ref().map_or(self.secret.len(), Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::load::RuleSetBuilder;

    fn set(extra: &str) -> RuleSet {
        let text = format!(
            r#"[provider]
id = "t"
name = "T"

[[rule]]
id = "t-strong"
name = "strong"
pattern = '\b(tk_[A-Za-z0-9]{{20}})\b'
keywords = ["tk_"]
min_entropy = 3.0
confidence = "high"
examples = ["tk_Ab3dEf6hIj9kLm2nOp5q"]
{extra}"#
        );
        RuleSetBuilder::new().text("t.toml", &text).unwrap().build().unwrap()
    }

    #[test]
    fn finds_prefixed_key_and_respects_entropy_and_placeholders() {
        let rules = set("");
        let mut s = Scanner::new(&rules);
        let blob = b"a = 'tk_Ab3dEf6hIj9kLm2nOp5q'\nb = 'tk_aaaaaaaaaaaaaaaaaaaa'\nc = 'tk_xxxxAb3dEf6hIj9kLm2n'";
        let m = s.scan(blob).list;
        assert_eq!(m.len(), 1);
        assert_eq!(&blob[m[0].secret.clone()], b"tk_Ab3dEf6hIj9kLm2nOp5q");
        assert_eq!(m[0].secret.start, 5);
    }

    #[test]
    fn context_required_and_optional() {
        let rules = set(r#"
[[rule]]
id = "t-hex"
name = "hex"
pattern = '\b([a-f0-9]{32})\b'
keywords = ["tprov"]
confidence = "medium"
examples = ["x"]
[rule.context]
pattern = '(?i)tprov'
lines = 1
required = true
"#);
        let mut s = Scanner::new(&rules);
        let near = b"# tprov\nkey = 3f9a0c2d4b6e8f1a3c5e7a9b0d2f4a6c\n";
        assert_eq!(s.scan(near).list.len(), 1);
        let far = b"# tprov\n\n\n\nkey = 3f9a0c2d4b6e8f1a3c5e7a9b0d2f4a6c\n";
        assert_eq!(s.scan(far).list.len(), 0);
    }

    #[test]
    fn a_leading_delimiter_rule_runs_on_its_keyword_lines_only() {
        let rules = set(r#"
[[rule]]
id = "t-delim"
name = "delimited"
pattern = '(?:^|[^A-Za-z0-9])(dk[A-Za-z0-9]{20})(?:[^A-Za-z0-9]|$)'
keywords = ["dkey"]
confidence = "medium"
examples = ["x"]
"#);
        assert_eq!(rules.get("t-delim").unwrap().line_span(), LineSpan::Edges);
        let mut s = Scanner::new(&rules);
        let key = "dkAb3dEf6hIj9kLm2nOp5q";
        // On the keyword's line, including at its very start.
        assert_eq!(s.scan(format!("x\ndkey {key}\n").as_bytes()).list.len(), 1);
        assert_eq!(s.scan(format!("dkey\n{key}").as_bytes()).list.len(), 0);
        assert_eq!(s.scan(format!("x dkey\n\n\n{key}\n").as_bytes()).list.len(), 0);
        let m = s.scan(format!("# dkey\n{key} dkey\n").as_bytes()).list;
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].secret.start, 7);
    }

    #[test]
    fn an_empty_blob_after_one_with_decode_hints() {
        let rules = set("");
        let mut s = Scanner::new(&rules);
        let blob = "x\n".repeat(40) + "auth: dGhpcyBpcyBqdXN0IHRleHQgaGVyZQ==\n";
        assert!(s.scan(blob.as_bytes()).list.is_empty());
        assert!(s.scan(b"").list.is_empty());
    }

    #[test]
    fn overlapping_rules_keep_the_most_confident() {
        let rules = set(r#"
[[rule]]
id = "t-generic"
name = "generic"
pattern = "key = '([A-Za-z0-9_]{16,})'"
keywords = ["key"]
confidence = "low"
examples = ["x"]
"#);
        let mut s = Scanner::new(&rules);
        let m = s.scan(b"key = 'tk_Ab3dEf6hIj9kLm2nOp5q'").list;
        assert_eq!(m.len(), 1);
        assert_eq!(rules.rules[m[0].rule].id, "t-strong");
        let mut s = Scanner::new(&rules).min_confidence(Confidence::Medium);
        assert_eq!(s.scan(b"key = 'Zq8wLm3nPx7rTb2vKd9s'").list.len(), 0);
    }
}

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
pub mod validate;

use std::{collections::BTreeMap, ops::Range};

use crate::rules::{Confidence, Rule, RuleSet};

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
    seen: Vec<bool>,
    hit: Vec<bool>,
    candidates: Vec<usize>,
}

impl<'r> Scanner<'r> {
    /// A scanner reporting matches of every confidence.
    pub fn new(rules: &'r RuleSet) -> Self {
        Scanner {
            rules,
            min_confidence: Confidence::Low,
            decode: true,
            seen: Vec::new(),
            hit: vec![false; rules.rules.len()],
            candidates: Vec::new(),
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
            truncated = decode::scan_base64_runs(self, bytes, &mut found);
        }
        Matches { list: resolve_overlaps(found), truncated }
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
        if bytes.is_empty() {
            return false;
        }
        self.candidates.clear();
        self.hit.iter_mut().for_each(|h| *h = false);
        self.rules.prefilter.candidates(bytes, &mut self.seen, &mut self.hit, &mut self.candidates);
        self.candidates.sort_unstable();
        for i in 0..self.candidates.len() {
            let index = self.candidates[i];
            let rule = &self.rules.rules[index];
            if rule.confidence < self.min_confidence {
                continue;
            }
            if match_rule(rule, index, bytes, self.min_confidence, found) {
                return true;
            }
        }
        false
    }
}

/// Runs one rule over `bytes`; true when the per-blob cap was hit.
fn match_rule(
    rule: &Rule,
    index: usize,
    bytes: &[u8],
    min: Confidence,
    found: &mut Vec<RawMatch>,
) -> bool {
    for caps in rule.regex.get().captures_iter(bytes) {
        let (Some(whole), Some(sec)) = (caps.get(0), caps.get(rule.secret_group)) else {
            continue;
        };
        if sec.is_empty() {
            continue;
        }
        let secret = sec.as_bytes();
        if rule.min_entropy.is_some_and(|min| entropy::shannon(secret) < min) {
            continue;
        }
        if placeholder::is_placeholder(secret) {
            continue;
        }
        let mut validated = None;
        if let Some(v) = rule.validator {
            if !v.check(secret) {
                continue;
            }
            validated = Some(v.evidence());
        }
        let mut confidence = rule.confidence;
        let mut in_context = false;
        if let Some(ctx) = &rule.context {
            let window = lines::around(bytes, whole.range(), ctx.lines);
            in_context = ctx.regex.get().is_match(&bytes[window]);
            if !in_context {
                if ctx.required {
                    continue;
                }
                confidence = confidence.lowered();
            }
        }
        if confidence < min {
            continue;
        }
        found.push(RawMatch {
            rule: index,
            span: whole.range(),
            secret: sec.range(),
            confidence,
            validated,
            in_context,
            decoded_secret: None,
        });
        if found.len() >= MAX_MATCHES_PER_BLOB {
            return true;
        }
    }
    false
}

/// Keeps, among matches whose locations overlap, the most confident (then a
/// validated one, then one whose provider context is present, then the
/// longest secret, then the earliest rule), and sorts
/// what remains by location and rule.
fn resolve_overlaps(mut found: Vec<RawMatch>) -> Vec<RawMatch> {
    if found.len() < 2 {
        return found;
    }
    found.sort_by(|a, b| {
        let key = |m: &RawMatch| {
            (m.confidence, m.validated.is_some(), m.in_context, m.secret_bytes_len())
        };
        key(b).cmp(&key(a)).then(a.rule.cmp(&b.rule)).then(a.secret.start.cmp(&b.secret.start))
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

//! Rules: what a key looks like, and how to rotate it.
//!
//! `spec` is the TOML as written, `load` checks it and builds `Rule`s, and a
//! `RuleSet` is the immutable, shared collection the engine runs. Regexes are
//! compiled lazily, on the first blob whose keywords could match them, so a
//! pre-commit run on three files does not pay for 300 patterns.

pub mod builtin;
pub mod check;
pub mod load;
pub mod spec;

use std::{fmt, str::FromStr, sync::OnceLock};

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::engine::{prefilter::Prefilter, validate::Validator};
pub use load::{LoadError, RuleSource};
pub use spec::{ContextSpec, ProviderSpec, RuleFileSpec, RuleSpec};

/// How sure keylint is that a match is a live credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Generic heuristics: a secret-like value under a secret-like name.
    Low,
    /// A distinctive format, or an unprefixed one with its provider named nearby.
    Medium,
    /// A unique prefix or a checksum: practically never anything else.
    High,
}

impl Confidence {
    /// One level lower (low stays low).
    pub fn lowered(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }

    /// The lowercase name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(format!("unknown confidence {s:?} (expected low, medium or high)")),
        }
    }
}

/// Compiles a rule or context pattern the way the engine runs it: over bytes,
/// Unicode off (ASCII classes, `.` matches any byte but `\n`), bounded size.
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        // 1 MiB: every built-in pattern fits; a pattern past it (such as
        // `(\w{200}){200}`) costs its size on every byte of a long match.
        .size_limit(1 << 20)
        .dfa_size_limit(4 << 20)
        .nest_limit(64)
        .build()
}

/// A regex compiled on first use.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Regex>,
}

impl LazyRegex {
    /// A regex not yet compiled; its pattern must be known to compile.
    pub fn new(pattern: String) -> Self {
        LazyRegex { pattern, compiled: OnceLock::new() }
    }

    /// A regex compiled now (user rules are checked when they are loaded).
    pub fn compiled(pattern: String, regex: Regex) -> Self {
        let compiled = OnceLock::new();
        let _ = compiled.set(regex);
        LazyRegex { pattern, compiled }
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Compiles the pattern now, reporting an error.
    pub fn try_get(&self) -> Result<&Regex, regex::Error> {
        if let Some(r) = self.compiled.get() {
            return Ok(r);
        }
        let r = compile_pattern(&self.pattern)?;
        Ok(self.compiled.get_or_init(|| r))
    }

    /// The compiled regex. Built-in patterns are compiled by `cargo test`, user
    /// patterns when loaded, so compilation cannot fail here.
    pub fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            compile_pattern(&self.pattern).expect("rule patterns are checked before they are run")
        })
    }
}

/// A provider: who issued the key and how to rotate it.
pub type Provider = ProviderSpec;

/// `[rule.context]`, checked and ready to run.
#[derive(Debug)]
pub struct Context {
    /// The regex searched around the match.
    pub regex: LazyRegex,
    /// Lines before and after the match line searched.
    pub lines: usize,
    /// Whether a match without the context is dropped (else its confidence drops).
    pub required: bool,
}

/// A checked rule, ready for the engine.
#[derive(Debug)]
pub struct Rule {
    /// Public, stable id.
    pub id: String,
    /// Human name of the credential.
    pub name: String,
    /// What the credential grants.
    pub description: Option<String>,
    /// Index of the provider in `RuleSet::providers`.
    pub provider: usize,
    /// The regex.
    pub regex: LazyRegex,
    /// Capture group of the secret.
    pub secret_group: usize,
    /// Prefilter literals.
    pub keywords: Vec<String>,
    /// Minimum entropy of the secret, bits per byte.
    pub min_entropy: Option<f64>,
    /// Confidence of a match (before context adjustments).
    pub confidence: Confidence,
    /// Offline check.
    pub validator: Option<Validator>,
    /// Surrounding context.
    pub context: Option<Context>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Documentation.
    pub references: Vec<String>,
    /// Rotation URL override.
    pub rotate_url: Option<String>,
    /// Rotation steps override.
    pub rotate: Option<Vec<String>>,
    /// Examples that must match.
    pub examples: Vec<String>,
    /// Near misses that must not match.
    pub negative_examples: Vec<String>,
    /// Where the rule was defined (file name and 1-based line of its id).
    pub source: RuleSource,
    /// Where the pattern can match a newline (computed on first use).
    pub spans_lines: OnceLock<LineSpan>,
}

impl Rule {
    /// Where a match of this rule can hold a newline (computed on first use).
    pub fn line_span(&self) -> LineSpan {
        *self.spans_lines.get_or_init(|| newline_span(self.regex.as_str()))
    }
}

/// Where a pattern's matches can hold a `\n` byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSpan {
    /// Nowhere: a match lies on one line.
    None,
    /// Only as the first or the last byte of the match: a leading or trailing
    /// delimiter such as `(?:^|[^A-Za-z0-9])`, which can be the newline before
    /// or after the key. The rest of the match lies on one line.
    Edges,
    /// At most this many newlines besides the edges: bounded repeats, and
    /// separator gaps such as `key\s*=\s*value` (unbounded repeats of a
    /// class with no letter or digit), each counted as `GAP_LINES`: a value
    /// further below its name is not looked for.
    Lines(usize),
    /// Anywhere: a match can cover many lines (PEM blocks).
    Any,
}

/// Newlines a separator gap (`\s*`, `[\s=]+`) is allowed to cover.
pub const GAP_LINES: usize = 2;

/// Past this many newlines a pattern counts as `LineSpan::Any`.
const MAX_SPAN_LINES: usize = 12;

/// Where a pattern's matches can hold a `\n` byte (conservatively `Any` when
/// it cannot be parsed here).
pub fn newline_span(pattern: &str) -> LineSpan {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn walk(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => false,
            HirKind::Literal(l) => l.0.contains(&b'\n'),
            HirKind::Class(Class::Bytes(c)) => {
                c.ranges().iter().any(|r| r.start() <= b'\n' && b'\n' <= r.end())
            }
            HirKind::Class(Class::Unicode(c)) => {
                c.ranges().iter().any(|r| r.start() <= '\n' && '\n' <= r.end())
            }
            HirKind::Repetition(r) => walk(&r.sub),
            HirKind::Capture(c) => walk(&c.sub),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(walk),
        }
    }
    let hir = match regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
    {
        Ok(hir) => hir,
        Err(_) => return LineSpan::Any,
    };
    if !walk(&hir) {
        return LineSpan::None;
    }
    // The top-level sequence, through enclosing groups.
    let mut top = &hir;
    while let HirKind::Capture(c) = top.kind() {
        top = &c.sub;
    }
    let parts: &[Hir] = match top.kind() {
        HirKind::Concat(v) => v,
        _ => std::slice::from_ref(top),
    };
    // A first or last part that matches at most one byte can only put a
    // newline at the match's edge, provided nothing between them can.
    let at_most_one = |h: &Hir| h.properties().maximum_len().is_some_and(|n| n <= 1);
    let mut inner = parts;
    if inner.first().is_some_and(at_most_one) {
        inner = &inner[1..];
    }
    if inner.last().is_some_and(at_most_one) {
        inner = &inner[..inner.len() - 1];
    }
    if !inner.iter().any(walk) {
        return LineSpan::Edges;
    }
    match inner.iter().try_fold(0usize, |n, h| Some(n + newlines(h)?)) {
        Some(n) if n <= MAX_SPAN_LINES => LineSpan::Lines(n),
        _ => LineSpan::Any,
    }
}

/// The most newlines a match of `h` can hold (a separator gap counting as
/// `GAP_LINES`); None when unbounded or past `MAX_SPAN_LINES`.
fn newlines(h: &regex_syntax::hir::Hir) -> Option<usize> {
    use regex_syntax::hir::{Class, HirKind};
    // A separator run: a class of no letter or digit (`\s`, `[\s=:]`).
    let separator = |h: &regex_syntax::hir::Hir| match h.kind() {
        HirKind::Class(Class::Bytes(c)) => {
            c.ranges().iter().all(|r| (r.start()..=r.end()).all(|b| !b.is_ascii_alphanumeric()))
        }
        HirKind::Class(Class::Unicode(c)) => {
            c.ranges().iter().all(|r| (r.start()..=r.end()).all(|ch| !ch.is_ascii_alphanumeric()))
        }
        _ => false,
    };
    let n = match h.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(l) => l.0.iter().filter(|&&b| b == b'\n').count(),
        HirKind::Class(Class::Bytes(c)) => {
            usize::from(c.ranges().iter().any(|r| r.start() <= b'\n' && b'\n' <= r.end()))
        }
        HirKind::Class(Class::Unicode(c)) => {
            usize::from(c.ranges().iter().any(|r| r.start() <= '\n' && '\n' <= r.end()))
        }
        HirKind::Capture(c) => newlines(&c.sub)?,
        HirKind::Repetition(r) => {
            let each = newlines(&r.sub)?;
            match r.max {
                _ if each == 0 => 0,
                Some(max) => each.checked_mul(max as usize)?,
                None if separator(&r.sub) => GAP_LINES,
                None => return None,
            }
        }
        HirKind::Concat(v) => v.iter().try_fold(0usize, |n, h| n.checked_add(newlines(h)?))?,
        HirKind::Alternation(v) => v.iter().map(newlines).try_fold(0, |m, n| Some(m.max(n?)))?,
    };
    (n <= MAX_SPAN_LINES).then_some(n)
}

/// The immutable set of rules the engine runs, shared by every worker.
#[derive(Debug)]
pub struct RuleSet {
    /// Providers, in load order.
    pub providers: Vec<Provider>,
    /// Rules, in load order (built-in first, by tier then file name).
    pub rules: Vec<Rule>,
    /// The keyword prefilter over every rule's keywords.
    pub prefilter: Prefilter,
}

impl RuleSet {
    /// The provider of a rule.
    pub fn provider_of(&self, rule: &Rule) -> &Provider {
        &self.providers[rule.provider]
    }

    /// A rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Rotation URL of a rule (its own or its provider's).
    pub fn rotate_url<'a>(&'a self, rule: &'a Rule) -> Option<&'a str> {
        rule.rotate_url.as_deref().or(self.provider_of(rule).rotate_url.as_deref())
    }

    /// Rotation steps of a rule (its own or its provider's).
    pub fn rotate_steps<'a>(&'a self, rule: &'a Rule) -> &'a [String] {
        rule.rotate.as_deref().unwrap_or(&self.provider_of(rule).rotate)
    }

    /// Compiles every pattern now; returns the first error per rule.
    pub fn compile_all(&self) -> Vec<LoadError> {
        let mut errors = Vec::new();
        for rule in &self.rules {
            if let Err(e) = load::check_compiled(rule) {
                errors.push(e);
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_patterns_can_hold_a_newline() {
        assert_eq!(newline_span(r"\bsk_[a-z0-9]{20}\b"), LineSpan::None);
        assert_eq!(newline_span(r"(?:^|[^a-z])(sk_[a-z0-9]{20})(?:[^a-z]|$)"), LineSpan::Edges);
        assert_eq!(newline_span(r"([^a-z]sk_[a-z0-9]{20}[^a-z])"), LineSpan::Edges);
        assert_eq!(newline_span(r"key\s*=\s*([a-z0-9]{20})"), LineSpan::Lines(2 * GAP_LINES));
        assert_eq!(newline_span(r"key[\x20\n]{0,3}([a-z0-9]{20})"), LineSpan::Lines(3));
        assert_eq!(newline_span(r"[^a-z][^a-z]sk_[a-z]{20}"), LineSpan::Lines(1));
        assert_eq!(newline_span(r"key[^;]*=([a-z0-9]{20})"), LineSpan::Any);
        assert_eq!(newline_span(r"key\s{0,20}=([a-z0-9]{20})"), LineSpan::Any);
        assert_eq!(newline_span(r"-----BEGIN[\s\S]*?-----END"), LineSpan::Any);
        assert_eq!(newline_span(r"(unbalanced"), LineSpan::Any);
    }
}

//! A last line of defence for formats that end up in CI logs and code-scanning
//! dashboards (SARIF, GitHub annotations): free text that comes from the
//! scanned data rather than from keylint (a commit's summary or author) is
//! searched for every secret in the report, and each occurrence is redacted.
//! A commit titled "add key ghp_…" must not put the key on a dashboard.

use std::borrow::Cow;

use aho_corasick::AhoCorasick;

use super::Report;

/// Secrets shorter than this are not scrubbed from free text: a short
/// password ("admin") would mangle ordinary words and is not worth it.
const MIN_SCRUBBED_LEN: usize = 8;

/// Redacts the report's secrets from text.
pub struct Scrubber {
    matcher: Option<AhoCorasick>,
    /// (secret, redacted form), sorted.
    secrets: Vec<(String, String)>,
}

impl Scrubber {
    /// A scrubber for every secret of the report.
    pub fn new(report: &Report) -> Self {
        let mut secrets: Vec<(String, String)> = report
            .findings
            .iter()
            .filter(|f| f.secret.expose().len() >= MIN_SCRUBBED_LEN)
            .map(|f| (f.secret.expose().to_string(), f.secret.redacted()))
            .collect();
        secrets.sort();
        secrets.dedup();
        let matcher = if secrets.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(secrets.iter().map(|(s, _)| s))
                .ok()
        };
        Scrubber { matcher, secrets }
    }

    /// The text with every secret replaced by its redacted form.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => {
                let redacted: Vec<&str> = self.secrets.iter().map(|(_, r)| r.as_str()).collect();
                Cow::Owned(m.replace_all(text, &redacted))
            }
            Some(_) => Cow::Borrowed(text),
            // The automaton could not be built (far too many secrets): slow but sure.
            None if !self.secrets.is_empty() => {
                let mut out = Cow::Borrowed(text);
                for (secret, redacted) in &self.secrets {
                    if out.contains(secret.as_str()) {
                        out = Cow::Owned(out.replace(secret.as_str(), redacted));
                    }
                }
                out
            }
            None => Cow::Borrowed(text),
        }
    }
}

//! `Finding`: one secret at one location, owned and ready to report.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{rules::Confidence, source::Origin};

/// A secret's text. `Debug` and `Display` redact it; only reporters asked for
/// `--show-secrets` read the full value, through `expose`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    /// Wraps secret bytes (invalid UTF-8 is replaced).
    pub fn new(bytes: &[u8]) -> Self {
        Secret(String::from_utf8_lossy(bytes).into_owned())
    }

    /// The full secret. Call only to print it when the user asked for it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form: a short prefix (which names the kind of key) and a mark.
    pub fn redacted(&self) -> String {
        let n = self.0.chars().count();
        let keep = if n >= 20 {
            4
        } else if n >= 12 {
            2
        } else {
            0
        };
        let head: String = self.0.chars().take(keep).collect();
        format!("{head}…(redacted)")
    }

    /// Length in characters.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `sha256:<hex>` of the rule id and the secret: stable across edits, moves,
/// renames, rebases and squashes, so baselines survive them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// The fingerprint of a rule's secret.
    pub fn new(rule_id: &str, secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(rule_id.as_bytes());
        h.update([0]);
        h.update(secret);
        let digest = h.finalize();
        let mut hex = String::with_capacity(71);
        hex.push_str("sha256:");
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        Fingerprint(hex)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a finding is: 1-based lines, 1-based byte columns; `end_column` is
/// inclusive of the secret's last byte. The same columns counted in UTF-16
/// code units (as SARIF and editors count them) are kept for SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// First line.
    pub line: usize,
    /// First column (bytes).
    pub column: usize,
    /// Last line.
    pub end_line: usize,
    /// Last column (bytes, inclusive).
    pub end_column: usize,
    /// First column in UTF-16 code units (1-based).
    pub utf16_column: usize,
    /// Column just past the last character, in UTF-16 code units (1-based,
    /// exclusive, like SARIF's `endColumn`), on `end_line`.
    pub utf16_end_column: usize,
}

/// The line around a finding, for people: text before and after the secret
/// (trimmed to a readable width). Never holds the secret itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// Text on the line before the secret.
    pub before: String,
    /// Text on the line after the secret.
    pub after: String,
}

/// One reported secret.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the `RuleSet`.
    pub rule: usize,
    /// The rule id.
    pub rule_id: String,
    /// Where the blob came from.
    pub origin: Origin,
    /// Where in the blob.
    pub location: Location,
    /// The secret.
    pub secret: Secret,
    /// Hash of rule id and secret.
    pub fingerprint: Fingerprint,
    /// Confidence after context adjustments.
    pub confidence: Confidence,
    /// What offline check it passed (`checksum`, `structure`, `marker`).
    pub validated: Option<&'static str>,
    /// Whether it was found inside decoded base64.
    pub decoded: bool,
    /// The line, for the human report.
    pub snippet: Snippet,
}

impl Finding {
    /// Sort key: path, line, column, rule id; then commit for history.
    pub fn sort_key(&self) -> (String, usize, usize, &str, Option<&str>) {
        (
            self.origin.display_path(),
            self.location.line,
            self.location.column,
            &self.rule_id,
            self.origin.commit().map(|c| c.id.as_str()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_displays_in_full() {
        let s = Secret::new(b"sk-proj-abcdefghijklmnopqrstuvwxyz");
        assert_eq!(s.to_string(), "sk-p…(redacted)");
        assert!(!format!("{s:?}").contains("abcdefgh"));
        assert_eq!(Secret::new(b"hunter2").redacted(), "…(redacted)");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = Fingerprint::new("r", b"s1");
        assert_eq!(a, Fingerprint::new("r", b"s1"));
        assert_ne!(a, Fingerprint::new("r2", b"s1"));
        assert_ne!(a, Fingerprint::new("r", b"s2"));
        assert!(a.0.starts_with("sha256:") && a.0.len() == 71);
    }
}

//! Inline markers: `keylint:allow` on the finding's line, or opening a
//! comment on the line before, optionally limited to one rule
//! (`keylint:allow RULE_ID reason`). Other tools' markers are honoured to ease
//! migration: `gitleaks:allow` and `pragma: allowlist secret` on the same
//! line, `pragma: allowlist nextline secret` on the line before. Works in any
//! comment syntax (`#`, `//`, `/* */`, `<!-- -->`, `--`, `;`, `!`): the marker
//! only has to stand outside the secret.
//!
//! On the line before, the marker counts only on a line of its own (nothing
//! but comment punctuation before it): a marker at the end of a code line
//! (`a = "KEY"  # keylint:allow`) is about that line, not the next one.

use std::ops::Range;

use memchr::memmem;

/// Whether the finding whose secret occupies `secret` (a byte range of `line`,
/// or `None` on the previous line) is allowed by a marker on `line`.
fn allows(
    line: &[u8],
    secret: Option<Range<usize>>,
    rule_id: &str,
    is_rule: &dyn Fn(&str) -> bool,
) -> bool {
    let outside = |at: usize, len: usize| match &secret {
        Some(s) => at + len <= s.start || at >= s.end,
        None => true,
    };
    for at in memmem::find_iter(line, b"keylint:allow") {
        if !outside(at, 13) {
            continue;
        }
        if secret.is_none() && !starts_comment(&line[..at]) {
            continue;
        }
        let rest = &line[at + 13..];
        let word: Vec<u8> = rest
            .iter()
            .skip_while(|b| **b == b' ' || **b == b'\t' || **b == b':' || **b == b'=')
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
            .copied()
            .collect();
        let word = String::from_utf8_lossy(&word);
        let restricted = rest.first().is_some_and(|b| matches!(b, b' ' | b'\t' | b':' | b'='));
        if restricted && is_rule(&word) {
            if word == rule_id {
                return true;
            }
            continue;
        }
        return true;
    }
    if secret.is_some() {
        for marker in [&b"gitleaks:allow"[..], b"pragma: allowlist secret"] {
            if memmem::find_iter(line, marker).any(|at| outside(at, marker.len())) {
                return true;
            }
        }
    } else if memmem::find(line, b"pragma: allowlist nextline secret").is_some() {
        return true;
    }
    false
}

/// Every marker keylint honours, as it is searched for.
pub const MARKERS: &[&str] = &[
    "keylint:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
    "pragma: allowlist nextline secret",
];

/// Whether `text` holds any marker at all (a cheap test before `is_allowed`;
/// also how a change that adds a marker can be spotted).
pub fn has_marker(text: &[u8]) -> bool {
    MARKERS.iter().any(|m| memmem::find(text, m.as_bytes()).is_some())
}

/// Whether `prefix` (the text before a marker) holds nothing but whitespace
/// and comment punctuation (`#`, `//`, `/*`, `<!--`, `--`, `;`, `!`, `*`).
fn starts_comment(prefix: &[u8]) -> bool {
    prefix.iter().all(|b| b.is_ascii_whitespace() || b.is_ascii_punctuation())
}

/// Whether a marker allows the finding: `line` holds it (with the secret at
/// `secret`, relative to the line), `previous` is the line before, if any.
pub fn is_allowed(
    line: &[u8],
    secret: Range<usize>,
    previous: Option<&[u8]>,
    rule_id: &str,
    is_rule: &dyn Fn(&str) -> bool,
) -> bool {
    allows(line, Some(secret), rule_id, is_rule)
        || previous.is_some_and(|p| allows(p, None, rule_id, is_rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> bool {
        id == "github-pat" || id == "aws-key"
    }

    fn check(line: &str, prev: Option<&str>) -> bool {
        let at = line.find("SECRET").unwrap();
        is_allowed(line.as_bytes(), at..at + 6, prev.map(str::as_bytes), "github-pat", &rule)
    }

    #[test]
    fn markers_in_any_comment_syntax() {
        assert!(check("x = 'SECRET'  # keylint:allow test fixture", None));
        assert!(check("x = 'SECRET'; // keylint:allow", None));
        assert!(check("<k v=\"SECRET\"/> <!-- keylint:allow -->", None));
        assert!(check("SECRET -- keylint:allow", None));
        assert!(check("k=SECRET ; gitleaks:allow", None));
        assert!(check("k='SECRET' # pragma: allowlist secret", None));
        assert!(check("k='SECRET'", Some("# keylint:allow")));
        assert!(check("k='SECRET'", Some("# pragma: allowlist nextline secret")));
        assert!(!check("k='SECRET'", Some("# gitleaks:allow")));
        assert!(!check("k='SECRET'", None));
        assert!(check("k='SECRET'", Some("  <!-- keylint:allow test data -->")));
        assert!(check("k='SECRET'", Some("\t/* keylint:allow */")));
    }

    #[test]
    fn a_marker_ending_a_code_line_is_not_about_the_next_line() {
        assert!(!check("k='SECRET'", Some("a = 'OTHER'  # keylint:allow")));
        assert!(!check("k='SECRET'", Some("call();  // keylint:allow")));
        assert!(check("k='SECRET'", Some("call();  // pragma: allowlist nextline secret")));
    }

    #[test]
    fn every_marker_is_found_by_has_marker() {
        for m in MARKERS {
            assert!(has_marker(format!("x = 1  # {m}").as_bytes()), "{m}");
        }
        assert!(!has_marker(b"x = 'keylint' # allow"));
    }

    #[test]
    fn has_marker_spots_every_marker() {
        assert!(has_marker(b"x # keylint:allow"));
        assert!(has_marker(b"x # gitleaks:allow"));
        assert!(has_marker(b"# pragma: allowlist nextline secret"));
        assert!(!has_marker(b"x = 'SECRET'"));
    }

    #[test]
    fn rule_limited_markers() {
        assert!(check("k='SECRET' # keylint:allow github-pat rotated long ago", None));
        assert!(!check("k='SECRET' # keylint:allow aws-key only that one", None));
        assert!(check("k='SECRET' # keylint:allow because it is a test", None));
    }
}

//! Inline markers: `keylint:allow` on the finding's line or the line before,
//! optionally limited to one rule (`keylint:allow RULE_ID reason`). Other
//! tools' markers are honoured to ease migration: `gitleaks:allow` and
//! `pragma: allowlist secret` on the same line, `pragma: allowlist nextline
//! secret` on the line before. Works in any comment syntax: the marker only
//! has to stand outside the secret.

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

/// Whether `line` holds any marker at all: one quick pass, so lines without
/// one (nearly all) are not searched again for each finding on them.
pub fn has_marker(line: &[u8]) -> bool {
    [&b"keylint:allow"[..], b"gitleaks:allow", b"pragma: allowlist"]
        .iter()
        .any(|m| memmem::find(line, m).is_some())
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

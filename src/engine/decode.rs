//! Secrets hidden in base64: Kubernetes `Secret` data, `.dockercfg` `auth`,
//! basic-auth headers, encoded config blobs. Plausible base64 runs are decoded
//! and, when they decode to text, scanned inside; a match is reported at the
//! run's location in the outer blob. Pure; no I/O.

use std::ops::Range;

use super::{RawMatch, Scanner, validate};

/// Shortest run worth decoding (16 chars decode to 12 bytes).
const MIN_RUN: usize = 16;
/// Longest run decoded; longer ones are images, archives or key bodies.
const MAX_RUN: usize = 16 * 1024;
/// Decoded bytes per blob at most, to bound the cost on base64-heavy files.
const BUDGET: usize = 1 << 20;

/// Bytes that can be part of a base64 or base64url run.
static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'_' || c == b'-';
        b += 1;
    }
    t
};

/// The runs of base64 characters (with up to two `=` of padding) at least
/// `MIN_RUN` long. A table-driven loop, no regex: it looks at the byte
/// `MIN_RUN - 1` ahead first, and when that one cannot be in a run, no run
/// starts before it (most text is short words, so most bytes are skipped).
fn runs(bytes: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    // Runs start at or after `i`, which follows a non-base64 byte, the
    // padding of a run, or the blob's start.
    let mut i = 0;
    std::iter::from_fn(move || {
        let n = bytes.len();
        loop {
            let probe = i + MIN_RUN - 1;
            if probe >= n {
                return None;
            }
            if !B64[usize::from(bytes[probe])] {
                i = probe + 1;
                continue;
            }
            // The block around `probe`, not reaching back before `i`.
            let mut start = probe;
            while start > i && B64[usize::from(bytes[start - 1])] {
                start -= 1;
            }
            let mut end = probe + 1;
            while end < n && B64[usize::from(bytes[end])] {
                end += 1;
            }
            i = end;
            while i < n && i - end < 2 && bytes[i] == b'=' {
                i += 1;
            }
            if end - start >= MIN_RUN {
                return Some(start..i);
            }
        }
    })
}

/// Whether decoded bytes are text worth scanning (printable ASCII, tabs, newlines).
fn is_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.iter().all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'))
}

/// Decodes the base64 runs within `windows` of `bytes` and scans inside them,
/// appending matches located at their runs; true when the per-blob cap was hit.
pub fn scan_base64_runs(
    scanner: &mut Scanner<'_>,
    bytes: &[u8],
    windows: &[Range<usize>],
    found: &mut Vec<RawMatch>,
) -> bool {
    let mut budget = BUDGET;
    let mut inner = Vec::new();
    let all = windows
        .iter()
        .flat_map(|w| runs(&bytes[w.clone()]).map(move |r| r.start + w.start..r.end + w.start));
    for run in all {
        let text = &bytes[run.clone()];
        if text.len() < MIN_RUN || text.len() > MAX_RUN || text.len() > budget {
            continue;
        }
        // Secrets hide in standard, padded base64 (Kubernetes data, docker
        // `auth`, Basic headers): a run with `_` or `-` is an identifier or a
        // base64url token (handled by rules), and a length that is not a
        // multiple of 4 is not padded base64.
        if text.len() % 4 != 0 || text.iter().any(|&b| b == b'_' || b == b'-') {
            continue;
        }
        let (mut upper, mut lower, mut digit) = (false, false, false);
        for &b in text {
            upper |= b.is_ascii_uppercase();
            lower |= b.is_ascii_lowercase();
            digit |= b.is_ascii_digit();
        }
        if !(upper && lower && digit) {
            continue;
        }
        let decoded = validate::b64std(text);
        let Some(decoded) = decoded else { continue };
        if decoded.len() < 8 || !is_text(&decoded) {
            continue;
        }
        budget -= text.len();
        inner.clear();
        let hit_cap = scanner.scan_into(&decoded, &mut inner);
        for m in inner.drain(..) {
            found.push(RawMatch {
                decoded_secret: Some(decoded[m.secret.clone()].to_vec()),
                span: run.clone(),
                secret: run.clone(),
                ..m
            });
        }
        if hit_cap || found.len() >= super::MAX_MATCHES_PER_BLOB {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::is_text;

    #[test]
    fn finds_runs() {
        let text = b"a: dXNlcjpwYXNzd29yZDEyMw==, short abc, x=Zm9vYmFyYmF6cXV4cXV1eA";
        let found: Vec<&[u8]> = super::runs(text).map(|r| &text[r]).collect();
        assert_eq!(found, vec![&b"dXNlcjpwYXNzd29yZDEyMw=="[..], b"Zm9vYmFyYmF6cXV4cXV1eA"]);
    }

    /// The runs the slow way: every maximal block of base64 bytes, with up
    /// to two `=` after it, kept when the block is `MIN_RUN` long.
    fn runs_naive(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !super::B64[usize::from(bytes[i])] {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && super::B64[usize::from(bytes[i])] {
                i += 1;
            }
            let body = i;
            while i < bytes.len() && i - body < 2 && bytes[i] == b'=' {
                i += 1;
            }
            if body - start >= super::MIN_RUN {
                out.push(start..i);
            }
        }
        out
    }

    #[test]
    fn skipping_ahead_finds_the_runs_a_full_pass_finds() {
        let mut next = crate::engine::test_rng(11);
        for round in 0..500 {
            // Blocks of 0 to 40 base64 bytes between separators and padding.
            let mut bytes = Vec::new();
            while bytes.len() < 120 {
                let block = next() % 41;
                bytes.extend((0..block).map(|_| b"aZ09+/_-"[next() % 8]));
                bytes.extend(&b"= ==,\n"[next() % 5..][..1 + next() % 2]);
            }
            let fast: Vec<_> = super::runs(&bytes).collect();
            assert_eq!(
                fast,
                runs_naive(&bytes),
                "round {round}: {:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn text_detection() {
        assert!(is_text(b"user:pa55word"));
        assert!(!is_text(b"\x89PNG\r\n"));
        assert!(!is_text(b""));
    }
}

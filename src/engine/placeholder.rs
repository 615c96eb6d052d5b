//! Placeholders and documented example values: never reported. Pure; no I/O.

/// Substrings (lowercase) that mark a value as a placeholder, not a key.
const MARKERS: &[&[u8]] = &[
    b"xxxx",
    b"****",
    b"...",
    b"\xe2\x80\xa6",
    b"example",
    b"placeholder",
    b"changeme",
    b"change_me",
    b"replace_me",
    b"replaceme",
    b"your_",
    b"your-",
    b"yourkey",
    b"yourtoken",
    b"yoursecret",
    b"dummy",
    b"redacted",
    b"sample",
    b"<",
    b">",
    b"${",
    b"{{",
    b"}}",
    b"%s",
    b"123456789",
    b"abcdefgh",
    b"insert_",
    b"insert-",
];

/// Exact documented sample values that are public and not secrets.
const DOCUMENTED: &[&[u8]] = &[
    // jwt.io's default token.
    b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // The Azurite storage emulator's published account key.
    b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    // Stripe's documentation test keys.
    b"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    b"pk_test_TYooMQauvdEDq54NiTphI7jx",
    b"sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    // GitHub's and npm's published samples.
    b"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",
    b"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",
];

/// Whether `secret` is a placeholder or a documented example value.
pub fn is_placeholder(secret: &[u8]) -> bool {
    if DOCUMENTED.contains(&secret) || is_reference(secret) {
        return true;
    }
    if let Some(run) = longest_run(secret) {
        // Real keys can hold a run (DER zeros in key bodies, fixed fillers in
        // some token formats); a placeholder is mostly the run.
        if run >= 6 && (secret.len() < 24 || run * 3 >= secret.len()) {
            return true;
        }
    }
    let mut lower = [0u8; 512];
    let n = secret.len().min(lower.len());
    for (d, s) in lower.iter_mut().zip(&secret[..n]) {
        *d = s.to_ascii_lowercase();
    }
    let lower = &lower[..n];
    MARKERS.iter().any(|m| memchr::memmem::find(lower, m).is_some())
}

/// Whether a value is a template or variable reference rather than a
/// literal: `{x}`, `$VAR`, `$(cmd)`, `%VAR%`, `%(name)s`.
fn is_reference(s: &[u8]) -> bool {
    match s {
        [b'{', ..] => true,
        [b'$', c, ..] => c.is_ascii_alphabetic() || matches!(c, b'_' | b'{' | b'('),
        [b'%', b'(', ..] => true,
        [b'%', .., b'%'] => {
            s.len() > 2 && s[1..s.len() - 1].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

/// Length of the longest run of one repeated byte (`None` when empty).
fn longest_run(s: &[u8]) -> Option<usize> {
    let first = s.first()?;
    let (mut best, mut run, mut prev) = (1, 1, first);
    for b in &s[1..] {
        if b == prev {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
            prev = b;
        }
    }
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "sk-xxxxxxxxxxxxxxxxxxxx",
            "<your-api-key>",
            "${OPENAI_API_KEY}",
            "{{ secrets.TOKEN }}",
            "your_api_key_here",
            "sk-...",
            "aaaaaaaaaaaaaaaa",
            "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",
            "{password}",
            "$DB_PASSWORD",
            "%DB_PASSWORD%",
            "%(password)s",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn real_looking_keys_pass() {
        for k in [
            "ghp_R3nd0mB0dyWithNoMarkersInIt1234aB",
            "sk_test_51Hq8xLkJd93kfP0aQ",
            "sl.QwErTyUiOpZAAAAAAAAAAAmXnCbVqLkJhGfDsPoIuYtRe0193456289-_aBcD",
        ] {
            assert!(!is_placeholder(k.as_bytes()), "{k}");
        }
    }
}

//! Named offline checks a rule can declare (`validate = "..."`). Pure; no I/O.
//!
//! A key that fails its check is not reported as that key: checksums and
//! structure turn a lookalike into a certainty. Each check takes the secret
//! bytes exactly as the rule captured them.

use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A named offline validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// GitHub classic tokens and npm tokens: CRC-32 of the 30 random chars, base62, 6 chars.
    GithubCrc32,
    /// GitLab routable tokens: CRC-32 of everything before the last 7 chars, base36.
    GitlabRoutable,
    /// Grafana service-account tokens: CRC-32 of `glsa_<32>`, little-endian hex.
    GrafanaSa,
    /// PyPI tokens: a macaroon whose location is pypi.org or test.pypi.org.
    PypiMacaroon,
    /// JWTs: header and payload are base64url JSON objects; the header has `alg`.
    Jwt,
    /// PEM, OpenSSH and PGP private key blocks with a real base64 body.
    PrivateKey,
    /// OpenAI keys: the `T3BlbkFJ` marker (base64 of "OpenAI").
    OpenaiMarker,
    /// age secret keys: a valid Bech32 checksum.
    AgeBech32,
}

impl Validator {
    /// Every validator name, for messages.
    pub const NAMES: &'static [&'static str] = &[
        "github-crc32",
        "gitlab-routable",
        "grafana-sa",
        "pypi-macaroon",
        "jwt",
        "private-key",
        "openai-marker",
        "age-bech32",
    ];

    /// The validator of a name.
    pub fn from_name(name: &str) -> Option<Validator> {
        Some(match name {
            "github-crc32" => Validator::GithubCrc32,
            "gitlab-routable" => Validator::GitlabRoutable,
            "grafana-sa" => Validator::GrafanaSa,
            "pypi-macaroon" => Validator::PypiMacaroon,
            "jwt" => Validator::Jwt,
            "private-key" => Validator::PrivateKey,
            "openai-marker" => Validator::OpenaiMarker,
            "age-bech32" => Validator::AgeBech32,
            _ => return None,
        })
    }

    /// The validator's name.
    pub fn name(self) -> &'static str {
        match self {
            Validator::GithubCrc32 => "github-crc32",
            Validator::GitlabRoutable => "gitlab-routable",
            Validator::GrafanaSa => "grafana-sa",
            Validator::PypiMacaroon => "pypi-macaroon",
            Validator::Jwt => "jwt",
            Validator::PrivateKey => "private-key",
            Validator::OpenaiMarker => "openai-marker",
            Validator::AgeBech32 => "age-bech32",
        }
    }

    /// What kind of evidence the check gives, as reported in `validated`.
    pub fn evidence(self) -> &'static str {
        match self {
            Validator::GithubCrc32 | Validator::GitlabRoutable | Validator::GrafanaSa => "checksum",
            Validator::AgeBech32 => "checksum",
            Validator::OpenaiMarker => "marker",
            _ => "structure",
        }
    }

    /// Whether the secret passes the check.
    pub fn check(self, secret: &[u8]) -> bool {
        match self {
            Validator::GithubCrc32 => github_crc32(secret),
            Validator::GitlabRoutable => gitlab_routable(secret),
            Validator::GrafanaSa => grafana_sa(secret),
            Validator::PypiMacaroon => pypi_macaroon(secret),
            Validator::Jwt => jwt(secret),
            Validator::PrivateKey => private_key(secret),
            Validator::OpenaiMarker => memchr::memmem::find(secret, b"T3BlbkFJ").is_some(),
            Validator::AgeBech32 => age_bech32(secret),
        }
    }
}

/// Writes `value` in `alphabet`, most significant digit first, left-padded with the zero digit.
fn encode_base(mut value: u64, alphabet: &[u8], width: usize) -> Vec<u8> {
    let base = alphabet.len() as u64;
    let mut out = vec![alphabet[0]; width];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(value % base) as usize];
        value /= base;
    }
    out
}

fn github_crc32(secret: &[u8]) -> bool {
    let Some(us) = memchr::memrchr(b'_', secret) else { return false };
    let body = &secret[us + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let crc = crc32fast::hash(&body[..30]);
    encode_base(u64::from(crc), B62, 6) == body[30..]
}

fn gitlab_routable(secret: &[u8]) -> bool {
    if secret.len() < 20 {
        return false;
    }
    let (head, tail) = secret.split_at(secret.len() - 7);
    encode_base(u64::from(crc32fast::hash(head)), B36, 7) == tail
}

fn grafana_sa(secret: &[u8]) -> bool {
    // glsa_ + 32 base62 + _ + 8 hex
    if secret.len() != 46 || !secret.starts_with(b"glsa_") || secret[37] != b'_' {
        return false;
    }
    let crc = crc32fast::hash(&secret[..37]);
    let want = format!("{:08x}", crc.swap_bytes());
    secret[38..].eq_ignore_ascii_case(want.as_bytes())
}

fn lenient(alpha: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alpha,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Decodes base64url (padding optional).
pub fn b64url(data: &[u8]) -> Option<Vec<u8>> {
    lenient(&alphabet::URL_SAFE).decode(data).ok()
}

/// Decodes standard base64 (padding optional).
pub fn b64std(data: &[u8]) -> Option<Vec<u8>> {
    lenient(&alphabet::STANDARD).decode(data).ok()
}

fn pypi_macaroon(secret: &[u8]) -> bool {
    let Some(body) = secret.strip_prefix(b"pypi-") else { return false };
    // Enough of the macaroon to hold its version, field tag, length and location.
    let take = body.len().min(40) / 4 * 4;
    let Some(head) = b64url(&body[..take]) else { return false };
    if head.len() < 3 || head[0] != 0x02 || head[1] != 0x01 {
        return false;
    }
    let len = head[2] as usize;
    let loc = head.get(3..3 + len).unwrap_or(&[]);
    loc == b"pypi.org" || loc == b"test.pypi.org"
}

const JWT_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "ES256K",
    "PS256", "PS384", "PS512", "EdDSA",
];

fn jwt(secret: &[u8]) -> bool {
    let parts: Vec<&[u8]> = secret.split(|&b| b == b'.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    let json = |p: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        match serde_json::from_slice(&b64url(p)?).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let Some(header) = json(parts[0]) else { return false };
    let alg_ok = header.get("alg").and_then(|a| a.as_str()).is_some_and(|a| JWT_ALGS.contains(&a));
    // The payload of a JWS is usually JSON; a signature part must decode.
    alg_ok && json(parts[1]).is_some() && b64url(parts[2]).is_some_and(|s| s.len() >= 16)
}

fn private_key(secret: &[u8]) -> bool {
    let text = String::from_utf8_lossy(secret);
    // Keys embedded in JSON or code use literal `\n` escapes.
    let text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace('\r', "");
    let mut body = String::new();
    let mut inside = false;
    for line in text.lines() {
        // Keys pasted into code: `"...\n" +` or `'...',` around each line.
        let mut l = line.trim();
        if let Some(stripped) = l.strip_suffix('+').filter(|x| x.ends_with([' ', '"', '\''])) {
            l = stripped.trim_end();
        }
        let l = l.trim_matches(|c| c == '"' || c == '\'' || c == ',').trim();
        if l.contains("BEGIN ") && l.contains("-----") {
            inside = true;
            continue;
        }
        if l.contains("END ") && l.contains("-----") {
            break;
        }
        if !inside || l.is_empty() || l.contains(':') {
            continue; // armor headers (Proc-Type, DEK-Info, Version, Comment)
        }
        if l.starts_with('=') && l.len() <= 6 {
            continue; // PGP armor checksum
        }
        body.push_str(l);
    }
    let body = body.trim_end_matches('=');
    if body.len() < 64 || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    {
        return false;
    }
    let mut distinct = [false; 256];
    body.bytes().for_each(|b| distinct[b as usize] = true);
    distinct.iter().filter(|&&d| d).count() >= 20 && b64std(body.as_bytes()).is_some()
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn age_bech32(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = memchr::memrchr(b'1', &lower) else { return false };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp != b"age-secret-key-" || data.len() < 7 {
        return false;
    }
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    for c in data {
        match BECH32.iter().position(|x| x == c) {
            Some(p) => values.push(p as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_published_sample() {
        // Public sample from Yelp/detect-secrets#464 (providers.md §0).
        assert!(github_crc32(b"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"));
        assert!(!github_crc32(b"ghp_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0PinuX"));
        assert!(!github_crc32(b"ghp_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINU"));
    }

    #[test]
    fn npm_documented_dummy() {
        assert!(github_crc32(b"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"));
        assert!(!github_crc32(b"npm_qkJaB6MffYVzZXWqmcoF49yrUxP3wf0LsakQ"));
    }

    #[test]
    fn gitlab_design_doc_example() {
        assert!(gitlab_routable(b"bzoxd_Rb5_cHeWe1JH56wr2FCBA.0r1pum4t4"));
        assert!(!gitlab_routable(b"bzoxd_Rb5_cHeWe1JH56wr2FCBA.0r1pum4t5"));
    }

    #[test]
    fn grafana_checksum_is_little_endian() {
        let head = b"glsa_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
        let crc = crc32fast::hash(head);
        let good = format!("{}_{:08x}", std::str::from_utf8(head).unwrap(), crc.swap_bytes());
        let bad = format!("{}_{:08x}", std::str::from_utf8(head).unwrap(), crc);
        assert!(grafana_sa(good.as_bytes()));
        assert_ne!(good, bad);
        assert!(!grafana_sa(bad.as_bytes()));
    }

    #[test]
    fn pypi_location() {
        // "AgEIcHlwaS5vcmc" decodes to \x02\x01\x08pypi.org.
        assert!(pypi_macaroon(
            // keylint:allow fake token for the validator test
            b"pypi-AgEIcHlwaS5vcmcCJDkxYjM0ZjQ0LTk4YzgtNGRiZS1hNmNhLTQxZDZjZGNhNjA3ZAACKlsz"
        ));
        assert!(!pypi_macaroon(
            b"pypi-AgEIcHlwbS5vcmcCJDkxYjM0ZjQ0LTk4YzgtNGRiZS1hNmNhLTQxZDZjZGNhNjA3ZAACKlsz"
        ));
        assert!(!pypi_macaroon(b"pypi-notamacaroonatallnotamacaroonatall"));
    }

    #[test]
    fn jwt_structure() {
        // keylint:allow fake token for the validator test
        let jwt_ok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjo0MTAyNDQ0ODAwfQ.dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBhdCBhbGw";
        assert!(jwt(jwt_ok.as_bytes()));
        assert!(!jwt(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"));
        assert!(!jwt(b"abc.def.ghi"));
    }

    #[test]
    fn private_key_body() {
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQABAoIBAQCT";
        let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        assert!(private_key(pem.as_bytes()));
        let escaped = pem.replace('\n', "\\n");
        assert!(private_key(escaped.as_bytes()));
        assert!(!private_key(
            b"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(!private_key(
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----"
        ));
    }

    #[test]
    fn age_checksum() {
        // A syntactically valid key built from the Bech32 alphabet; its checksum
        // is computed here, and one flipped character must fail.
        let data = "qpzry9x8gf2tvdw0s3jn54khce6mua7lqpzry9x8gf2tvdw0s3jn54kh";
        let hrp = b"age-secret-key-";
        let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
        values.push(0);
        values.extend(hrp.iter().map(|c| c & 31));
        values.extend(data.bytes().map(|c| BECH32.iter().position(|&x| x == c).unwrap() as u8));
        values.extend([0u8; 6]);
        let pm = bech32_polymod(&values) ^ 1;
        let check: String =
            (0..6).map(|i| BECH32[((pm >> (5 * (5 - i))) & 31) as usize] as char).collect();
        let key = format!("AGE-SECRET-KEY-1{}{}", data, check).to_uppercase();
        assert!(age_bech32(key.as_bytes()));
        let mut bad = key.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'Q' { b'P' } else { b'Q' };
        assert!(!age_bech32(&bad));
    }
}

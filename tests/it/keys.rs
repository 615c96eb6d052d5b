//! Fake keys and small trees for the CI and team tests. The keys are made at
//! test time (nothing key-shaped is committed under tests/) and belong to the
//! user rule in fixtures/rules/acme.toml, so these tests do not depend on
//! the built-in rule pack.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{fixture, json};

/// The user rule file defining `acme-token` (`acme_` and 20 base62 characters).
pub fn acme_rules() -> PathBuf {
    fixture("rules/acme.toml")
}

/// A distinct fake Acme token for each seed.
pub fn acme_token(seed: u64) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x2545_F491_4F6C_DD1D);
    let body: String = (0..20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            B62[(x % 62) as usize] as char
        })
        .collect();
    format!("acme_{body}")
}

/// A temp dir that looks like a repository root (holds `.git`), so config
/// discovery and repository-relative paths stop there.
pub fn repo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir .git");
    dir
}

/// Writes `text` to `root/rel`, creating directories.
pub fn put(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The findings of a JSON report.
pub fn findings(stdout: &[u8]) -> Vec<Value> {
    json(stdout)["findings"].as_array().expect("findings").clone()
}

/// (path, line) of each finding.
pub fn where_found(stdout: &[u8]) -> Vec<(String, u64)> {
    findings(stdout)
        .iter()
        .map(|f| (f["path"].as_str().expect("path").to_string(), f["line"].as_u64().expect("line")))
        .collect()
}

//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The keylint binary with a clean environment: no user config, no colour.
pub fn keylint() -> Command {
    let mut cmd = Command::cargo_bin("keylint").expect("the keylint binary is built");
    cmd.env_clear().env("NO_COLOR", "1").env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

/// A path under fixtures/.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// Copies a fixture tree into a fresh temp dir (fixtures/ stays read-only).
pub fn copy_tree(rel: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixture(rel), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// Parses a JSON report from a command's stdout.
pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// A fake GitHub classic token with a valid checksum, built from `body` (30 base62 chars).
pub fn github_token(body: &str) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    assert_eq!(body.len(), 30);
    let mut crc = u64::from(crc32fast::hash(body.as_bytes()));
    let mut tail = [b'0'; 6];
    for slot in tail.iter_mut().rev() {
        *slot = B62[(crc % 62) as usize];
        crc /= 62;
    }
    format!("ghp_{body}{}", String::from_utf8_lossy(&tail))
}

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

/// A fake age secret key (a high-confidence rule with a Bech32 checksum),
/// different for each seed.
pub fn age_key(seed: u64) -> String {
    const B32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fn polymod(values: &[u8]) -> u32 {
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
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let data: Vec<u8> = (0..52)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 32) as u8
        })
        .collect();
    let hrp = b"age-secret-key-";
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    values.extend(&data);
    values.extend([0u8; 6]);
    let pm = polymod(&values) ^ 1;
    let mut key = String::from("AGE-SECRET-KEY-1");
    key.extend(data.iter().map(|&v| B32[v as usize] as char));
    key.extend((0..6).map(|i| B32[((pm >> (5 * (5 - i))) & 31) as usize] as char));
    key.to_uppercase()
}

/// A git repository in a temp dir, driven by the git CLI with a clean
/// environment (no user or system config).
pub struct GitRepo {
    /// Holds the repository (and a private HOME beside it).
    pub dir: tempfile::TempDir,
}

impl GitRepo {
    /// `git init` on branch `main`.
    pub fn new() -> Self {
        let repo = GitRepo { dir: tempfile::tempdir().expect("temp dir") };
        std::fs::create_dir_all(repo.path()).expect("mkdir");
        std::fs::create_dir_all(repo.dir.path().join("home")).expect("mkdir");
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// A git command in `dir` with a clean, deterministic environment.
    pub fn command_in(&self, dir: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_AUTHOR_DATE", "@1600000000 +0000")
            .env("GIT_COMMITTER_DATE", "@1600000000 +0000")
            .env("NO_COLOR", "1");
        cmd
    }

    /// A git command in the work tree.
    pub fn command(&self) -> std::process::Command {
        self.command_in(&self.path())
    }

    /// Runs git in `dir`, asserting success; returns trimmed stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command_in(dir).args(args).output().expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs git in the work tree, asserting success; returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path(), args)
    }

    /// Writes a file in the work tree (creating directories).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
        self
    }

    /// Removes a file from the work tree.
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path().join(rel)).expect("remove");
        self
    }

    /// Stages everything and commits as `author` at `when` (Unix seconds);
    /// returns the commit id.
    pub fn commit(&self, message: &str, author: &str, when: i64) -> String {
        self.git(&["add", "-A"]);
        self.commit_index(message, author, when)
    }

    /// Commits the index as it is (see `commit`).
    pub fn commit_index(&self, message: &str, author: &str, when: i64) -> String {
        let date = format!("@{when} +0000");
        let out = self
            .command()
            .args(["commit", "-q", "--no-verify", "-m", message])
            .env("GIT_AUTHOR_NAME", author)
            .env("GIT_AUTHOR_EMAIL", format!("{}@example.com", author.to_lowercase()))
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git commit runs");
        assert!(out.status.success(), "commit failed: {}", String::from_utf8_lossy(&out.stderr));
        self.git(&["rev-parse", "HEAD"])
    }
}

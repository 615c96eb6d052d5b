//! Repository-relative paths for the formats that need them (SARIF, GitHub
//! annotations, baselines): working-tree paths are shown as given on the
//! command line, but code-scanning tools want them relative to the root of
//! the repository. Purely lexical: this module performs no I/O.

use std::path::{Component, Path, PathBuf};

use crate::source::Origin;

/// Where working-tree paths are made relative to.
#[derive(Debug, Clone, Copy)]
pub struct PathBase<'a> {
    /// The root paths are made relative to (absolute: the repository root).
    pub root: &'a Path,
    /// The directory that relative paths in the report are relative to
    /// (absolute: the working directory of the run).
    pub cwd: &'a Path,
}

impl PathBase<'_> {
    /// The finding's path relative to `root`, with forward slashes; `None` for
    /// stdin and for files outside the root. Staged and history paths are
    /// already relative to the repository root and are returned as they are.
    pub fn relative(&self, origin: &Origin) -> Option<String> {
        match origin {
            Origin::Staged { path } | Origin::Commit { path, .. } => Some(slashes(path)),
            Origin::Stdin => None,
            Origin::File { path } => {
                let abs = normalize(&self.cwd.join(path));
                let rel = abs.strip_prefix(normalize(self.root)).ok()?;
                (!rel.as_os_str().is_empty()).then(|| slashes(rel))
            }
        }
    }

    /// The finding's absolute path, for files outside the root.
    pub fn absolute(&self, origin: &Origin) -> Option<PathBuf> {
        match origin {
            Origin::File { path } => Some(normalize(&self.cwd.join(path))),
            _ => None,
        }
    }
}

/// A path with `/` separators (lossy for non-UTF-8 names).
fn slashes(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(&s.to_string_lossy());
            }
            Component::ParentDir => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str("..");
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Resolves `.` and `..` lexically (`/a/./b/../c` is `/a/c`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Percent-encodes a `/`-separated path for use in a URI: unreserved
/// characters, `/` and the sub-delimiters that are safe in a path stay; every
/// other byte of its UTF-8 (space, `%`, `#`, `?`, `:`, non-ASCII) becomes `%XX`.
/// Encoding `:` keeps a relative path from reading as a URI scheme.
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> Origin {
        Origin::File { path: PathBuf::from(p) }
    }

    #[test]
    fn paths_become_relative_to_the_root() {
        let base = PathBase { root: Path::new("/repo"), cwd: Path::new("/repo/sub") };
        assert_eq!(base.relative(&file("a.py")).as_deref(), Some("sub/a.py"));
        assert_eq!(base.relative(&file("./x/../b/c.env")).as_deref(), Some("sub/b/c.env"));
        assert_eq!(base.relative(&file("../top.txt")).as_deref(), Some("top.txt"));
        assert_eq!(base.relative(&file("/repo/z/y")).as_deref(), Some("z/y"));
        assert_eq!(base.relative(&file("/elsewhere/y")), None);
        assert_eq!(base.relative(&file("../../etc/y")), None);
        assert_eq!(base.relative(&Origin::Stdin), None);
        let staged = Origin::Staged { path: PathBuf::from("d/e.py") };
        assert_eq!(base.relative(&staged).as_deref(), Some("d/e.py"));
        assert_eq!(base.absolute(&file("../w")), Some(PathBuf::from("/repo/w")));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(percent_encode_path("src/app.py"), "src/app.py");
        assert_eq!(percent_encode_path("a b/c%d#e?.txt"), "a%20b/c%25d%23e%3F.txt");
        assert_eq!(percent_encode_path("c:x/ü.env"), "c%3Ax/%C3%BC.env");
    }
}

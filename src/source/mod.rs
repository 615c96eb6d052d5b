//! Sources: where blobs come from (the filesystem, stdin, the git index, git
//! history). A source yields bytes with their origin and knows nothing about
//! rules.

pub mod fs;
pub mod history;
pub mod index;
pub(crate) mod packorder;
pub mod staged;
pub mod stdin;

use std::path::PathBuf;

use serde::Serialize;

/// Where a blob came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A file in the working tree.
    File {
        /// Path as given or found by the walk.
        path: PathBuf,
    },
    /// A blob staged in the git index.
    Staged {
        /// Path relative to the repository root.
        path: PathBuf,
    },
    /// Standard input.
    Stdin,
    /// A blob from git history.
    Commit {
        /// The commit that first introduced this blob at this path.
        commit: Box<CommitInfo>,
        /// Path relative to the repository root.
        path: PathBuf,
    },
}

impl Origin {
    /// The path to show (`-` for stdin).
    pub fn display_path(&self) -> String {
        match self {
            Origin::File { path } | Origin::Staged { path } | Origin::Commit { path, .. } => {
                path.to_string_lossy().replace('\\', "/")
            }
            Origin::Stdin => "-".to_string(),
        }
    }

    /// The commit, for history findings.
    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Origin::Commit { commit, .. } => Some(commit),
            _ => None,
        }
    }
}

/// Provenance of a history finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CommitInfo {
    /// Full commit id (hex).
    pub id: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, RFC 3339 (UTC).
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

/// One unit of content to scan.
#[derive(Debug, Clone)]
pub struct Blob {
    /// Where it came from.
    pub origin: Origin,
    /// Its bytes (any encoding).
    pub bytes: Vec<u8>,
}

/// Why a file or object was not scanned, or a problem reading a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The walker reported a problem (loop, permission, bad ignore file).
    #[error("{0}")]
    Walk(String),
    /// No git repository at or above a path.
    #[error("{path}: not a git repository (nor inside one)")]
    NotARepository {
        /// The path given.
        path: PathBuf,
    },
    /// A bare repository has no index, so nothing is staged.
    #[error("{path}: a bare repository has no index to scan; run this in a work tree")]
    NoIndex {
        /// The repository.
        path: PathBuf,
    },
    /// A revision, branch or range that does not resolve to a commit.
    #[error("{spec}: {message}")]
    Revision {
        /// As given.
        spec: String,
        /// Why it does not resolve.
        message: String,
    },
    /// libgit2 failed on the repository as a whole.
    #[error("{what}: {}", source.message())]
    Git {
        /// What keylint was doing.
        what: String,
        /// The cause.
        #[source]
        source: git2::Error,
    },
}

/// Whether bytes look binary: a NUL byte in the first 8 KiB, unless they
/// start with a UTF-16 byte-order mark (text the detector decodes itself).
pub fn is_binary(bytes: &[u8]) -> bool {
    !matches!(bytes, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..])
        && memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}

/// Decodes BOM-marked UTF-16 to UTF-8; `None` for anything else.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let (le, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => return None,
    };
    let units = body.chunks_exact(2).map(|c| {
        if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }
    });
    let text: String = char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')).collect();
    Some(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_utf16() {
        assert!(is_binary(b"ab\0cd"));
        assert!(!is_binary(b"abcd"));
        assert!(!is_binary(b"\xFF\xFEk\0e\0y\0"));
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("key=1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode_utf16(&le).unwrap(), b"key=1");
        let be: Vec<u8> =
            [0xFE, 0xFF].into_iter().chain("k".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode_utf16(&be).unwrap(), b"k");
        assert!(decode_utf16(b"plain").is_none());
    }
}

//! The staged source: exactly what `git commit` would record, the index
//! against HEAD (against the empty tree before the first commit).
//!
//! For each added, modified, copied or renamed file the staged blob is read
//! from the object database (never the working-tree file), scanned whole (so
//! inline markers on the line before still count), and only findings on lines
//! the commit adds are kept: the added lines come from a diff of the HEAD blob
//! and the staged blob. Deletions are never findings. Nothing here walks the
//! work tree or reads a blob the commit does not change. This module never
//! writes into the repository.

use std::{
    ffi::OsStr,
    ops::Range,
    path::{Path, PathBuf},
    time::Instant,
};

use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Oid, Patch, Repository};

use crate::{
    report::{Report, Warning},
    scan::{Detector, Tally},
    source::{
        Origin, SourceError, decode_utf16,
        history::{Id, Kind, entry_len, is_lfs_pointer, parse_entry},
        is_binary,
    },
    suppress::{changes, inline},
};

/// Opens the repository of a staged scan: `dir` (or a parent of it), else the
/// one git's environment names (`GIT_DIR`, `GIT_INDEX_FILE`, as in a hook),
/// else the one around the current directory.
pub fn open_repository(dir: Option<&Path>) -> Result<Repository, SourceError> {
    let not_repo = |e: git2::Error, path: PathBuf| {
        if e.code() == git2::ErrorCode::NotFound {
            SourceError::NotARepository { path }
        } else {
            SourceError::Git { what: format!("cannot open {}", path.display()), source: e }
        }
    };
    match dir {
        Some(d) => {
            if !d.exists() {
                return Err(SourceError::Io {
                    path: d.to_path_buf(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            Repository::open_ext(d, git2::RepositoryOpenFlags::empty(), &[] as &[&OsStr])
                .map_err(|e| not_repo(e, d.to_path_buf()))
        }
        None => Repository::open_from_env().map_err(|e| {
            not_repo(e, std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
        }),
    }
}

/// Scans the staged changes of `repo`.
pub fn scan(
    repo: &Repository,
    max_file_size: u64,
    detector: &Detector<'_>,
) -> Result<Report, SourceError> {
    let start = Instant::now();
    let git = |what: &str| {
        let what = what.to_string();
        move |source| SourceError::Git { what, source }
    };
    if repo.is_bare() {
        return Err(SourceError::NoIndex { path: repo.path().to_path_buf() });
    }
    // As in history: no re-hashing of each object read (the ids come from
    // the index and HEAD's trees; a damaged object still fails to inflate).
    git2::opts::strict_hash_verification(false);
    let head = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().map_err(git("HEAD does not point to a tree"))?),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => {
            None
        }
        Err(e) => return Err(SourceError::Git { what: "cannot read HEAD".into(), source: e }),
    };
    let odb = repo.odb().map_err(git("cannot open the object database"))?;
    let changes = match changes_cached(repo, &odb, head.as_ref()) {
        Some(c) => c,
        None => {
            let index = repo.index().map_err(git("cannot read the index"))?;
            changes_diff(repo, head.as_ref(), &index)?
        }
    };
    let mut tally = Tally::default();
    let mut findings = Vec::new();
    let mut suppressions = Vec::new();
    let mut scanner = detector.scanner();
    for change in changes {
        let shown = String::from_utf8_lossy(&change.path).into_owned();
        let new = match change.new {
            Staged::Blob(id) => id,
            Staged::Other => {
                // Symlinks and submodule commits hold no file content to scan.
                tally.stats.skipped_other += 1;
                continue;
            }
            Staged::Conflict => {
                tally.warnings.push(Warning::at(shown, "unresolved merge conflict; not scanned"));
                continue;
            }
        };
        let path = PathBuf::from(&shown);
        suppressions.extend(changes::file_change(&shown, None));
        if detector.repo_path_allowed(&path) {
            tally.stats.skipped_allowlisted += 1;
            continue;
        }
        let Some(data) = read_blob(&odb, new, &shown, max_file_size, &mut tally) else {
            continue;
        };
        if is_lfs_pointer(&data) {
            tally.stats.skipped_other += 1;
            continue;
        }
        if is_binary(&data) {
            tally.stats.skipped_binary += 1;
            continue;
        }
        tally.stats.files += 1;
        tally.stats.blobs += 1;
        tally.stats.bytes += data.len() as u64;
        let origin = Origin::Staged { path };
        let base = change.old.and_then(|old| odb.read(old).ok());
        if inline::has_marker(&data) {
            let added = match &base {
                Some(b) => added_lines(b.data(), &data),
                None => std::iter::once(1..usize::MAX).collect(),
            };
            changes::added_markers(&shown, &data, &added, None, &mut suppressions);
        }
        let mut found = detector.findings(&mut scanner, &origin, &data, &mut tally);
        if found.is_empty() {
            continue;
        }
        if let Some(base) = &base {
            let added = added_lines(base.data(), &data);
            found.retain(|f| {
                let lines = f.location.line..f.location.end_line + 1;
                added.iter().any(|r| r.start < lines.end && lines.start < r.end)
            });
        }
        findings.extend(found);
    }
    let mut report = Report {
        findings,
        warnings: tally.warnings,
        stats: tally.stats,
        staged: true,
        suppressions_added: suppressions,
        ..Default::default()
    };
    report.stats.duration_ms = start.elapsed().as_millis() as u64;
    report.sort();
    Ok(report)
}

/// What the index holds at a path the commit changes.
enum Staged {
    /// A file (regular or executable).
    Blob(Oid),
    /// A symlink or a submodule commit.
    Other,
    /// An unresolved merge conflict.
    Conflict,
}

/// A path the commit adds or changes.
struct Change {
    path: Vec<u8>,
    new: Staged,
    /// The blob the added lines are computed against: HEAD's at the same
    /// path, or the source of a rename or copy. None: every line is added.
    old: Option<Oid>,
}

/// The index file git would commit from: `GIT_INDEX_FILE` when git set it
/// (a hook of `git commit -a` or `git commit PATH` gets a temporary index).
fn index_path(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo.path().join("index"),
    }
}

/// The changes, fast, as git finds them: the index's cache tree records the
/// tree id of each directory unchanged since it was last written, so only
/// directories whose id differs from HEAD's are compared, entry by entry.
/// None (the caller then asks libgit2) when the index cannot be read here,
/// has conflicts, or when a path is deleted: a deletion may be half of a
/// rename, which libgit2's similarity search finds.
fn changes_cached(
    repo: &Repository,
    odb: &git2::Odb<'_>,
    head: Option<&git2::Tree<'_>>,
) -> Option<Vec<Change>> {
    let data = std::fs::read(index_path(repo)).ok()?;
    let index = super::index::parse(&data)?;
    if index.unsupported || index.entries.iter().any(|e| e.stage != 0) {
        return None;
    }
    let mut changes = Vec::new();
    let head = head.map(|t| Id::of(t.id()));
    compare_dir(odb, &index.entries, 0, index.tree.as_ref(), head, &mut changes)?;
    Some(changes)
}

/// Compares the index entries of one directory (`entries`, whose paths share
/// the first `prefix` bytes) with HEAD's tree there. None on a deletion.
fn compare_dir(
    odb: &git2::Odb<'_>,
    entries: &[super::index::IndexEntry],
    prefix: usize,
    cached: Option<&super::index::CacheTree>,
    head: Option<Id>,
    out: &mut Vec<Change>,
) -> Option<()> {
    if head.is_some() && cached.and_then(|c| c.valid_id()) == head {
        return Some(());
    }
    let tree = match head {
        Some(h) => Some(odb.read(h.oid()).ok()?),
        None => None,
    };
    let mut head_entries: Vec<(u32, &[u8], Id, bool)> = Vec::new();
    let mut raw = tree.as_ref().map_or(&[][..], |t| t.data());
    while !raw.is_empty() {
        let len = entry_len(raw)?;
        let (mode, name, id) = parse_entry(&raw[..len])?;
        head_entries.push((mode, name, id, false));
        raw = &raw[len..];
    }
    let mut find = |name: &[u8]| {
        head_entries.iter_mut().find(|e| e.1 == name).map(|e| {
            e.3 = true;
            (Kind::from_mode(e.0), e.2)
        })
    };
    let mut i = 0;
    while i < entries.len() {
        let rel = &entries[i].path[prefix..];
        match memchr::memchr(b'/', rel) {
            Some(slash) => {
                let dir = &rel[..=slash];
                let n = entries[i..]
                    .iter()
                    .take_while(|e| e.path.get(prefix..prefix + dir.len()) == Some(dir))
                    .count();
                let name = &dir[..slash];
                let sub = match find(name) {
                    Some((Kind::Tree, id)) => Some(id),
                    Some(_) => return None, // a file became a directory
                    None => None,
                };
                let child = cached.and_then(|c| c.child(name));
                compare_dir(odb, &entries[i..i + n], prefix + dir.len(), child, sub, out)?;
                i += n;
            }
            None => {
                let e = &entries[i];
                let before = find(rel);
                let kind = Kind::from_mode(e.mode);
                let old = match before {
                    Some((Kind::Tree, _)) => return None, // a directory became a file
                    Some((k, id)) if k == kind && id.0 == e.id => None,
                    Some((Kind::Blob, id)) => Some(Some(id.oid())),
                    Some(_) | None => Some(None),
                };
                if let Some(old) = old {
                    let new = if kind == Kind::Blob {
                        Staged::Blob(Id(e.id).oid())
                    } else {
                        Staged::Other
                    };
                    out.push(Change { path: e.path.clone(), new, old });
                }
                i += 1;
            }
        }
    }
    head_entries.iter().all(|e| e.3).then_some(())
}

/// The changes from libgit2's diff of HEAD and the index, with renames and
/// copies detected by similarity.
fn changes_diff(
    repo: &Repository,
    head: Option<&git2::Tree<'_>>,
    index: &git2::Index,
) -> Result<Vec<Change>, SourceError> {
    let git = |what: &str| {
        let what = what.to_string();
        move |source| SourceError::Git { what, source }
    };
    let mut opts = DiffOptions::new();
    opts.include_typechange(true).ignore_submodules(true).skip_binary_check(true);
    let mut diff = repo
        .diff_tree_to_index(head, Some(index), Some(&mut opts))
        .map_err(git("cannot compare the index with HEAD"))?;
    if diff.deltas().len() > 1 {
        let mut find = DiffFindOptions::new();
        find.renames(true).copies(true);
        diff.find_similar(Some(&mut find)).map_err(git("cannot detect renames"))?;
    }
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let status = delta.status();
        let new = delta.new_file();
        let Some(path) = new.path_bytes().map(<[u8]>::to_vec) else { continue };
        let staged = match status {
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange => {
                if is_blob(new.mode()) {
                    Staged::Blob(new.id())
                } else {
                    Staged::Other
                }
            }
            Delta::Conflicted => Staged::Conflict,
            // Deletions, and what the index does not hold, add nothing.
            _ => continue,
        };
        let old = delta.old_file();
        let old = (status != Delta::Added && !old.id().is_zero() && is_blob(old.mode()))
            .then(|| old.id());
        changes.push(Change { path, new: staged, old });
    }
    Ok(changes)
}

fn is_blob(mode: FileMode) -> bool {
    matches!(mode, FileMode::Blob | FileMode::BlobExecutable | FileMode::BlobGroupWritable)
}

/// Reads a blob after checking its size in the object header.
fn read_blob(
    odb: &git2::Odb<'_>,
    oid: Oid,
    shown: &str,
    max: u64,
    tally: &mut Tally,
) -> Option<Vec<u8>> {
    match odb.read_header(oid) {
        Ok((size, _)) if size as u64 > max => {
            tally.stats.skipped_large += 1;
            tally.warnings.push(Warning::at(
                shown,
                format!("skipped: {size} bytes is over --max-file-size ({max})"),
            ));
            None
        }
        Ok(_) => match odb.read(oid) {
            Ok(obj) => Some(obj.data().to_vec()),
            Err(e) => {
                tally.warnings.push(Warning::at(shown, format!("blob {oid}: {}", e.message())));
                None
            }
        },
        Err(e) => {
            tally.warnings.push(Warning::at(shown, format!("blob {oid}: {}", e.message())));
            None
        }
    }
}

/// The 1-based line ranges (half-open) of `new` that are not in `old`, as a
/// diff without context sees them. UTF-16 text is compared decoded, as it is
/// scanned.
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<Range<usize>> {
    let (old_d, new_d) = (decode_utf16(old), decode_utf16(new));
    let old = old_d.as_deref().unwrap_or(old);
    let new = new_d.as_deref().unwrap_or(new);
    let mut opts = DiffOptions::new();
    opts.context_lines(0).interhunk_lines(0).force_text(true);
    let Ok(patch) = Patch::from_buffers(old, None, new, None, Some(&mut opts)) else {
        // Without a diff, every line counts as added: better a finding too many.
        return std::iter::once(1..usize::MAX).collect();
    };
    (0..patch.num_hunks())
        .filter_map(|i| patch.hunk(i).ok())
        .filter(|(h, _)| h.new_lines() > 0)
        .map(|(h, _)| {
            let start = h.new_start() as usize;
            start..start + h.new_lines() as usize
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_are_the_new_side_of_each_hunk() {
        let old = b"a\nb\nc\nd\n";
        assert_eq!(added_lines(old, b"a\nB\nc\nd\ne\n"), vec![2..3, 5..6]);
        assert_eq!(added_lines(old, b"a\nd\n"), Vec::<Range<usize>>::new());
        assert_eq!(added_lines(b"", b"x\ny\n"), vec![1..3]);
    }
}

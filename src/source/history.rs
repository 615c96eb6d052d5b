//! The git history source: every blob reachable from the chosen commits, read
//! and scanned exactly once, with the commit that first introduced it at each
//! path.
//!
//! Three stages:
//!
//! 1. Commits: a revwalk over every ref (or a branch, or a range), sorted
//!    topologically and reversed, so a parent always comes before its children.
//! 2. Enumeration (one thread): each commit's tree is walked; a (tree, path)
//!    pair seen before is skipped whole, and each tree read is compared with the
//!    last tree read at the same path, so an unchanged entry costs a comparison
//!    and nothing else. The first commit of each (blob, path) pair is recorded,
//!    and each blob never seen before is listed for scanning.
//! 3. Workers (rayon, one `git2::Repository` each, since it is not `Sync`)
//!    take the listed blobs in pack order (see `packorder`: a blob's delta
//!    base is then still in libgit2's cache), check a blob's size in the
//!    object header, read it, skip binaries and Git LFS pointers, scan it.
//!    Only one blob per worker is in memory at a time, so memory grows with
//!    the number of blobs, not with their size.
//!
//! Provenance is joined last: each finding of a blob is reported once per path
//! that blob had, with the earliest commit that put the same secret at that
//! path. This module never writes into the repository.

use std::{
    cmp::Ordering,
    ffi::OsStr,
    path::{Path, PathBuf},
    rc::Rc,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Instant,
};

use git2::{ObjectType, Odb, OdbObject, Oid, Repository, RepositoryOpenFlags, Sort};
use rayon::iter::{ParallelBridge, ParallelIterator};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::{
    finding::{Finding, Fingerprint},
    report::{Report, SuppressionChange, Warning},
    scan::{Detector, Tally},
    source::{
        CommitInfo, Origin, SourceError, is_binary, packorder::PackOrder, staged::added_lines,
    },
    suppress::{changes, inline},
};

/// Which commits to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every commit reachable from any ref (branches, tags, remotes, …) or HEAD.
    All,
    /// Commits reachable from one branch (local, then remote-tracking, then any revision).
    Branch(String),
    /// Commits reachable from `branch` (default HEAD) but not from `rev`.
    Since {
        /// The base revision (e.g. `origin/main`).
        rev: String,
        /// The tip instead of HEAD.
        branch: Option<String>,
    },
    /// `A..B`: commits reachable from B but not from A.
    Range(String),
}

/// What `keylint history` was asked to do.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// Which commits.
    pub scope: Scope,
    /// Blobs larger than this many bytes are skipped.
    pub max_file_size: u64,
}

/// Live counters for a progress display; the scan only increments them.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commits to walk (known once the revwalk is done).
    pub commits_total: AtomicU64,
    /// Commits whose trees have been enumerated.
    pub commits: AtomicU64,
    /// Unique blobs found and queued for scanning.
    pub blobs_queued: AtomicU64,
    /// Blobs read (scanned or skipped).
    pub blobs_done: AtomicU64,
    /// Bytes scanned.
    pub bytes: AtomicU64,
}

/// Warnings kept per kind of skipped blob before they are summarised.
const MAX_SKIP_WARNINGS: usize = 10;

/// Opens the repository at or above `path` (work tree, bare, worktree).
pub fn open_repository(path: &Path) -> Result<Repository, SourceError> {
    if !path.exists() {
        return Err(SourceError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    Repository::open_ext(path, RepositoryOpenFlags::empty(), &[] as &[&OsStr]).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            SourceError::NotARepository { path: path.to_path_buf() }
        } else {
            SourceError::Git { what: format!("cannot open {}", path.display()), source: e }
        }
    })
}

fn git_err(what: impl Into<String>) -> impl FnOnce(git2::Error) -> SourceError {
    let what = what.into();
    move |source| SourceError::Git { what, source }
}

/// Scans the history of a repository (opened with `open_repository`).
pub fn scan(
    repo: &Repository,
    cfg: &HistoryConfig,
    detector: &Detector<'_>,
    progress: &Progress,
) -> Result<Report, SourceError> {
    let start = Instant::now();
    // Reading objects only to scan them, keylint does not re-hash each one to
    // check its id: that SHA-1 was a fifth of the time of a full-history scan.
    // A damaged object still fails to inflate and becomes a warning.
    git2::opts::strict_hash_verification(false);
    let mut warnings = Vec::new();
    if repo.is_shallow() {
        warnings.push(Warning::general(
            "shallow clone: commits before the shallow boundary are not in this repository, so \
             this history is incomplete (fetch it all with `git fetch --unshallow` for a full audit)",
        ));
    }
    let (commits, seeds) = walk_commits(repo, &cfg.scope, &mut warnings)?;
    progress.commits_total.store(commits.len() as u64, Relaxed);

    // Enumerate first, then read the new blobs in pack order (see
    // `packorder`): in commit order, rebuilding each blob's delta chain
    // made reading cost several times the scanning.
    let odb = repo.odb().map_err(git_err("cannot open the object database"))?;
    let mut e = Enumerator::new(&odb, detector, progress);
    for &seed in &seeds {
        e.seed(seed);
    }
    for (ix, &oid) in commits.iter().enumerate() {
        e.commit(ix as u32, oid);
        progress.commits.fetch_add(1, Relaxed);
    }
    let (mut enumeration, mut jobs) = e.finish();
    let order = PackOrder::read(&repo.commondir().join("objects"));
    jobs.sort_by_cached_key(|j| order.key(&j.oid));
    drop(order);
    let git_dir = repo.path().to_path_buf();
    let scanned = jobs
        .chunks(BATCH)
        .par_bridge()
        .fold(
            || Worker::new(&git_dir, detector, cfg.max_file_size),
            |mut w, batch| {
                for job in batch {
                    w.scan(job, progress);
                }
                w
            },
        )
        .map(Worker::finish)
        .reduce(Scanned::default, Scanned::merge);

    let mut tally = scanned.tally;
    tally.stats.merge(&enumeration.tally.stats);
    warnings.append(&mut enumeration.tally.warnings);
    warnings.append(&mut tally.warnings);
    summarise(&mut warnings, scanned.large, "over --max-file-size", cfg.max_file_size);
    tally.stats.commits = commits.len() as u64;

    let findings = attach_provenance(repo, &commits, &enumeration, scanned.found, detector);
    let suppressions_added = match cfg.scope {
        Scope::Since { .. } | Scope::Range(_) => {
            range_suppressions(repo, &commits, cfg.max_file_size)
        }
        Scope::All | Scope::Branch(_) => Vec::new(),
    };
    let mut report = Report {
        findings,
        warnings,
        stats: tally.stats,
        history: true,
        suppressions_added,
        ..Default::default()
    };
    report.stats.duration_ms = start.elapsed().as_millis() as u64;
    report.sort();
    Ok(report)
}

/// The suppressions the commits of a range add (see `suppress::changes`),
/// each with the first commit that added it. A commit is compared with its
/// parents: a merge adds only what is new against every parent, so merging
/// the base branch in lists nothing the base branch brought.
fn range_suppressions(repo: &Repository, commits: &[Oid], max: u64) -> Vec<SuppressionChange> {
    let mut out = Vec::new();
    let Ok(odb) = repo.odb() else { return out };
    for &oid in commits {
        let Ok(commit) = repo.find_commit(oid) else { continue };
        let Ok(tree) = commit.tree() else { continue };
        let parents: Vec<git2::Tree<'_>> = commit.parents().filter_map(|p| p.tree().ok()).collect();
        let Ok(diff) = repo.diff_tree_to_tree(parents.first(), Some(&tree), None) else {
            continue;
        };
        let id = oid.to_string();
        for delta in diff.deltas() {
            let new = delta.new_file();
            if delta.status() == git2::Delta::Deleted
                || !matches!(new.mode(), git2::FileMode::Blob | git2::FileMode::BlobExecutable)
            {
                continue;
            }
            let Some(path) = new.path() else { continue };
            let in_parent = |p: &git2::Tree<'_>| p.get_path(path).ok().map(|e| e.id());
            if parents.iter().skip(1).any(|p| in_parent(p) == Some(new.id())) {
                continue;
            }
            let shown = path.to_string_lossy().into_owned();
            out.extend(changes::file_change(&shown, Some(&id)));
            if !matches!(odb.read_header(new.id()), Ok((size, _)) if size as u64 <= max) {
                continue;
            }
            let Ok(blob) = odb.read(new.id()) else { continue };
            let data = blob.data();
            if is_binary(data) || !inline::has_marker(data) {
                continue;
            }
            let mut added: Vec<_> = std::iter::once(1..usize::MAX).collect();
            for old in parents.iter().filter_map(in_parent) {
                if let Ok(old) = odb.read(old) {
                    added = changes::intersect(&added, &added_lines(old.data(), data));
                }
            }
            changes::added_markers(&shown, data, &added, Some(&id), &mut out);
        }
    }
    // Commits come parents first: keep the first commit to add each entry.
    let mut seen = FxHashSet::default();
    out.retain(|s| seen.insert((s.path.clone(), s.line, s.kind, s.detail.clone())));
    out
}

/// Keeps the first few warnings of one kind and replaces the rest by a count.
fn summarise(warnings: &mut Vec<Warning>, mut list: Vec<Warning>, what: &str, limit: u64) {
    list.sort();
    let n = list.len();
    if n > MAX_SKIP_WARNINGS {
        list.truncate(MAX_SKIP_WARNINGS);
        list.push(Warning::general(format!(
            "{} more blobs {what} ({limit} bytes) were skipped",
            n - MAX_SKIP_WARNINGS
        )));
    }
    warnings.extend(list);
}

/// Resolves a revision to a commit.
fn resolve(repo: &Repository, spec: &str) -> Result<Oid, SourceError> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| SourceError::Revision { spec: spec.to_string(), message: e.message().into() })
}

/// A branch by name: local, then remote-tracking, then any revision.
fn branch_tip(repo: &Repository, name: &str) -> Result<Oid, SourceError> {
    for kind in [git2::BranchType::Local, git2::BranchType::Remote] {
        if let Ok(b) = repo.find_branch(name, kind) {
            if let Ok(c) = b.get().peel_to_commit() {
                return Ok(c.id());
            }
        }
    }
    resolve(repo, name).map_err(|_| SourceError::Revision {
        spec: name.to_string(),
        message: "no such branch".into(),
    })
}

/// The commits to enumerate, parents first, and the commits just outside the
/// range whose trees count as already seen (empty for a full scan).
fn walk_commits(
    repo: &Repository,
    scope: &Scope,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<Oid>, Vec<Oid>), SourceError> {
    let mut walk = repo.revwalk().map_err(git_err("cannot walk commits"))?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE).map_err(git_err("cannot sort commits"))?;
    let push = |walk: &mut git2::Revwalk<'_>, oid: Oid| {
        walk.push(oid).map_err(git_err(format!("cannot walk from commit {oid}")))
    };
    let hide = |walk: &mut git2::Revwalk<'_>, oid: Oid| {
        walk.hide(oid).map_err(git_err(format!("cannot hide commit {oid}")))
    };
    let head = || {
        resolve(repo, "HEAD").map_err(|_| SourceError::Revision {
            spec: "HEAD".into(),
            message: "HEAD does not point to a commit; name a branch with --branch".into(),
        })
    };
    let incremental = match scope {
        Scope::All => {
            let refs = repo.references().map_err(git_err("cannot list references"))?;
            for r in refs {
                match r {
                    // Tags of trees and blobs have no commit to walk from.
                    Ok(r) => {
                        if let Ok(c) = r.peel_to_commit() {
                            push(&mut walk, c.id())?;
                        }
                    }
                    Err(e) => warnings.push(Warning::general(format!("unreadable reference: {e}"))),
                }
            }
            if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
                push(&mut walk, c.id())?;
            }
            false
        }
        Scope::Branch(name) => {
            push(&mut walk, branch_tip(repo, name)?)?;
            false
        }
        Scope::Since { rev, branch } => {
            let tip = match branch {
                Some(b) => branch_tip(repo, b)?,
                None => head()?,
            };
            push(&mut walk, tip)?;
            hide(&mut walk, resolve(repo, rev)?)?;
            true
        }
        Scope::Range(range) => {
            let Some((from, to)) = range
                .split_once("..")
                .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.starts_with('.'))
            else {
                return Err(SourceError::Revision {
                    spec: range.clone(),
                    message: "expected a range A..B".into(),
                });
            };
            push(&mut walk, resolve(repo, to)?)?;
            hide(&mut walk, resolve(repo, from)?)?;
            true
        }
    };
    let mut commits = Vec::new();
    let mut errors = 0;
    for oid in walk {
        match oid {
            Ok(oid) => commits.push(oid),
            Err(e) => {
                errors += 1;
                warnings.push(Warning::general(format!("commit walk: {}", e.message())));
                if errors > MAX_SKIP_WARNINGS {
                    break;
                }
            }
        }
    }
    let seeds = if incremental { boundary(repo, &commits, warnings) } else { Vec::new() };
    Ok((commits, seeds))
}

/// Parents of the walked commits that are not walked themselves: what the range
/// starts from. Their content is not new.
fn boundary(repo: &Repository, commits: &[Oid], warnings: &mut Vec<Warning>) -> Vec<Oid> {
    let Ok(odb) = repo.odb() else { return Vec::new() };
    let walked: FxHashSet<Oid> = commits.iter().copied().collect();
    let mut seeds = Vec::new();
    let mut seen = FxHashSet::default();
    for &oid in commits {
        match odb.read(oid) {
            Ok(obj) => {
                for parent in parse_commit(obj.data()).1 {
                    if !walked.contains(&parent) && seen.insert(parent) {
                        seeds.push(parent);
                    }
                }
            }
            Err(e) => warnings.push(Warning::general(format!("commit {oid}: {}", e.message()))),
        }
    }
    seeds
}

/// The tree and parents of a raw commit object.
fn parse_commit(data: &[u8]) -> (Option<Oid>, Vec<Oid>) {
    let mut tree = None;
    let mut parents = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        let hex = |prefix: &[u8]| {
            line.strip_prefix(prefix)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| Oid::from_str(h).ok())
        };
        if let Some(t) = hex(b"tree ") {
            tree = Some(t);
        } else if let Some(p) = hex(b"parent ") {
            parents.push(p);
        } else {
            break;
        }
    }
    (tree, parents)
}

/// An object id as raw bytes. `git2::Oid` compares through a call into
/// libgit2; the enumeration compares and hashes ids millions of times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Id(pub(crate) [u8; 20]);

impl Id {
    pub(crate) fn of(oid: Oid) -> Id {
        let mut id = [0; 20];
        let bytes = oid.as_bytes();
        id[..bytes.len().min(20)].copy_from_slice(&bytes[..bytes.len().min(20)]);
        Id(id)
    }

    pub(crate) fn oid(self) -> Oid {
        Oid::from_bytes(&self.0).expect("20 bytes are a SHA-1 object id")
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Jobs sent to the workers at once (fewer channel hand-offs).
const BATCH: usize = 64;

/// What a tree entry is, from its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tree,
    Blob,
    Symlink,
    Gitlink,
}

impl Kind {
    pub(crate) fn from_mode(mode: u32) -> Kind {
        match mode & 0o170000 {
            0o040000 => Kind::Tree,
            0o120000 => Kind::Symlink,
            0o160000 => Kind::Gitlink,
            _ => Kind::Blob,
        }
    }
}

/// The length of the raw tree entry at the start of `data` (`<mode> <name>\0<20-byte id>`).
pub(crate) fn entry_len(data: &[u8]) -> Option<usize> {
    memchr::memchr(0, data).map(|nul| nul + 21).filter(|&n| n <= data.len())
}

/// Mode, name and id of one raw tree entry.
pub(crate) fn parse_entry(entry: &[u8]) -> Option<(u32, &[u8], Id)> {
    let sp = memchr::memchr(b' ', entry)?;
    let nul = sp + 1 + memchr::memchr(0, &entry[sp + 1..])?;
    let mut mode = 0u32;
    for &d in &entry[..sp] {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        mode = mode.wrapping_mul(8) + u32::from(d - b'0');
    }
    let id = <[u8; 20]>::try_from(entry.get(nul + 1..nul + 21)?).ok()?;
    Some((mode, &entry[sp + 1..nul], Id(id)))
}

/// Calls `f(mode, name, id, old)` for each entry of the raw tree `cur` that is
/// not in the raw tree `prev` (same mode, name and id); `old` is the id the
/// entry had in `prev` if it had the same name and kind. Both trees are in
/// git's tree order, so one pass over each suffices; an unchanged entry costs
/// one byte comparison. False if `cur` is malformed (entries before the
/// damage are still seen).
fn diff_trees(prev: &[u8], cur: &[u8], mut f: impl FnMut(u32, &[u8], Id, Option<Id>)) -> bool {
    // Most of a tree is usually unchanged: skip whole entries inside the
    // common prefix, and stop once the rest equals the rest of `prev`.
    let prefix = common_prefix(prev, cur);
    let suffix = common_suffix(prev, cur);
    let (mut p, mut c) = (0, 0);
    while c < cur.len() {
        if cur.len() - c <= suffix && cur.len() - c == prev.len() - p.min(prev.len()) {
            return true;
        }
        let Some(len) = entry_len(&cur[c..]) else { return false };
        if c + len <= prefix {
            c += len;
            p = c;
            continue;
        }
        let entry = &cur[c..c + len];
        c += len;
        if prev.get(p..p + len) == Some(entry) {
            p += len;
            continue;
        }
        let Some((mode, name, id)) = parse_entry(entry) else { return false };
        let kind = Kind::from_mode(mode);
        let is_tree = kind == Kind::Tree;
        // Skip the entries of `prev` that sort before this one (removed), and
        // this one's old version (changed).
        let mut old = None;
        while p < prev.len() {
            let Some((plen, (pmode, pname, pid))) =
                entry_len(&prev[p..]).and_then(|n| Some((n, parse_entry(&prev[p..p + n])?)))
            else {
                p = prev.len();
                break;
            };
            match tree_order(pname, Kind::from_mode(pmode) == Kind::Tree, name, is_tree) {
                Ordering::Less => p += plen,
                Ordering::Equal => {
                    p += plen;
                    old = (Kind::from_mode(pmode) == kind).then_some(pid);
                    break;
                }
                Ordering::Greater => break,
            }
        }
        f(mode, name, id, old);
    }
    true
}

/// Length of the common prefix of two byte strings.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..n].iter().zip(&b[i..n]).take_while(|(x, y)| x == y).count()
}

/// Length of the common suffix of two byte strings.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 64;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = n;
    while i >= CHUNK && a[i - CHUNK..i] == b[i - CHUNK..i] {
        i -= CHUNK;
    }
    n - i + a[..i].iter().rev().zip(b[..i].iter().rev()).take_while(|(x, y)| x == y).count()
}

/// Git's tree order: names compared bytewise, a tree's name as if it ended in `/`.
fn tree_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        other => return other,
    }
    let end = |name: &[u8], tree: bool| name.get(n).copied().unwrap_or(if tree { b'/' } else { 0 });
    end(a, a_tree).cmp(&end(b, b_tree))
}

/// A blob sent to the workers, with the first path it was seen at (for warnings).
struct Job {
    blob: u32,
    oid: Id,
    path: String,
}

/// One (blob, path) pair with the first commit it appeared in (indices).
#[derive(Debug, Clone, Copy)]
struct Pair {
    blob: u32,
    path: u32,
    commit: u32,
}

#[derive(Debug, Default, Clone, Copy)]
struct BlobState {
    /// Sent to the workers.
    queued: bool,
    /// Seen only at allowlisted paths so far.
    held: bool,
}

/// The path table: every path is (parent path, name), path 0 being the root.
#[derive(Default)]
struct Paths {
    names: Vec<Box<[u8]>>,
    name_ix: FxHashMap<Box<[u8]>, u32>,
    paths: Vec<(u32, u32)>,
    path_ix: FxHashMap<(u32, u32), u32>,
}

const ROOT: u32 = 0;

impl Paths {
    fn new() -> Self {
        let mut p = Paths::default();
        p.paths.push((u32::MAX, u32::MAX));
        p
    }

    fn name(&mut self, name: &[u8]) -> u32 {
        if let Some(&ix) = self.name_ix.get(name) {
            return ix;
        }
        let ix = self.names.len() as u32;
        self.names.push(name.into());
        self.name_ix.insert(name.into(), ix);
        ix
    }

    fn child(&mut self, parent: u32, name: u32) -> u32 {
        let next = self.paths.len() as u32;
        let ix = *self.path_ix.entry((parent, name)).or_insert(next);
        if ix == next {
            self.paths.push((parent, name));
        }
        ix
    }

    fn string(&self, mut path: u32) -> String {
        let mut parts = Vec::new();
        while path != ROOT {
            let (parent, name) = self.paths[path as usize];
            parts.push(String::from_utf8_lossy(&self.names[name as usize]));
            path = parent;
        }
        parts.reverse();
        parts.join("/")
    }
}

/// Recently read raw trees (a parent's trees are read again as the base of its
/// children): two generations, the older one dropped when the newer one
/// outgrows `TREE_CACHE_BYTES`.
struct TreeCache<'a> {
    new: FxHashMap<Id, Rc<OdbObject<'a>>>,
    old: FxHashMap<Id, Rc<OdbObject<'a>>>,
    bytes: usize,
}

/// Bytes of raw trees kept by `TreeCache` (per generation).
const TREE_CACHE_BYTES: usize = 8 << 20;

impl<'a> TreeCache<'a> {
    fn new() -> Self {
        TreeCache { new: FxHashMap::default(), old: FxHashMap::default(), bytes: 0 }
    }

    fn get(&mut self, id: Id) -> Option<Rc<OdbObject<'a>>> {
        if let Some(t) = self.new.get(&id) {
            return Some(t.clone());
        }
        let t = self.old.remove(&id)?;
        self.put(id, t.clone());
        Some(t)
    }

    fn put(&mut self, id: Id, tree: Rc<OdbObject<'a>>) {
        self.bytes += tree.len();
        self.new.insert(id, tree);
        if self.bytes > TREE_CACHE_BYTES {
            self.old = std::mem::take(&mut self.new);
            self.bytes = 0;
        }
    }
}

/// What enumeration leaves behind for the provenance join.
struct Enumerated {
    paths: Paths,
    pairs: Vec<Pair>,
    tally: Tally,
}

/// Walks commit trees, records (blob, path) pairs and queues new blobs.
struct Enumerator<'a, 'd> {
    odb: &'a Odb<'a>,
    detector: &'a Detector<'d>,
    progress: &'a Progress,
    jobs: Vec<Job>,
    filter_paths: bool,
    paths: Paths,
    trees_seen: FxHashSet<(Id, u32)>,
    roots: FxHashMap<Id, Id>,
    cache: TreeCache<'a>,
    changed: Vec<(Id, u32, Kind, Option<Id>)>,
    blob_ix: FxHashMap<Id, u32>,
    blobs: Vec<BlobState>,
    pairs_seen: FxHashSet<u64>,
    pairs: Vec<Pair>,
    others_seen: FxHashSet<(Id, u32)>,
    stack: Vec<(Id, u32, Option<Id>)>,
    tally: Tally,
}

impl<'a, 'd> Enumerator<'a, 'd> {
    fn new(odb: &'a Odb<'a>, detector: &'a Detector<'d>, progress: &'a Progress) -> Self {
        Enumerator {
            odb,
            detector,
            progress,
            jobs: Vec::new(),
            filter_paths: detector.project.paths.is_some(),
            paths: Paths::new(),
            trees_seen: FxHashSet::default(),
            roots: FxHashMap::default(),
            cache: TreeCache::new(),
            changed: Vec::new(),
            blob_ix: FxHashMap::default(),
            blobs: Vec::new(),
            pairs_seen: FxHashSet::default(),
            pairs: Vec::new(),
            others_seen: FxHashSet::default(),
            stack: Vec::new(),
            tally: Tally::default(),
        }
    }

    fn warn(&mut self, message: String) {
        if self.tally.warnings.len() < 100 * MAX_SKIP_WARNINGS {
            self.tally.warnings.push(Warning::general(message));
        }
    }

    /// The root tree and first parent of a commit.
    fn read_commit(&mut self, commit: Oid) -> Option<(Id, Option<Id>)> {
        match self.odb.read(commit) {
            Ok(obj) => match parse_commit(obj.data()) {
                (Some(tree), parents) => Some((Id::of(tree), parents.first().copied().map(Id::of))),
                (None, _) => {
                    self.warn(format!("commit {commit}: corrupt commit object (no tree)"));
                    None
                }
            },
            Err(e) => {
                self.warn(format!("commit {commit}: cannot read: {}", e.message()));
                None
            }
        }
    }

    /// Marks everything in a commit outside the range as already seen.
    fn seed(&mut self, commit: Oid) {
        if let Some((tree, _)) = self.read_commit(commit) {
            self.roots.insert(Id::of(commit), tree);
            self.walk_tree(tree, None, None);
        }
    }

    /// Enumerates one commit of the range, against its first parent.
    fn commit(&mut self, ix: u32, commit: Oid) {
        if let Some((tree, parent)) = self.read_commit(commit) {
            self.roots.insert(Id::of(commit), tree);
            let base = parent.and_then(|p| self.roots.get(&p).copied());
            self.walk_tree(tree, base, Some((ix, commit)));
        }
    }

    /// A raw tree, from the cache or the object database.
    fn tree(&mut self, tree: Id, commit: Option<(u32, Oid)>) -> Option<Rc<OdbObject<'a>>> {
        if let Some(t) = self.cache.get(tree) {
            return Some(t);
        }
        match self.odb.read(tree.oid()) {
            Ok(o) if o.kind() == ObjectType::Tree => {
                let o = Rc::new(o);
                self.cache.put(tree, o.clone());
                Some(o)
            }
            Ok(o) => {
                self.warn(format!("tree {tree}: is a {}, not a tree", o.kind()));
                None
            }
            Err(e) => {
                let at = commit.map_or_else(String::new, |(_, c)| format!(" (commit {c})"));
                self.warn(format!("tree {tree}{at}: cannot read: {}", e.message()));
                None
            }
        }
    }

    /// Walks a root tree against `base`, the first parent's root tree: only
    /// entries that differ from the parent's at the same path are looked at.
    /// `commit` is None when seeding.
    fn walk_tree(&mut self, root: Id, base: Option<Id>, commit: Option<(u32, Oid)>) {
        self.stack.push((root, ROOT, base));
        while let Some((tree, dir, base)) = self.stack.pop() {
            // Everything under the parent's tree at this path was recorded
            // when the parent was walked.
            if base == Some(tree) || !self.trees_seen.insert((tree, dir)) {
                continue;
            }
            let Some(cur) = self.tree(tree, commit) else { continue };
            let prev = base.and_then(|b| self.tree(b, commit));
            let prev = prev.as_ref().map_or(&[][..], |p| p.data());
            let mut changed = std::mem::take(&mut self.changed);
            let whole = diff_trees(prev, cur.data(), |mode, name, oid, old| {
                let name = self.paths.name(name);
                changed.push((oid, self.paths.child(dir, name), Kind::from_mode(mode), old));
            });
            if !whole {
                self.warn(format!("tree {tree}: corrupt tree object; some entries skipped"));
            }
            for &(oid, path, kind, old) in &changed {
                match kind {
                    Kind::Tree => self.stack.push((oid, path, old)),
                    Kind::Blob => self.blob(oid, path, commit.map(|(ix, _)| ix)),
                    Kind::Symlink | Kind::Gitlink => {
                        // Submodule commits live in another repository; a
                        // symlink's blob is only its target.
                        if self.others_seen.insert((oid, path)) && commit.is_some() {
                            self.tally.stats.skipped_other += 1;
                        }
                    }
                }
            }
            changed.clear();
            self.changed = changed;
        }
    }

    /// Records a (blob, path) pair; queues the blob the first time it is seen
    /// at a path that is not allowlisted.
    fn blob(&mut self, oid: Id, path: u32, commit: Option<u32>) {
        let next = self.blobs.len() as u32;
        let blob = *self.blob_ix.entry(oid).or_insert(next);
        if blob == next {
            self.blobs.push(BlobState::default());
        }
        if !self.pairs_seen.insert((u64::from(blob) << 32) | u64::from(path)) {
            return;
        }
        let Some(commit) = commit else { return };
        self.pairs.push(Pair { blob, path, commit });
        let state = &mut self.blobs[blob as usize];
        if state.queued {
            return;
        }
        let shown = self.paths.string(path);
        if self.filter_paths && self.detector.repo_path_allowed(Path::new(&shown)) {
            state.held = true;
            return;
        }
        state.queued = true;
        self.progress.blobs_queued.fetch_add(1, Relaxed);
        self.jobs.push(Job { blob, oid, path: shown });
    }

    /// What the provenance join needs, and the blobs to scan.
    fn finish(mut self) -> (Enumerated, Vec<Job>) {
        self.tally.stats.skipped_allowlisted +=
            self.blobs.iter().filter(|b| b.held && !b.queued).count() as u64;
        (Enumerated { paths: self.paths, pairs: self.pairs, tally: self.tally }, self.jobs)
    }
}

/// What the workers found.
#[derive(Default)]
struct Scanned {
    tally: Tally,
    /// Findings per blob index (only blobs with findings).
    found: Vec<(u32, Vec<Finding>)>,
    /// Warnings about blobs over the size limit (summarised later).
    large: Vec<Warning>,
}

impl Scanned {
    fn merge(mut self, o: Scanned) -> Scanned {
        self.tally.stats.merge(&o.tally.stats);
        self.tally.warnings.extend(o.tally.warnings);
        self.found.extend(o.found);
        self.large.extend(o.large);
        self
    }
}

/// One scanning worker: its own repository handle and scanner.
struct Worker<'d> {
    repo: Result<Repository, String>,
    detector: &'d Detector<'d>,
    scanner: crate::engine::Scanner<'d>,
    max: u64,
    out: Scanned,
}

impl<'d> Worker<'d> {
    fn new(git_dir: &Path, detector: &'d Detector<'d>, max: u64) -> Self {
        Worker {
            repo: Repository::open(git_dir).map_err(|e| e.message().to_string()),
            detector,
            scanner: detector.scanner(),
            max,
            out: Scanned::default(),
        }
    }

    fn scan(&mut self, job: &Job, progress: &Progress) {
        progress.blobs_done.fetch_add(1, Relaxed);
        let tally = &mut self.out.tally;
        let at = |what: String| Warning::at(job.path.clone(), what);
        let odb = match &self.repo {
            Ok(repo) => repo.odb(),
            Err(e) => {
                tally
                    .warnings
                    .push(at(format!("blob {}: cannot open the repository: {e}", job.oid)));
                return;
            }
        };
        let odb = match odb {
            Ok(o) => o,
            Err(e) => {
                tally.warnings.push(at(format!("blob {}: {}", job.oid, e.message())));
                return;
            }
        };
        let oid = job.oid.oid();
        match odb.read_header(oid) {
            Ok((size, _)) if size as u64 > self.max => {
                tally.stats.skipped_large += 1;
                self.out.large.push(at(format!(
                    "blob {}: {size} bytes is over --max-file-size ({}); skipped",
                    job.oid, self.max
                )));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tally.warnings.push(at(format!("blob {}: cannot read: {}", job.oid, e.message())));
                return;
            }
        }
        let obj = match odb.read(oid) {
            Ok(o) => o,
            Err(e) => {
                tally.warnings.push(at(format!("blob {}: cannot read: {}", job.oid, e.message())));
                return;
            }
        };
        let data = obj.data();
        if is_lfs_pointer(data) {
            tally.stats.skipped_other += 1;
            return;
        }
        if is_binary(data) {
            tally.stats.skipped_binary += 1;
            return;
        }
        tally.stats.blobs += 1;
        tally.stats.bytes += data.len() as u64;
        progress.bytes.fetch_add(data.len() as u64, Relaxed);
        // A stand-in origin for warnings; each finding gets its commit and
        // path when provenance is attached.
        let origin = Origin::File { path: PathBuf::from(&job.path) };
        let found = self.detector.findings(&mut self.scanner, &origin, data, tally);
        if !found.is_empty() {
            self.out.found.push((job.blob, found));
        }
    }

    fn finish(self) -> Scanned {
        self.out
    }
}

/// Whether a blob is a Git LFS pointer file (the content lives elsewhere).
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    data.len() < 1024
        && (data.starts_with(b"version https://git-lfs.github.com/spec/")
            || data.starts_with(b"version https://hawser.github.com/spec/"))
}

/// The earliest sighting of a secret at a path: commit index, line and column
/// (what "earliest" compares), then the blob and the finding's index in its list.
type Earliest = (u32, usize, usize, u32, usize);

/// Reports each blob finding once per (secret, path), at the earliest commit
/// that put that secret at that path.
fn attach_provenance(
    repo: &Repository,
    commits: &[Oid],
    e: &Enumerated,
    found: Vec<(u32, Vec<Finding>)>,
    detector: &Detector<'_>,
) -> Vec<Finding> {
    if found.is_empty() {
        return Vec::new();
    }
    let by_blob: FxHashMap<u32, Vec<Finding>> = found.into_iter().collect();
    let mut best: FxHashMap<(&Fingerprint, u32), Earliest> = FxHashMap::default();
    let mut allowed: FxHashMap<u32, bool> = FxHashMap::default();
    for pair in &e.pairs {
        let Some(list) = by_blob.get(&pair.blob) else { continue };
        let skip = *allowed
            .entry(pair.path)
            .or_insert_with(|| detector.repo_path_allowed(Path::new(&e.paths.string(pair.path))));
        if skip {
            continue;
        }
        for (i, f) in list.iter().enumerate() {
            let cand = (pair.commit, f.location.line, f.location.column, pair.blob, i);
            best.entry((&f.fingerprint, pair.path))
                .and_modify(|b| {
                    if (cand.0, cand.1, cand.2) < (b.0, b.1, b.2) {
                        *b = cand;
                    }
                })
                .or_insert(cand);
        }
    }
    let mut infos: FxHashMap<u32, Box<CommitInfo>> = FxHashMap::default();
    let mut out = Vec::with_capacity(best.len());
    for ((_, path), (commit, _, _, blob, i)) in best {
        let info = infos
            .entry(commit)
            .or_insert_with(|| Box::new(commit_info(repo, commits[commit as usize])))
            .clone();
        let mut f = by_blob[&blob][i].clone();
        f.origin = Origin::Commit { commit: info, path: PathBuf::from(e.paths.string(path)) };
        out.push(f);
    }
    out
}

/// Provenance of a commit (author date in UTC).
pub fn commit_info(repo: &Repository, oid: Oid) -> CommitInfo {
    match repo.find_commit(oid) {
        Ok(c) => {
            let a = c.author();
            CommitInfo {
                id: oid.to_string(),
                author: String::from_utf8_lossy(a.name_bytes()).into_owned(),
                email: String::from_utf8_lossy(a.email_bytes()).into_owned(),
                date: rfc3339_utc(a.when().seconds()),
                summary: c
                    .summary_bytes()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_default(),
            }
        }
        Err(_) => CommitInfo {
            id: oid.to_string(),
            author: String::new(),
            email: String::new(),
            date: String::new(),
            summary: String::new(),
        },
    }
}

/// Seconds since the Unix epoch as RFC 3339 in UTC (`2024-05-01T12:00:00Z`).
pub fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn tree_order_puts_trees_after_same_prefix_files() {
        assert_eq!(tree_order(b"a", false, b"a.c", false), Ordering::Less);
        assert_eq!(tree_order(b"a", true, b"a.c", false), Ordering::Greater);
        assert_eq!(tree_order(b"a", true, b"a", true), Ordering::Equal);
        assert_eq!(tree_order(b"a", false, b"a", true), Ordering::Less);
    }

    #[test]
    fn parses_raw_trees_and_commits() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let mut raw = b"100644 a.txt\0".to_vec();
        raw.extend_from_slice(oid.as_bytes());
        raw.extend_from_slice(b"40000 dir\0");
        raw.extend_from_slice(oid.as_bytes());
        let id = Id::of(oid);
        let mut seen = Vec::new();
        assert!(diff_trees(b"", &raw, |m, n, o, _| seen.push((Kind::from_mode(m), n.to_vec(), o))));
        assert_eq!(seen, [(Kind::Blob, b"a.txt".to_vec(), id), (Kind::Tree, b"dir".to_vec(), id)]);
        assert!(!diff_trees(b"", &raw[..raw.len() - 1], |_, _, _, _| {}));
        // Against itself nothing is new; a changed id and an added entry are.
        let mut seen = Vec::new();
        assert!(diff_trees(&raw, &raw, |_, n, _, _| seen.push(n.to_vec())));
        assert!(seen.is_empty());
        let mut next = b"100644 a.txt\0".to_vec();
        next.extend_from_slice(&[7; 20]);
        next.extend_from_slice(b"100644 b\0");
        next.extend_from_slice(oid.as_bytes());
        next.extend_from_slice(&raw[raw.len() - 30..]);
        let mut changed = Vec::new();
        assert!(diff_trees(&raw, &next, |_, n, _, old| changed.push((n.to_vec(), old))));
        assert_eq!(changed, [(b"a.txt".to_vec(), Some(id)), (b"b".to_vec(), None)]);
        let commit = format!("tree {oid}\nparent {oid}\nauthor x <y> 0 +0000\n\nmsg\n");
        assert_eq!(parse_commit(commit.as_bytes()), (Some(oid), vec![oid]));
    }

    #[test]
    fn lfs_pointers_are_recognised() {
        assert!(is_lfs_pointer(
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n"
        ));
        assert!(!is_lfs_pointer(b"version 1\n"));
    }
}

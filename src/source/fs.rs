//! The filesystem source: `ignore`'s parallel walker (respects .gitignore and
//! .ignore unless `--no-ignore`), hidden files included, `.git` skipped,
//! symlinks never followed, only regular files opened (never a FIFO, socket or
//! device). The walk lists files and hands them in batches to rayon workers,
//! each reading files into one reused buffer and scanning them with its own
//! `Scanner`; with one thread (`-j1`) the walk and the scan take turns.

use std::{
    fs::OpenOptions,
    io::Read as _,
    path::{Path, PathBuf},
};

use ignore::{WalkBuilder, WalkState};
use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::{
    config::ScanConfig,
    finding::Finding,
    report::Warning,
    scan::{Detector, Tally},
    source::{Origin, is_binary},
};

/// Hands a thread's tally to the sink when the thread finishes.
struct Flush<'s, F: Fn(Vec<Finding>, Option<Tally>) + Sync + Send> {
    tally: Option<Tally>,
    sink: &'s F,
}

impl<F: Fn(Vec<Finding>, Option<Tally>) + Sync + Send> Drop for Flush<'_, F> {
    fn drop(&mut self) {
        (self.sink)(Vec::new(), self.tally.take());
    }
}

/// Strips a leading `./` so paths read as the user expects.
fn display(path: &Path) -> PathBuf {
    path.strip_prefix(".").map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

/// What reading one file gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// The whole file is in the buffer.
    Whole,
    /// It is larger than the limit: not read. The size, when known before
    /// reading (None: it grew past the limit while read).
    TooLarge(Option<u64>),
    /// It is no longer a regular file (replaced by a FIFO, device or
    /// symlink since it was listed): not read.
    NotRegular,
}

/// Reads the regular file at `path` into `buf` (cleared first), at most
/// `max` bytes. The file is opened without following a symlink and without
/// blocking, and checked to be a regular file before any read, so a path
/// swapped for a symlink leaving the tree or for a FIFO between the walk
/// and the read is never followed nor waited on.
pub fn read_regular(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Read> {
    buf.clear();
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut opts,
        libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    let file = match opts.open(path) {
        Ok(f) => f,
        // O_NOFOLLOW on a symlink.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Read::NotRegular),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Read::NotRegular);
    }
    if meta.len() > max {
        return Ok(Read::TooLarge(Some(meta.len())));
    }
    let size = meta.len();
    if size > 0 {
        // The size the file had when opened, and no read past it to find
        // the end (a syscall per file): a file that grows while it is read
        // is scanned as it was when opened; one that shrinks, up to its end.
        buf.reserve(usize::try_from(size).unwrap_or(usize::MAX));
        file.take(size).read_to_end(buf)?;
        return Ok(Read::Whole);
    }
    // Size 0: empty, or a file whose size is not known ahead (procfs, some
    // FUSE file systems): read to its end, up to the limit.
    file.take(max + 1).read_to_end(buf)?;
    if buf.len() as u64 > max {
        buf.clear();
        return Ok(Read::TooLarge(None));
    }
    Ok(Read::Whole)
}

/// Reads a file the walk listed into `buf`; false when it was not read, with
/// the reason counted in `tally` and, for a file too large or unreadable
/// (gone since it was listed, permission denied), a warning naming `shown`.
/// The size is checked on the open file, not by a separate `stat` of the path.
fn read_listed(path: &Path, shown: &Path, max: u64, buf: &mut Vec<u8>, tally: &mut Tally) -> bool {
    let shown = shown.display().to_string();
    match read_regular(path, max, buf) {
        Ok(Read::Whole) => true,
        Ok(Read::TooLarge(size)) => {
            tally.stats.skipped_large += 1;
            let message = match size {
                Some(n) => format!("skipped: {n} bytes is over --max-file-size ({max})"),
                None => "skipped: grew past --max-file-size while read".to_string(),
            };
            tally.warnings.push(Warning::at(shown, message));
            false
        }
        Ok(Read::NotRegular) => {
            tally.stats.skipped_other += 1;
            false
        }
        Err(e) => {
            tally.warnings.push(Warning::at(shown, format!("cannot read: {e}")));
            false
        }
    }
}

/// Walks `roots` and scans every regular file; `sink` receives each file's
/// findings, and each thread's tally once at its end.
pub fn walk<F>(roots: &[PathBuf], cfg: &ScanConfig, detector: &Detector<'_>, sink: F)
where
    F: Fn(Vec<Finding>, Option<Tally>) + Sync + Send,
{
    let Some((first, rest)) = roots.split_first() else { return };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    let respect = !cfg.no_ignore;
    // Rayon's pool, which `--threads` sets before the scan.
    let threads = rayon::current_num_threads();
    builder
        .hidden(false)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .parents(respect)
        .require_git(false)
        .follow_links(false)
        .threads(walkers(threads))
        .filter_entry(|e| e.file_name() != ".git");
    let max = cfg.max_file_size;
    let sink = &sink;
    // The walk lists files; rayon workers read and scan them. (`ignore`'s
    // walker visits a directory's files on the thread that read it, so
    // scanning in its callback would leave one core busy on a large flat
    // directory.)
    if threads == 1 {
        // One thread: walk and scan in turn, with no hand-off at all.
        let mut w = Worker {
            scanner: detector.scanner(),
            buf: Vec::new(),
            flush: Flush { tally: Some(Tally::default()), sink },
        };
        for entry in builder.build() {
            let tally = w.flush.tally.as_mut().expect("the tally lives until the walk ends");
            if let Some(path) = to_scan(entry, detector, tally) {
                w.scan(detector, Listed { path }, max);
            }
        }
        return;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Listed>>(64);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            builder.build_parallel().run(|| {
                // Files go out in batches: one hand-off per file woke a
                // worker per file, and the switching cost a tenth of a scan.
                let mut batch = Batch { tx: tx.clone(), files: Vec::with_capacity(BATCH) };
                let mut flush = Flush { tally: Some(Tally::default()), sink };
                Box::new(move |entry| {
                    let tally =
                        flush.tally.as_mut().expect("the tally lives until the thread ends");
                    let Some(path) = to_scan(entry, detector, tally) else {
                        return WalkState::Continue;
                    };
                    batch.files.push(Listed { path });
                    if batch.files.len() >= BATCH && !batch.send() {
                        return WalkState::Quit;
                    }
                    WalkState::Continue
                })
            });
        });
        rx.into_iter().par_bridge().for_each_init(
            || Worker {
                scanner: detector.scanner(),
                buf: Vec::new(),
                flush: Flush { tally: Some(Tally::default()), sink },
            },
            |w, batch| {
                for listed in batch {
                    w.scan(detector, listed, max);
                }
            },
        );
    });
}

/// The path of a walk entry to read and scan, or None (counted in `tally`):
/// a walk error (a warning), a directory, anything but a regular file
/// (symlinks are not followed; FIFOs, sockets and devices never opened), an
/// allowlisted path.
fn to_scan(
    entry: Result<ignore::DirEntry, ignore::Error>,
    detector: &Detector<'_>,
    tally: &mut Tally,
) -> Option<PathBuf> {
    let entry = match entry {
        Ok(e) => e,
        Err(e) => {
            tally.warnings.push(Warning::general(e.to_string()));
            return None;
        }
    };
    let ft = entry.file_type()?;
    if ft.is_dir() {
        return None;
    }
    if !ft.is_file() {
        tally.stats.skipped_other += 1;
        return None;
    }
    if detector.fs_path_allowed(entry.path()) {
        tally.stats.skipped_allowlisted += 1;
        return None;
    }
    Some(entry.into_path())
}

/// Walker threads for `threads` scanning threads (rayon's, which `--threads`
/// sets): one per eight. Listing a file costs about a twentieth of scanning
/// it, and a second walker on two cores only took time from the scan (2-3%
/// slower on the real-code benchmark tree).
fn walkers(threads: usize) -> usize {
    threads.div_ceil(8)
}

/// Files listed per hand-off from the walk to the workers.
const BATCH: usize = 16;

/// A walker thread's files not yet handed to the workers; the rest are sent
/// when the thread ends.
struct Batch {
    tx: std::sync::mpsc::SyncSender<Vec<Listed>>,
    files: Vec<Listed>,
}

impl Batch {
    /// Hands the batch over; false when the workers are gone.
    fn send(&mut self) -> bool {
        let files = std::mem::replace(&mut self.files, Vec::with_capacity(BATCH));
        files.is_empty() || self.tx.send(files).is_ok()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.send();
    }
}

/// A regular file the walk found.
struct Listed {
    path: PathBuf,
}

/// One rayon worker's state: its scanner, read buffer and tally.
struct Worker<'r, 's, F: Fn(Vec<Finding>, Option<Tally>) + Sync + Send> {
    scanner: crate::engine::Scanner<'r>,
    buf: Vec<u8>,
    flush: Flush<'s, F>,
}

impl<F: Fn(Vec<Finding>, Option<Tally>) + Sync + Send> Worker<'_, '_, F> {
    fn scan(&mut self, detector: &Detector<'_>, listed: Listed, max: u64) {
        let tally = self.flush.tally.as_mut().expect("the tally lives until the worker ends");
        let path = display(&listed.path);
        if !read_listed(&listed.path, &path, max, &mut self.buf, tally) {
            return;
        }
        let buf = &self.buf;
        if is_binary(buf) {
            tally.stats.skipped_binary += 1;
            return;
        }
        tally.stats.files += 1;
        tally.stats.blobs += 1;
        tally.stats.bytes += buf.len() as u64;
        let origin = Origin::File { path };
        let found = detector.findings(&mut self.scanner, &origin, buf, tally);
        if !found.is_empty() {
            (self.flush.sink)(found, None);
        }
        if self.buf.capacity() > 32 << 20 {
            self.buf = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanished_file_is_an_error_not_a_panic() {
        // A file listed by the walk and deleted before it is read (issue #7):
        // the walker turns this error into a warning naming the path.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.txt");
        std::fs::write(&path, "x").unwrap();
        std::fs::remove_file(&path).unwrap();
        let err = read_regular(&path, 100, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn vanished_file_is_a_warning_naming_it() {
        // Issue #7: listed by the walk, deleted before it is read.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.txt");
        std::fs::write(&path, "x").unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut tally = Tally::default();
        assert!(!read_listed(&path, Path::new("gone.txt"), 100, &mut Vec::new(), &mut tally));
        assert_eq!(tally.warnings.len(), 1);
        assert_eq!(tally.warnings[0].path.as_deref(), Some("gone.txt"));
        assert!(tally.warnings[0].message.starts_with("cannot read: "), "{:?}", tally.warnings);
    }

    #[test]
    fn file_that_grew_past_the_limit_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grown.txt");
        std::fs::write(&path, "0123456789").unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_regular(&path, 4, &mut buf).unwrap(), Read::TooLarge(Some(10)));
        assert!(buf.is_empty());
        assert_eq!(read_regular(&path, 10, &mut buf).unwrap(), Read::Whole);
        assert_eq!(buf, b"0123456789");
    }

    #[cfg(unix)]
    #[test]
    fn path_swapped_for_a_fifo_or_symlink_is_not_opened_or_followed() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // No writer: a blocking open would hang here.
            assert_eq!(read_regular(&fifo, 100, &mut Vec::new()).unwrap(), Read::NotRegular);
        }
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "secret").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_regular(&link, 100, &mut buf).unwrap(), Read::NotRegular);
        assert!(buf.is_empty());
    }
}

//! The filesystem source: `ignore`'s parallel walker (respects .gitignore and
//! .ignore unless `--no-ignore`), hidden files included, `.git` skipped,
//! symlinks never followed, only regular files opened (never a FIFO, socket or
//! device). Each walker thread reads files into one reused buffer and scans
//! them with its own `Scanner`.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use ignore::{WalkBuilder, WalkState};

use crate::{
    config::ScanConfig,
    finding::Finding,
    report::Warning,
    scan::{Detector, Tally},
    source::{Origin, decode_utf16, is_binary},
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
    builder
        .hidden(false)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .parents(respect)
        .require_git(false)
        .follow_links(false)
        .threads(cfg.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let max = cfg.max_file_size;
    let sink = &sink;
    builder.build_parallel().run(|| {
        let mut scanner = detector.scanner();
        let mut buf: Vec<u8> = Vec::new();
        let mut flush = Flush { tally: Some(Tally::default()), sink };
        Box::new(move |entry| {
            let tally = flush.tally.as_mut().expect("the tally lives until the thread ends");
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tally.warnings.push(Warning::general(e.to_string()));
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else { return WalkState::Continue };
            if ft.is_dir() {
                return WalkState::Continue;
            }
            let path = display(entry.path());
            if !ft.is_file() {
                // Symlinks are not followed; FIFOs, sockets and devices are never opened.
                tally.stats.skipped_other += 1;
                return WalkState::Continue;
            }
            if detector.fs_path_allowed(entry.path()) {
                tally.stats.skipped_allowlisted += 1;
                return WalkState::Continue;
            }
            let shown = path.display().to_string();
            match entry.metadata() {
                Ok(m) if m.len() > max => {
                    tally.stats.skipped_large += 1;
                    tally.warnings.push(Warning::at(
                        shown,
                        format!("skipped: {} bytes is over --max-file-size ({max})", m.len()),
                    ));
                    return WalkState::Continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tally.warnings.push(Warning::at(shown, format!("cannot read: {e}")));
                    return WalkState::Continue;
                }
            }
            buf.clear();
            let read = File::open(entry.path()).and_then(|f| f.take(max + 1).read_to_end(&mut buf));
            if let Err(e) = read {
                tally.warnings.push(Warning::at(shown, format!("cannot read: {e}")));
                return WalkState::Continue;
            }
            if buf.len() as u64 > max {
                tally.stats.skipped_large += 1;
                tally
                    .warnings
                    .push(Warning::at(shown, "skipped: grew past --max-file-size while read"));
                return WalkState::Continue;
            }
            if is_binary(&buf) && decode_utf16(&buf).is_none() {
                tally.stats.skipped_binary += 1;
                return WalkState::Continue;
            }
            tally.stats.files += 1;
            tally.stats.blobs += 1;
            tally.stats.bytes += buf.len() as u64;
            let origin = Origin::File { path };
            let found = detector.findings(&mut scanner, &origin, &buf, tally);
            if !found.is_empty() {
                sink(found, None);
            }
            if buf.capacity() > 32 << 20 {
                buf = Vec::new();
            }
            WalkState::Continue
        })
    });
}

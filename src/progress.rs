//! The progress bar of `keylint history` on stderr (indicatif). The scan only
//! bumps counters in `history::Progress`; this thread reads them ten times a
//! second and draws until told to stop. Never shown when stderr is not a terminal or with --quiet.

use std::{
    sync::{
        atomic::Ordering::Relaxed,
        mpsc::{Receiver, RecvTimeoutError},
    },
    time::{Duration, Instant},
};

use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use keylint::source::history::Progress;

/// Draws `progress` until `stop` receives (or its sender is dropped), then
/// clears the bar.
pub fn draw_until(progress: &Progress, stop: &Receiver<()>) {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} [{wide_bar}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let start = Instant::now();
    loop {
        let commits = progress.commits.load(Relaxed);
        let total = progress.commits_total.load(Relaxed);
        let queued = progress.blobs_queued.load(Relaxed);
        let scanned = progress.blobs_done.load(Relaxed);
        let bytes = progress.bytes.load(Relaxed);
        let secs = start.elapsed().as_secs_f64().max(0.001);
        bar.set_length(queued.max(1));
        bar.set_position(scanned);
        bar.set_message(if total == 0 {
            "listing commits…".to_string()
        } else {
            format!(
                "{}/{} commits · {}/{} blobs · {} · {}/s",
                HumanCount(commits),
                HumanCount(total),
                HumanCount(scanned),
                HumanCount(queued),
                HumanBytes(bytes),
                HumanBytes((bytes as f64 / secs) as u64),
            )
        });
        bar.tick();
        match stop.recv_timeout(Duration::from_millis(100)) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    bar.finish_and_clear();
}

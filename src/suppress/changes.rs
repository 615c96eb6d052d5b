//! Suppressions a change adds: inline markers on added lines, and edits to a
//! project config or a baseline. They are not failures; `staged` and the
//! incremental `history` scans list them so a reviewer sees a key being
//! waved through.

use std::ops::Range;

use crate::{report::SuppressionChange, suppress::inline};

/// The entry for a changed file that is itself a suppression source (the
/// project config or a baseline), if `path` names one.
pub fn file_change(path: &str, commit: Option<&str>) -> Option<SuppressionChange> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (kind, detail) = if name == crate::config::PROJECT_FILE {
        ("config", "project config changed: check its allowlists and disabled rules")
    } else if name.ends_with("keylint-baseline.json") {
        ("baseline", "baseline changed: check the entries it adds")
    } else {
        return None;
    };
    Some(SuppressionChange {
        path: path.to_string(),
        line: None,
        kind,
        detail: detail.into(),
        commit: commit.map(str::to_string),
    })
}

/// Records the inline markers on the added lines (1-based, half-open ranges)
/// of a file: the marker and what follows it, never the text before it, which
/// may hold the secret. Callers check `inline::has_marker` on the whole file
/// first, before computing the added lines.
pub fn added_markers(
    path: &str,
    data: &[u8],
    added: &[Range<usize>],
    commit: Option<&str>,
    out: &mut Vec<SuppressionChange>,
) {
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        if !added.iter().any(|r| r.contains(&n)) || !inline::has_marker(line) {
            continue;
        }
        let at = inline::MARKERS
            .iter()
            .filter_map(|m| memchr::memmem::find(line, m.as_bytes()))
            .min()
            .unwrap_or(0);
        let detail: String =
            String::from_utf8_lossy(&line[at..]).trim().chars().take(120).collect();
        out.push(SuppressionChange {
            path: path.to_string(),
            line: Some(n),
            kind: "inline-marker",
            detail,
            commit: commit.map(str::to_string),
        });
    }
}

/// The ranges present in every list (each list sorted and disjoint): the
/// lines a merge adds are those it adds against each of its parents.
pub fn intersect(a: &[Range<usize>], b: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let start = a[i].start.max(b[j].start);
        let end = a[i].end.min(b[j].end);
        if start < end {
            out.push(start..end);
        }
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)] // ranges of lines, not of values
mod tests {
    use super::*;

    #[test]
    fn config_and_baseline_files_are_suppression_sources() {
        assert_eq!(file_change("a/.keylint.toml", None).unwrap().kind, "config");
        assert_eq!(file_change(".keylint-baseline.json", Some("c")).unwrap().kind, "baseline");
        assert!(file_change("src/keylint.toml.rs", None).is_none());
    }

    #[test]
    fn only_markers_on_added_lines_are_listed() {
        let data = b"a = 1 # keylint:allow old\nb = 2 # keylint:allow new reason\nc\n";
        let mut out = Vec::new();
        added_markers("f.py", data, &[2..3], Some("abc"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, Some(2));
        assert_eq!(out[0].detail, "keylint:allow new reason");
        assert_eq!(out[0].commit.as_deref(), Some("abc"));
    }

    #[test]
    fn intersection_of_line_ranges() {
        assert_eq!(intersect(&[1..5, 8..10], &[3..9]), vec![3..5, 8..9]);
        assert_eq!(intersect(&[1..3], &[3..4]), Vec::<Range<usize>>::new());
        assert_eq!(intersect(&[1..usize::MAX], &[2..4, 6..7]), vec![2..4, 6..7]);
    }
}

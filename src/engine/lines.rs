//! `LineIndex`: byte offset to 1-based line and column. Pure; no I/O.

/// Line starts of a blob, built once per blob that has findings.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `bytes` (one pass).
    pub fn new(bytes: &[u8]) -> Self {
        let mut starts = Vec::with_capacity(bytes.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and 1-based byte column of a byte offset.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line.saturating_sub(1)];
        (line, offset - start + 1)
    }

    /// Byte range of a 1-based line (without its newline).
    pub fn line_span(&self, bytes: &[u8], line: usize) -> std::ops::Range<usize> {
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(bytes.len());
        let end = self.starts.get(line).map_or(bytes.len(), |&s| s - 1);
        let end = if end > start && bytes.get(end - 1) == Some(&b'\r') { end - 1 } else { end };
        start..end.max(start)
    }
}

/// UTF-16 code units of bytes read as UTF-8, each invalid sequence counting as
/// one U+FFFD (what an editor shows).
pub fn utf16_len(bytes: &[u8]) -> usize {
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes
        .utf8_chunks()
        .map(|c| {
            c.valid().chars().map(char::len_utf16).sum::<usize>()
                + usize::from(!c.invalid().is_empty())
        })
        .sum()
}

/// Byte offsets to 1-based UTF-16 columns, for offsets asked in increasing
/// order: the prefix of a line is counted once, not once per finding on it (a
/// minified file can hold many findings on one long line).
#[derive(Debug, Default)]
pub struct Utf16Columns {
    line_start: usize,
    offset: usize,
    units: usize,
}

impl Utf16Columns {
    /// The 1-based UTF-16 column of `offset`, which lies on the line starting
    /// at byte `line_start`.
    pub fn column(&mut self, bytes: &[u8], line_start: usize, offset: usize) -> usize {
        if line_start != self.line_start || offset < self.offset {
            self.line_start = line_start;
            self.offset = line_start;
            self.units = 0;
        }
        self.units += utf16_len(&bytes[self.offset..offset]);
        self.offset = offset;
        self.units + 1
    }
}

/// The start of the line `n` lines above the line starting at `line_start`
/// (0 past the first line).
pub fn start_before(bytes: &[u8], line_start: usize, n: usize) -> usize {
    let mut start = line_start;
    for _ in 0..n {
        if start == 0 {
            break;
        }
        // `start - 1` is the newline ending the line above.
        start = memchr::memrchr(b'\n', &bytes[..start - 1]).map_or(0, |p| p + 1);
    }
    start
}

/// The end (after its newline) of the line `n` lines below the line whose
/// newline is at `nl` (`bytes.len()` for the last line).
pub fn end_after(bytes: &[u8], nl: usize, n: usize) -> usize {
    let mut nl = nl;
    for _ in 0..n {
        if nl >= bytes.len() {
            break;
        }
        nl = memchr::memchr(b'\n', &bytes[nl + 1..]).map_or(bytes.len(), |p| nl + 1 + p);
    }
    if nl < bytes.len() { nl + 1 } else { bytes.len() }
}

/// The byte range of the `n` lines before and after the line holding `span`.
pub fn around(bytes: &[u8], span: std::ops::Range<usize>, n: usize) -> std::ops::Range<usize> {
    let mut start = span.start.min(bytes.len());
    for i in 0..=n {
        match memchr::memrchr(b'\n', &bytes[..start]) {
            Some(p) if i < n => start = p,
            Some(p) => {
                start = p + 1;
                break;
            }
            None => {
                start = 0;
                break;
            }
        }
    }
    let mut end = span.end.min(bytes.len());
    for _ in 0..=n {
        match memchr::memchr(b'\n', &bytes[end..]) {
            Some(p) => end = end + p + 1,
            None => {
                end = bytes.len();
                break;
            }
        }
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_before_and_after_agree_with_around() {
        // Pseudo-random blobs of short lines, empty lines and no final newline.
        let mut next = crate::engine::test_rng(7);
        for round in 0..300 {
            let len = next() % 60;
            let bytes: Vec<u8> =
                (0..len).map(|_| if next() % 4 == 0 { b'\n' } else { b'a' }).collect();
            for _ in 0..20 {
                let at = next() % (len + 1);
                let n = next() % 4;
                let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
                let nl = memchr::memchr(b'\n', &bytes[at..]).map_or(len, |p| at + p);
                assert_eq!(
                    start_before(&bytes, line_start, n)..end_after(&bytes, nl, n),
                    around(&bytes, at..at, n),
                    "round {round}: at {at} n={n} in {:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    #[test]
    fn locate_lines_and_columns() {
        let b = b"ab\ncd\n\nxyz";
        let ix = LineIndex::new(b);
        assert_eq!(ix.locate(0), (1, 1));
        assert_eq!(ix.locate(1), (1, 2));
        assert_eq!(ix.locate(3), (2, 1));
        assert_eq!(ix.locate(6), (3, 1));
        assert_eq!(ix.locate(9), (4, 3));
        assert_eq!(&b[ix.line_span(b, 2)], b"cd");
        assert_eq!(&b[ix.line_span(b, 4)], b"xyz");
    }

    #[test]
    fn utf16_columns() {
        assert_eq!(utf16_len(b"abc"), 3);
        assert_eq!(utf16_len("é😀".as_bytes()), 3);
        assert_eq!(utf16_len(b"a\xff\xfeb"), 4);
        // "é = KEY1 😀 KEY2" then "KEY3" on the next line.
        let b = "é = KEY1 😀 KEY2\nKEY3".as_bytes();
        let at = |k: &str| b.windows(4).position(|w| w == k.as_bytes()).unwrap();
        let mut c = Utf16Columns::default();
        assert_eq!(c.column(b, 0, at("KEY1")), 5);
        assert_eq!(c.column(b, 0, at("KEY2")), 13);
        let line2 = at("KEY3");
        assert_eq!(c.column(b, line2, line2), 1);
        assert_eq!(c.column(b, 0, at("KEY1")), 5, "a lower offset starts over");
    }

    #[test]
    fn around_lines() {
        let b = b"l1\nl2\nl3 KEY\nl4\nl5";
        let k = 9..12;
        assert_eq!(&b[around(b, k.clone(), 0)], b"l3 KEY\n");
        assert_eq!(&b[around(b, k.clone(), 1)], b"l2\nl3 KEY\nl4\n");
        assert_eq!(&b[around(b, k, 5)], &b[..]);
    }
}

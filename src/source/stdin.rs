//! Standard input as one blob.

use std::io::Read;

use super::{Blob, Origin, SourceError};

/// Reads stdin, at most `max` bytes: `Ok(None)` when there is more (the rest
/// is not read, so an endless stream cannot exhaust memory).
pub fn read_stdin(max: u64) -> Result<Option<Blob>, SourceError> {
    read_limited(std::io::stdin().lock(), max)
}

fn read_limited(input: impl Read, max: u64) -> Result<Option<Blob>, SourceError> {
    let mut bytes = Vec::new();
    input
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io { path: "-".into(), source })?;
    if bytes.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(Blob { origin: Origin::Stdin, bytes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_stdin_stops_at_the_limit() {
        // Issue #7: `yes | keylint scan -` must not read forever.
        let endless = std::io::repeat(b'y');
        assert!(read_limited(endless, 1 << 20).unwrap().is_none());
        let blob = read_limited(&b"abc"[..], 3).unwrap().unwrap();
        assert_eq!(blob.bytes, b"abc");
    }
}

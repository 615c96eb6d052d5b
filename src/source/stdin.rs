//! Standard input as one blob.

use std::io::Read;

use super::{Blob, Origin, SourceError};

/// Reads all of stdin.
pub fn read_stdin() -> Result<Blob, SourceError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io { path: "-".into(), source })?;
    Ok(Blob { origin: Origin::Stdin, bytes })
}

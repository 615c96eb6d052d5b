//! Integration tests: the real binary on fixtures/ and on temp dirs.
//! One test binary, so it links once.

mod common;
mod fs;
mod hostile;
mod report;
mod rules;

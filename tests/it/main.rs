//! Integration tests: the real binary on fixtures/ and on temp dirs.
//! One test binary, so it links once.

mod common;
mod fs;
mod history;
mod hook;
mod report;
mod rules;
mod staged;

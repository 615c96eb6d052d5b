//! Integration tests: the real binary on fixtures/ and on temp dirs.
//! One test binary, so it links once.

mod baseline;
mod common;
mod config;
mod fs;
mod history;
mod hook;
mod hostile;
mod inline;
mod keys;
mod report;
mod rules;
mod sarif;
mod staged;

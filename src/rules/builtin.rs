//! The built-in rule files, embedded at build time.
//!
//! `build.rs` generates the list from the `rules/` directory, so every file
//! there is included and nothing else is.

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

//! Project config parsing: any text parses or fails with a `ConfigError`,
//! never panics; a config that parses answers its allowlist questions.
#![no_main]

use std::path::Path;

use keylint::config::ProjectConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = ProjectConfig::parse(Path::new(".keylint.toml"), text) {
        let _ = cfg.secret_allowed(data);
        let _ = cfg.path_allowed(Path::new(text.lines().next().unwrap_or("")));
    }
});

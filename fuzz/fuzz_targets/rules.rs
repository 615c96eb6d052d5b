//! Rule file loading: any text must load or fail with a `LoadError`, never
//! panic; a set that builds must scan its own text.
#![no_main]

use keylint::{engine::Scanner, rules::load::RuleSetBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(set) = RuleSetBuilder::new().text("fuzz.toml", text).and_then(|b| b.build()) else {
        return;
    };
    let _ = set.compile_all();
    let mut scanner = Scanner::new(&set);
    for m in scanner.scan(data).list {
        assert!(m.span.end <= data.len());
    }
});

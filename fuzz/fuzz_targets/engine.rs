//! The engine on arbitrary bytes with the built-in rules: never panics, and
//! every match is in bounds, sorted and free of overlaps.
#![no_main]

use std::sync::OnceLock;

use keylint::{engine::Scanner, rules::RuleSet, rules::load::builtin};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| builtin().expect("built-in rules load"))
}

fuzz_target!(|data: &[u8]| {
    let mut scanner = Scanner::new(rules());
    let found = scanner.scan(data).list;
    let mut last_end = 0;
    for m in &found {
        assert!(m.span.start <= m.span.end && m.span.end <= data.len());
        let loc = m.location();
        assert!(loc.start >= last_end, "overlap or unsorted: {found:?}");
        last_end = loc.end;
        if m.decoded_secret.is_none() {
            assert!(m.span.start <= m.secret.start && m.secret.end <= m.span.end);
            assert!(!m.secret.is_empty());
        }
    }
});

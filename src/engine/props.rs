//! Property tests of the engine's invariants (issue #7): on arbitrary bytes,
//! and on rule examples spliced into noise, with the built-in rules, `scan`
//! never panics and every match is in bounds, holds its secret within its
//! span (or decoded), passes its rule's entropy gate and validator, and the
//! matches are sorted without overlaps.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::{MAX_MATCHES_PER_BLOB, Matches, Scanner, entropy};
use crate::rules::{Confidence, RuleSet, load::builtin};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| builtin().expect("built-in rules load"))
}

/// Checks every invariant of one scan's result.
fn check(bytes: &[u8], min: Confidence, m: &Matches) {
    let set = rules();
    assert!(m.list.len() <= MAX_MATCHES_PER_BLOB);
    let mut last_end = 0;
    for r in &m.list {
        let rule = &set.rules[r.rule];
        assert!(r.span.start <= r.span.end && r.span.end <= bytes.len(), "span {r:?}");
        let loc = r.location();
        assert!(loc.start < loc.end, "empty location {r:?}");
        assert!(loc.start >= last_end, "unsorted or overlapping at {r:?}");
        last_end = loc.end;
        let secret = r.secret_bytes(bytes);
        assert!(!secret.is_empty());
        match &r.decoded_secret {
            None => assert!(r.span.start <= r.secret.start && r.secret.end <= r.span.end),
            Some(_) => assert_eq!(r.secret, r.span),
        }
        if let Some(e) = rule.min_entropy {
            assert!(entropy::shannon(secret) >= e, "{} below its entropy gate", rule.id);
        }
        if let Some(v) = rule.validator {
            assert!(v.check(secret), "{} fails its validator", rule.id);
            assert_eq!(r.validated, Some(v.evidence()));
        } else {
            assert_eq!(r.validated, None);
        }
        assert!(r.confidence >= min);
    }
}

/// Pieces that make matches likely: every rule's keywords and examples.
fn pieces() -> &'static [String] {
    static PIECES: OnceLock<Vec<String>> = OnceLock::new();
    PIECES.get_or_init(|| {
        let mut v: Vec<String> = rules()
            .rules
            .iter()
            .flat_map(|r| r.keywords.iter().chain(&r.examples).cloned())
            .collect();
        v.extend(
            ["\n", "\r\n", " = ", "\"", "'", "=", "\0", "\u{FFFD}", "keylint:allow"]
                .map(String::from),
        );
        v
    })
}

fn blob() -> impl Strategy<Value = Vec<u8>> {
    let piece = (0..pieces().len()).prop_map(|i| pieces()[i].as_bytes().to_vec());
    let noise = prop::collection::vec(any::<u8>(), 0..64);
    let alnum = "[A-Za-z0-9+/_-]{0,80}".prop_map(String::into_bytes);
    prop::collection::vec(prop_oneof![piece, noise, alnum], 0..24).prop_map(|v| v.concat())
}

fn min_confidence() -> impl Strategy<Value = Confidence> {
    prop_oneof![Just(Confidence::Low), Just(Confidence::Medium), Just(Confidence::High)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_give_well_formed_matches(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let mut s = Scanner::new(rules()).min_confidence(Confidence::Low);
        let m = s.scan(&bytes);
        check(&bytes, Confidence::Low, &m);
    }

    #[test]
    fn examples_in_noise_give_well_formed_matches(bytes in blob(), min in min_confidence()) {
        let mut s = Scanner::new(rules()).min_confidence(min);
        let m = s.scan(&bytes);
        check(&bytes, min, &m);
        // Scanning again with the same scanner gives the same matches.
        let again = s.scan(&bytes);
        prop_assert_eq!(m.list, again.list);
    }

    #[test]
    fn a_rule_example_between_lines_is_found(i in 0..1000usize, pad in "\n{0,2}") {
        let set = rules();
        let index = i % set.rules.len();
        let example = format!("{pad}{}{pad}", set.rules[index].examples[0]);
        let mut s = Scanner::new(set).min_confidence(Confidence::Low);
        let m = s.scan(example.as_bytes());
        check(example.as_bytes(), Confidence::Low, &m);
        prop_assert!(m.list.iter().any(|r| r.rule == index), "{} not found", set.rules[index].id);
    }
}

//! Checks a rule's examples and negative examples: the code behind
//! `keylint rules check` and the built-in rule tests.

use crate::{engine::Scanner, rules::RuleSet};

/// Problems found in the rules at `indices` (empty when all is well).
pub fn check_rules(set: &RuleSet, indices: &[usize]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut scanner = Scanner::new(set);
    for &i in indices {
        let rule = &set.rules[i];
        if let Err(e) = crate::rules::load::check_compiled(rule) {
            problems.push(e.to_string());
            continue;
        }
        let at = &rule.source;
        for (n, ex) in rule.examples.iter().enumerate() {
            let found = scanner.scan(ex.as_bytes()).list;
            match found.iter().find(|m| m.rule == i) {
                Some(m) if !m.secret_bytes(ex.as_bytes()).is_empty() => {}
                _ => {
                    let others: Vec<&str> =
                        found.iter().map(|m| set.rules[m.rule].id.as_str()).collect();
                    let why = if others.is_empty() {
                        "nothing matched (check keywords, pattern, entropy, placeholder words, validator, context)".to_string()
                    } else {
                        format!("reported as {} instead", others.join(", "))
                    };
                    problems.push(format!(
                        "{at}: rule {}: example {} is not reported: {why}",
                        rule.id,
                        n + 1
                    ));
                }
            }
            for other in scanner.scan_raw(ex.as_bytes()) {
                let mine = found.iter().find(|m| m.rule == i);
                if let Some(mine) = mine {
                    let same_tier = set.providers[set.rules[other.rule].provider].tier
                        == set.providers[rule.provider].tier;
                    if other.rule != i
                        && other.secret == mine.secret
                        && crate::engine::priority(&other) == crate::engine::priority(mine)
                        && same_tier
                    {
                        problems.push(format!(
                            "{at}: rule {}: example {} is also reported by {} at the same span with the same priority; make the rules exclusive",
                            rule.id,
                            n + 1,
                            set.rules[other.rule].id
                        ));
                    }
                }
            }
        }
        for (n, ex) in rule.negative_examples.iter().enumerate() {
            if scanner.scan(ex.as_bytes()).list.iter().any(|m| m.rule == i) {
                problems.push(format!(
                    "{at}: rule {}: negative example {} is reported",
                    rule.id,
                    n + 1
                ));
            }
        }
    }
    problems
}

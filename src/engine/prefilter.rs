//! The keyword prefilter: one Aho-Corasick pass over a blob decides which
//! rules can match it. A blob with no keyword hit costs that one pass and
//! nothing else. Pure; no I/O.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Every rule's keywords in one case-insensitive automaton.
#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// For each distinct keyword, the rules that list it.
    keyword_rules: Vec<Vec<usize>>,
    rule_count: usize,
}

impl Prefilter {
    /// Builds the automaton; `keywords` yields each rule's keywords in rule order.
    pub fn new<'a, I: Iterator<Item = &'a [String]>>(keywords: I) -> Self {
        let mut distinct: Vec<Vec<u8>> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut rule_count = 0;
        for (rule, kws) in keywords.enumerate() {
            rule_count = rule + 1;
            for k in kws {
                let k = k.as_bytes().to_ascii_lowercase();
                let id = match distinct.iter().position(|d| *d == k) {
                    Some(i) => i,
                    None => {
                        distinct.push(k);
                        keyword_rules.push(Vec::new());
                        distinct.len() - 1
                    }
                };
                if keyword_rules[id].last() != Some(&rule) {
                    keyword_rules[id].push(rule);
                }
            }
        }
        let automaton = if distinct.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&distinct)
                    .expect("keyword automaton should build"),
            )
        };
        Prefilter { automaton, keyword_rules, rule_count }
    }

    /// Number of rules the prefilter was built for.
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Number of distinct keywords.
    pub fn keyword_count(&self) -> usize {
        self.keyword_rules.len()
    }

    /// Marks in `hit` (indexed by rule, cleared by the caller) every rule one of
    /// whose keywords occurs in `bytes`, and pushes those rules onto `out` in
    /// the order found. `seen` is scratch space, one flag per keyword.
    pub fn candidates(
        &self,
        bytes: &[u8],
        seen: &mut Vec<bool>,
        hit: &mut [bool],
        out: &mut Vec<usize>,
    ) {
        let Some(ac) = &self.automaton else { return };
        seen.clear();
        seen.resize(self.keyword_rules.len(), false);
        let mut remaining = self.keyword_rules.len();
        for m in ac.find_overlapping_iter(bytes) {
            let k = m.pattern().as_usize();
            if seen[k] {
                continue;
            }
            seen[k] = true;
            for &r in &self.keyword_rules[k] {
                if !hit[r] {
                    hit[r] = true;
                    out.push(r);
                }
            }
            remaining -= 1;
            if remaining == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selects_rules_case_insensitively() {
        let rules = [kw(&["sk-proj-"]), kw(&["AKIA", "aws"]), kw(&["sk-"])];
        let p = Prefilter::new(rules.iter().map(|r| r.as_slice()));
        let mut seen = Vec::new();
        let mut hit = vec![false; 3];
        let mut out = Vec::new();
        p.candidates(b"key = 'SK-PROJ-abc'", &mut seen, &mut hit, &mut out);
        out.sort();
        assert_eq!(out, vec![0, 2]);
        let mut hit = vec![false; 3];
        let mut out = Vec::new();
        p.candidates(b"nothing here", &mut seen, &mut hit, &mut out);
        assert!(out.is_empty());
    }
}

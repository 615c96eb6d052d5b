//! The keyword prefilter: one Aho-Corasick pass over a blob finds where each
//! rule's keywords occur. Rules with no keyword hit never run; the others run
//! only on the lines around their hits where their patterns allow it (see
//! `engine::Scanner`). A blob with no keyword hit costs that one pass. Pure;
//! no I/O.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};

/// A keyword occurrence: the distinct keyword's index and its start offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the distinct keyword.
    pub keyword: u32,
    /// Byte offset where it starts.
    pub start: usize,
}

/// Every rule's keywords in one case-insensitive automaton.
#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// For each distinct keyword, the rules that list it.
    keyword_rules: Vec<Vec<usize>>,
    /// For each distinct keyword, the other keywords it contains: finding it
    /// means finding them too.
    contained: Vec<Vec<u32>>,
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
        let contained = distinct
            .iter()
            .enumerate()
            .map(|(i, outer)| {
                distinct
                    .iter()
                    .enumerate()
                    .filter(|&(j, inner)| j != i && memchr::memmem::find(outer, inner).is_some())
                    .map(|(j, _)| j as u32)
                    .collect()
            })
            .collect();
        let automaton = if distinct.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&distinct)
                    .expect("keyword automaton should build"),
            )
        };
        Prefilter { automaton, keyword_rules, contained, rule_count }
    }

    /// Number of rules the prefilter was built for.
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Number of distinct keywords.
    pub fn keyword_count(&self) -> usize {
        self.keyword_rules.len()
    }

    /// The rules listing a distinct keyword.
    pub fn rules_of(&self, keyword: u32) -> &[usize] {
        &self.keyword_rules[keyword as usize]
    }

    /// Appends every keyword occurrence in `bytes` to `out`, in offset order.
    ///
    /// At each position where some keyword starts, the longest is found, and
    /// the keywords it contains are reported at the same offset; the search
    /// then resumes one byte later, so overlapping keywords are all found.
    pub fn hits(&self, bytes: &[u8], out: &mut Vec<Hit>) {
        let Some(ac) = &self.automaton else { return };
        let mut at = 0;
        while at < bytes.len() {
            let Some(m) = ac.find(Input::new(bytes).range(at..)) else { break };
            let keyword = m.pattern().as_u32();
            out.push(Hit { keyword, start: m.start() });
            for &k in &self.contained[keyword as usize] {
                out.push(Hit { keyword: k, start: m.start() });
            }
            at = m.start() + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn rules_hit(p: &Prefilter, text: &[u8]) -> Vec<usize> {
        let mut hits = Vec::new();
        p.hits(text, &mut hits);
        let mut rules: Vec<usize> =
            hits.iter().flat_map(|h| p.rules_of(h.keyword).to_vec()).collect();
        rules.sort();
        rules.dedup();
        rules
    }

    #[test]
    fn finds_overlapping_and_contained_keywords_case_insensitively() {
        let rules = [kw(&["sk-proj-"]), kw(&["AKIA", "aws"]), kw(&["sk-"]), kw(&["proj-x"])];
        let p = Prefilter::new(rules.iter().map(|r| r.as_slice()));
        assert_eq!(rules_hit(&p, b"key = 'SK-PROJ-abc'"), vec![0, 2]);
        assert_eq!(rules_hit(&p, b"sk-proj-x"), vec![0, 2, 3]);
        assert_eq!(rules_hit(&p, b"aws akia"), vec![1]);
        assert!(rules_hit(&p, b"nothing here").is_empty());
    }

    #[test]
    fn hit_offsets() {
        let rules = [kw(&["ab"])];
        let p = Prefilter::new(rules.iter().map(|r| r.as_slice()));
        let mut hits = Vec::new();
        p.hits(b"xxabxAB", &mut hits);
        assert_eq!(hits.iter().map(|h| h.start).collect::<Vec<_>>(), vec![2, 5]);
    }
}

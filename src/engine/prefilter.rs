//! The keyword prefilter: one Aho-Corasick pass over a blob finds where each
//! rule's keywords occur. Rules with no keyword hit never run; the others run
//! only on the lines around their hits where their patterns allow it (see
//! `engine::Scanner`). A blob with no keyword hit costs that one pass. Pure;
//! no I/O.

use std::collections::{HashMap, HashSet};

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
    /// For each distinct keyword, whether no keyword can start inside it (so
    /// the search may resume after it rather than one byte later).
    resume_after: Vec<bool>,
    rule_count: usize,
    /// Distinct keywords at or past this index are decode hints, not rule keywords.
    first_hint: usize,
}

/// Words near which base64 worth decoding is found: Kubernetes `data:`,
/// docker and npm `auth`, `Basic` headers, explicit base64, and secret-like
/// names.
pub const DECODE_HINTS: &[&str] =
    &["data:", "auth", "basic ", "base64", "secret", "password", "credential", "token"];

impl Prefilter {
    /// Builds the automaton; `keywords` yields each rule's keywords in rule order.
    pub fn new<'a, I: Iterator<Item = &'a [String]>>(keywords: I) -> Self {
        let mut distinct: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut rule_count = 0;
        for (rule, kws) in keywords.enumerate() {
            rule_count = rule + 1;
            for k in kws {
                let k = k.as_bytes().to_ascii_lowercase();
                let id = *index.entry(k.clone()).or_insert_with(|| {
                    distinct.push(k);
                    keyword_rules.push(Vec::new());
                    distinct.len() - 1
                });
                if keyword_rules[id].last() != Some(&rule) {
                    keyword_rules[id].push(rule);
                }
            }
        }
        let first_hint = distinct.len();
        for h in DECODE_HINTS {
            let h = h.as_bytes().to_ascii_lowercase();
            if !index.contains_key(&h) {
                index.insert(h.clone(), distinct.len());
                distinct.push(h);
                keyword_rules.push(Vec::new());
            }
        }
        // Keywords are short: work on their substrings and prefixes with hash
        // sets rather than comparing every pair.
        let contained = distinct
            .iter()
            .enumerate()
            .map(|(i, outer)| {
                let mut inner: Vec<u32> = Vec::new();
                for start in 0..outer.len() {
                    for end in start + 1..=outer.len() {
                        if let Some(&j) = index.get(&outer[start..end]) {
                            if j != i && !inner.contains(&(j as u32)) {
                                inner.push(j as u32);
                            }
                        }
                    }
                }
                inner
            })
            .collect();
        let prefixes: HashSet<&[u8]> =
            distinct.iter().flat_map(|k| (1..=k.len()).map(move |n| &k[..n])).collect();
        let resume_after = distinct
            .iter()
            .map(|k| {
                (1..k.len()).all(|i| {
                    let tail = &k[i..];
                    !prefixes.contains(tail)
                        && !(1..=tail.len()).any(|n| index.contains_key(&tail[..n]))
                })
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
        Prefilter { automaton, keyword_rules, contained, resume_after, rule_count, first_hint }
    }

    /// Number of rules the prefilter was built for.
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Number of distinct rule keywords.
    pub fn keyword_count(&self) -> usize {
        self.first_hint
    }

    /// Whether a distinct keyword is a decode hint (`DECODE_HINTS`).
    pub fn is_hint(&self, keyword: u32) -> bool {
        keyword as usize >= self.first_hint
    }

    /// The rules listing a distinct keyword.
    pub fn rules_of(&self, keyword: u32) -> &[usize] {
        &self.keyword_rules[keyword as usize]
    }

    /// Appends every keyword and decode-hint occurrence in `bytes` to `out`,
    /// in offset order.
    ///
    /// At each position where some keyword starts, the longest is found, and
    /// the keywords it contains are reported at the same offset; the search
    /// then resumes one byte later (or after the match when no keyword can
    /// start inside it), so overlapping keywords are all found.
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
            at = if self.resume_after[keyword as usize] { m.end() } else { m.start() + 1 };
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

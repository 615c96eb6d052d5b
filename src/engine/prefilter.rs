//! The keyword prefilter: one pass over a blob finds where each rule's
//! keywords occur. Rules with no keyword hit never run; the others run only on
//! the lines around their hits where their patterns allow it (see
//! `engine::Scanner`). A blob with no keyword hit costs that one pass. Pure;
//! no I/O.
//!
//! The pass is an Aho-Corasick automaton compiled to a full DFA over
//! case-folded byte classes, built here rather than taken from the
//! `aho-corasick` crate for one reason: a DFA step is a load that depends on
//! the previous one, so a single scan is bound by memory latency (about
//! 2 ns a byte on the machines we measured). The blob is cut into `LANES`
//! parts scanned in the same loop, each with its own state, so the loads of
//! the lanes overlap. Each lane but the first starts `warmup` bytes early,
//! reporting nothing there, so it enters its part in the state a single scan
//! would have: the state of a DFA of keywords depends only on the last
//! (longest keyword length) bytes.

use std::collections::HashMap;

/// A keyword occurrence: the distinct keyword's index and its start offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Byte offset where it starts.
    pub start: usize,
    /// Index of the distinct keyword.
    pub keyword: u32,
}

/// Parts a blob is cut into and scanned side by side.
const LANES: usize = 4;

/// Blobs shorter than this are scanned in one lane.
const MIN_SPLIT: usize = 512;

/// Every rule's keywords in one case-insensitive automaton.
#[derive(Debug)]
pub struct Prefilter {
    /// Byte to class (ASCII letters folded to one class per letter).
    classes: [u8; 256],
    /// Transitions, `trans[state + class]`; states are premultiplied by the stride.
    trans: Vec<u32>,
    /// States at or above this one (premultiplied) end at least one keyword.
    first_match: u32,
    /// For each match state (index `(state - first_match) / stride`), its keywords.
    outputs: Vec<Vec<u32>>,
    stride_shift: u32,
    /// Length of each distinct keyword.
    lengths: Vec<usize>,
    /// Bytes a lane starts early (the longest keyword's length).
    warmup: usize,
    /// For each distinct keyword, the rules that list it.
    keyword_rules: Vec<Vec<usize>>,
    rule_count: usize,
    /// Distinct keywords at or past this index are decode hints, not rule keywords.
    first_hint: usize,
    /// For each distinct keyword, whether it is a decode hint.
    hints: Vec<Hint>,
}

/// Words near which base64 worth decoding is found: Kubernetes `data:`,
/// docker and npm `auth`, `Basic` headers, explicit base64, and secret-like
/// names.
pub const DECODE_HINTS: &[&str] =
    &["data:", "auth", "basic ", "base64", "secret", "password", "credential", "token"];

/// The hint whose base64 values come on the lines below it (a Kubernetes
/// `data:` block); the others are looked for on their own line and the next.
pub const BLOCK_HINT: &str = "data:";

/// How far from a keyword base64 is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Not a decode hint.
    No,
    /// Its line and the lines around it.
    Line,
    /// A block below it (`engine::DECODE_REACH`).
    Block,
}

impl Prefilter {
    /// Builds the automaton; `keywords` yields each rule's keywords in rule order.
    pub fn new<'a, I: Iterator<Item = &'a [String]>>(keywords: I) -> Self {
        let mut distinct: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut rule_count = 0;
        for (rule, kws) in keywords.enumerate() {
            rule_count = rule + 1;
            for k in kws.iter().filter(|k| !k.is_empty()) {
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
        let mut hints = vec![Hint::No; distinct.len()];
        for h in DECODE_HINTS {
            let kind = if *h == BLOCK_HINT { Hint::Block } else { Hint::Line };
            let h = h.as_bytes().to_ascii_lowercase();
            // A hint that is also a rule keyword keeps the keyword's index.
            let id = *index.entry(h.clone()).or_insert_with(|| {
                distinct.push(h);
                keyword_rules.push(Vec::new());
                hints.push(Hint::No);
                distinct.len() - 1
            });
            hints[id] = kind;
        }
        let dfa = Dfa::build(&distinct);
        Prefilter {
            classes: dfa.classes,
            trans: dfa.trans,
            first_match: dfa.first_match,
            outputs: dfa.outputs,
            stride_shift: dfa.stride_shift,
            lengths: distinct.iter().map(Vec::len).collect(),
            warmup: distinct.iter().map(Vec::len).max().unwrap_or(0),
            keyword_rules,
            rule_count,
            first_hint,
            hints,
        }
    }

    /// Number of rules the prefilter was built for.
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Number of distinct rule keywords.
    pub fn keyword_count(&self) -> usize {
        self.first_hint
    }

    /// Whether a distinct keyword is a decode hint (`DECODE_HINTS`), and of
    /// which reach.
    pub fn hint(&self, keyword: u32) -> Hint {
        self.hints[keyword as usize]
    }

    /// The rules listing a distinct keyword.
    pub fn rules_of(&self, keyword: u32) -> &[usize] {
        &self.keyword_rules[keyword as usize]
    }

    /// Appends every occurrence of every keyword and decode hint in `bytes`
    /// to `out` (overlapping ones included), sorted by offset.
    // The lanes advance in lockstep: one index into all of them.
    #[allow(clippy::needless_range_loop)]
    pub fn hits(&self, bytes: &[u8], out: &mut Vec<Hit>) {
        let first = out.len();
        let n = bytes.len();
        if self.trans.is_empty() || n == 0 {
            return;
        }
        if n < MIN_SPLIT.max(LANES * self.warmup * 2) {
            self.run(bytes, 0, 0, out);
            out[first..].sort_unstable();
            return;
        }
        let part = n / LANES;
        let mut state = [0u32; LANES];
        for (lane, s) in state.iter_mut().enumerate().skip(1) {
            let at = lane * part;
            *s = self.warm(&bytes[at - self.warmup..at]);
        }
        let (trans, classes, first_match) = (&self.trans[..], &self.classes, self.first_match);
        let lanes: [&[u8]; LANES] = std::array::from_fn(|l| &bytes[l * part..(l + 1) * part]);
        for i in 0..part {
            for l in 0..LANES {
                let b = lanes[l][i];
                state[l] = trans[(state[l] + u32::from(classes[usize::from(b)])) as usize];
            }
            if state.iter().any(|&s| s >= first_match) {
                for (l, &s) in state.iter().enumerate() {
                    if s >= first_match {
                        self.emit(s, l * part + i, out);
                    }
                }
            }
        }
        // The last lane goes on to the end of the blob.
        self.run(&bytes[LANES * part..], LANES * part, state[LANES - 1], out);
        out[first..].sort_unstable();
    }

    /// Scans `bytes` (found at `offset` in the blob) from `state`, reporting
    /// matches.
    fn run(&self, bytes: &[u8], offset: usize, mut state: u32, out: &mut Vec<Hit>) {
        for (i, &b) in bytes.iter().enumerate() {
            state = self.trans[(state + u32::from(self.classes[usize::from(b)])) as usize];
            if state >= self.first_match {
                self.emit(state, offset + i, out);
            }
        }
    }

    /// The state after `bytes`, starting from the start state, reporting nothing.
    fn warm(&self, bytes: &[u8]) -> u32 {
        bytes
            .iter()
            .fold(0, |s, &b| self.trans[(s + u32::from(self.classes[usize::from(b)])) as usize])
    }

    /// Reports the keywords ending at `end` (inclusive) in match state `state`.
    #[cold]
    fn emit(&self, state: u32, end: usize, out: &mut Vec<Hit>) {
        let ix = ((state - self.first_match) >> self.stride_shift) as usize;
        for &k in &self.outputs[ix] {
            out.push(Hit { start: end + 1 - self.lengths[k as usize], keyword: k });
        }
    }
}

/// The automaton as built: see `Prefilter`.
struct Dfa {
    classes: [u8; 256],
    trans: Vec<u32>,
    first_match: u32,
    outputs: Vec<Vec<u32>>,
    stride_shift: u32,
}

impl Dfa {
    /// A trie of the (lower-case) keywords, its failure links, and from them
    /// the full transition table; match states are numbered last.
    fn build(keywords: &[Vec<u8>]) -> Dfa {
        // Classes: one per distinct byte of the keywords (both cases of a
        // letter share one), class 0 for every other byte.
        let mut classes = [0u8; 256];
        let mut count = 1usize;
        for k in keywords {
            for &b in k {
                if classes[usize::from(b)] == 0 {
                    classes[usize::from(b)] = count as u8;
                    count += 1;
                }
            }
        }
        for b in b'a'..=b'z' {
            classes[usize::from(b.to_ascii_uppercase())] = classes[usize::from(b)];
        }
        let stride = count.next_power_of_two();
        let stride_shift = stride.trailing_zeros();
        if keywords.is_empty() {
            return Dfa {
                classes,
                trans: Vec::new(),
                first_match: 0,
                outputs: Vec::new(),
                stride_shift,
            };
        }
        const NONE: u32 = u32::MAX;
        // The trie: `goto` holds state indices (not premultiplied).
        let mut goto: Vec<u32> = vec![NONE; stride];
        let mut own: Vec<Vec<u32>> = vec![Vec::new()];
        for (k, word) in keywords.iter().enumerate() {
            let mut s = 0usize;
            for &b in word {
                let c = usize::from(classes[usize::from(b)]);
                if goto[s * stride + c] == NONE {
                    goto[s * stride + c] = own.len() as u32;
                    goto.extend(std::iter::repeat_n(NONE, stride));
                    own.push(Vec::new());
                }
                s = goto[s * stride + c] as usize;
            }
            own[s].push(k as u32);
        }
        let states = own.len();
        // Breadth first: failure links, full transitions, inherited outputs.
        let mut fail = vec![0usize; states];
        let mut delta = vec![0u32; states * stride];
        let mut outputs = own;
        let mut queue = std::collections::VecDeque::new();
        for c in 0..stride {
            let t = goto[c];
            if t != NONE {
                delta[c] = t;
                queue.push_back(t as usize);
            }
        }
        while let Some(s) = queue.pop_front() {
            let inherited = outputs[fail[s]].clone();
            outputs[s].extend(inherited);
            for c in 0..stride {
                let t = goto[s * stride + c];
                let via_fail = delta[fail[s] * stride + c];
                if t == NONE {
                    delta[s * stride + c] = via_fail;
                } else {
                    fail[t as usize] = via_fail as usize;
                    delta[s * stride + c] = t;
                    queue.push_back(t as usize);
                }
            }
        }
        // Renumber: states without output first (the start state stays 0),
        // then match states, so one comparison tells a match.
        let mut order: Vec<usize> = (0..states).filter(|&s| outputs[s].is_empty()).collect();
        let first_match = order.len();
        order.extend((0..states).filter(|&s| !outputs[s].is_empty()));
        let mut new_id = vec![0u32; states];
        for (new, &old) in order.iter().enumerate() {
            new_id[old] = new as u32;
        }
        let mut trans = vec![0u32; states * stride];
        for (new, &old) in order.iter().enumerate() {
            for c in 0..stride {
                trans[new * stride + c] = new_id[delta[old * stride + c] as usize] << stride_shift;
            }
        }
        let outputs =
            order[first_match..].iter().map(|&s| std::mem::take(&mut outputs[s])).collect();
        Dfa {
            classes,
            trans,
            first_match: (first_match as u32) << stride_shift,
            outputs,
            stride_shift,
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

    /// Every occurrence of every keyword, case-insensitively, the slow way.
    fn naive(keywords: &[&str], text: &[u8]) -> Vec<(usize, String)> {
        let lower = text.to_ascii_lowercase();
        let mut found = Vec::new();
        for k in keywords {
            let k = k.to_ascii_lowercase();
            for at in 0..lower.len() {
                if lower[at..].starts_with(k.as_bytes()) {
                    found.push((at, k.clone()));
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    fn fast(p: &Prefilter, keywords: &[&str], text: &[u8]) -> Vec<(usize, String)> {
        let mut hits = Vec::new();
        p.hits(text, &mut hits);
        assert!(hits.windows(2).all(|w| w[0].start <= w[1].start), "hits out of order");
        // Keyword ids are in order of first appearance; hints come after.
        let mut names: Vec<String> = Vec::new();
        for k in keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .chain(DECODE_HINTS.iter().map(|h| h.to_string()))
        {
            if !names.contains(&k) {
                names.push(k);
            }
        }
        let mut found: Vec<(usize, String)> =
            hits.iter().map(|h| (h.start, names[h.keyword as usize].clone())).collect();
        found.sort();
        found
    }

    proptest::proptest! {
        /// The lanes find exactly what one scan would, wherever a keyword
        /// falls, lane boundaries included.
        #[test]
        fn lanes_find_every_occurrence(
            keywords in proptest::collection::vec("[abAB-]{2,7}", 1..12),
            text in proptest::collection::vec(proptest::sample::select(b"abAB-".to_vec()), 0..4000),
        ) {
            let kw: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let rules = [keywords.clone()];
            let p = Prefilter::new(rules.iter().map(|r| r.as_slice()));
            let all: Vec<&str> = kw.iter().copied().chain(DECODE_HINTS.iter().copied()).collect();
            proptest::prop_assert_eq!(fast(&p, &kw, &text), naive(&all, &text));
        }
    }

    #[test]
    fn keywords_across_every_lane_boundary() {
        let kws = ["sk-proj-", "proj-x", "akia", "sk-"];
        let rules = [kw(&kws)];
        let p = Prefilter::new(rules.iter().map(|r| r.as_slice()));
        let all: Vec<&str> = kws.iter().copied().chain(DECODE_HINTS.iter().copied()).collect();
        for n in [511, 512, 4000, 4096, 10_007] {
            for shift in 0..10 {
                let mut text = vec![b'.'; n];
                let part = n / LANES;
                for lane in 1..=LANES {
                    let at = (lane * part).saturating_sub(shift).min(n - 9);
                    text[at..at + 9].copy_from_slice(b"SK-PROJ-x");
                }
                assert_eq!(fast(&p, &kws, &text), naive(&all, &text), "n={n} shift={shift}");
            }
        }
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

//! Loading rule files: parse, check, and build a `RuleSet`.
//!
//! Every error names the file, the line and, where there is one, the rule id.
//! Built-in rules are parsed at start-up but their regexes are compiled lazily
//! (`cargo test` compiles and exercises all of them); user rule files are
//! compiled and checked completely when they are loaded.

use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    fmt,
    path::{Path, PathBuf},
};

use super::{
    Context, LazyRegex, Rule, RuleFileSpec, RuleSet, builtin::BUILTIN_RULE_FILES, compile_pattern,
};
use crate::engine::{prefilter::Prefilter, validate::Validator};

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// File name (built-in) or path (user file).
    pub file: String,
    /// 1-based line of the rule's `id`.
    pub line: usize,
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A rule file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: cannot read rule file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has wrong types or unknown fields.
    #[error("{file}:{line}: invalid rule file: {message}")]
    Toml {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A rule is well-formed TOML but not a valid rule.
    #[error("{file}:{line}: rule {id}: {message}")]
    Rule {
        /// The file.
        file: String,
        /// 1-based line of the rule id.
        line: usize,
        /// The rule id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

impl LoadError {
    fn rule(source: &RuleSource, id: &str, message: impl Into<String>) -> Self {
        LoadError::Rule {
            file: source.file.clone(),
            line: source.line,
            id: id.to_string(),
            message: message.into(),
        }
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// A TOML or serde message with long quoted values shortened: messages such
/// as "invalid type: string \"…\"" echo the value, which may be a secret.
pub(crate) fn redact_values(message: &str) -> String {
    const KEEP: usize = 4;
    const LONGEST: usize = 16;
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(quote) else { break };
        let value = &rest[..close];
        if value.chars().count() > LONGEST {
            out.extend(value.chars().take(KEEP));
            out.push('…');
        } else {
            out.push_str(value);
        }
        out.push(quote);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Parses one rule file without checking its rules.
pub fn parse_file(file: &str, text: &str) -> Result<RuleFileSpec, LoadError> {
    toml::from_str::<RuleFileSpec>(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let mut message = redact_values(e.message().trim());
        if let Some(id) = enclosing_rule_id(text, offset) {
            message = format!("rule {id}: {message}");
        }
        LoadError::Toml { file: file.to_string(), line: line_of(text, offset), message }
    })
}

/// The `id` of the `[[rule]]` table holding byte `offset`, if it has one.
fn enclosing_rule_id(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())].rfind("[[rule]]")?;
    let table = &text[start + 8..];
    let table = &table[..table.find("\n[").unwrap_or(table.len())];
    table.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("id")?.trim_start().strip_prefix('=')?.trim();
        Some(rest.trim_matches(|c| c == '"' || c == '\'').to_string())
    })
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Compiles a rule's patterns and checks what needs the compiled regex.
pub fn check_compiled(rule: &Rule) -> Result<(), LoadError> {
    let regex = rule
        .regex
        .try_get()
        .map_err(|e| LoadError::rule(&rule.source, &rule.id, pattern_message("pattern", &e)))?;
    let groups = regex.captures_len() - 1;
    if rule.secret_group > groups {
        return Err(LoadError::rule(
            &rule.source,
            &rule.id,
            format!(
                "secret_group = {} but the pattern has {groups} capture group(s)",
                rule.secret_group
            ),
        ));
    }
    if let Some(ctx) = &rule.context {
        ctx.regex.try_get().map_err(|e| {
            LoadError::rule(&rule.source, &rule.id, pattern_message("context pattern", &e))
        })?;
    }
    Ok(())
}

/// A pattern error for people, without echoing the pattern (which may hold a
/// secret, as allowlist regexes often do).
pub(crate) fn pattern_message(what: &str, e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("{what} compiles to more than {limit} bytes; make it simpler")
        }
        other => {
            // The syntax error's own text spans lines and points into the pattern.
            let text = other.to_string();
            let detail = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            format!("{what} does not compile: {}", detail.trim_start_matches("error: ").trim())
        }
    }
}

/// Collects rule files and builds a `RuleSet`.
#[derive(Default)]
pub struct RuleSetBuilder {
    files: Vec<(RuleFileSpec, String, Cow<'static, str>, bool)>,
    disabled: HashSet<String>,
}

impl RuleSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every built-in rule file (parsed now, compiled lazily).
    pub fn builtin(self) -> Result<Self, LoadError> {
        self.builtin_except(&[])
    }

    /// Adds the built-in rule files but those named in `skip` (file names such
    /// as `openai.toml`), so an edited copy of a built-in file can replace it.
    pub fn builtin_except(mut self, skip: &[&str]) -> Result<Self, LoadError> {
        // Parsed on all threads: 800 KB of TOML is most of the start-up
        // (8 ms on one core), which `staged` pays on every commit.
        let parsed: Vec<_> = BUILTIN_RULE_FILES
            .par_iter()
            .filter(|(name, _)| !skip.contains(name))
            .map(|&(name, text)| parse_file(name, text).map(|spec| (spec, name, text)))
            .collect::<Result<_, _>>()?;
        for (spec, name, text) in parsed {
            self.files.push((spec, name.to_string(), Cow::Borrowed(text), false));
        }
        Ok(self)
    }

    /// Adds a user rule file from disk; it is checked completely.
    pub fn file(self, path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
        self.text(&path.display().to_string(), &text)
    }

    /// Adds user rules from text (a rule file, or the rules of a config file).
    pub fn text(mut self, file: &str, text: &str) -> Result<Self, LoadError> {
        let spec = parse_file(file, text)?;
        self.files.push((spec, file.to_string(), Cow::Owned(text.to_string()), true));
        Ok(self)
    }

    /// Adds an already parsed file (its `text` is used for line numbers).
    pub fn spec(mut self, file: &str, text: &str, spec: RuleFileSpec) -> Self {
        self.files.push((spec, file.to_string(), Cow::Owned(text.to_string()), true));
        self
    }

    /// Whether a rule with this id has been added (disabled or not).
    pub fn has_rule(&self, id: &str) -> bool {
        self.files.iter().any(|(spec, ..)| spec.rules.iter().any(|r| r.id.get_ref() == id))
    }

    /// Rules (by id) left out of the set.
    pub fn disable<I: IntoIterator<Item = String>>(mut self, ids: I) -> Self {
        self.disabled.extend(ids);
        self
    }

    /// Checks every rule and builds the set.
    pub fn build(self) -> Result<RuleSet, LoadError> {
        let mut providers = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        let mut seen: HashMap<String, RuleSource> = HashMap::new();
        let mut files = self.files;
        // Built-in files first, ordered by tier then name; user files after, in order given.
        files.sort_by(|a, b| (a.3, a.0.provider.tier, &a.1).cmp(&(b.3, b.0.provider.tier, &b.1)));
        for (spec, file, text, eager) in files {
            let provider_index = providers.len();
            let p = &spec.provider;
            if !is_kebab(&p.id) {
                return Err(LoadError::Toml {
                    file,
                    line: text.find("id").map_or(1, |o| line_of(&text, o)),
                    message: format!("provider id {:?} is not kebab-case", p.id),
                });
            }
            for r in spec.rules.iter() {
                let id = r.id.get_ref().clone();
                let source =
                    RuleSource { file: file.clone(), line: line_of(&text, r.id.span().start) };
                if !is_kebab(&id) {
                    return Err(LoadError::rule(
                        &source,
                        &id,
                        "id must be kebab-case (a-z, 0-9, -)",
                    ));
                }
                if let Some(first) = seen.get(&id) {
                    return Err(LoadError::rule(
                        &source,
                        &id,
                        format!("duplicate id (first defined at {first})"),
                    ));
                }
                seen.insert(id.clone(), source.clone());
                if self.disabled.contains(&id) {
                    continue;
                }
                let rule = build_rule(r, provider_index, source, eager)?;
                rules.push(rule);
            }
            providers.push(spec.provider);
        }
        let prefilter = Prefilter::new(rules.iter().map(|r| r.keywords.as_slice()));
        Ok(RuleSet { providers, rules, prefilter })
    }
}

fn build_rule(
    r: &super::RuleSpec,
    provider: usize,
    source: RuleSource,
    eager: bool,
) -> Result<Rule, LoadError> {
    let id = r.id.get_ref().clone();
    let err = |m: String| LoadError::rule(&source, &id, m);
    if r.pattern.trim().is_empty() {
        return Err(err("pattern is empty".into()));
    }
    if r.keywords.is_empty() {
        return Err(err(
            "needs at least one keyword (a literal every match contains or is near)".into()
        ));
    }
    if let Some(k) = r.keywords.iter().find(|k| k.trim().len() < 2) {
        return Err(err(format!("keyword {k:?} is too short (at least 2 characters)")));
    }
    if r.examples.is_empty() {
        return Err(err("needs at least one example (a fake key in the real format)".into()));
    }
    if let Some(e) = r.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(err(format!("min_entropy {e} is outside 0..=8 bits per byte")));
        }
    }
    let validator = match &r.validate {
        None => None,
        Some(name) => Some(Validator::from_name(name).ok_or_else(|| {
            err(format!("unknown validator {name:?} (known: {})", Validator::NAMES.join(", ")))
        })?),
    };
    let regex = if eager {
        let compiled =
            compile_pattern(&r.pattern).map_err(|e| err(pattern_message("pattern", &e)))?;
        LazyRegex::compiled(r.pattern.clone(), compiled)
    } else {
        LazyRegex::new(r.pattern.clone())
    };
    let groups_hint = if eager { regex.get().captures_len() - 1 } else { usize::MAX };
    let secret_group = match r.secret_group {
        Some(g) => g,
        None if eager => usize::from(groups_hint >= 1),
        // Built-in rules name their group explicitly or rely on group 1; checked by tests.
        None => usize::from(pattern_has_group(&r.pattern)),
    };
    let context = match &r.context {
        None => None,
        Some(c) => {
            let regex = if eager {
                let compiled = compile_pattern(&c.pattern)
                    .map_err(|e| err(pattern_message("context pattern", &e)))?;
                LazyRegex::compiled(c.pattern.clone(), compiled)
            } else {
                LazyRegex::new(c.pattern.clone())
            };
            Some(Context { regex, lines: c.lines, required: c.required })
        }
    };
    let rule = Rule {
        id: id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        provider,
        regex,
        secret_group,
        keywords: r.keywords.clone(),
        min_entropy: r.min_entropy,
        confidence: r.confidence,
        validator,
        context,
        tags: r.tags.clone(),
        references: r.references.clone(),
        rotate_url: r.rotate_url.clone(),
        rotate: r.rotate.clone(),
        examples: r.examples.clone(),
        negative_examples: r.negative_examples.clone(),
        source,
        spans_lines: std::sync::OnceLock::new(),
    };
    if eager {
        check_compiled(&rule)?;
    }
    Ok(rule)
}

/// Whether a pattern has a capturing group, without compiling it.
fn pattern_has_group(pattern: &str) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class
                && (b.get(i + 1) != Some(&b'?')
                    || b.get(i + 2) == Some(&b'P')
                    || b.get(i + 2) == Some(&b'<')) =>
            {
                return true;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// The built-in rule set.
pub fn builtin() -> Result<RuleSet, LoadError> {
    RuleSetBuilder::new().builtin()?.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_ids() {
        assert!(is_kebab("openai-project-key"));
        assert!(is_kebab("1password-token"));
        assert!(!is_kebab("OpenAI"));
        assert!(!is_kebab("a--b"));
        assert!(!is_kebab("-a"));
    }

    #[test]
    fn group_detection_without_compiling() {
        assert!(pattern_has_group(r"(abc)"));
        assert!(pattern_has_group(r"(?P<s>abc)"));
        assert!(pattern_has_group(r"(?x) (?:a) (b)"));
        assert!(!pattern_has_group(r"(?:abc)\(x\)[(]"));
    }

    #[test]
    fn toml_errors_do_not_echo_long_values() {
        // Issue #7: a wrongly typed value may be a secret; never print it whole.
        let text = "[provider]\nid = \"x\"\nname = \"X\"\ntier = \"ghp_Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa1A2B3C\"\n";
        let e = parse_file("x.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("x.toml:4:"), "{e}");
        assert!(!e.contains("Zq8wLm3nPx7r"), "{e}");
        assert_eq!(redact_values("unknown field `secret_grup`"), "unknown field `secret_grup`");
        assert_eq!(redact_values("string \"abcdefghijklmnopqrstuvwxyz\""), "string \"abcd…\"");
        assert_eq!(redact_values("unclosed \"quote"), "unclosed \"quote");
    }

    #[test]
    fn toml_error_has_line() {
        let text = "[provider]\nid = \"x\"\nname = \"X\"\nbogus = 1\n";
        let e = parse_file("x.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("x.toml:4:"), "{e}");
        assert!(e.contains("bogus"), "{e}");
    }

    fn build(text: &str) -> Result<RuleSet, LoadError> {
        RuleSetBuilder::new().text("u.toml", text)?.build()
    }

    const HEAD: &str = "[provider]\nid = \"u\"\nname = \"U\"\n";

    #[test]
    fn bad_pattern_names_file_line_and_id() {
        let text = format!(
            "{HEAD}\n[[rule]]\nid = \"u-key\"\nname = \"k\"\npattern = 'u_(['\nkeywords = [\"u_\"]\nconfidence = \"high\"\nexamples = [\"u_1\"]\n"
        );
        let e = build(&text).unwrap_err().to_string();
        assert!(e.starts_with("u.toml:6: rule u-key: pattern does not compile"), "{e}");
    }

    #[test]
    fn duplicate_and_missing_group_and_no_example() {
        let rule = |id: &str, pat: &str, group: &str, ex: &str| {
            format!(
                "\n[[rule]]\nid = \"{id}\"\nname = \"k\"\npattern = '{pat}'\n{group}keywords = [\"u_\"]\nconfidence = \"high\"\nexamples = [{ex}]\n"
            )
        };
        let dup = format!(
            "{HEAD}{}{}",
            rule("u-a", "u_x", "", "\"u_x\""),
            rule("u-a", "u_y", "", "\"u_y\"")
        );
        assert!(build(&dup).unwrap_err().to_string().contains("rule u-a: duplicate id"));
        let grp = format!("{HEAD}{}", rule("u-b", "(u_x)", "secret_group = 2\n", "\"u_x\""));
        assert!(build(&grp).unwrap_err().to_string().contains("secret_group = 2"));
        let noex = format!("{HEAD}{}", rule("u-c", "u_x", "", ""));
        assert!(build(&noex).unwrap_err().to_string().contains("at least one example"));
    }
}

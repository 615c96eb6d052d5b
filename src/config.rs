//! `ScanConfig` (what one run was asked to do) and the project file
//! `.keylint.toml` (allowlists, disabled rules, extra rules).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::rules::{
    Confidence, ProviderSpec, RuleSpec, compile_pattern,
    load::{line_of, pattern_message, redact_values},
};

/// Default `--max-file-size`: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The name of the project config file.
pub const PROJECT_FILE: &str = ".keylint.toml";

/// What `keylint init` writes: every setting, commented, with what it does.
/// It parses as it is (a test checks) and changes nothing until edited.
pub const STARTER_CONFIG: &str = r#"# keylint project config.
#
# keylint reads the first .keylint.toml it finds walking up from the scanned
# path to the repository root (or the file given with --config).

# Lowest confidence reported: "low", "medium" (the default) or "high".
# --min-confidence on the command line takes precedence.
# min_confidence = "medium"

# Rules switched off, by id (`keylint rules list` shows them all).
# disabled_rules = ["rule-id"]

[allowlist]
# Paths never scanned: gitignore-style globs relative to this file. A pattern
# without "/" matches at any depth ("*.lock"), a trailing "/" means everything
# below ("testdata/"), a leading "/" anchors at this directory ("/docs/a.md").
paths = [
  # "tests/fixtures/",
]

# Regexes tried on the secret itself (not the line); a match is not reported.
regexes = [
  # '''^sk_test_''',
]

# Words; a secret containing one (case-insensitive) is not reported.
stopwords = [
  # "example",
]

# Rules for in-house keys, in the format of keylint's rules/ files (one
# [provider] per config file). `keylint scan` checks them when it loads them.
#
# [provider]
# id = "acme"
# name = "Acme Corp"
# env_var = "ACME_TOKEN"
# rotate_url = "https://acme.invalid/settings/tokens"
# rotate = [
#   "Revoke the token on the Acme tokens page.",
#   "Create a new token with only the scopes it needs.",
# ]
#
# [[rule]]
# id = "acme-api-token"
# name = "Acme API token"
# pattern = '''\b(acme_[A-Za-z0-9]{32})\b'''
# keywords = ["acme_"]
# min_entropy = 3.5
# confidence = "high"
# references = ["https://acme.invalid/docs/tokens"]
# examples = ["ACME_TOKEN=acme_k3Y9fQ2mZ7xW4vB8nR5tP1sL6dH0jC2a"]
# negative_examples = ["ACME_TOKEN=acme_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]
"#;

/// Everything a scan needs to know, independent of the command line.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Files and directories to scan (`-` is stdin).
    pub paths: Vec<PathBuf>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Also scan what .gitignore/.ignore exclude.
    pub no_ignore: bool,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Findings below this confidence are not reported (`None`: the project's or medium).
    pub min_confidence: Option<Confidence>,
    /// Honour inline `keylint:allow` markers.
    pub inline_allow: bool,
    /// Extra user rule files.
    pub rule_files: Vec<PathBuf>,
    /// Explicit project config (else `.keylint.toml` is searched for).
    pub config_file: Option<PathBuf>,
    /// Baseline of accepted fingerprints.
    pub baseline: Option<PathBuf>,
    /// Whether reports may show full secrets.
    pub show_secrets: bool,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            paths: vec![PathBuf::from(".")],
            threads: 0,
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            min_confidence: None,
            inline_allow: true,
            rule_files: Vec::new(),
            config_file: None,
            baseline: None,
            show_secrets: false,
        }
    }
}

/// A project config that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("{path}: cannot read config: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Malformed TOML, wrong types, unknown keys.
    #[error("{path}:{line}: invalid config: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A value that does not work (bad glob or regex).
    #[error("{path}:{line}: {key}: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The `[allowlist]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Gitignore-style globs of paths never reported.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes; a secret matching one is not reported.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Words; a secret containing one (case-insensitive) is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// `.keylint.toml` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// Default minimum confidence for this project.
    #[serde(default)]
    pub min_confidence: Option<Confidence>,
    /// Rule ids switched off.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// What is never reported.
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    /// A provider for the extra rules below.
    #[serde(default)]
    pub provider: Option<ProviderSpec>,
    /// Extra rules, in the format of `rules/`.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// A loaded and checked project config.
#[derive(Debug, Default)]
pub struct ProjectConfig {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Its text (for rule line numbers).
    pub text: String,
    /// The parsed spec.
    pub spec: ProjectSpec,
    /// Compiled path globs.
    pub paths: Option<GlobSet>,
    /// Compiled secret regexes.
    pub regexes: Vec<Regex>,
    /// Lowercased stopwords.
    pub stopwords: Vec<String>,
}

impl ProjectConfig {
    /// Loads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    /// Parses and checks config text.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let spec: ProjectSpec = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: redact_values(e.message().trim()),
        })?;
        let value_err = |key: &str, needle: &str, message: String| ConfigError::Value {
            path: path.to_path_buf(),
            line: text.find(needle).map_or(1, |o| line_of(text, o)),
            key: key.to_string(),
            message,
        };
        let mut globs = GlobSetBuilder::new();
        for p in &spec.allowlist.paths {
            let pattern = normalize_glob(p);
            let glob = Glob::new(&pattern)
                .map_err(|e| value_err("allowlist.paths", p, format!("bad glob {p:?}: {e}")))?;
            globs.add(glob);
        }
        let paths = if spec.allowlist.paths.is_empty() {
            None
        } else {
            Some(globs.build().map_err(|e| value_err("allowlist.paths", "paths", e.to_string()))?)
        };
        let mut regexes = Vec::new();
        for r in &spec.allowlist.regexes {
            regexes
                .push(compile_pattern(r).map_err(|e| {
                    value_err("allowlist.regexes", r, pattern_message("regex", &e))
                })?);
        }
        let stopwords = spec.allowlist.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect();
        if !spec.rules.is_empty() && spec.provider.is_none() {
            return Err(value_err(
                "rule",
                "[[rule]]",
                "extra rules need a [provider] table".into(),
            ));
        }
        Ok(ProjectConfig {
            path: Some(path.to_path_buf()),
            text: text.to_string(),
            spec,
            paths,
            regexes,
            stopwords,
        })
    }

    /// Finds `.keylint.toml` from `start` up to the repository root (the first
    /// directory holding `.git`). Outside a repository only `start` itself is
    /// looked at: a config in a parent directory (`/tmp/.keylint.toml`,
    /// which anyone can write) must not silence the scan of a tree below it.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = if start.is_file() { start.parent()? } else { start };
        // The parent of a bare file name (`keylint scan app.py`) is "": the working directory.
        let start = if start.as_os_str().is_empty() { Path::new(".") } else { start };
        let start = std::fs::canonicalize(start).ok()?;
        let mut first = None;
        for dir in start.ancestors() {
            let candidate = dir.join(PROJECT_FILE);
            if candidate.is_file() && first.is_none() {
                first = Some(candidate);
            }
            if dir.join(".git").exists() {
                return first;
            }
        }
        let own = start.join(PROJECT_FILE);
        own.is_file().then_some(own)
    }

    /// The directory relative to which allowlist paths are matched.
    pub fn root(&self) -> Option<&Path> {
        // `--config .keylint.toml` has the parent "": the working directory.
        let parent = self.path.as_deref().and_then(Path::parent)?;
        Some(if parent.as_os_str().is_empty() { Path::new(".") } else { parent })
    }

    /// Whether a path (relative to the config's directory) is allowlisted.
    pub fn path_allowed(&self, relative: &Path) -> bool {
        self.paths.as_ref().is_some_and(|g| g.is_match(relative))
    }

    /// Whether a secret is allowlisted by a regex or stopword.
    pub fn secret_allowed(&self, secret: &[u8]) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords.iter().any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    }
}

/// Gitignore-style: a pattern without `/` matches at any depth; a trailing `/`
/// means everything below; a leading `/` anchors at the root.
fn normalize_glob(p: &str) -> String {
    let mut g = p.trim().to_string();
    if let Some(stripped) = g.strip_suffix('/') {
        g = format!("{stripped}/**");
    }
    if let Some(stripped) = g.strip_prefix('/') {
        stripped.to_string()
    } else if !g.contains('/') || g.ends_with("/**") && !g[..g.len() - 3].contains('/') {
        format!("**/{g}")
    } else {
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_gitignore_like() {
        let cfg = ProjectConfig::parse(
            Path::new("k.toml"),
            "[allowlist]\npaths = [\"fixtures/\", \"*.lock\", \"/docs/a.md\"]\nstopwords = [\"Fake\"]\n",
        )
        .unwrap();
        assert!(cfg.path_allowed(Path::new("fixtures/a/b.env")));
        assert!(cfg.path_allowed(Path::new("sub/fixtures/x")));
        assert!(cfg.path_allowed(Path::new("x/Cargo.lock")));
        assert!(cfg.path_allowed(Path::new("docs/a.md")));
        assert!(!cfg.path_allowed(Path::new("src/docs/a.md")));
        assert!(cfg.secret_allowed(b"abcFAKEdef"));
    }

    #[test]
    fn starter_config_parses_and_its_example_rule_works() {
        let cfg = ProjectConfig::parse(Path::new(".keylint.toml"), STARTER_CONFIG).unwrap();
        assert!(cfg.spec.disabled_rules.is_empty() && cfg.paths.is_none());
        assert!(cfg.regexes.is_empty() && cfg.stopwords.is_empty() && cfg.spec.rules.is_empty());
        // Uncommenting the example rule gives a rule that loads and passes its examples.
        let start = STARTER_CONFIG.find("\n# [provider]\n").unwrap();
        let rule: String = STARTER_CONFIG[start..]
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or("").to_string() + "\n")
            .collect();
        let cfg = ProjectConfig::parse(Path::new(".keylint.toml"), &rule).unwrap();
        let spec = crate::rules::RuleFileSpec {
            provider: cfg.spec.provider.clone().unwrap(),
            rules: cfg.spec.rules.clone(),
        };
        let set = crate::rules::load::RuleSetBuilder::new()
            .spec(".keylint.toml", &rule, spec)
            .build()
            .unwrap();
        let all: Vec<usize> = (0..set.rules.len()).collect();
        assert_eq!(crate::rules::check::check_rules(&set, &all), Vec::<String>::new());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e =
            ProjectConfig::parse(Path::new("k.toml"), "\n[allowlist]\nbogus = 1\n").unwrap_err();
        assert!(e.to_string().starts_with("k.toml:3: invalid config"), "{e}");
        let e = ProjectConfig::parse(Path::new("k.toml"), "[allowlist]\nregexes = ['a(']\n")
            .unwrap_err();
        assert!(e.to_string().starts_with("k.toml:2: allowlist.regexes"), "{e}");
    }

    #[test]
    fn config_outside_a_repository_is_only_the_scanned_directorys_own() {
        // Issue #7: a .keylint.toml planted in a parent directory (a shared
        // /tmp) used to allowlist whatever was scanned below it.
        let outer = tempfile::tempdir().unwrap();
        let inner = outer.path().join("checkout/src");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(outer.path().join(PROJECT_FILE), "[allowlist]\npaths = ['*']\n").unwrap();
        assert_eq!(ProjectConfig::discover(&inner), None);
        std::fs::write(inner.join(PROJECT_FILE), "").unwrap();
        assert_eq!(
            ProjectConfig::discover(&inner),
            Some(std::fs::canonicalize(&inner).unwrap().join(PROJECT_FILE))
        );
        // Inside a repository, the nearest config up to its root is used.
        let repo = outer.path().join("checkout");
        std::fs::create_dir(repo.join(".git")).unwrap();
        std::fs::write(repo.join(PROJECT_FILE), "").unwrap();
        std::fs::remove_file(inner.join(PROJECT_FILE)).unwrap();
        let canonical = std::fs::canonicalize(&repo).unwrap().join(PROJECT_FILE);
        assert_eq!(ProjectConfig::discover(&inner), Some(canonical));
    }

    #[test]
    fn config_errors_do_not_echo_secrets() {
        // Issue #7: an allowlist regex is often a secret itself.
        let key = "ghp_Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa1A2B3C";
        for text in [
            format!("[allowlist]\nregexes = ['{key}(']\n"),
            format!("[allowlist]\nregexes = '{key}'\n"),
            format!("min_confidence = '{key}'\n"),
        ] {
            let e = ProjectConfig::parse(Path::new("k.toml"), &text).unwrap_err().to_string();
            assert!(e.starts_with("k.toml:"), "{e}");
            assert!(!e.contains(&key[4..]), "{e}");
        }
    }
}

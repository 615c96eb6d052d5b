//! `RuleSpec`: the serde mirror of one rule file, exactly as the TOML says it.
//!
//! Nothing here is compiled or checked beyond what serde checks (types, unknown
//! fields); `load.rs` validates a spec and turns it into a `Rule`.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Confidence;

/// One rule file: a provider and its rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSpec {
    /// The provider shared by every rule of the file.
    pub provider: ProviderSpec,
    /// The rules (`[[rule]]` tables).
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// The `[provider]` table: who issues the key and how to rotate it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Kebab-case id, equal to the file stem for built-in rules.
    pub id: String,
    /// Human name ("OpenAI").
    pub name: String,
    /// How often this provider's keys leak: 1 (most) to 4 (generic); orders listings.
    #[serde(default = "default_tier")]
    pub tier: u8,
    /// Conventional environment variable to load the key from.
    #[serde(default)]
    pub env_var: Option<String>,
    /// Where the key is revoked or regenerated.
    #[serde(default)]
    pub rotate_url: Option<String>,
    /// Imperative rotation steps (at most a few).
    #[serde(default)]
    pub rotate: Vec<String>,
    /// Further documentation.
    #[serde(default)]
    pub references: Vec<String>,
}

fn default_tier() -> u8 {
    3
}

/// One `[[rule]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Public, stable, kebab-case id (`<provider>-<credential>`).
    pub id: Spanned<String>,
    /// Human name of the credential.
    pub name: String,
    /// What the credential grants.
    #[serde(default)]
    pub description: Option<String>,
    /// Regex (Rust `regex` syntax, compiled over bytes with Unicode off).
    pub pattern: String,
    /// Capture group holding the secret; defaults to 1 when the pattern has a group, else 0.
    #[serde(default)]
    pub secret_group: Option<usize>,
    /// Literals (case-insensitive); the rule runs only on blobs containing one.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret, in bits per byte.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// How sure a match is.
    pub confidence: Confidence,
    /// Named offline validator (see `engine::validate`).
    #[serde(default)]
    pub validate: Option<String>,
    /// Free-form tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Documentation of the format.
    #[serde(default)]
    pub references: Vec<String>,
    /// Overrides the provider's rotation URL.
    #[serde(default)]
    pub rotate_url: Option<String>,
    /// Overrides the provider's rotation steps.
    #[serde(default)]
    pub rotate: Option<Vec<String>>,
    /// A second value or keyword required (or expected) near the match.
    #[serde(default)]
    pub context: Option<ContextSpec>,
    /// Fake keys in the real format: each must be reported by this rule.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Near misses: none may be reported by this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// `[rule.context]`: what must (or should) appear in the lines around a match.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    /// Regex searched in the surrounding lines.
    pub pattern: String,
    /// Lines before and after the match line that are searched (0: the match line only).
    #[serde(default = "default_context_lines")]
    pub lines: usize,
    /// `true`: no finding without the context. `false`: without it the confidence
    /// drops one level.
    #[serde(default = "default_true")]
    pub required: bool,
}

fn default_context_lines() -> usize {
    3
}

fn default_true() -> bool {
    true
}

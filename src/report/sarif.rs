//! SARIF 2.1.0, shaped as GitHub code scanning reads it: one
//! `tool.driver.rules` entry per rule that has results (help with the
//! provider's rotation advice, `helpUri` the rotation page, precision and
//! security severity), results with a level by confidence, a repository-
//! relative location and `partialFingerprints` from the keylint fingerprint.
//!
//! SARIF ends up on dashboards, so it never holds a secret, not even with
//! `--show-secrets`: messages are built from rule data, and text that comes
//! from the scanned data (commit summaries, authors) is scrubbed.

use std::{collections::BTreeMap, io::Write};

use serde::Serialize;

use super::{
    RenderOptions, Report, Stats, Warning,
    paths::{PathBase, percent_encode_path},
    scrub::Scrubber,
};
use crate::{
    finding::Finding,
    rules::{Confidence, Rule, RuleSet},
    source::Origin,
    suppress::baseline::BaselineEntry,
};

/// The schema the output conforms to.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base id of repository-relative artifact URIs.
pub const SRCROOT: &str = "%SRCROOT%";

/// The key of keylint's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "keylint/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    id: &'a str,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct ResultProperties {
    provider: String,
    confidence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    validated: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<Commit>,
}

/// A commit, scrubbed of secrets.
#[derive(Serialize)]
struct Commit {
    id: String,
    author: String,
    email: String,
    date: String,
    summary: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    stats: &'a Stats,
    stale_baseline: &'a [BaselineEntry],
}

/// The SARIF level of a confidence.
pub fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// GitHub's `precision` of a rule: how often its results are real.
fn precision(rule: &Rule) -> &'static str {
    match rule.confidence {
        Confidence::High if rule.validator.is_some() => "very-high",
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// GitHub's `security-severity` (CVSS-like, 0.0 to 10.0): a live leaked
/// credential is critical; lower confidence lowers the expected severity.
fn security_severity(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "9.5",
        Confidence::Medium => "8.0",
        Confidence::Low => "5.0",
    }
}

/// The project's web page, from Cargo.toml (`repository`, else `homepage`).
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")].into_iter().find(|u| !u.is_empty())
}

fn descriptor<'a>(rules: &'a RuleSet, rule: &'a Rule) -> Descriptor<'a> {
    let provider = rules.provider_of(rule);
    let url = rules.rotate_url(rule);
    let steps = rules.rotate_steps(rule);
    let full = match &rule.description {
        Some(d) => d.trim().to_string(),
        None => format!("A hard-coded {} ({}).", rule.name, provider.name),
    };
    let mut text =
        format!("{} ({}), issued by {}.\n\n{full}\n\n", rule.name, rule.id, provider.name);
    let mut md =
        format!("**{}** (`{}`), issued by {}.\n\n{full}\n\n", rule.name, rule.id, provider.name);
    text.push_str(&format!("How to rotate a leaked {} key:\n", provider.name));
    md.push_str(&format!("### How to rotate a leaked {} key\n\n", provider.name));
    if let Some(u) = url {
        text.push_str(&format!("Revoke or regenerate it at {u}\n"));
        md.push_str(&format!("Revoke or regenerate it at <{u}>.\n\n"));
    }
    for (i, s) in steps.iter().enumerate() {
        text.push_str(&format!("{}. {s}\n", i + 1));
        md.push_str(&format!("{}. {s}\n", i + 1));
    }
    match &provider.env_var {
        Some(v) => {
            text.push_str(&format!(
                "Load the replacement from the environment ({v}) or a secret manager; never commit it.\n"
            ));
            md.push_str(&format!(
                "\nLoad the replacement from the environment (`{v}`) or a secret manager; never commit it.\n"
            ));
        }
        None => {
            let load =
                "Load the replacement from the environment or a secret manager; never commit it.\n";
            text.push_str(load);
            md.push_str(&format!("\n{load}"));
        }
    }
    let history = "A key that reached a commit is in every clone and fork: deleting it from the \
                   code is not enough, rotate it.";
    text.push_str(&format!("\n{history}\n"));
    md.push_str(&format!("\n{history}\n"));
    let waive = format!(
        "If it is not a real key, add `keylint:allow {} <reason>` in a comment on its line, or \
         accept it in the baseline (`keylint baseline`).",
        rule.id
    );
    text.push_str(&format!("\n{waive}\n"));
    md.push_str(&format!("\n### Not a real key?\n\n{waive}\n"));
    if !rule.references.is_empty() {
        text.push_str("\nReferences:\n");
        md.push_str("\n### References\n\n");
        for r in &rule.references {
            text.push_str(&format!("- {r}\n"));
            md.push_str(&format!("- <{r}>\n"));
        }
    }
    let mut tags = vec![
        "security".to_string(),
        "secret".to_string(),
        "external/cwe/cwe-798".to_string(),
        provider.id.clone(),
    ];
    for t in &rule.tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    Descriptor {
        id: &rule.id,
        short_description: Text { text: rule.name.clone() },
        full_description: Text { text: full },
        help: Help { text, markdown: md },
        help_uri: url,
        default_configuration: Configuration { level: level(rule.confidence) },
        properties: RuleProperties {
            tags,
            precision: precision(rule),
            security_severity: security_severity(rule.confidence),
        },
    }
}

/// Where a finding is, as a SARIF artifact location: relative to the
/// repository root when it is inside it, else an absolute `file://` URI.
fn artifact(origin: &Origin, base: Option<PathBase<'_>>) -> ArtifactLocation {
    if matches!(origin, Origin::Stdin) {
        // Standard input has no file: `-`, as in the other formats.
        return ArtifactLocation { uri: "-".to_string(), uri_base_id: None };
    }
    let shown = origin.display_path();
    let relative = match base {
        Some(b) => b.relative(origin),
        None => (!shown.starts_with('/')).then(|| shown.clone()),
    };
    if let Some(rel) = relative {
        return ArtifactLocation { uri: percent_encode_path(&rel), uri_base_id: Some(SRCROOT) };
    }
    let abs =
        base.and_then(|b| b.absolute(origin)).map_or(shown, |p| p.to_string_lossy().into_owned());
    ArtifactLocation { uri: format!("file://{}", percent_encode_path(&abs)), uri_base_id: None }
}

/// A finding in one sentence or three, for dashboards and annotations: what
/// was found, where it came from, how to rotate it. Built from rule data and
/// scrubbed commit data only, so it never holds the secret.
pub(crate) fn message(f: &Finding, rules: &RuleSet, scrub: &Scrubber) -> String {
    let rule = &rules.rules[f.rule];
    let provider = rules.provider_of(rule);
    let mut m = format!("{} ({}, {} confidence", rule.name, rule.id, f.confidence);
    if let Some(v) = f.validated {
        m.push_str(&format!(", {v} verified"));
    }
    if f.decoded {
        m.push_str(", inside base64");
    }
    m.push(')');
    if let Some(c) = f.origin.commit() {
        let short = &c.id[..c.id.len().min(12)];
        m.push_str(&format!(
            ", first committed in {short} by {} on {}",
            scrub.scrub(&c.author),
            scrub.scrub(&c.date)
        ));
    }
    m.push_str(". ");
    match rules.rotate_url(rule) {
        Some(u) => m.push_str(&format!("Rotate it at {u}")),
        None => m.push_str(&format!("Rotate it at {}", provider.name)),
    }
    match &provider.env_var {
        Some(v) => m.push_str(&format!(" and load the replacement from {v}.")),
        None => m.push('.'),
    }
    if f.origin.commit().is_some() {
        m.push_str(" It stays in every clone of the history until rotated.");
    }
    m
}

/// Writes the report as a SARIF 2.1.0 log.
pub fn write(
    report: &Report,
    rules: &RuleSet,
    opts: RenderOptions<'_>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let scrub = Scrubber::new(report);
    // One descriptor per rule with results, sorted by id; results point at it.
    let mut used: Vec<usize> = report.findings.iter().map(|f| f.rule).collect();
    used.sort_by(|a, b| rules.rules[*a].id.cmp(&rules.rules[*b].id));
    used.dedup();
    let index: BTreeMap<usize, usize> = used.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let descriptors: Vec<Descriptor<'_>> =
        used.iter().map(|&r| descriptor(rules, &rules.rules[r])).collect();
    let results = report
        .findings
        .iter()
        .map(|f| {
            let rule = &rules.rules[f.rule];
            let l = &f.location;
            SarifResult {
                rule_id: f.rule_id.clone(),
                rule_index: index[&f.rule],
                level: level(f.confidence),
                message: Text { text: message(f, rules, &scrub) },
                locations: [Location {
                    physical_location: PhysicalLocation {
                        artifact_location: artifact(&f.origin, opts.base),
                        region: Region {
                            start_line: l.line,
                            start_column: l.utf16_column,
                            end_line: l.end_line,
                            end_column: l.utf16_end_column,
                        },
                    },
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, f.fingerprint.0.clone())]),
                properties: ResultProperties {
                    provider: rules.provider_of(rule).id.clone(),
                    confidence: f.confidence.as_str(),
                    validated: f.validated,
                    commit: f.origin.commit().map(|c| Commit {
                        id: c.id.clone(),
                        author: scrub.scrub(&c.author).into_owned(),
                        email: scrub.scrub(&c.email).into_owned(),
                        date: scrub.scrub(&c.date).into_owned(),
                        summary: scrub.scrub(&c.summary).into_owned(),
                    }),
                },
            }
        })
        .collect();
    let notifications = report.warnings.iter().map(notification).collect();
    let original_uri_base_ids = opts.base.map(|b| {
        let root = b.root.to_string_lossy();
        let slash = if root.ends_with('/') { "" } else { "/" };
        BTreeMap::from([(
            SRCROOT,
            ArtifactLocation {
                uri: format!("file://{}{slash}", percent_encode_path(&root)),
                uri_base_id: None,
            },
        )])
    });
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "keylint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(),
                    rules: descriptors,
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids,
            column_kind: "utf16CodeUnits",
            results,
            properties: RunProperties {
                stats: &report.stats,
                stale_baseline: &report.stale_baseline,
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn notification(w: &Warning) -> Notification {
    Notification { level: "warning", message: Text { text: w.to_string() } }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::{
        finding::{Fingerprint, Location as Loc, Secret, Snippet},
        rules::load::RuleSetBuilder,
        source::CommitInfo,
    };

    const RULES: &str = r#"
[provider]
id = "acme"
name = "Acme"
env_var = "ACME_TOKEN"
rotate_url = "https://acme.invalid/tokens"
rotate = ["Revoke it."]

[[rule]]
id = "acme-token"
name = "Acme token"
pattern = '\b(acme_[A-Za-z0-9]{20})\b'
keywords = ["acme_"]
confidence = "high"
examples = ["acme_k3Y9fQ2mZ7xW4vB8nR5t"]
"#;

    fn history_finding(secret: &str, summary: &str) -> Finding {
        Finding {
            rule: 0,
            rule_id: "acme-token".into(),
            origin: Origin::Commit {
                commit: Box::new(CommitInfo {
                    id: "0123456789abcdef0123456789abcdef01234567".into(),
                    author: "Ann".into(),
                    email: "ann@example.invalid".into(),
                    date: "2024-01-02T03:04:05Z".into(),
                    summary: summary.into(),
                }),
                path: PathBuf::from("src/a b.py"),
            },
            location: Loc {
                line: 3,
                column: 5,
                end_line: 3,
                end_column: 29,
                utf16_column: 5,
                utf16_end_column: 30,
            },
            secret: Secret::new(secret.as_bytes()),
            fingerprint: Fingerprint::new("acme-token", secret.as_bytes()),
            confidence: Confidence::High,
            validated: None,
            decoded: false,
            snippet: Snippet::default(),
        }
    }

    #[test]
    fn history_results_carry_the_commit_and_never_the_secret() {
        let rules = RuleSetBuilder::new().text("acme.toml", RULES).unwrap().build().unwrap();
        let key = "acme_k3Y9fQ2mZ7xW4vB8nR5t";
        let report = Report {
            findings: vec![history_finding(key, &format!("add token {key} for now"))],
            history: true,
            ..Report::default()
        };
        let base = PathBase { root: Path::new("/repo"), cwd: Path::new("/elsewhere") };
        let opts = RenderOptions { base: Some(base), ..RenderOptions::default() };
        let mut out = Vec::new();
        write(&report, &rules, opts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains(key), "{text}");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let r = &doc["runs"][0]["results"][0];
        let commit = &r["properties"]["commit"];
        assert_eq!(commit["id"], "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(commit["summary"], "add token acme…(redacted) for now");
        let message = r["message"]["text"].as_str().unwrap();
        assert!(message.contains("first committed in 0123456789ab by Ann"), "{message}");
        let artifact = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "src/a%20b.py");
        assert_eq!(artifact["uriBaseId"], SRCROOT);
        assert_eq!(doc["runs"][0]["originalUriBaseIds"][SRCROOT]["uri"], "file:///repo/");
    }
}

//! The JSON report (`version: 1`, the contract in DESIGN.md) and JSON Lines.

use std::io::Write;

use serde::Serialize;

use super::{RenderOptions, Report, Stats, Warning};
use crate::{
    finding::Finding, rules::RuleSet, source::CommitInfo, suppress::baseline::BaselineEntry,
};

/// Rotation advice of a finding.
#[derive(Serialize)]
pub struct Rotation<'a> {
    /// Where to revoke or regenerate.
    pub url: Option<&'a str>,
    /// What to do.
    pub steps: &'a [String],
    /// Where to load the replacement from.
    pub env_var: Option<&'a str>,
}

/// One finding as the JSON contract spells it.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    rule_id: &'a str,
    provider: &'a str,
    name: &'a str,
    confidence: &'static str,
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    secret: String,
    fingerprint: &'a str,
    validated: Option<&'static str>,
    commit: Option<&'a CommitInfo>,
    rotation: Rotation<'a>,
}

impl<'a> JsonFinding<'a> {
    /// The contract's view of a finding.
    pub fn new(f: &'a Finding, rules: &'a RuleSet, show_secrets: bool) -> Self {
        let rule = &rules.rules[f.rule];
        let provider = rules.provider_of(rule);
        JsonFinding {
            rule_id: &f.rule_id,
            provider: &provider.id,
            name: &rule.name,
            confidence: f.confidence.as_str(),
            path: f.origin.display_path(),
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            secret: if show_secrets { f.secret.expose().to_string() } else { f.secret.redacted() },
            fingerprint: &f.fingerprint.0,
            validated: f.validated,
            commit: f.origin.commit(),
            rotation: Rotation {
                url: rules.rotate_url(rule),
                steps: rules.rotate_steps(rule),
                env_var: provider.env_var.as_deref(),
            },
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    stats: &'a Stats,
    warnings: &'a [Warning],
    stale_baseline: &'a [BaselineEntry],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressions_added: &'a [super::SuppressionChange],
}

/// Writes the whole report as one JSON document.
pub fn write(
    report: &Report,
    rules: &RuleSet,
    opts: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let doc = JsonReport {
        version: 1,
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding::new(f, rules, opts.show_secrets))
            .collect(),
        stats: &report.stats,
        warnings: &report.warnings,
        stale_baseline: &report.stale_baseline,
        suppressions_added: &report.suppressions_added,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// Writes one finding per line.
pub fn write_lines(
    report: &Report,
    rules: &RuleSet,
    opts: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *out, &JsonFinding::new(f, rules, opts.show_secrets))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

//! The human report: findings grouped by file with the line masked and the
//! secret underlined, then once per provider the rotation advice, then a
//! summary line.

use std::{collections::BTreeMap, io::Write};

use super::{RenderOptions, Report, printable};
use crate::{finding::Finding, rules::RuleSet};

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn red(&self, t: &str) -> String {
        self.wrap("31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.wrap("33", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
    fn cyan(&self, t: &str) -> String {
        self.wrap("36", t)
    }
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Writes the human report.
pub fn write(
    report: &Report,
    rules: &RuleSet,
    opts: RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let p = Paint { on: opts.color };
    let mut by_path: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_path.entry(f.origin.display_path()).or_default().push(f);
    }
    for (path, findings) in &by_path {
        writeln!(out, "{}", p.bold(&printable(path)))?;
        for f in findings {
            write_finding(f, rules, opts, &p, out)?;
        }
        writeln!(out)?;
    }
    write_rotation(report, rules, &p, out)?;
    write_suppressions(report, &p, out)?;
    write_summary(report, by_path.len(), &p, out)?;
    if report.staged && !report.findings.is_empty() {
        write_staged_help(&p, out)?;
    }
    Ok(())
}

/// For `keylint staged` (the pre-commit hook): the ways to get the commit through.
fn write_staged_help(p: &Paint, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.bold("The commit is blocked: the lines it adds contain the secrets above. Ways out:")
    )?;
    let ways = [
        "Remove the secret from the file, load it from the environment or a secret manager, \
         and `git add` the file again. If it was ever pushed or shared, rotate it as shown above.",
        "Not a real secret (test key, false positive): put `keylint:allow <reason>` in a comment \
         on that line or the line before, e.g. `# keylint:allow test fixture, revoked`.",
        "Known and accepted: record it in a baseline (`keylint baseline`) and pass \
         `--baseline FILE` to `keylint staged` in the hook.",
        "Last resort: `git commit --no-verify` skips the pre-commit hooks for this one commit.",
    ];
    for (i, way) in ways.iter().enumerate() {
        writeln!(out, "  {}. {way}", i + 1)?;
    }
    Ok(())
}

fn write_finding(
    f: &Finding,
    rules: &RuleSet,
    opts: RenderOptions,
    p: &Paint,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let rule = &rules.rules[f.rule];
    let conf = match f.confidence {
        crate::rules::Confidence::High => p.red("high"),
        crate::rules::Confidence::Medium => p.yellow("medium"),
        crate::rules::Confidence::Low => p.dim("low"),
    };
    let mut extra = String::new();
    if let Some(v) = f.validated {
        extra.push_str(&format!(", {v} verified"));
    }
    if f.decoded {
        extra.push_str(", inside base64");
    }
    writeln!(
        out,
        "  {}:{}  {}  {}  {}",
        f.location.line,
        f.location.column,
        conf,
        p.bold(&rule.name),
        p.dim(&format!("({}{extra})", f.rule_id))
    )?;
    if let Some(c) = f.origin.commit() {
        let short = &c.id[..c.id.len().min(12)];
        writeln!(
            out,
            "    {} {short} by {} <{}> on {}: {}",
            p.dim("commit"),
            c.author,
            c.email,
            c.date,
            c.summary
        )?;
    }
    let shown = if opts.show_secrets { f.secret.expose().to_string() } else { f.secret.redacted() };
    let shown = if shown.contains('\n') {
        shown.lines().next().unwrap_or("").to_string() + "…"
    } else {
        shown
    };
    let before = f.snippet.before.replace('\t', " ");
    let after = f.snippet.after.replace('\t', " ");
    writeln!(out, "    {}{}{}", before, p.red(&shown), after)?;
    let pad = before.chars().count();
    writeln!(out, "    {}{}", " ".repeat(pad), p.red(&"^".repeat(shown.chars().count().max(1))))?;
    Ok(())
}

fn write_rotation(
    report: &Report,
    rules: &RuleSet,
    p: &Paint,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    // Once per provider, in the order providers first appear.
    let mut seen: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    for f in &report.findings {
        let rule = &rules.rules[f.rule];
        match seen.iter_mut().find(|(prov, _, _)| *prov == rule.provider) {
            Some(entry) => {
                entry.1 += 1;
                if !entry.2.contains(&f.rule) {
                    entry.2.push(f.rule);
                }
            }
            None => seen.push((rule.provider, 1, vec![f.rule])),
        }
    }
    writeln!(out, "{}", p.bold("How to rotate what was found"))?;
    for (prov, count, rule_ids) in &seen {
        let provider = &rules.providers[*prov];
        let rule = &rules.rules[rule_ids[0]];
        writeln!(out, "  {} ({})", p.bold(&provider.name), plural(*count, "finding", "findings"))?;
        if let Some(url) = rules.rotate_url(rule) {
            writeln!(out, "    Revoke or regenerate at {}", p.cyan(url))?;
        }
        for (i, step) in rules.rotate_steps(rule).iter().enumerate() {
            writeln!(out, "    {}. {step}", i + 1)?;
        }
        if let Some(var) = &provider.env_var {
            writeln!(
                out,
                "    Load the replacement from the environment ({var}) or a secret manager; never commit it."
            )?;
        }
    }
    if report.history {
        writeln!(
            out,
            "  {} Deleting a key from the code is not enough: every clone and fork still has it in history. Rotate it.",
            p.yellow("!")
        )?;
    }
    writeln!(out)
}

fn write_suppressions(report: &Report, p: &Paint, out: &mut dyn Write) -> std::io::Result<()> {
    if report.suppressions_added.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", p.bold("Suppressions this change adds (for the reviewer)"))?;
    for s in &report.suppressions_added {
        let at = match s.line {
            Some(line) => format!("{}:{line}", s.path),
            None => s.path.clone(),
        };
        let commit = match &s.commit {
            Some(c) => format!("  (commit {})", &c[..c.len().min(12)]),
            None => String::new(),
        };
        writeln!(out, "  {}  {}  {}{commit}", printable(&at), s.kind, printable(&s.detail))?;
    }
    writeln!(out)
}

fn write_summary(
    report: &Report,
    files: usize,
    p: &Paint,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let s = &report.stats;
    let n = report.findings.len();
    let head = if n == 0 {
        p.bold("No secrets found")
    } else {
        p.red(&p.bold(&format!(
            "{} in {}",
            plural(n, "secret", "secrets"),
            plural(files, "file", "files")
        )))
    };
    let suppressed = s.suppressed_inline + s.suppressed_allowlist + s.suppressed_baseline;
    let mut tail = Vec::new();
    if s.commits > 0 {
        tail.push(plural(s.commits as usize, "commit", "commits"));
    }
    tail.push(format!("{} scanned", plural(s.blobs as usize, "blob", "blobs")));
    tail.push(human_bytes(s.bytes));
    tail.push(format!("{:.2} s", s.duration_ms as f64 / 1000.0));
    if suppressed > 0 {
        let why: Vec<String> = [
            (s.suppressed_inline, "inline"),
            (s.suppressed_baseline, "baseline"),
            (s.suppressed_allowlist, "allowlist"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        tail.push(format!("{suppressed} suppressed ({})", why.join(", ")));
    }
    let skipped = s.skipped_binary + s.skipped_large + s.skipped_other;
    if skipped > 0 {
        tail.push(format!("{skipped} skipped"));
    }
    writeln!(out, "{head} · {}", tail.join(" · "))
}

//! GitHub Actions annotations: one workflow command per finding
//! (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`),
//! escaped as the runner expects, so findings show on the pull request's
//! files. Like SARIF, annotations land in CI logs: they never hold a secret.

use std::io::Write;

use super::{RenderOptions, Report, sarif, scrub::Scrubber};
use crate::{finding::Finding, rules::Confidence};

/// Escapes a command's message (the runner's `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property value (the runner's `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "notice",
    }
}

/// The file property: repository-relative when it can be, as shown otherwise.
fn file(f: &Finding, opts: RenderOptions<'_>) -> Option<String> {
    if matches!(f.origin, crate::source::Origin::Stdin) {
        return None;
    }
    let base = match opts.base {
        Some(b) => b,
        None => return Some(f.origin.display_path()),
    };
    base.relative(&f.origin)
        .or_else(|| base.absolute(&f.origin).map(|p| p.to_string_lossy().into_owned()))
}

/// Writes one workflow command per finding.
pub fn write(
    report: &Report,
    rules: &crate::rules::RuleSet,
    opts: RenderOptions<'_>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let scrub = Scrubber::new(report);
    for f in &report.findings {
        let rule = &rules.rules[f.rule];
        let l = &f.location;
        let mut props = Vec::new();
        if let Some(path) = file(f, opts) {
            props.push(format!("file={}", escape_property(&path)));
        }
        props.push(format!("line={}", l.line));
        props.push(format!("endLine={}", l.end_line));
        // The runner rejects columns on an annotation spanning several lines.
        if l.line == l.end_line {
            props.push(format!("col={}", l.utf16_column));
            props.push(format!(
                "endColumn={}",
                l.utf16_end_column.saturating_sub(1).max(l.utf16_column)
            ));
        }
        props.push(format!("title={}", escape_property(&format!("keylint: {}", rule.name))));
        writeln!(
            out,
            "::{} {}::{}",
            command(f.confidence),
            props.join(","),
            escape_data(&sarif::message(f, rules, &scrub))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50% done\r\nnext: a,b"), "50%25 done%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}

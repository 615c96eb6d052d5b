//! The command line (clap). Turns arguments into a `ScanConfig` and calls the
//! library; nothing else lives here.

use std::{
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use keylint::{
    ExitStatus,
    config::{DEFAULT_MAX_FILE_SIZE, ProjectConfig, ScanConfig},
    hook,
    report::{self, Format, RenderOptions, Report},
    rules::{Confidence, RuleSet, check::check_rules, load::RuleSetBuilder},
    scan::{self, Detector},
    source::{
        history::{self, HistoryConfig, Scope},
        staged,
    },
};

/// Finds hard-coded API keys and other secrets, and says how to rotate them.
#[derive(Parser, Debug)]
#[command(name = "keylint", version, about, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan files and directories ("-" reads stdin).
    Scan {
        /// Files or directories (default ".").
        paths: Vec<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Scan what is staged for the next commit: the index against HEAD.
    ///
    /// Only lines the commit adds are reported. This is what the pre-commit
    /// hook runs.
    Staged {
        /// The repository (default: the one git's environment or the current
        /// directory is in).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Scan git history: every commit reachable from every ref.
    ///
    /// Each unique blob is scanned once; each secret is reported once per
    /// path, with the commit that first introduced it there.
    History {
        /// The repository: a work tree (or a directory in one), a bare
        /// repository or a .git directory [default: .].
        repo: Option<PathBuf>,
        /// Only commits reachable from this branch.
        #[arg(long, value_name = "NAME", conflicts_with = "range")]
        branch: Option<String>,
        /// Only commits after REV: reachable from HEAD (or --branch) but not
        /// from REV, e.g. `--since origin/main` on a pull request.
        #[arg(long, value_name = "REV", conflicts_with = "range")]
        since: Option<String>,
        /// Only the commits of a range A..B (reachable from B, not from A).
        #[arg(long, value_name = "A..B")]
        range: Option<String>,
        #[command(flatten)]
        scan: ScanArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Install git hooks.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
    /// List, show or check rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// What a rule's key is and how to rotate it.
    Explain {
        /// A rule id (or a provider id).
        id: String,
        /// Extra rule files.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// List providers and rules.
    List {
        /// human or json.
        #[arg(long, default_value = "human")]
        format: ListFormat,
        /// Extra rule files.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Show one rule in full.
    Show {
        /// The rule id.
        id: String,
        /// Extra rule files.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Check rule files: every example must be reported by its rule, no
    /// negative example may be. Without FILE, checks the built-in rules.
    Check {
        /// Rule files (TOML, the format of rules/).
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum HookCommand {
    /// Write a pre-commit hook that runs `keylint staged` (into core.hooksPath
    /// if set, else the repository's hooks directory).
    Install {
        /// Replace an existing pre-commit hook that is not keylint's.
        #[arg(long)]
        force: bool,
        /// The repository (default: the one around the current directory).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputFormat {
    Human,
    Json,
    Jsonl,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum MinConfidence {
    Low,
    Medium,
    High,
}

impl From<MinConfidence> for Confidence {
    fn from(m: MinConfidence) -> Self {
        match m {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }
    }
}

/// Options shared by every scanning command.
#[derive(Args, Debug, Clone)]
struct ScanArgs {
    /// Project config (default: .keylint.toml found from the target up to the repository root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Extra rule files (the format of rules/).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Baseline of accepted findings.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Also scan what .gitignore and .ignore exclude.
    #[arg(long)]
    no_ignore: bool,
    /// Skip files larger than this (bytes, or with K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_file_size: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,
    /// Lowest confidence reported [default: medium].
    #[arg(long, value_name = "LEVEL")]
    min_confidence: Option<MinConfidence>,
    /// Report findings that inline keylint:allow markers hide.
    #[arg(long)]
    no_inline_allow: bool,
}

/// Options of how results are written.
#[derive(Args, Debug, Clone)]
struct OutputArgs {
    /// Output format.
    #[arg(long, default_value = "human")]
    format: OutputFormat,
    /// Write the report to FILE (created owner-only) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print full secrets in the report (never in logs or warnings).
    #[arg(long)]
    show_secrets: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, default_value = "auto")]
    color: ColorChoice,
    /// Print only findings: no summary, no warnings.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n.saturating_mul(mult))
        .map_err(|_| format!("not a size: {s:?}"))
}

/// Runs the command line.
pub fn run() -> Result<ExitStatus> {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan { paths, scan, output } => run_scan(paths, scan, output),
        Command::Staged { repo, scan, output } => run_staged(repo, scan, output),
        Command::History { repo, branch, since, range, scan, output } => {
            let scope = match (since, range, branch) {
                (Some(rev), _, branch) => Scope::Since { rev, branch },
                (None, Some(range), _) => Scope::Range(range),
                (None, None, Some(branch)) => Scope::Branch(branch),
                (None, None, None) => Scope::All,
            };
            run_history(repo.unwrap_or_else(|| ".".into()), scope, scan, output)
        }
        Command::Hook { command: HookCommand::Install { force, repo } } => {
            run_hook_install(repo, force)
        }
        Command::Rules { command } => run_rules(command),
        Command::Explain { id, rules } => run_explain(&id, &rules),
    }
}

fn load_rules(extra: &[PathBuf], project: Option<&ProjectConfig>) -> Result<RuleSet> {
    let mut b = RuleSetBuilder::new().builtin()?;
    for f in extra {
        b = b.file(f)?;
    }
    if let Some(p) = project {
        if let Some(provider) = &p.spec.provider {
            let spec = keylint::rules::RuleFileSpec {
                provider: provider.clone(),
                rules: p.spec.rules.clone(),
            };
            let name =
                p.path.as_ref().map_or_else(|| ".keylint.toml".into(), |x| x.display().to_string());
            b = b.spec(&name, &p.text, spec);
        }
        b = b.disable(p.spec.disabled_rules.iter().cloned());
    }
    Ok(b.build()?)
}

fn load_project(explicit: Option<&Path>, target: &Path) -> Result<ProjectConfig> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => ProjectConfig::discover(target),
    };
    match path {
        Some(p) => Ok(ProjectConfig::load(&p)?),
        None => Ok(ProjectConfig::default()),
    }
}

fn scan_config(paths: Vec<PathBuf>, a: &ScanArgs, show_secrets: bool) -> ScanConfig {
    ScanConfig {
        paths: if paths.is_empty() { vec![PathBuf::from(".")] } else { paths },
        threads: a.threads.unwrap_or(0),
        no_ignore: a.no_ignore,
        max_file_size: a.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
        min_confidence: a.min_confidence.map(Into::into),
        inline_allow: !a.no_inline_allow,
        rule_files: a.rules.clone(),
        config_file: a.config.clone(),
        baseline: a.baseline.clone(),
        show_secrets,
    }
}

fn run_scan(paths: Vec<PathBuf>, args: ScanArgs, out: OutputArgs) -> Result<ExitStatus> {
    let cfg = scan_config(paths, &args, out.show_secrets);
    for p in &cfg.paths {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    if cfg.threads > 0 {
        rayon::ThreadPoolBuilder::new().num_threads(cfg.threads).build_global().ok();
    }
    let target =
        cfg.paths.iter().find(|p| p.as_os_str() != "-").cloned().unwrap_or_else(|| ".".into());
    let project = load_project(cfg.config_file.as_deref(), &target)?;
    let rules = load_rules(&cfg.rule_files, Some(&project))?;
    let min = cfg.min_confidence.or(project.spec.min_confidence).unwrap_or(Confidence::Medium);
    let detector = Detector::new(&rules, &project, min, cfg.inline_allow);
    let report = scan::scan_paths(&cfg, &detector);
    emit(&report, &rules, &out)
}

/// The project config of a repository: `--config`, else `.keylint.toml` at the
/// top of its work tree (a bare repository has none).
fn repo_project(explicit: Option<&Path>, repo: &git2::Repository) -> Result<ProjectConfig> {
    match (explicit, repo.workdir()) {
        (Some(_), _) | (None, Some(_)) => {
            load_project(explicit, repo.workdir().unwrap_or_else(|| repo.path()))
        }
        (None, None) => Ok(ProjectConfig::default()),
    }
}

fn set_threads(threads: usize) {
    if threads > 0 {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    }
}

fn run_staged(repo: Option<PathBuf>, args: ScanArgs, out: OutputArgs) -> Result<ExitStatus> {
    let cfg = scan_config(Vec::new(), &args, out.show_secrets);
    let git = staged::open_repository(repo.as_deref())?;
    let project = repo_project(cfg.config_file.as_deref(), &git)?;
    let rules = load_rules(&cfg.rule_files, Some(&project))?;
    let min = cfg.min_confidence.or(project.spec.min_confidence).unwrap_or(Confidence::Medium);
    let detector = Detector::new(&rules, &project, min, cfg.inline_allow);
    let report = staged::scan(&git, cfg.max_file_size, &detector)?;
    emit(&report, &rules, &out)
}

fn run_history(repo: PathBuf, scope: Scope, args: ScanArgs, out: OutputArgs) -> Result<ExitStatus> {
    let cfg = scan_config(Vec::new(), &args, out.show_secrets);
    set_threads(cfg.threads);
    let git = history::open_repository(&repo)?;
    let project = repo_project(cfg.config_file.as_deref(), &git)?;
    let rules = load_rules(&cfg.rule_files, Some(&project))?;
    let min = cfg.min_confidence.or(project.spec.min_confidence).unwrap_or(Confidence::Medium);
    let detector = Detector::new(&rules, &project, min, cfg.inline_allow);
    let hcfg = HistoryConfig { scope, max_file_size: cfg.max_file_size };
    let progress = history::Progress::default();
    let show_bar = !out.quiet && io::stderr().is_terminal();
    let report = std::thread::scope(|s| {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        if show_bar {
            let progress = &progress;
            s.spawn(move || crate::progress::draw_until(progress, &stopped));
        }
        let report = history::scan(&git, &hcfg, &detector, &progress);
        drop(stop);
        report
    })?;
    emit(&report, &rules, &out)
}

fn run_hook_install(repo: Option<PathBuf>, force: bool) -> Result<ExitStatus> {
    let git = match &repo {
        Some(dir) => history::open_repository(dir)?,
        None => history::open_repository(Path::new("."))?,
    };
    let exe = std::env::current_exe().context("cannot find the keylint executable")?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let done = hook::install(&git, &exe, force)?;
    let what = match &done {
        hook::Installed::New(_) => "installed the pre-commit hook at",
        hook::Installed::Replaced(_) => "replaced the pre-commit hook at",
        hook::Installed::Unchanged(_) => "the pre-commit hook is already installed at",
    };
    let mut msg = Vec::new();
    writeln!(msg, "keylint: {what} {}", done.path().display())?;
    writeln!(msg, "Each commit now runs `keylint staged` and is stopped if it adds a secret.")?;
    write_stdout(&msg)?;
    Ok(ExitStatus::Clean)
}

fn color_on(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Writes the report and the warnings; returns the exit status.
fn emit(report: &Report, rules: &RuleSet, out: &OutputArgs) -> Result<ExitStatus> {
    let format = match out.format {
        OutputFormat::Human => Format::Human,
        OutputFormat::Json => Format::Json,
        OutputFormat::Jsonl => Format::Jsonl,
    };
    if !out.quiet {
        let stderr = io::stderr();
        let mut e = stderr.lock();
        for w in &report.warnings {
            let _ = writeln!(e, "keylint: warning: {w}");
        }
    }
    let status = if report.findings.is_empty() { ExitStatus::Clean } else { ExitStatus::Findings };
    let to_terminal = out.output.is_none() && io::stdout().is_terminal();
    let opts =
        RenderOptions { show_secrets: out.show_secrets, color: color_on(out.color, to_terminal) };
    let mut buf = Vec::new();
    if !(out.quiet && report.findings.is_empty() && format == Format::Human) {
        report::write(format, report, rules, opts, &mut buf).context("cannot render the report")?;
    }
    match &out.output {
        Some(path) => write_file_atomic(path, &buf)?,
        None => write_stdout(&buf)?,
    }
    Ok(status)
}

/// Writes to stdout; a closed pipe (`keylint … | head`) ends quietly.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(bytes).and_then(|()| lock.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write to stdout"),
    }
}

/// Writes a report file owner-only and atomically (temporary file, then
/// rename), so a failed write never leaves a partial report that looks whole.
/// A path that exists and is not a regular file (a FIFO, `/dev/stdout`) is
/// written directly.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        return f
            .write_all(bytes)
            .and_then(|()| f.flush())
            .with_context(|| format!("cannot write {}", path.display()));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.keylint-{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

fn run_rules(cmd: RulesCommand) -> Result<ExitStatus> {
    let mut out = Vec::new();
    let status = match cmd {
        RulesCommand::List { format, rules } => {
            let set = load_rules(&rules, None)?;
            match format {
                ListFormat::Human => list_human(&set, &mut out)?,
                ListFormat::Json => list_json(&set, &mut out)?,
            }
            ExitStatus::Clean
        }
        RulesCommand::Show { id, rules } => {
            let set = load_rules(&rules, None)?;
            let rule = set
                .get(&id)
                .with_context(|| format!("no rule with id {id:?} (see `keylint rules list`)"))?;
            show_rule(&set, rule, &mut out)?;
            ExitStatus::Clean
        }
        RulesCommand::Check { files } => {
            // A file named like a built-in one (an edited copy) replaces it.
            let replaced: Vec<&str> =
                files.iter().filter_map(|f| f.file_name()?.to_str()).collect();
            let mut b = RuleSetBuilder::new().builtin_except(&replaced)?;
            for f in &files {
                b = b.file(f)?;
            }
            let set = b.build()?;
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            let indices: Vec<usize> = (0..set.rules.len())
                .filter(|&i| files.is_empty() || names.contains(&set.rules[i].source.file))
                .collect();
            let problems = check_rules(&set, &indices);
            for p in &problems {
                writeln!(out, "{p}")?;
            }
            let examples: usize = indices
                .iter()
                .map(|&i| set.rules[i].examples.len() + set.rules[i].negative_examples.len())
                .sum();
            if problems.is_empty() {
                writeln!(out, "ok: {} rules, {examples} examples checked", indices.len())?;
                ExitStatus::Clean
            } else {
                writeln!(out, "{} problem(s) in {} rules", problems.len(), indices.len())?;
                ExitStatus::Findings
            }
        }
    };
    write_stdout(&out)?;
    Ok(status)
}

fn list_human(set: &RuleSet, out: &mut Vec<u8>) -> io::Result<()> {
    writeln!(out, "{:<28} {:<44} {:<7} {:<12} NAME", "PROVIDER", "RULE", "CONF", "VALIDATOR")?;
    for rule in &set.rules {
        let p = set.provider_of(rule);
        writeln!(
            out,
            "{:<28} {:<44} {:<7} {:<12} {}",
            p.id,
            rule.id,
            rule.confidence.as_str(),
            rule.validator.map_or("-", |v| v.name()),
            rule.name
        )?;
    }
    let providers: std::collections::BTreeSet<usize> =
        set.rules.iter().map(|r| r.provider).collect();
    writeln!(out, "\n{} providers, {} rules", providers.len(), set.rules.len())
}

fn list_json(set: &RuleSet, out: &mut Vec<u8>) -> Result<()> {
    let mut providers = Vec::new();
    for (pi, p) in set.providers.iter().enumerate() {
        let rules: Vec<serde_json::Value> = set
            .rules
            .iter()
            .filter(|r| r.provider == pi)
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "name": r.name, "confidence": r.confidence.as_str(),
                    "validate": r.validator.map(|v| v.name()), "keywords": r.keywords,
                    "context": r.context.as_ref().map(|c| serde_json::json!({"lines": c.lines, "required": c.required})),
                })
            })
            .collect();
        if rules.is_empty() {
            continue;
        }
        providers.push(serde_json::json!({
            "id": p.id, "name": p.name, "tier": p.tier, "env_var": p.env_var,
            "rotate_url": p.rotate_url, "rotate": p.rotate, "rules": rules,
        }));
    }
    let doc = serde_json::json!({
        "counts": {"providers": providers.len(), "rules": set.rules.len()},
        "providers": providers,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.push(b'\n');
    Ok(())
}

fn show_rule(set: &RuleSet, rule: &keylint::rules::Rule, out: &mut Vec<u8>) -> io::Result<()> {
    let p = set.provider_of(rule);
    writeln!(out, "{} ({})", rule.name, rule.id)?;
    writeln!(out, "provider:   {} ({})", p.name, p.id)?;
    writeln!(out, "confidence: {}", rule.confidence)?;
    writeln!(out, "validator:  {}", rule.validator.map_or("none", |v| v.name()))?;
    writeln!(out, "keywords:   {}", rule.keywords.join(", "))?;
    if let Some(e) = rule.min_entropy {
        writeln!(out, "entropy:    >= {e} bits/byte")?;
    }
    if let Some(c) = &rule.context {
        writeln!(
            out,
            "context:    {} within {} line(s){}",
            c.regex.as_str().trim(),
            c.lines,
            if c.required { " (required)" } else { " (raises confidence)" }
        )?;
    }
    writeln!(out, "defined at: {}", rule.source)?;
    writeln!(out, "pattern:\n{}", indent(rule.regex.as_str().trim()))?;
    if let Some(d) = &rule.description {
        writeln!(out, "description:\n{}", indent(d))?;
    }
    writeln!(out, "examples:")?;
    for e in &rule.examples {
        writeln!(out, "{}", indent(e.trim_end()))?;
    }
    writeln!(out, "negative examples:")?;
    for e in &rule.negative_examples {
        writeln!(out, "{}", indent(e.trim_end()))?;
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

fn run_explain(id: &str, extra: &[PathBuf]) -> Result<ExitStatus> {
    let set = load_rules(extra, None)?;
    let rules: Vec<&keylint::rules::Rule> = match set.get(id) {
        Some(r) => vec![r],
        None => set.rules.iter().filter(|r| set.provider_of(r).id == id).collect(),
    };
    if rules.is_empty() {
        bail!("no rule or provider with id {id:?} (see `keylint rules list`)");
    }
    let mut out = Vec::new();
    let p = set.provider_of(rules[0]);
    for rule in &rules {
        writeln!(out, "{} ({})", rule.name, rule.id)?;
        if let Some(d) = &rule.description {
            writeln!(out, "  {d}")?;
        }
        writeln!(
            out,
            "  Confidence {}; {}.",
            rule.confidence,
            match rule.validator {
                Some(v) => format!("verified offline by the {} check", v.name()),
                None => "no offline check".to_string(),
            }
        )?;
        for r in &rule.references {
            writeln!(out, "  Format: {r}")?;
        }
    }
    let rule = rules[0];
    writeln!(out, "\nHow to rotate a leaked {} key", p.name)?;
    if let Some(url) = set.rotate_url(rule) {
        writeln!(out, "  Revoke or regenerate at {url}")?;
    }
    for (i, s) in set.rotate_steps(rule).iter().enumerate() {
        writeln!(out, "  {}. {s}", i + 1)?;
    }
    if let Some(v) = &p.env_var {
        writeln!(
            out,
            "  Load the replacement from {v} (environment) or a secret manager; never hard-code it."
        )?;
    }
    writeln!(
        out,
        "  A key that reached a commit is in every clone: rotate it even after deleting it."
    )?;
    write_stdout(&out)?;
    Ok(ExitStatus::Clean)
}

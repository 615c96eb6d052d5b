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
    config::{DEFAULT_MAX_FILE_SIZE, PROJECT_FILE, ProjectConfig, STARTER_CONFIG, ScanConfig},
    hook,
    report::{self, Format, PathBase, RenderOptions, Report, paths::normalize},
    rules::{Confidence, RuleSet, check::check_rules, load::RuleSetBuilder},
    scan::{self, Detector},
    source::{
        history::{self, HistoryConfig, Scope},
        staged,
    },
    suppress::baseline::{Baseline, DEFAULT_BASELINE_FILE},
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
    /// Write the current findings as accepted: a baseline for `--baseline`.
    ///
    /// Takes the arguments of `scan`. The file holds one entry per finding
    /// (fingerprint, rule id, paths), sorted, with no secret, no line numbers
    /// and no timestamps; commit it and pass `--baseline FILE` to scans.
    Baseline {
        /// Files or directories (default ".").
        paths: Vec<PathBuf>,
        #[command(flatten)]
        scan: ScanArgs,
        /// The baseline file to write.
        #[arg(short, long, value_name = "FILE", default_value = DEFAULT_BASELINE_FILE)]
        output: PathBuf,
        /// Overwrite FILE even if it is not a keylint baseline.
        #[arg(long)]
        force: bool,
    },
    /// Write a commented starter `.keylint.toml` in the current directory.
    Init {
        /// The config file to write.
        #[arg(short, long, value_name = "FILE", default_value = PROJECT_FILE)]
        output: PathBuf,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
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
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions annotations.
    Github,
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
    /// Hide the findings accepted in FILE (written by `keylint baseline`) and
    /// list its entries that match nothing as stale.
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
        Command::Baseline { paths, scan, output, force } => {
            run_baseline(paths, scan, &output, force)
        }
        Command::Init { output, force } => run_init(&output, force),
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
        // A misspelt id would silently leave the rule on.
        if let Some(id) = p.spec.disabled_rules.iter().find(|id| !b.has_rule(id)) {
            let at = [format!("\"{id}\""), format!("'{id}'"), id.clone()]
                .iter()
                .find_map(|needle| p.text.find(needle.as_str()));
            let line = at.map_or(1, |o| keylint::rules::load::line_of(&p.text, o));
            let name =
                p.path.as_ref().map_or_else(|| PROJECT_FILE.into(), |x| x.display().to_string());
            bail!(
                "{name}:{line}: disabled_rules: no rule with id {id:?} (see `keylint rules list`)"
            );
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
    let baseline = load_baseline(args.baseline.as_deref())?;
    let (mut report, rules) = scan_report(paths, &args, out.show_secrets)?;
    if let Some((b, path)) = &baseline {
        b.apply(&mut report, &path.display().to_string());
    }
    emit(&report, &rules, &out)
}

/// The baseline of `--baseline FILE`, loaded before any scanning so a missing
/// or malformed file fails fast (exit 2). Apply it to a finished report with
/// `Baseline::apply` (every scanning command does).
fn load_baseline(path: Option<&Path>) -> Result<Option<(Baseline, PathBuf)>> {
    match path {
        Some(p) => Ok(Some((Baseline::load(p)?, p.to_path_buf()))),
        None => Ok(None),
    }
}

/// Runs `scan` (without the baseline) and returns its report and rules.
fn scan_report(
    paths: Vec<PathBuf>,
    args: &ScanArgs,
    show_secrets: bool,
) -> Result<(Report, RuleSet)> {
    let cfg = scan_config(paths, args, show_secrets);
    for p in &cfg.paths {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    set_threads(cfg.threads);
    let target =
        cfg.paths.iter().find(|p| p.as_os_str() != "-").cloned().unwrap_or_else(|| ".".into());
    let project = load_project(cfg.config_file.as_deref(), &target)?;
    let rules = load_rules(&cfg.rule_files, Some(&project))?;
    let min = cfg.min_confidence.or(project.spec.min_confidence).unwrap_or(Confidence::Medium);
    let detector = Detector::new(&rules, &project, min, cfg.inline_allow);
    let report = scan::scan_paths(&cfg, &detector);
    Ok((report, rules))
}

fn run_baseline(
    paths: Vec<PathBuf>,
    args: ScanArgs,
    path: &Path,
    force: bool,
) -> Result<ExitStatus> {
    if args.baseline.is_some() {
        bail!("`keylint baseline` writes a baseline; --baseline applies one to scans");
    }
    check_baseline_target(path, force)?;
    let (report, _rules) = scan_report(paths, &args, false)?;
    let stderr = io::stderr();
    for w in &report.warnings {
        let _ = writeln!(stderr.lock(), "keylint: warning: {w}");
    }
    let baseline = write_baseline(&report, path, force)?;
    let mut out = Vec::new();
    writeln!(
        out,
        "keylint: wrote {} ({} {} for {} {})",
        path.display(),
        baseline.len(),
        if baseline.len() == 1 { "entry" } else { "entries" },
        report.findings.len(),
        if report.findings.len() == 1 { "finding" } else { "findings" },
    )?;
    write_stdout(&out)?;
    Ok(ExitStatus::Clean)
}

/// Refuses to replace a file that is not a keylint baseline, unless `force`.
fn check_baseline_target(path: &Path, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(m) if !m.is_file() => bail!("{}: not a regular file", path.display()),
        Ok(_) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if Baseline::is_baseline(&text) {
                Ok(())
            } else {
                bail!(
                    "{}: exists and is not a keylint baseline; refusing to overwrite it (use --force)",
                    path.display()
                )
            }
        }
    }
}

/// Writes the baseline accepting every finding of `report` to `path`
/// (atomically, `rw-r--r--` before the umask: it holds no secret), with paths
/// relative to the baseline's directory. For `scan`, `history` and `staged`.
fn write_baseline(report: &Report, path: &Path, force: bool) -> Result<Baseline> {
    check_baseline_target(path, force)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| normalize(&cwd.join(dir)));
    let base = PathBase { root: &dir, cwd: &cwd };
    let baseline = Baseline::from_report(report, |f| {
        base.relative(&f.origin).unwrap_or_else(|| f.origin.display_path())
    });
    write_atomic(path, baseline.to_json().as_bytes(), 0o644, true)?;
    Ok(baseline)
}

fn run_init(path: &Path, force: bool) -> Result<ExitStatus> {
    // Refuses to replace an existing file unless --force, without a race.
    match write_atomic(path, STARTER_CONFIG.as_bytes(), 0o644, force) {
        Err(_) if !force && path.exists() => {
            bail!("{}: already exists; refusing to overwrite it (use --force)", path.display())
        }
        r => r?,
    }
    let mut out = Vec::new();
    writeln!(
        out,
        "keylint: wrote {}; edit it, then `keylint scan` uses it from any directory below",
        path.display()
    )?;
    write_stdout(&out)?;
    Ok(ExitStatus::Clean)
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
    let baseline = load_baseline(args.baseline.as_deref())?;
    let cfg = scan_config(Vec::new(), &args, out.show_secrets);
    set_threads(cfg.threads);
    let git = staged::open_repository(repo.as_deref())?;
    let project = repo_project(cfg.config_file.as_deref(), &git)?;
    let rules = load_rules(&cfg.rule_files, Some(&project))?;
    let min = cfg.min_confidence.or(project.spec.min_confidence).unwrap_or(Confidence::Medium);
    let detector = Detector::new(&rules, &project, min, cfg.inline_allow);
    let mut report = staged::scan(&git, cfg.max_file_size, &detector)?;
    if let Some((b, _)) = &baseline {
        // A commit touches a few files: entries it does not meet are not stale.
        b.hide(&mut report);
    }
    emit(&report, &rules, &out)
}

fn run_history(repo: PathBuf, scope: Scope, args: ScanArgs, out: OutputArgs) -> Result<ExitStatus> {
    let baseline = load_baseline(args.baseline.as_deref())?;
    let incremental = !matches!(scope, Scope::All | Scope::Branch(_));
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
    let mut report = report;
    if let Some((b, path)) = &baseline {
        if incremental {
            // A range sees only what it introduced: other entries are not stale.
            b.hide(&mut report);
        } else {
            b.apply(&mut report, &path.display().to_string());
        }
    }
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
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Github => Format::Github,
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
    // SARIF and annotations name files relative to the repository root: the
    // nearest directory above the working directory that holds `.git`.
    let cwd = std::env::current_dir().ok();
    let root = cwd
        .as_deref()
        .map(|c| c.ancestors().find(|d| d.join(".git").exists()).unwrap_or(c).to_path_buf());
    let base = match (&cwd, &root) {
        (Some(cwd), Some(root)) => Some(PathBase { root, cwd }),
        _ => None,
    };
    let opts = RenderOptions {
        show_secrets: out.show_secrets,
        color: color_on(out.color, to_terminal),
        base,
    };
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
    write_atomic(path, bytes, 0o600, true)
}

/// Writes a file atomically (temporary file in the same directory, then
/// rename), created with `mode` (before the umask). With `replace` false an
/// existing file is never replaced: the temporary file is hard-linked into
/// place, which fails if the name is taken.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.keylint-{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if replace {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)
        }
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

//! `keylint hook install` and real `git commit`s through the hook, plainly and
//! through the pre-commit framework (.pre-commit-hooks.yaml).

use std::path::{Path, PathBuf};

use crate::common::{GitRepo, age_key, keylint};

fn install(repo: &Path, extra: &[&str]) -> std::process::Output {
    keylint().args(["hook", "install", "--repo"]).arg(repo).args(extra).output().expect("runs")
}

/// Runs `git commit` (hooks enabled); returns (exit code, stdout + stderr).
fn commit(r: &GitRepo, args: &[&str]) -> (i32, String) {
    let out = r.command().args(["commit", "-m", "test"]).args(args).output().expect("git runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().expect("exit code"), text)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

fn keylint_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("keylint")
}

#[test]
fn install_writes_an_executable_hook_once() {
    let r = GitRepo::new();
    let out = install(&r.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let hook = r.path().join(".git/hooks/pre-commit");
    assert!(is_executable(&hook));
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh\n# keylint pre-commit hook"), "{text}");
    assert!(text.contains(" staged"), "{text}");
    let out = install(&r.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already installed"));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), text);
}

#[test]
fn a_different_hook_is_kept_unless_forced() {
    let r = GitRepo::new();
    let hook = r.path().join(".git/hooks/pre-commit");
    std::fs::write(&hook, "#!/bin/sh\necho other tool\n").unwrap();
    let out = install(&r.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho other tool\n");
    let out = install(&r.path(), &["--force"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replaced"));
    assert!(std::fs::read_to_string(&hook).unwrap().contains("keylint pre-commit hook"));
    let leftovers: Vec<_> = std::fs::read_dir(hook.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn core_hooks_path_and_worktrees_are_honoured() {
    let r = GitRepo::new();
    r.git(&["config", "core.hooksPath", ".githooks"]);
    let wt = r.dir.path().join("wt");
    r.write("a.txt", "a\n");
    r.commit("base", "Alice", 1_600_000_000);
    r.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    // From the main work tree: relative to its top.
    assert_eq!(install(&r.path(), &[]).status.code(), Some(0));
    assert!(is_executable(&r.path().join(".githooks/pre-commit")));
    // Without core.hooksPath, a linked worktree shares the common hooks dir.
    r.git(&["config", "--unset", "core.hooksPath"]);
    assert_eq!(install(&wt, &[]).status.code(), Some(0));
    assert!(is_executable(&r.path().join(".git/hooks/pre-commit")));
    // And the hook works there.
    std::fs::write(wt.join("k.txt"), format!("{}\n", age_key(1))).unwrap();
    r.git_in(&wt, &["add", "k.txt"]);
    let out = r.command_in(&wt).args(["commit", "-m", "key"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_hook_blocks_a_commit_that_adds_a_key_and_only_that() {
    let r = GitRepo::new();
    r.write("app.py", "print('hi')\n");
    r.commit("base", "Alice", 1_600_000_000);
    assert_eq!(install(&r.path(), &[]).status.code(), Some(0));

    // Blocked: a key is staged.
    r.write("app.py", format!("print('hi')\nKEY = '{}'\n", age_key(1)));
    r.git(&["add", "app.py"]);
    let (code, text) = commit(&r, &[]);
    assert_eq!(code, 1, "{text}");
    for want in ["app.py", "age secret key", "How to rotate", "keylint:allow", "--no-verify"] {
        assert!(text.contains(want), "{want:?} missing: {text}");
    }
    assert!(!text.contains(&age_key(1)), "secret printed: {text}");
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "1");

    // Allowed: the staged content is clean, though the work tree has a key.
    r.write("app.py", "print('hi')\nprint('bye')\n");
    r.git(&["add", "app.py"]);
    r.write("app.py", format!("print('hi')\nprint('bye')\nKEY = '{}'\n", age_key(1)));
    let (code, text) = commit(&r, &[]);
    assert_eq!(code, 0, "{text}");

    // Allowed: the key is only in unstaged changes of another file.
    r.write("other.py", "x = 1\n");
    r.git(&["add", "other.py"]);
    r.write("other.py", format!("x = '{}'\n", age_key(2)));
    let (code, text) = commit(&r, &[]);
    assert_eq!(code, 0, "{text}");

    // `git commit -a` stages the work tree into a temporary index: blocked.
    let (code, text) = commit(&r, &["-a"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(r.git(&["rev-list", "--count", "HEAD"]), "3");
}

#[test]
fn pre_commit_framework_runs_the_system_hook() {
    let Some(pre_commit) = which("pre-commit") else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("note: pre-commit is not installed; skipping the pre-commit framework test");
        }
        return;
    };
    // A hook repository holding the shipped .pre-commit-hooks.yaml.
    let hooks = GitRepo::new();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    hooks.write(".pre-commit-hooks.yaml", std::fs::read(manifest).unwrap());
    let rev = hooks.commit("hooks", "Alice", 1_600_000_000);

    let r = GitRepo::new();
    r.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: keylint-system\n",
            hooks.path().display()
        ),
    );
    r.write("app.py", "print('hi')\n");
    r.commit("base", "Alice", 1_600_000_000);
    let bin_dir = keylint_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let cache = r.dir.path().join("pre-commit-cache");
    let env = |cmd: &mut std::process::Command| {
        cmd.env("PATH", &path).env("PRE_COMMIT_HOME", &cache);
    };
    let mut cmd = std::process::Command::new(&pre_commit);
    cmd.current_dir(r.path());
    env(&mut cmd);
    let out = cmd
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", r.dir.path().join("home"))
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    r.write("app.py", format!("print('hi')\nKEY = '{}'\n", age_key(1)));
    r.git(&["add", "app.py"]);
    let mut cmd = r.command();
    env(&mut cmd);
    let out = cmd.args(["commit", "-m", "key"]).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("keylint") && text.contains("Failed"), "{text}");
    assert!(text.contains("app.py") && text.contains("--no-verify"), "{text}");

    r.write("app.py", "print('hi')\nprint('clean')\n");
    r.git(&["add", "app.py"]);
    let mut cmd = r.command();
    env(&mut cmd);
    let out = cmd.args(["commit", "-m", "clean"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file() && is_executable(p))
}

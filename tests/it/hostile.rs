//! Hostile input and failure (issue #7): bad files, bad rules and config,
//! output failures, secrecy, read-only scans and determinism, with the real
//! binary. Corrupt repositories are covered with the git commands' tests.

// Helpers here are part of the tests: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::common::{fixture, github_token, json, keylint};

const BODIES: [&str; 4] = [
    "Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa",
    "Hk3pQw9zLm2xVb7nRt5yUc8dJf4gSa",
    "Pn6tXc1vBq8mZk4wLr7yHs2dGf9jNa",
    "Wy5rTe2qMn8bVc3xZl6kJh9gFd4sPa",
];

fn token(i: usize) -> String {
    github_token(BODIES[i % BODIES.len()])
}

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `keylint scan --format json ARGS`, checks the exit code, returns the
/// report and stderr.
fn scan_json(args: &[&str], path: &Path, code: i32) -> (serde_json::Value, String) {
    let out = keylint()
        .args(["scan", "--format", "json"])
        .args(args)
        .arg(path)
        .timeout(Duration::from_secs(120))
        .assert()
        .code(code);
    let o = out.get_output();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (json(&o.stdout), stderr)
}

fn findings_in<'a>(report: &'a serde_json::Value, file: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(file))
        .collect()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

/// A tree with one ordinary file holding a key: proves the scan went on.
fn tree_with_control() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "control.env", format!("TOKEN={}\n", token(0)));
    dir
}

#[test]
fn binary_file_is_skipped_and_counted_and_the_scan_goes_on() {
    let dir = tree_with_control();
    write(dir.path(), "image.png", [&b"\x89PNG\r\n\x1a\n\0\0\0"[..], token(1).as_bytes()].concat());
    let (report, _) = scan_json(&[], dir.path(), 1);
    assert_eq!(report["stats"]["skipped_binary"], 1);
    assert_eq!(findings_in(&report, "control.env").len(), 1);
    assert!(findings_in(&report, "image.png").is_empty());
}

#[test]
fn invalid_utf8_around_a_key_still_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\x80\xc3(garbage \xed\xa0\x80\n\xfftoken = ".to_vec();
    bytes.extend_from_slice(token(0).as_bytes());
    bytes.extend_from_slice(b" \xc0\xaf\xf5\xff\n");
    write(dir.path(), "mixed.txt", &bytes);
    let (report, _) = scan_json(&["--show-secrets"], dir.path(), 1);
    let f = findings_in(&report, "mixed.txt");
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["secret"], token(0).as_str());
    assert_eq!((f[0]["line"].as_u64(), f[0]["column"].as_u64()), (Some(2), Some(10)));
}

#[test]
fn utf16_files_with_a_bom_are_decoded_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("first line\r\nkey: {}\r\n", token(0));
    let le: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect();
    let be: Vec<u8> =
        [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
    write(dir.path(), "le.txt", le);
    write(dir.path(), "be.txt", be);
    let (report, _) = scan_json(&[], dir.path(), 1);
    for file in ["le.txt", "be.txt"] {
        let f = findings_in(&report, file);
        assert_eq!(f.len(), 1, "{file}: {report:#}");
        assert_eq!(f[0]["rule_id"], "github-personal-access-token", "{file}");
        assert_eq!(f[0]["line"], 2, "{file}");
    }
    assert_eq!(report["stats"]["skipped_binary"], 0);
}

#[test]
fn sparse_5gb_file_is_skipped_by_size_without_being_read() {
    let dir = tree_with_control();
    let big = std::fs::File::create(dir.path().join("huge.img")).unwrap();
    big.set_len(5 << 30).unwrap();
    drop(big);
    let start = Instant::now();
    let (report, stderr) = scan_json(&[], dir.path(), 1);
    let took = start.elapsed();
    // Reading 5 GB, even of zeros, takes seconds; the whole run takes far less.
    assert!(took < Duration::from_millis(900), "took {took:?}");
    assert_eq!(report["stats"]["skipped_large"], 1);
    assert!(stderr.contains("huge.img") && stderr.contains("max-file-size"), "{stderr}");
    assert_eq!(findings_in(&report, "control.env").len(), 1);
}

/// Runs the keylint binary with `args`, polling its peak RSS (VmHWM) in /proc
/// until it exits; returns (exit code, stdout, peak RSS in KiB, wall time).
fn run_measured(args: &[&std::ffi::OsStr]) -> (i32, Vec<u8>, u64, Duration) {
    let start = Instant::now();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("keylint"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        assert!(start.elapsed() < Duration::from_secs(300), "keylint did not finish");
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = reader.join().unwrap();
    (status.code().unwrap_or(-1), out, peak, start.elapsed())
}

#[test]
fn minified_50mb_single_line_is_scanned_in_bounded_time_and_memory() {
    // One 50 MB line holding 40 keys (a quadratic cost per match on one line
    // used to make this run for hours).
    let dir = tempfile::tempdir().unwrap();
    let filler = "var a=function(b){return b.c(d,e)};".repeat(50 * 1024 * 1024 / 40 / 36);
    let mut text = String::with_capacity(52 << 20);
    for i in 0..40 {
        text.push_str(&filler);
        text.push_str(&format!("x=\"{}\";", token(i)));
    }
    assert!(!text.contains('\n') && text.len() > 50_000_000);
    let path = write(dir.path(), "app.min.js", &text);
    drop(text);
    let (code, out, peak_kib, took) = run_measured(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--max-file-size".as_ref(),
        "64M".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(code, 1);
    let report = json(&out);
    assert_eq!(report["findings"].as_array().unwrap().len(), 40);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    // The file is held once (64 MiB at most with the read buffer's growth),
    // plus rules and scratch: far from a copy per match or per line.
    assert!(peak_kib < 400 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn million_matches_are_capped_per_file_with_a_note_in_bounded_memory() {
    let dir = tree_with_control();
    let mut text = String::with_capacity(48 << 20);
    let lines: Vec<String> = (0..4).map(|i| format!("t={}\n", token(i))).collect();
    for i in 0..1_000_000 {
        text.push_str(&lines[i % 4]);
    }
    let path = write(dir.path(), "many.txt", &text);
    drop(text);
    let (code, out, peak_kib, took) = run_measured(&[
        "scan".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--max-file-size".as_ref(),
        "64M".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(code, 1);
    let report = json(&out);
    assert_eq!(findings_in(&report, "many.txt").len(), keylint::engine::MAX_MATCHES_PER_BLOB);
    assert_eq!(findings_in(&report, "control.env").len(), 1);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w["path"].as_str() == Some(&path.display().to_string())
            && w["message"].as_str().unwrap().contains("matches")),
        "{warnings:?}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(peak_kib < 400 * 1024, "peak RSS {peak_kib} KiB");
}

#[test]
fn unreadable_file_and_directory_are_warnings_naming_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree_with_control();
    let secret = write(dir.path(), "locked.env", format!("TOKEN={}\n", token(1)));
    let locked_dir = dir.path().join("locked-dir");
    write(&locked_dir, "inner.env", format!("TOKEN={}\n", token(2)));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = if is_root() {
        // Root reads anything: drop to nobody, who can read the rest of the tree.
        let Some(setpriv) = which("setpriv") else {
            eprintln!("note: running as root without setpriv; permission test skipped");
            return;
        };
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(assert_cmd::cargo::cargo_bin("keylint"));
        c
    } else {
        Command::new(assert_cmd::cargo::cargo_bin("keylint"))
    };
    let out = cmd
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if is_root() && stderr.contains("Permission denied") && out.stdout.is_empty() {
        eprintln!("note: nobody cannot run the test binary here; permission test skipped");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report = json(&out.stdout);
    assert_eq!(findings_in(&report, "control.env").len(), 1);
    assert!(findings_in(&report, "locked.env").is_empty());
    for name in ["locked.env", "locked-dir"] {
        assert!(
            stderr.lines().any(|l| l.starts_with("keylint: warning: ") && l.contains(name)),
            "{name}: {stderr}"
        );
    }
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[test]
fn fifos_sockets_and_devices_are_never_opened() {
    let dir = tree_with_control();
    let fifo = dir.path().join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    let mut special = 2;
    if is_root() {
        // A character device like /dev/null, made inside the tree.
        let made =
            Command::new("mknod").arg(dir.path().join("null")).args(["c", "1", "3"]).status();
        if made.is_ok_and(|s| s.success()) {
            special += 1;
        }
    }
    // A FIFO with no writer would block an open() forever: the timeout in
    // scan_json fails the test if keylint waits on it.
    let (report, _) = scan_json(&[], dir.path(), 1);
    assert_eq!(report["stats"]["skipped_other"], special);
    assert_eq!(findings_in(&report, "control.env").len(), 1);
    // Named on the command line, they are skipped too.
    for path in [fifo.as_path(), Path::new("/dev/null"), Path::new("/dev/zero")] {
        let (report, _) = scan_json(&[], path, 0);
        assert_eq!(report["stats"]["skipped_other"], 1, "{}", path.display());
    }
}

#[test]
fn symlink_loops_and_links_leaving_the_tree_are_not_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.env", format!("TOKEN={}\n", token(3)));
    let dir = tree_with_control();
    symlink(".", dir.path().join("self")).unwrap();
    symlink("b", dir.path().join("a")).unwrap();
    symlink("a", dir.path().join("b")).unwrap();
    symlink(outside.path(), dir.path().join("out-dir")).unwrap();
    symlink(outside.path().join("secret.env"), dir.path().join("out-file.env")).unwrap();
    symlink("/nonexistent/keylint", dir.path().join("dangling")).unwrap();
    let (report, _) = scan_json(&[], dir.path(), 1);
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(findings_in(&report, "control.env").len(), 1);
    assert_eq!(report["stats"]["skipped_other"], 6);
}

#[test]
fn names_that_are_not_utf8_are_scanned_and_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join(std::ffi::OsStr::from_bytes(b"d\xff\xfe"));
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        sub.join(std::ffi::OsStr::from_bytes(b"k\x80.env")),
        format!("T={}\n", token(0)),
    )
    .unwrap();
    let (report, _) = scan_json(&[], dir.path(), 1);
    let f = &report["findings"][0];
    assert!(f["path"].as_str().unwrap().ends_with("d\u{FFFD}\u{FFFD}/k\u{FFFD}.env"), "{f}");
    for format in ["human", "jsonl"] {
        keylint().args(["scan", "--format", format]).arg(dir.path()).assert().code(1);
    }
}

#[test]
fn deep_directory_nesting_is_walked() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    for _ in 0..300 {
        deep.push("d");
    }
    write(&deep, "deep.env", format!("TOKEN={}\n", token(0)));
    let (report, _) = scan_json(&[], dir.path(), 1);
    assert_eq!(findings_in(&report, "deep.env").len(), 1);
}

/// A rule file with one rule whose `pattern` line is `pattern`.
fn rule_file(pattern: &str) -> String {
    format!(
        "[provider]\nid = \"u\"\nname = \"U\"\n\n[[rule]]\nid = \"u-key\"\nname = \"k\"\npattern = '''{pattern}'''\nkeywords = [\"u_\"]\nconfidence = \"high\"\nexamples = [\"u_1\"]\n"
    )
}

#[test]
fn bad_rule_files_exit_two_with_file_line_and_key_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let nested = format!("{}a{}", "(".repeat(80), ")".repeat(80));
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed.toml", "[provider\nid = \"u\"\n".into(), "malformed.toml:1:"),
        (
            "wrong-type.toml",
            rule_file("u_x").replace("confidence = \"high\"", "confidence = 3"),
            "wrong-type.toml:10: invalid rule file: rule u-key",
        ),
        (
            "unknown-key.toml",
            rule_file("u_x").replace("keywords", "include = \"/etc/passwd\"\nkeywords"),
            "unknown-key.toml:9: invalid rule file: rule u-key: unknown field `include`",
        ),
        ("invalid.toml", rule_file("u_(["), "invalid.toml:6: rule u-key: pattern does not compile"),
        (
            "too-large.toml",
            rule_file(r"(\w{200}){200}"),
            "too-large.toml:6: rule u-key: pattern compiles to more than",
        ),
        (
            "huge-repeat.toml",
            rule_file(r"a{4294967295}"),
            "huge-repeat.toml:6: rule u-key: pattern",
        ),
        ("nested.toml", rule_file(&nested), "nested.toml:6: rule u-key: pattern does not compile"),
        ("empty.toml", String::new(), "empty.toml:1: invalid rule file"),
        ("binary.toml", "\0\u{1}\u{2}[[[".into(), "binary.toml:1: invalid rule file"),
    ];
    for (name, text, want) in &cases {
        let path = write(dir.path(), name, text);
        let out = keylint()
            .args(["scan", "--rules"])
            .arg(&path)
            .arg(fixture("trees/clean"))
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(want), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        keylint().args(["rules", "check"]).arg(&path).assert().code(2);
    }
    // Patterns that are slow in backtracking engines run in linear time here.
    let slow = write(dir.path(), "pathological.toml", rule_file(r"u_(a*)*b|u_(a|a)*c|u_(.*.*)*d"));
    write(dir.path(), "input/a.txt", format!("u_{}\n", "a".repeat(200_000)));
    keylint()
        .args(["scan", "--rules"])
        .arg(&slow)
        .arg(dir.path().join("input"))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0);
}

#[test]
fn bad_project_config_exits_two_with_file_line_and_key() {
    let cases: Vec<(String, &str)> = vec![
        ("[allowlist\npaths = []\n".into(), ":1: invalid config"),
        ("min_confidence = 3\n".into(), ":1: invalid config"),
        ("min_confidence = \"sure\"\n".into(), ":1: invalid config"),
        ("\n[allowlist]\nbogus = 1\n".into(), ":3: invalid config: unknown field `bogus`"),
        ("include = \"../../etc/passwd\"\n".into(), ":1: invalid config: unknown field `include`"),
        ("[allowlist]\nregexes = ['a(']\n".into(), ":2: allowlist.regexes"),
        ("[allowlist]\n\npaths = ['a[b']\n".into(), ":3: allowlist.paths"),
        (rule_file(r"(\w{200}){200}"), ":6: rule u-key: pattern compiles to more than"),
        (
            "[[rule]]\nid = \"u-x\"\nname = \"x\"\npattern = 'u_x'\nkeywords = [\"u_\"]\nconfidence = \"high\"\nexamples = [\"u_x\"]\n".into(),
            ":1: rule: extra rules need a [provider] table",
        ),
    ];
    for (text, want) in &cases {
        // Found in the scanned tree, and given with --config.
        let dir = tree_with_control();
        write(dir.path(), ".keylint.toml", text);
        let out = keylint()
            .args(["scan"])
            .arg(dir.path())
            .timeout(Duration::from_secs(60))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(".keylint.toml") && err.contains(want), "{text}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        keylint()
            .args(["scan", "--config"])
            .arg(dir.path().join(".keylint.toml"))
            .arg(fixture("trees/clean"))
            .assert()
            .code(2);
    }
}

/// Every secret in the leak fixture, as written.
fn leak_tree() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<String> = (0..4).map(token).collect();
    // Two keys on one line: neither may show in the other's snippet.
    write(dir.path(), "two.env", format!("A={} B={}\n", keys[0], keys[1]));
    write(dir.path(), "app.py", format!("client = Client(token=\"{}\")  # prod\n", keys[2]));
    // A key inside a file whose other content is binary-ish.
    write(dir.path(), "notes.txt", format!("\x1b[31m\x07{}\x1b[0m\n", keys[3]));
    // Config errors must not echo the key either (checked separately below).
    (dir, keys)
}

fn assert_no_secret(what: &str, bytes: &[u8], keys: &[String]) {
    let text = String::from_utf8_lossy(bytes);
    for k in keys {
        // Any 12 characters of the random part would be enough to find the key.
        for window in k.as_bytes()[4..].windows(12) {
            let w = std::str::from_utf8(window).unwrap();
            assert!(!text.contains(w), "{what} leaks {w} of a secret:\n{text}");
        }
    }
}

#[test]
fn no_full_secret_in_any_output_without_show_secrets() {
    let (dir, keys) = leak_tree();
    for format in ["human", "json", "jsonl"] {
        for extra in [&[][..], &["--color", "always"], &["-q"], &["--min-confidence", "low"]] {
            let out = keylint()
                .args(["scan", "--format", format])
                .args(extra)
                .arg(dir.path())
                .assert()
                .code(1);
            let o = out.get_output();
            assert_no_secret(&format!("{format} {extra:?} stdout"), &o.stdout, &keys);
            assert_no_secret(&format!("{format} {extra:?} stderr"), &o.stderr, &keys);
        }
    }
    // With --show-secrets the report has them, stderr still does not.
    let out = keylint()
        .args(["scan", "--show-secrets", "--format", "json"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(keys.iter().all(|k| stdout.contains(k.as_str())));
    assert_no_secret("--show-secrets stderr", &out.get_output().stderr, &keys);
}

#[test]
fn human_snippet_never_shows_another_secret_on_the_line() {
    // Issue #7: the text shown after the first key of a line held the second
    // key in full.
    let (dir, keys) = leak_tree();
    let out = keylint().args(["scan"]).arg(dir.path().join("two.env")).assert().code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("A=") && text.contains(" B="), "{text}");
    assert_no_secret("human", text.as_bytes(), &keys);
}

#[test]
fn errors_and_warnings_never_echo_a_secret() {
    let key = token(0);
    let dir = tree_with_control();
    // An allowlist regex is often the secret itself; this one is malformed.
    write(dir.path(), ".keylint.toml", format!("[allowlist]\nregexes = ['{key}(']\n"));
    let out = keylint().args(["scan"]).arg(dir.path()).assert().code(2);
    assert_no_secret("config error", &out.get_output().stderr, std::slice::from_ref(&key));
    write(dir.path(), ".keylint.toml", format!("min_confidence = \"{key}\"\n"));
    let out = keylint().args(["scan"]).arg(dir.path()).assert().code(2);
    assert_no_secret("config type error", &out.get_output().stderr, std::slice::from_ref(&key));
    // A wrongly typed value in a rule file.
    let rules = write(
        dir.path(),
        "r.toml",
        format!("[provider]\nid = \"u\"\nname = \"U\"\ntier = \"{key}\"\n"),
    );
    let out = keylint()
        .args(["scan", "--rules"])
        .arg(&rules)
        .arg(fixture("trees/clean"))
        .assert()
        .code(2);
    assert_no_secret("rule type error", &out.get_output().stderr, std::slice::from_ref(&key));
}

#[test]
fn output_report_is_created_owner_only_even_over_a_readable_file() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = leak_tree();
    let out_dir = tempfile::tempdir().unwrap();
    for format in ["human", "json", "jsonl"] {
        let path = out_dir.path().join(format!("report.{format}"));
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        keylint()
            .args(["scan", "--show-secrets", "--format", format, "-o"])
            .arg(&path)
            .arg(dir.path())
            .assert()
            .code(1)
            .stdout("");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{format}");
        assert!(meta.len() > 3);
    }
    // Nothing but the reports: no temporary file left behind.
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 3);
}

/// Output of a JSON scan with the duration zeroed.
fn normalized(stdout: &[u8]) -> Vec<u8> {
    let mut v = json(stdout);
    v["stats"]["duration_ms"] = 0.into();
    serde_json::to_vec_pretty(&v).unwrap()
}

#[test]
fn no_network_needed_output_identical_without_network() {
    if !is_root() || which("unshare").is_none() {
        eprintln!("note: needs root and unshare; no-network test skipped");
        return;
    }
    let tree = fixture("trees");
    let bin = assert_cmd::cargo::cargo_bin("keylint");
    let normal = Command::new(&bin).args(["scan", "--format", "json"]).arg(&tree).output().unwrap();
    let isolated = Command::new("unshare")
        .args(["-n", "--"])
        .arg(&bin)
        .args(["scan", "--format", "json"])
        .arg(&tree)
        .output()
        .unwrap();
    if String::from_utf8_lossy(&isolated.stderr).contains("unshare failed") {
        eprintln!("note: network namespaces not permitted here; no-network test skipped");
        return;
    }
    assert_eq!(isolated.status.code(), normal.status.code());
    assert_eq!(normalized(&isolated.stdout), normalized(&normal.stdout));
    assert_eq!(isolated.stderr, normal.stderr);
}

/// Content, mode and kind of every entry under `root` (symlinks not followed).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let content = if meta.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
            Vec::new()
        } else if meta.is_file() {
            Sha256::digest(std::fs::read(&p).unwrap()).to_vec()
        } else if meta.file_type().is_symlink() {
            std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()
        } else {
            Vec::new()
        };
        out.insert(
            p.strip_prefix(root).unwrap().to_path_buf(),
            (meta.permissions().mode(), content),
        );
    }
    out
}

#[test]
fn scan_never_changes_the_scanned_tree() {
    let (dir, _) = leak_tree();
    write(dir.path(), ".keylint.toml", "[allowlist]\nstopwords = [\"fake\"]\n");
    write(dir.path(), ".gitignore", "ignored.txt\n");
    write(dir.path(), "ignored.txt", format!("T={}\n", token(1)));
    write(dir.path(), ".git/config", "[core]\n\tbare = false\n");
    write(dir.path(), ".git/HEAD", "ref: refs/heads/main\n");
    write(dir.path(), ".git/index", b"DIRC\0\0\0\x02");
    std::os::unix::fs::symlink("app.py", dir.path().join("link.py")).unwrap();
    let before = snapshot(dir.path());
    for args in [&["--format", "json"][..], &["--no-ignore"], &["--show-secrets", "-j", "1"]] {
        keylint().arg("scan").args(args).arg(dir.path()).assert().code(1);
        // From inside the tree, with the default path.
        keylint().arg("scan").args(args).current_dir(dir.path()).assert().code(1);
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn closed_stdout_ends_quietly() {
    // Enough findings that the report is larger than a pipe's buffer, so
    // keylint is still writing when the reader goes away (`keylint | head`).
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..400).map(|i| format!("t{i}={}\n", token(i))).collect();
    write(dir.path(), "many.env", text);
    for format in ["human", "json", "jsonl"] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("keylint"))
            .args(["scan", "--format", format])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut head = [0u8; 64];
        stdout.read_exact(&mut head).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: {stderr}");
    }
    // Through a real shell pipe, as users write it.
    let sh = format!(
        "{} scan --format jsonl {} | head -c 10 >/dev/null",
        assert_cmd::cargo::cargo_bin("keylint").display(),
        dir.path().display()
    );
    let out = Command::new("sh").args(["-c", &sh]).output().unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn dev_full_output_exits_two_with_a_message() {
    let (dir, _) = leak_tree();
    let bin = assert_cmd::cargo::cargo_bin("keylint");
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let to_file = Command::new(&bin)
        .args(["scan", "--format", "json", "-o", "/dev/full"])
        .arg(dir.path())
        .output()
        .unwrap();
    let to_stdout = Command::new(&bin)
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .stdout(full())
        .output()
        .unwrap();
    for (what, out) in [("-o /dev/full", to_file), ("stdout /dev/full", to_stdout)] {
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("keylint: error:") && err.contains("No space left"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn failed_report_write_leaves_no_partial_file() {
    if !is_root() || which("unshare").is_none() {
        eprintln!("note: needs root and unshare for a tiny tmpfs; disk-full test skipped");
        return;
    }
    // A 4 KiB filesystem cannot hold the report: the write fails part-way.
    let (dir, _) = leak_tree();
    let text: String = (0..200).map(|i| format!("t{i}={}\n", token(i))).collect();
    write(dir.path(), "many.env", text);
    let mnt = tempfile::tempdir().unwrap();
    let script = format!(
        "mount -t tmpfs -o size=4k none {mnt} || exit 99; echo old > {mnt}/old.json; \
         {bin} scan --format json -o {mnt}/report.json {tree}; rc=$?; ls -A {mnt}; exit $rc",
        mnt = mnt.path().display(),
        bin = assert_cmd::cargo::cargo_bin("keylint").display(),
        tree = dir.path().display()
    );
    let out = Command::new("unshare").args(["-m", "--", "sh", "-c", &script]).output().unwrap();
    if out.status.code() == Some(99)
        || String::from_utf8_lossy(&out.stderr).contains("unshare failed")
    {
        eprintln!("note: cannot mount a tmpfs here; disk-full test skipped");
        return;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("report.json") && err.contains("No space left"), "{err}");
    // Only the file that was there before: no report, no temporary file.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "old.json");
}

#[test]
fn json_is_byte_identical_at_1_2_and_8_threads() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    for d in 0..12 {
        for f in 0..20 {
            let text: String =
                (0..3).map(|k| format!("k{k} = \"{}\"\n", token(d * 7 + f * 3 + k))).collect();
            write(dir.path(), &format!("dir{d}/file{f}.env"), text);
        }
        write(dir.path(), &format!("dir{d}/big.txt"), "x".repeat(3000));
        write(dir.path(), &format!("dir{d}/bin.dat"), b"\0\x01\x02");
    }
    // Names that display alike (not UTF-8) with different secrets.
    for (i, name) in [&b"same\xff.env"[..], b"same\xfe.env"].iter().enumerate() {
        std::fs::write(
            dir.path().join(std::ffi::OsStr::from_bytes(name)),
            format!("T={}\n", token(i)),
        )
        .unwrap();
    }
    let run = |j: &str| {
        let out = keylint()
            .args(["scan", "--format", "json", "--max-file-size", "2K", "-j", j])
            .arg(dir.path())
            .assert()
            .code(1);
        normalized(&out.get_output().stdout)
    };
    let one = run("1");
    assert!(json(&one)["findings"].as_array().unwrap().len() > 700);
    assert!(!json(&one)["warnings"].as_array().unwrap().is_empty());
    for j in ["2", "8", "8", "2"] {
        assert!(run(j) == one, "output differs at -j {j}");
    }
}

#[test]
fn endless_stdin_is_cut_at_the_size_limit() {
    // Issue #7: `yes | keylint scan -` used to read until memory ran out.
    let sh = format!(
        "yes | {} scan - --format json --max-file-size 1M",
        assert_cmd::cargo::cargo_bin("keylint").display()
    );
    let out = assert_cmd::Command::new("sh")
        .args(["-c", &sh])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(json(&out.stdout)["stats"]["skipped_large"], 1);
    assert!(stderr.contains("keylint: warning: -: skipped"), "{stderr}");
    // Binary stdin is skipped like a binary file.
    let out = keylint()
        .args(["scan", "-", "--format", "json"])
        .write_stdin([&b"\0\x01"[..], token(0).as_bytes()].concat())
        .assert()
        .code(0);
    assert_eq!(json(&out.get_output().stdout)["stats"]["skipped_binary"], 1);
}

#[test]
fn control_characters_in_names_never_reach_the_terminal() {
    // Issue #7: a file name is content from the scanned tree; printed raw,
    // its escape sequences would drive the terminal of whoever reads the
    // report or the warnings.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "evil\x1b]0;owned\x07\x1b[2J.env", format!("T={}\n", token(0)));
    let big = write(dir.path(), "big\x1b[31m.txt", "x".repeat(4096));
    let out = keylint().args(["scan", "--max-file-size", "1K"]).arg(dir.path()).assert().code(1);
    let o = out.get_output();
    assert!(!o.stdout.contains(&0x1b) && !o.stdout.contains(&0x07), "{:?}", o.stdout);
    assert!(!o.stderr.contains(&0x1b), "{:?}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("evil\\u{1b}]0;owned\\u{7}"), "{stdout}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("big\\u{1b}[31m.txt: skipped"), "{stderr}");
    // JSON escapes them itself and keeps the name exact.
    let (report, _) = scan_json(&["--max-file-size", "1K"], dir.path(), 1);
    assert!(report["findings"][0]["path"].as_str().unwrap().contains("evil\x1b]0;owned\x07"));
    assert_eq!(report["warnings"][0]["path"], big.display().to_string());
}

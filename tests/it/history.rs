//! `keylint history` on repositories built here with the git CLI.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{GitRepo, age_key, json, keylint};

const DAY: i64 = 86_400;
const T0: i64 = 1_600_000_000; // 2020-09-13T12:26:40Z

/// Commit ids of `history_repo`, by name.
struct Built {
    repo: GitRepo,
    ids: BTreeMap<&'static str, String>,
}

/// Several branches, a merge, a rename, tags, a key added then deleted, the
/// same key in two files, a binary blob, an LFS pointer and a submodule entry.
fn history_repo() -> Built {
    let r = GitRepo::new();
    let mut ids = BTreeMap::new();
    r.write("README.md", "# demo\n").write("config/.env", format!("AGE_KEY={}\n", age_key(1)));
    ids.insert("c1", r.commit("Add config", "Alice", T0));
    // Same key at a second path; the first file edited (new blob, same key).
    r.write("deploy/keys.txt", format!("key: {}\n", age_key(1)))
        .write("config/.env", format!("# prod\nAGE_KEY={}\n", age_key(1)))
        .write("app/settings.py", format!("SOPS_AGE_KEY = \"{}\"\n", age_key(2)));
    ids.insert("c2", r.commit("Add deploy keys and settings", "Bob", T0 + DAY));
    // Added, then deleted in the next commit.
    r.write("tmp.txt", format!("{}\n", age_key(4)));
    ids.insert("c3", r.commit("Add scratch file", "Alice", T0 + 2 * DAY));
    r.remove("tmp.txt");
    ids.insert("c4", r.commit("Remove scratch file", "Alice", T0 + 3 * DAY));
    // A feature branch, merged later.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.py", format!("KEY = '{}'\n", age_key(3)));
    ids.insert("f1", r.commit("Feature work", "Carol", T0 + 4 * DAY));
    r.git(&["checkout", "-q", "main"]);
    // A rename, a binary blob holding a key, an LFS pointer, a submodule entry.
    r.git(&["mv", "config/.env", "config/prod.env"]);
    r.write("img.bin", [b"\x00\x01PNG\x00".as_slice(), age_key(9).as_bytes()].concat())
        .write(
            "big.psd",
            "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
        );
    let sub = ids["c1"].clone();
    r.git(&["add", "-A"]);
    r.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{sub},vendor/lib")]);
    ids.insert("c5", r.commit_index("Rename config, add assets", "Dave", T0 + 5 * DAY));
    r.git(&["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"]);
    ids.insert("merge", r.git(&["rev-parse", "HEAD"]));
    r.git(&["tag", "v1.0"]);
    // A commit reachable only from an annotated tag.
    r.git(&["checkout", "-q", "--orphan", "release"]);
    r.git(&["rm", "-rq", "--cached", "."]);
    for f in ["README.md", "config/prod.env", "deploy/keys.txt", "app/settings.py", "feature.py"] {
        r.remove(f);
    }
    r.remove("img.bin").remove("big.psd");
    r.write("release.txt", format!("{}\n", age_key(5)));
    ids.insert("tagged", r.commit("Release notes", "Erin", T0 + 6 * DAY));
    r.git(&["tag", "-a", "-m", "release", "release-1"]);
    r.git(&["checkout", "-q", "-f", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);
    // An unmerged branch.
    r.git(&["checkout", "-q", "-b", "wip"]);
    r.write("wip.txt", format!("{}\n", age_key(6)));
    ids.insert("wip", r.commit("WIP", "Frank", T0 + 7 * DAY));
    r.git(&["checkout", "-q", "main"]);
    Built { repo: r, ids }
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().expect("findings").iter().collect()
}

/// (path, secret) → commit id, for a report run with --show-secrets.
fn by_path(report: &Value) -> BTreeMap<(String, String), String> {
    let mut map = BTreeMap::new();
    for f in findings(report) {
        let text = |v: &Value| v.as_str().expect("a string").to_string();
        let key = (text(&f["path"]), text(&f["secret"]));
        let prev = map.insert(key.clone(), text(&f["commit"]["id"]));
        assert!(prev.is_none(), "{key:?} reported twice: {report:#}");
    }
    map
}

fn history_json(args: &[&str], repo: &std::path::Path) -> (i32, Value, String) {
    let out = keylint()
        .args(["history", "--format", "json", "--show-secrets"])
        .args(args)
        .arg(repo)
        .output()
        .expect("keylint runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = if out.stdout.is_empty() { Value::Null } else { json(&out.stdout) };
    (out.status.code().expect("exit code"), report, stderr)
}

#[test]
fn every_key_once_per_path_with_the_commit_that_introduced_it() {
    let b = history_repo();
    let (code, report, _) = history_json(&[], &b.repo.path());
    assert_eq!(code, 1);
    let got = by_path(&report);
    let want: BTreeMap<(String, String), String> = [
        ("config/.env", 1, "c1"),
        ("deploy/keys.txt", 1, "c2"),
        ("config/prod.env", 1, "c5"),
        ("app/settings.py", 2, "c2"),
        ("tmp.txt", 4, "c3"),
        ("feature.py", 3, "f1"),
        ("release.txt", 5, "tagged"),
        ("wip.txt", 6, "wip"),
    ]
    .into_iter()
    .map(|(p, seed, c)| ((p.to_string(), age_key(seed)), b.ids[c].clone()))
    .collect();
    assert_eq!(got, want, "{report:#}");

    let f = findings(&report).into_iter().find(|f| f["path"] == "config/.env").unwrap();
    assert_eq!(f["commit"]["author"], "Alice");
    assert_eq!(f["commit"]["email"], "alice@example.com");
    assert_eq!(f["commit"]["date"], "2020-09-13T12:26:40Z");
    assert_eq!(f["commit"]["summary"], "Add config");
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(1), Some(9)));
    let f = findings(&report).into_iter().find(|f| f["path"] == "feature.py").unwrap();
    assert_eq!(f["commit"]["author"], "Carol");
    assert_eq!(f["commit"]["date"], "2020-09-17T12:26:40Z");

    let stats = &report["stats"];
    assert_eq!(stats["commits"], 9, "{stats}");
    assert_eq!(stats["skipped_binary"], 1, "{stats}");
    // The LFS pointer and the submodule entry.
    assert_eq!(stats["skipped_other"], 2, "{stats}");
    assert!(stats["bytes"].as_u64().unwrap() > 0);
    // Unique text blobs: README, two .env versions, keys.txt, settings.py,
    // tmp.txt, feature.py, release.txt, wip.txt.
    assert_eq!(stats["blobs"], 9, "{stats}");
}

#[test]
fn branch_limits_the_walk() {
    let b = history_repo();
    let (code, report, _) = history_json(&["--branch", "main"], &b.repo.path());
    assert_eq!(code, 1);
    let paths: Vec<&str> = findings(&report).iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(!paths.contains(&"wip.txt") && !paths.contains(&"release.txt"), "{paths:?}");
    assert!(paths.contains(&"feature.py"), "{paths:?}");
    assert_eq!(report["stats"]["commits"], 7);
    let (code, _, err) = history_json(&["--branch", "no-such-branch"], &b.repo.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no-such-branch"), "{err}");
}

#[test]
fn since_and_range_scan_only_what_the_new_commits_introduce() {
    let b = history_repo();
    let r = &b.repo;
    let base = b.ids["merge"].clone();
    r.write("README.md", "# demo\nmore\n").write("new.txt", format!("{}\n", age_key(7)));
    let new = r.commit("Add new key", "Grace", T0 + 8 * DAY);

    let only_new = |report: &Value| {
        let got = by_path(report);
        let want: BTreeMap<_, _> =
            [(("new.txt".to_string(), age_key(7)), new.clone())].into_iter().collect();
        assert_eq!(got, want, "{report:#}");
    };
    let (code, report, _) = history_json(&["--since", &base], &r.path());
    assert_eq!(code, 1);
    only_new(&report);
    assert_eq!(report["stats"]["commits"], 1);
    assert_eq!(report["stats"]["blobs"], 2, "README and new.txt only");

    let (code, report, _) = history_json(&["--range", &format!("{base}..main")], &r.path());
    assert_eq!(code, 1);
    only_new(&report);

    let (code, report, _) = history_json(&["--since", "main"], &r.path());
    assert_eq!((code, report["stats"]["commits"].as_u64()), (0, Some(0)));

    let (code, _, err) = history_json(&["--since", "no-such-rev"], &r.path());
    assert_eq!(code, 2);
    assert!(err.contains("no-such-rev"), "{err}");
    let (code, _, err) = history_json(&["--range", "main"], &r.path());
    assert_eq!(code, 2);
    assert!(err.contains("A..B"), "{err}");
}

/// Issue 5: in a pull request's range, the suppressions its commits add are
/// listed with the commit that added each; what the base branch brought in
/// through a merge is not.
#[test]
fn suppressions_a_range_adds_are_listed_with_their_commit() {
    let r = GitRepo::new();
    r.write("app.py", "x = 1  # keylint:allow old marker, already reviewed\n");
    r.write("lib.py", "y = 2\n");
    r.commit("base", "Alice", T0);
    r.git(&["checkout", "-q", "-b", "feature"]);
    let key = age_key(11);
    r.write("app.py", format!("x = 1  # keylint:allow old marker, already reviewed\nk = \"{key}\"  # keylint:allow test-only key\n"));
    let marker = r.commit("add marker", "Bob", T0 + DAY);
    r.write(".keylint.toml", "[allowlist]\npaths = [\"vendor/\"]\n");
    let config = r.commit("allowlist vendor", "Bob", T0 + 2 * DAY);
    r.git(&["checkout", "-q", "main"]);
    r.write("lib.py", "y = 2\nz = 3  # gitleaks:allow from main\n");
    r.commit("main moves on", "Alice", T0 + 3 * DAY);
    r.git(&["checkout", "-q", "feature"]);
    r.git(&["merge", "-q", "--no-edit", "main"]);

    for args in [vec!["--since", "main"], vec!["--range", "main..feature"]] {
        let (code, report, _) = history_json(&args, &r.path());
        assert_eq!(code, 0, "the marked key is suppressed: {report:#}");
        let listed: Vec<(String, Value, String, String)> = report["suppressions_added"]
            .as_array()
            .expect("suppressions listed")
            .iter()
            .map(|s| {
                let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
                (f("path"), s["line"].clone(), f("kind"), f("commit"))
            })
            .collect();
        assert_eq!(
            listed,
            [
                (".keylint.toml".into(), Value::Null, "config".into(), config.clone()),
                ("app.py".into(), Value::from(2), "inline-marker".into(), marker.clone()),
            ],
            "{report:#}"
        );
        assert_eq!(report["suppressions_added"][1]["detail"], "keylint:allow test-only key");
        assert!(!report.to_string().contains(&key), "the secret must not be shown");
    }
    let out = keylint().args(["history", "--since", "main"]).arg(r.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Suppressions this change adds"), "{text}");
    assert!(text.contains(&format!("(commit {})", &marker[..12])), "{text}");
    // A full audit lists no "added" suppressions: there is no change to review.
    let (_, report, _) = history_json(&[], &r.path());
    assert!(report.get("suppressions_added").is_none_or(|v| v.as_array().unwrap().is_empty()));
}

#[test]
fn human_report_says_to_rotate_keys_found_in_history() {
    let r = GitRepo::new();
    r.write("a.txt", format!("{}\n", age_key(1)));
    r.commit("add", "Alice", T0);
    r.remove("a.txt");
    r.commit("remove", "Alice", T0 + DAY);
    let out = keylint().arg("history").arg(r.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("every clone"), "{text}");
    assert!(text.contains("Rotate it"), "{text}");
    assert!(text.contains("by Alice <alice@example.com> on 2020-09-13T12:26:40Z: add"), "{text}");
    assert!(!text.contains(&age_key(1)), "secret printed: {text}");
    // Not a terminal: no progress bar.
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let b = history_repo();
    let runs: Vec<Value> = ["1", "2", "4"]
        .iter()
        .map(|j| {
            let (_, mut v, _) = history_json(&["-j", j], &b.repo.path());
            v["stats"]["duration_ms"] = 0.into();
            v
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn bare_clones_worktrees_and_shallow_clones() {
    let b = history_repo();
    let (_, full, _) = history_json(&[], &b.repo.path());
    let n = findings(&full).len();
    let root = b.repo.dir.path();

    let bare = root.join("bare.git");
    b.repo.git(&["clone", "-q", "--mirror", ".", bare.to_str().unwrap()]);
    let (code, report, _) = history_json(&[], &bare);
    assert_eq!((code, findings(&report).len()), (1, n), "{report:#}");

    let wt = root.join("wt");
    b.repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "wip"]);
    let (code, report, _) = history_json(&[], &wt);
    assert_eq!((code, findings(&report).len()), (1, n));

    let shallow = root.join("shallow");
    let url = format!("file://{}", b.repo.path().display());
    b.repo.git(&["clone", "-q", "--depth", "1", &url, shallow.to_str().unwrap()]);
    let (code, report, err) = history_json(&[], &shallow);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("shallow clone"), "{err}");
    assert_eq!(report["stats"]["commits"], 1);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("history is incomplete"), "{warnings}");
}

#[test]
fn a_missing_object_is_a_warning_and_the_rest_is_scanned() {
    let r = GitRepo::new();
    r.write("a.txt", format!("{}\n", age_key(1))).write("b.txt", format!("{}\n", age_key(2)));
    r.commit("add", "Alice", T0);
    let blob = r.git(&["rev-parse", "HEAD:b.txt"]);
    let object = r.path().join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    std::fs::remove_file(object).expect("the blob is a loose object");
    let (code, report, err) = history_json(&[], &r.path());
    assert_eq!(code, 1, "{err}");
    let paths: Vec<&str> = findings(&report).iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["a.txt"]);
    assert!(err.contains(&blob), "the warning names the object: {err}");
}

#[test]
fn large_blobs_are_skipped_by_size() {
    let r = GitRepo::new();
    r.write("big.txt", format!("{}\n{}", age_key(1), "x".repeat(5000)));
    r.commit("add", "Alice", T0);
    let (code, report, err) = history_json(&["--max-file-size", "1K"], &r.path());
    assert_eq!(code, 0);
    assert_eq!(report["stats"]["skipped_large"], 1);
    assert!(err.contains("max-file-size"), "{err}");
}

#[test]
fn not_a_repository_is_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = keylint().arg("history").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a git repository"), "{err}");
}

#[test]
fn allowlisted_paths_are_not_reported() {
    let r = GitRepo::new();
    r.write("fixtures/a.txt", format!("{}\n", age_key(1)))
        .write("src/b.txt", format!("{}\n", age_key(2)))
        .write(".keylint.toml", "[allowlist]\npaths = [\"fixtures/\"]\n");
    r.commit("add", "Alice", T0);
    let (code, report, _) = history_json(&[], &r.path());
    assert_eq!(code, 1);
    let paths: Vec<&str> = findings(&report).iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["src/b.txt"]);
    assert_eq!(report["stats"]["skipped_allowlisted"], 1);
}

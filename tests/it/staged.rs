//! `keylint staged`: the index against HEAD, only the lines a commit adds.

use serde_json::Value;

use crate::common::{GitRepo, age_key, json, keylint};

fn staged(repo: &GitRepo) -> (i32, Value) {
    let out = keylint()
        .args(["staged", "--format", "json", "--show-secrets", "--repo"])
        .arg(repo.path())
        .output()
        .expect("keylint runs");
    (out.status.code().expect("exit code"), json(&out.stdout))
}

fn found(report: &Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert!(f["commit"].is_null(), "{f}");
            let text = |v: &Value| v.as_str().expect("a string").to_string();
            (text(&f["path"]), f["line"].as_u64().expect("a line"), text(&f["secret"]))
        })
        .collect()
}

#[test]
fn first_commit_is_scanned_against_the_empty_tree() {
    let r = GitRepo::new();
    r.write("src/a.txt", format!("x\nkey = {}\n", age_key(1)));
    r.git(&["add", "-A"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [("src/a.txt".into(), 2, age_key(1))]);
}

#[test]
fn only_lines_the_commit_adds_are_reported() {
    let r = GitRepo::new();
    r.write("a.txt", format!("old = {}\nb\nc\n", age_key(1)));
    r.commit("base", "Alice", 1_600_000_000);
    // An edit elsewhere in a file that already holds a key: nothing new.
    r.write("a.txt", format!("old = {}\nb changed\nc\n", age_key(1)));
    r.git(&["add", "a.txt"]);
    assert_eq!(staged(&r).0, 0);
    // A new key on an added line.
    r.write("a.txt", format!("old = {}\nb changed\nnew = {}\nc\n", age_key(1), age_key(2)));
    r.git(&["add", "a.txt"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [("a.txt".into(), 3, age_key(2))]);
}

#[test]
fn the_staged_blob_is_scanned_not_the_work_tree() {
    let r = GitRepo::new();
    r.write("a.txt", "clean\n");
    r.commit("base", "Alice", 1_600_000_000);
    // Clean in the index, a key in the work tree.
    r.write("a.txt", "clean\nmore\n");
    r.git(&["add", "a.txt"]);
    r.write("a.txt", format!("clean\nmore\n{}\n", age_key(1)));
    assert_eq!(staged(&r).0, 0);
    // A key in the index, removed from the work tree since.
    r.write("b.txt", format!("{}\n", age_key(2)));
    r.git(&["add", "b.txt"]);
    r.write("b.txt", "gone\n");
    let (code, report) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [("b.txt".into(), 1, age_key(2))]);
}

#[test]
fn deletions_and_renames_add_nothing() {
    let r = GitRepo::new();
    r.write("a.txt", format!("{}\n", age_key(1))).write("b.txt", format!("{}\n", age_key(2)));
    r.commit("base", "Alice", 1_600_000_000);
    r.git(&["rm", "-q", "a.txt"]);
    r.git(&["mv", "b.txt", "renamed.txt"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 0, "{report:#}");
    // A copy to a new path with an extra line: only that line is new.
    r.write("copy.txt", format!("{}\nfresh {}\n", age_key(2), age_key(3)));
    r.git(&["add", "copy.txt"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 1);
    let got = found(&report);
    assert!(got.contains(&("copy.txt".into(), 2, age_key(3))), "{got:?}");
}

#[test]
fn allowlisted_paths_and_inline_markers_are_honoured() {
    let r = GitRepo::new();
    r.write(".keylint.toml", "[allowlist]\npaths = [\"fixtures/\"]\n");
    r.commit("config", "Alice", 1_600_000_000);
    r.write("fixtures/k.txt", format!("{}\n", age_key(1)))
        .write("src/ok.py", format!("K = '{}'  # keylint:allow test key\n", age_key(2)));
    r.git(&["add", "-A"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stats"]["skipped_allowlisted"], 1);
    assert_eq!(report["stats"]["suppressed_inline"], 1);
}

#[test]
fn human_report_tells_the_committer_the_ways_out() {
    let r = GitRepo::new();
    r.write("a.env", format!("SOPS_AGE_KEY={}\n", age_key(1)));
    r.git(&["add", "-A"]);
    let out = keylint().args(["staged", "--repo"]).arg(r.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in ["a.env", "How to rotate", "keylint:allow", "baseline", "git commit --no-verify"] {
        assert!(text.contains(want), "{want:?} missing: {text}");
    }
    assert!(!text.contains(&age_key(1)), "secret printed: {text}");
}

#[test]
fn binary_and_submodule_entries_are_skipped() {
    let r = GitRepo::new();
    r.write("a.txt", "x\n");
    let base = r.commit("base", "Alice", 1_600_000_000);
    r.write("img.bin", [b"\x00PNG\x00".as_slice(), age_key(1).as_bytes()].concat());
    r.git(&["add", "img.bin"]);
    r.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{base},vendor/lib")]);
    let (code, report) = staged(&r);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["stats"]["skipped_binary"], 1);
}

#[test]
fn outside_a_repository_is_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = keylint().args(["staged", "--repo"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
    let out = keylint().arg("staged").current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_exact_rename_adds_nothing_and_nothing_is_written() {
    let r = GitRepo::new();
    r.write("src/a.txt", format!("{}\n", age_key(1))).write("b.txt", "b\n");
    r.commit("base", "Alice", 1_600_000_000);
    r.git(&["mv", "src/a.txt", "src/moved.txt"]);
    r.write("b.txt", format!("b\n{}\n", age_key(2)));
    r.git(&["add", "b.txt"]);
    let objects = |r: &GitRepo| {
        let out = r.git(&["count-objects", "-v"]);
        let index = std::fs::read(r.path().join(".git/index")).expect("index");
        (out, index)
    };
    let before = objects(&r);
    let (code, report) = staged(&r);
    assert_eq!(code, 1);
    assert_eq!(found(&report), [("b.txt".into(), 2, age_key(2))]);
    assert_eq!(objects(&r), before, "keylint staged wrote into the repository");
}

/// Issue 5: a change that waves a key through is visible to the reviewer.
#[test]
fn suppressions_the_commit_adds_are_listed() {
    let r = GitRepo::new();
    r.write("a.txt", "clean\n");
    r.commit("base", "Alice", 1_600_000_000);
    let key = age_key(3);
    r.write("a.txt", format!("clean\nkey = {key}  # keylint:allow test fixture, rotated\n"));
    r.write(".keylint.toml", "[allowlist]\npaths = [\"vendor/\"]\n");
    r.git(&["add", "-A"]);
    let (code, report) = staged(&r);
    assert_eq!(code, 0, "{report:#}");
    let listed = report["suppressions_added"].as_array().expect("suppressions listed");
    let kinds: Vec<&str> = listed.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["config", "inline-marker"], "{report:#}");
    assert_eq!(listed[1]["line"], 2);
    assert_eq!(listed[1]["detail"], "keylint:allow test fixture, rotated");
    assert!(!report.to_string().contains(&key), "the secret must not be shown");
    let out = keylint().args(["staged", "--repo"]).arg(r.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Suppressions this change adds"), "{text}");
}

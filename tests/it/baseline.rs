//! Baselines (issue 5): `keylint baseline` accepts the current findings;
//! `--baseline` hides them across edits, moves and renames, reports new keys,
//! and lists entries that no longer match as stale.

use std::path::Path;

use crate::{
    common::{json, keylint},
    keys::{acme_rules, acme_token, findings, put, repo_dir},
};

const BASELINE: &str = ".keylint-baseline.json";

fn write_baseline(dir: &Path) -> assert_cmd::assert::Assert {
    keylint().current_dir(dir).args(["baseline", "--rules"]).arg(acme_rules()).assert()
}

fn scan(dir: &Path) -> assert_cmd::assert::Assert {
    keylint()
        .current_dir(dir)
        .args(["scan", "--format", "json", "--baseline", BASELINE, "--rules"])
        .arg(acme_rules())
        .assert()
}

#[test]
fn baseline_round_trip_survives_moves_and_renames_and_reports_stale_entries() {
    let dir = repo_dir();
    let root = dir.path();
    let (old1, old2, new) = (acme_token(1), acme_token(2), acme_token(3));
    put(root, "a/one.env", &format!("A={old1}\n"));
    put(root, "b/two.py", &format!("import os\nB = \"{old2}\"\n"));

    // Create.
    write_baseline(root).code(0).stdout(predicates::str::contains("2 entries for 2 findings"));
    let text = std::fs::read_to_string(root.join(BASELINE)).unwrap();
    assert!(!text.contains(&old1) && !text.contains(&old2), "{text}");
    assert!(!text.contains("line") && !text.contains("acme_"), "{text}");
    let doc = json(text.as_bytes());
    assert_eq!(doc["version"], 1);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let mut fps: Vec<&str> = entries.iter().map(|e| e["fingerprint"].as_str().unwrap()).collect();
    let sorted = {
        let mut s = fps.clone();
        s.sort();
        s
    };
    assert_eq!(fps, sorted, "entries are sorted by fingerprint");
    fps.dedup();
    assert_eq!(fps.len(), 2);
    let mut paths: Vec<&str> = entries.iter().map(|e| e["paths"][0].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["a/one.env", "b/two.py"]);
    assert!(entries.iter().all(|e| e["rule_id"] == "acme-token"));

    // Rescan: everything accepted.
    let out = scan(root).code(0);
    let report = json(&out.get_output().stdout);
    assert_eq!(report["stats"]["suppressed_baseline"], 2);
    assert_eq!(report["stale_baseline"], serde_json::json!([]));

    // Add one key: only it is reported.
    put(root, "c/new.js", &format!("const k = '{new}';\n"));
    let out = scan(root).code(1);
    let found = findings(&out.get_output().stdout);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["path"], "c/new.js");

    // Move the old key ten lines down and rename its file: still accepted.
    std::fs::remove_file(root.join("a/one.env")).unwrap();
    put(root, "a/renamed.env", &format!("{}A={old1}\n", "# padding\n".repeat(10)));
    let out = scan(root).code(1);
    let found = findings(&out.get_output().stdout);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["path"], "c/new.js");
    assert_eq!(json(&out.get_output().stdout)["stats"]["suppressed_baseline"], 2);

    // Delete an old key: its entry is stale (a warning and the JSON list).
    std::fs::remove_file(root.join("b/two.py")).unwrap();
    std::fs::remove_file(root.join("c/new.js")).unwrap();
    let out = scan(root).code(0);
    let report = json(&out.get_output().stdout);
    let stale = report["stale_baseline"].as_array().unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0]["rule_id"], "acme-token");
    assert_eq!(stale[0]["paths"], serde_json::json!(["b/two.py"]));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("1 stale baseline entry matches no finding"), "{stderr}");
    assert!(report["warnings"].as_array().unwrap().iter().any(|w| w["path"] == BASELINE));
    // The human report counts the suppression too.
    let out = keylint()
        .current_dir(root)
        .args(["scan", "--baseline", BASELINE, "--rules"])
        .arg(acme_rules())
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("1 suppressed (1 baseline)"), "{text}");
}

#[test]
fn baseline_file_is_stable_wherever_it_is_written_from() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "x/a.env", &format!("A={}\nB={}\n", acme_token(7), acme_token(8)));
    put(root, "y/b.env", &format!("A={}\n", acme_token(7)));
    write_baseline(root).code(0);
    let first = std::fs::read(root.join(BASELINE)).unwrap();
    // From a subdirectory, scanning the parent, writing into the root.
    keylint()
        .current_dir(root.join("x"))
        .args(["baseline", "..", "--output", "../.keylint-baseline.json", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(0);
    assert_eq!(std::fs::read(root.join(BASELINE)).unwrap(), first);
    // One entry per fingerprint, with every path it was seen at.
    let doc = json(&first);
    let entries = doc["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries.iter().any(|e| e["paths"] == serde_json::json!(["x/a.env", "y/b.env"])),
        "{doc:#}"
    );
    // One entry per line, so branches adding entries merge cleanly.
    let text = String::from_utf8(first).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("\"fingerprint\"")).count(), 2);
}

#[test]
fn baseline_refuses_to_clobber_other_files() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "a.env", &format!("A={}\n", acme_token(5)));
    put(root, "notes.json", "{\"mine\": true}\n");
    let out = keylint()
        .current_dir(root)
        .args(["baseline", "-o", "notes.json", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("not a keylint baseline") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(root.join("notes.json")).unwrap(), "{\"mine\": true}\n");
    keylint()
        .current_dir(root)
        .args(["baseline", "-o", "notes.json", "--force", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(root.join("notes.json")).unwrap().contains("acme-token"));
    // A baseline may be rewritten without --force.
    keylint()
        .current_dir(root)
        .args(["baseline", "-o", "notes.json", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(0);
    // `--baseline` makes no sense when writing one.
    keylint().current_dir(root).args(["baseline", "--baseline", "notes.json"]).assert().code(2);
}

#[test]
fn missing_or_malformed_baseline_is_exit_two() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "a.env", &format!("A={}\n", acme_token(5)));
    let out =
        keylint().current_dir(root).args(["scan", "--baseline", "nope.json"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("nope.json: cannot read baseline"), "{err}");
    put(root, "bad.json", "{\"version\": 1,\n \"entries\": {}}\n");
    let out = keylint().current_dir(root).args(["scan", "--baseline", "bad.json"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("bad.json:2: not a keylint baseline"), "{err}");
    put(root, "report.json", "{\"version\": 1, \"findings\": [], \"stats\": {}, \"warnings\": []}");
    keylint().current_dir(root).args(["scan", "--baseline", "report.json"]).assert().code(2);
}

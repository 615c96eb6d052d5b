//! `keylint scan` on directory trees.

use crate::common::{copy_tree, fixture, github_token, json, keylint};

#[test]
fn demo_tree_reports_exactly_the_two_real_format_keys() {
    let out =
        keylint().args(["scan", "--format", "json"]).arg(fixture("trees/demo")).assert().code(1);
    let report = json(&out.get_output().stdout);
    let findings = report["findings"].as_array().unwrap();
    let mut providers: Vec<&str> =
        findings.iter().map(|f| f["provider"].as_str().unwrap()).collect();
    providers.sort();
    assert_eq!(providers, ["github", "openai"], "{report:#}");
    for f in findings {
        let secret = f["secret"].as_str().unwrap();
        assert!(secret.ends_with("…(redacted)"), "secret not redacted: {secret}");
        assert!(f["rotation"]["url"].as_str().unwrap().starts_with("https://"));
        assert!(!f["rotation"]["steps"].as_array().unwrap().is_empty());
        assert!(f["fingerprint"].as_str().unwrap().starts_with("sha256:"));
        assert!(f["commit"].is_null());
    }
    let gh = findings.iter().find(|f| f["provider"] == "github").unwrap();
    assert!(gh["path"].as_str().unwrap().ends_with(".env"));
    assert_eq!((gh["line"].as_u64(), gh["column"].as_u64()), (Some(3), Some(14)));
    assert_eq!(gh["validated"], "checksum");
    let oa = findings.iter().find(|f| f["provider"] == "openai").unwrap();
    assert!(oa["path"].as_str().unwrap().ends_with("app.py"));
    assert_eq!((oa["line"].as_u64(), oa["column"].as_u64()), (Some(7), Some(26)));
}

#[test]
fn show_secrets_prints_the_exact_secret() {
    let out = keylint()
        .args(["scan", "--format", "json", "--show-secrets"])
        .arg(fixture("trees/demo/.env"))
        .assert()
        .code(1);
    let report = json(&out.get_output().stdout);
    let secret = report["findings"][0]["secret"].as_str().unwrap();
    let env = std::fs::read_to_string(fixture("trees/demo/.env")).unwrap();
    assert!(env.contains(&format!("GITHUB_TOKEN={secret}\n")), "{secret}");
}

#[test]
fn wrong_checksum_is_not_reported_as_a_github_token() {
    let out = keylint()
        .args(["scan", "--format", "json", "--min-confidence", "low"])
        .arg(fixture("trees/bad-checksum"))
        .assert();
    let report = json(&out.get_output().stdout);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| !id.starts_with("github-")), "{ids:?}");
}

#[test]
fn clean_tree_exits_zero() {
    keylint().args(["scan"]).arg(fixture("trees/clean")).assert().code(0);
}

#[test]
fn missing_path_is_exit_two() {
    keylint()
        .args(["scan", "/nonexistent/keylint/path"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such file"));
}

#[test]
fn stdin_is_scanned() {
    let token = github_token("Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa");
    let out = keylint()
        .args(["scan", "-", "--format", "jsonl"])
        .write_stdin(format!("token: {token}\n"))
        .assert()
        .code(1);
    let line = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(line.lines().count(), 1);
    assert!(line.contains("\"path\":\"-\""));
    assert!(!line.contains(&token));
}

#[test]
fn gitignore_is_respected_unless_no_ignore() {
    let dir = copy_tree("trees/demo");
    std::fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
    let out = keylint().args(["scan", "--format", "json"]).arg(dir.path()).assert().code(1);
    assert_eq!(json(&out.get_output().stdout)["findings"].as_array().unwrap().len(), 1);
    let out = keylint()
        .args(["scan", "--format", "json", "--no-ignore"])
        .arg(dir.path())
        .assert()
        .code(1);
    assert_eq!(json(&out.get_output().stdout)["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn binary_and_large_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa");
    std::fs::write(dir.path().join("blob.bin"), format!("\0\0{token}")).unwrap();
    std::fs::write(dir.path().join("big.txt"), format!("{token}\n{}", "x".repeat(4096))).unwrap();
    let out = keylint()
        .args(["scan", "--format", "json", "--max-file-size", "1K"])
        .arg(dir.path())
        .assert()
        .code(0);
    let report = json(&out.get_output().stdout);
    assert_eq!(report["stats"]["skipped_binary"], 1);
    assert_eq!(report["stats"]["skipped_large"], 1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("max-file-size"));
}

#[test]
fn output_is_the_same_at_any_thread_count() {
    let runs: Vec<Vec<u8>> = ["1", "2", "8"]
        .iter()
        .map(|j| {
            let out = keylint()
                .args(["scan", "--format", "json", "-j", j])
                .arg(fixture("trees"))
                .assert();
            let mut v = json(&out.get_output().stdout);
            v["stats"]["duration_ms"] = 0.into();
            serde_json::to_vec(&v).unwrap()
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn inline_allow_hides_and_no_inline_allow_shows() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token("Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa");
    std::fs::write(
        dir.path().join("a.py"),
        format!("TOKEN = '{token}'  # keylint:allow test token\n"),
    )
    .unwrap();
    let out = keylint().args(["scan", "--format", "json"]).arg(dir.path()).assert().code(0);
    assert_eq!(json(&out.get_output().stdout)["stats"]["suppressed_inline"], 1);
    keylint().args(["scan", "--no-inline-allow"]).arg(dir.path()).assert().code(1);
}

#[test]
fn keys_inside_base64_are_found_at_the_outer_location() {
    use base64::Engine as _;
    let token = github_token("Zq8wLm3nPx7rTb2vKd9sYh4jWc6fNa");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{token}\n"));
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ntype: Opaque\ndata:\n  GITHUB_TOKEN: {encoded}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.yaml"), manifest).unwrap();
    let out = keylint()
        .args(["scan", "--format", "json", "--show-secrets"])
        .arg(dir.path())
        .assert()
        .code(1);
    let report = json(&out.get_output().stdout);
    let f = &report["findings"][0];
    assert_eq!(f["provider"], "github");
    assert_eq!(f["secret"], token.as_str());
    assert_eq!((f["line"].as_u64(), f["column"].as_u64()), (Some(7), Some(17)));
}

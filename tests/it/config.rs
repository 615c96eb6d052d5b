//! The project config `.keylint.toml` and `keylint init` (issue 5).

use std::path::Path;

use crate::{
    common::{json, keylint},
    keys::{acme_rules, acme_token, put, repo_dir, where_found},
};

fn scan_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = keylint()
        .current_dir(dir)
        .args(["scan", "--format", "json", "--rules"])
        .arg(acme_rules())
        .args(args)
        .assert();
    let code = out.get_output().status.code();
    assert!(matches!(code, Some(0 | 1)), "{:?}", out.get_output());
    json(&out.get_output().stdout)
}

fn paths(report: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect();
    p.sort();
    p
}

#[test]
fn allowlist_paths_are_gitignore_style_globs_relative_to_the_config() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, ".keylint.toml", "[allowlist]\npaths = [\"vendor/\", \"*.lock\", \"/docs/a.md\"]\n");
    for (i, f) in [
        "vendor/x.py",
        "src/vendor/y.py",
        "Cargo.lock",
        "sub/deps.lock",
        "docs/a.md",
        "src/docs/a.md",
        "src/app.py",
    ]
    .iter()
    .enumerate()
    {
        put(root, f, &format!("KEY={}\n", acme_token(100 + i as u64)));
    }
    let report = scan_json(root, &[]);
    assert_eq!(paths(&report), ["src/app.py", "src/docs/a.md"]);
    assert_eq!(report["stats"]["skipped_allowlisted"], 5);
    // Found by walking up from a subdirectory; paths still relative to the config.
    let report = scan_json(&root.join("src"), &["."]);
    assert_eq!(paths(&report), ["app.py", "docs/a.md"]);
    let report = scan_json(&root.join("src"), &["../docs", "../vendor", "../Cargo.lock"]);
    assert_eq!(paths(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(report["stats"]["skipped_allowlisted"], 3);
    // An absolute target works the same.
    let report = scan_json(Path::new("/"), &[root.to_str().unwrap()]);
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn allowlist_regexes_and_stopwords_apply_to_the_secret() {
    let dir = repo_dir();
    let root = dir.path();
    put(
        root,
        ".keylint.toml",
        "[allowlist]\nregexes = ['''^acme_TEST''']\nstopwords = [\"corpfix\"]\n",
    );
    put(root, "a.env", "A=acme_TESTk3Y9fQ2mZ7xW4vB8\nB=acme_k3Y9CorpFixfQ2mZ7xW4\n");
    let real = acme_token(3);
    // The regex is tried on the secret, not the line.
    put(root, "b.env", &format!("acme_TEST={real}\n"));
    let report = scan_json(root, &[]);
    assert_eq!(
        where_found(serde_json::to_vec(&report).unwrap().as_slice()),
        [("b.env".to_string(), 1)]
    );
    assert_eq!(report["stats"]["suppressed_allowlist"], 2);
}

#[test]
fn disabled_rules_and_min_confidence() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "a.env", &format!("A={}\n", acme_token(1)));
    put(root, ".keylint.toml", "disabled_rules = [\"acme-token\"]\n");
    assert_eq!(scan_json(root, &[])["findings"], serde_json::json!([]));
    // A misspelt id is an error naming the file, the line and the key.
    put(root, ".keylint.toml", "# rules\ndisabled_rules = [\"acme-tokn\"]\n");
    let out =
        keylint().current_dir(root).args(["scan", "--rules"]).arg(acme_rules()).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains(".keylint.toml:2: disabled_rules: no rule with id \"acme-tokn\""),
        "{err}"
    );

    // min_confidence: the config's default, the command line's override.
    put(root, "corp.env", "CORP=corp_Q7mZ2xW9vB4nR8tK3pL6\n");
    let corp = r#"
min_confidence = "high"

[provider]
id = "corp"
name = "Corp"
env_var = "CORP_TOKEN"
rotate_url = "https://corp.invalid/tokens"
rotate = ["Revoke it on the Corp tokens page."]

[[rule]]
id = "corp-token"
name = "Corp token"
pattern = '''\b(corp_[A-Za-z0-9]{20})\b'''
keywords = ["corp_"]
confidence = "medium"
references = ["https://corp.invalid/docs"]
examples = ["corp_k3Y9fQ2mZ7xW4vB8nR5t"]
"#;
    put(root, ".keylint.toml", corp);
    let report = scan_json(root, &[]);
    assert_eq!(paths(&report), ["a.env"], "medium is under the project's minimum");
    // The command line's minimum wins; the config's own rule works ...
    let report = scan_json(root, &["--min-confidence", "medium"]);
    assert_eq!(paths(&report), ["a.env", "corp.env"]);
    let corp = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "corp.env")
        .unwrap()
        .clone();
    assert_eq!(corp["rule_id"], "corp-token");
    assert_eq!(corp["provider"], "corp");
    assert_eq!(corp["rotation"]["url"], "https://corp.invalid/tokens");
    assert_eq!(corp["rotation"]["env_var"], "CORP_TOKEN");
    // ... without reporting its own example in the config itself, however
    // the config is named ...
    let report = scan_json(
        root,
        &["--min-confidence", "medium", "--config", ".keylint.toml", ".keylint.toml"],
    );
    assert_eq!(paths(&report), Vec::<String>::new());
    // ... while elsewhere the example is reported like any key.
    std::fs::copy(root.join(".keylint.toml"), root.join("copy.toml")).unwrap();
    let report = scan_json(root, &["--min-confidence", "medium", "copy.toml"]);
    assert_eq!(paths(&report), ["copy.toml"]);
}

#[test]
fn explicit_config_file_is_used_instead_of_discovery() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "app/a.env", &format!("A={}\n", acme_token(1)));
    put(root, ".keylint.toml", "[allowlist]\npaths = [\"app/\"]\n");
    put(root, "ci/strict.toml", "[allowlist]\npaths = []\n");
    assert_eq!(scan_json(root, &[])["findings"], serde_json::json!([]));
    let report = scan_json(root, &["--config", "ci/strict.toml"]);
    assert_eq!(paths(&report), ["app/a.env"]);
    // A bare file name: its allowlist is relative to the working directory.
    // (Fixed with issue 5: the empty parent path made the path allowlist inert.)
    let report = scan_json(root, &["--config", ".keylint.toml"]);
    assert_eq!(paths(&report), Vec::<String>::new());
    assert_eq!(report["stats"]["skipped_allowlisted"], 1);
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = repo_dir();
    let root = dir.path();
    put(root, "a.env", "A=1\n");
    for (text, want) in [
        ("[allowlist]\npaths = [\"ok/\"]\nbogus = 1\n", ".keylint.toml:3: invalid config"),
        ("min_confidence = \"extreme\"\n", ".keylint.toml:1: invalid config"),
        (
            "[allowlist]\n\nregexes = ['a(']\n",
            ".keylint.toml:3: allowlist.regexes: regex does not compile",
        ),
        ("[allowlist]\npaths = [\"a/{b\"]\n", ".keylint.toml:2: allowlist.paths: bad glob"),
        (
            "[provider]\nid = \"corp\"\nname = \"Corp\"\nrotate = [\"x\"]\n\n[[rule]]\nid = \"corp-x\"\nname = \"X\"\npattern = '''(a('''\nkeywords = [\"aa\"]\nconfidence = \"low\"\nexamples = [\"aa\"]\n",
            ".keylint.toml:7: rule corp-x: pattern does not compile",
        ),
    ] {
        put(root, ".keylint.toml", text);
        let out = keylint().current_dir(root).args(["scan"]).assert().code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
}

#[test]
fn init_writes_a_starter_config_and_never_overwrites_without_force() {
    let dir = repo_dir();
    let root = dir.path();
    keylint().current_dir(root).arg("init").assert().code(0);
    let text = std::fs::read_to_string(root.join(".keylint.toml")).unwrap();
    assert!(text.contains("[allowlist]") && text.contains("# disabled_rules"), "{text}");
    // It is a working config that changes nothing.
    put(root, "a.env", &format!("A={}\n", acme_token(1)));
    assert_eq!(paths(&scan_json(root, &[])), ["a.env"]);
    // Not overwritten without --force.
    put(root, ".keylint.toml", "# mine\n");
    let out = keylint().current_dir(root).arg("init").assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("already exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(root.join(".keylint.toml")).unwrap(), "# mine\n");
    keylint().current_dir(root).args(["init", "--force"]).assert().code(0);
    assert_eq!(std::fs::read_to_string(root.join(".keylint.toml")).unwrap(), text);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn keylint_scans_itself_clean() {
    // The repository's own .keylint.toml excludes fixtures/ and rules/ (fake
    // keys on purpose); everything else must be free of findings.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = keylint().current_dir(root).args(["scan", "--format", "json", "."]).assert();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(out.get_output().status.code(), Some(0));
}

#[test]
fn config_is_found_when_the_target_is_a_bare_file_name() {
    // Fixed with issue 5: `keylint scan app.py` searched for the config from
    // the empty parent path "" and silently found none.
    let dir = repo_dir();
    let root = dir.path();
    put(root, "a.env", &format!("A={}\n", acme_token(1)));
    put(root, ".keylint.toml", "disabled_rules = [\"acme-token\"]\n");
    assert_eq!(scan_json(root, &["a.env"])["findings"], serde_json::json!([]));
    assert_eq!(scan_json(root, &["./a.env"])["findings"], serde_json::json!([]));
}

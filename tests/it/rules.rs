//! The rule pack and rule loading.

use std::collections::{BTreeSet, HashSet};

use keylint::rules::{check::check_rules, load::builtin};

use crate::common::{fixture, json, keylint};

#[test]
fn every_builtin_example_and_negative_example_holds() {
    let set = builtin().expect("built-in rules load");
    let all: Vec<usize> = (0..set.rules.len()).collect();
    let problems = check_rules(&set, &all);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn builtin_rules_are_complete() {
    let set = builtin().unwrap();
    let mut ids = HashSet::new();
    let mut problems = Vec::new();
    for rule in &set.rules {
        assert!(ids.insert(&rule.id), "duplicate id {}", rule.id);
        let at = format!("{} ({})", rule.id, rule.source);
        if rule.examples.len() < 2 {
            problems.push(format!("{at}: fewer than 2 examples"));
        }
        if rule.negative_examples.len() < 2 {
            problems.push(format!("{at}: fewer than 2 negative examples"));
        }
        if rule.references.is_empty() {
            problems.push(format!("{at}: no reference"));
        }
        let p = set.provider_of(rule);
        if !rule.source.file.starts_with(&format!("{}.", p.id)) {
            problems.push(format!("{at}: provider id {} differs from its file name", p.id));
        }
        if set.rotate_url(rule).is_none_or(|u| !u.starts_with("https://")) {
            problems.push(format!("{at}: no https rotation URL"));
        }
        let steps = set.rotate_steps(rule);
        if steps.is_empty() || steps.len() > 4 {
            problems.push(format!("{at}: needs 1-4 rotation steps"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_check_passes_on_builtin_rules() {
    keylint().args(["rules", "check"]).assert().code(0).stdout(predicates::str::contains("ok:"));
}

#[test]
fn rules_list_json_counts() {
    let out = keylint().args(["rules", "list", "--format", "json"]).assert().code(0);
    let v = json(&out.get_output().stdout);
    let providers = v["providers"].as_array().unwrap();
    let ids: BTreeSet<&str> = providers.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), providers.len());
    assert_eq!(v["counts"]["providers"].as_u64().unwrap() as usize, providers.len());
    for p in providers {
        assert!(p["rotate_url"].is_string(), "{p}");
    }
}

#[test]
fn malformed_rule_files_exit_two_naming_file_line_and_id() {
    for (file, want) in [
        ("bad-regex.toml", ":7: rule bad-regex-key: pattern does not compile"),
        ("duplicate-id.toml", ":16: rule dup-key: duplicate id"),
        (
            "unknown-field.toml",
            ":12: invalid rule file: rule unknown-key: unknown field `secret_grup`",
        ),
        ("missing-group.toml", ":6: rule missing-group-key: secret_group = 2"),
        ("no-example.toml", ":6: rule no-example-key: needs at least one example"),
    ] {
        let path = fixture(&format!("rules/{file}"));
        let out = keylint()
            .args(["scan", "--rules"])
            .arg(&path)
            .arg(fixture("trees/clean"))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(err.contains(file) && err.contains(want), "{file}: {err}");
        keylint().args(["rules", "check"]).arg(&path).assert().code(2);
    }
}

#[test]
fn rules_check_reports_failing_examples() {
    let out = keylint()
        .args(["rules", "check"])
        .arg(fixture("rules/failing-example.toml"))
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("rule failing-key: example 1 is not reported"), "{text}");
    assert!(text.contains("rule failing-key: negative example 1 is reported"), "{text}");
}

#[test]
fn user_rules_find_their_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.cfg"), "acme = acme_k3Y9fQ2mZ7xW4vB8nR5t\n").unwrap();
    let out = keylint()
        .args(["scan", "--format", "json", "--rules"])
        .arg(fixture("rules/acme.toml"))
        .arg(dir.path())
        .assert()
        .code(1);
    assert_eq!(json(&out.get_output().stdout)["findings"][0]["rule_id"], "acme-token");
}

#[test]
fn explain_gives_rotation_steps() {
    let out = keylint().args(["explain", "github"]).assert().code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("How to rotate"), "{text}");
    keylint().args(["explain", "no-such-rule"]).assert().code(2);
}

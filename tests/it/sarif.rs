//! SARIF and GitHub annotations (issue 5): schema-valid, shaped for GitHub
//! code scanning, repository-relative, and never holding a secret.

use std::{collections::HashSet, path::Path};

use serde_json::Value;

use crate::{
    common::{fixture, json, keylint},
    keys::{acme_rules, acme_token, put, repo_dir},
};

fn validator() -> jsonschema::Validator {
    let schema = json(&std::fs::read(fixture("schemas/sarif-schema-2.1.0.json")).expect("schema"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> =
        v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF is not schema-valid:\n{}\n{doc:#}", errors.join("\n"));
}

fn sarif(dir: &Path, args: &[&str]) -> (Value, String) {
    let out = keylint()
        .current_dir(dir)
        .args(["scan", "--format", "sarif", "--rules"])
        .arg(acme_rules())
        .args(args)
        .assert()
        .code(1);
    let o = out.get_output();
    let all =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (json(&o.stdout), all)
}

/// A tree with awkward names, a non-ASCII prefix and a key spanning lines.
fn awkward_tree() -> (tempfile::TempDir, Vec<String>) {
    let dir = repo_dir();
    let keys: Vec<String> = (10..14).map(acme_token).collect();
    put(dir.path(), "src/app.py", &format!("TOKEN = \"{}\"\n", keys[0]));
    put(dir.path(), "conf/my key#1,a:b.env", &format!("ACME_TOKEN={}\n", keys[1]));
    put(dir.path(), "docs/über.md", &format!("é😀 = \"{}\"\n", keys[2]));
    put(dir.path(), "deep/er/x.yaml", &format!("k: {}\nagain: {}\n", keys[3], keys[0]));
    (dir, keys)
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let v = validator();
    let (dir, _) = awkward_tree();
    let (doc, _) = sarif(dir.path(), &[]);
    assert_valid(&v, &doc);
    // Files outside the repository root get absolute file:// URIs, still valid.
    let other = repo_dir();
    let (doc, _) = sarif(other.path(), &[dir.path().to_str().unwrap()]);
    assert_valid(&v, &doc);
    let uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert!(uri.starts_with("file:///"), "{uri}");
    // The bundled fixture with the built-in rules, and a clean scan.
    let out =
        keylint().args(["scan", "--format", "sarif"]).arg(fixture("trees/demo")).assert().code(1);
    assert_valid(&v, &json(&out.get_output().stdout));
    let out =
        keylint().args(["scan", "--format", "sarif"]).arg(fixture("trees/clean")).assert().code(0);
    let clean = json(&out.get_output().stdout);
    assert_valid(&v, &clean);
    assert_eq!(clean["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(clean["runs"][0]["tool"]["driver"]["rules"], serde_json::json!([]));
    // The check can fail: a wrong level is rejected.
    let mut bad = doc.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad));
}

#[test]
fn sarif_is_shaped_for_github_code_scanning() {
    let (dir, _) = awkward_tree();
    let (doc, _) = sarif(dir.path(), &[]);
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "keylint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "one descriptor per rule with results");
    let ids: HashSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rules.len(), "rule ids are unique");
    let rule = &rules[0];
    assert_eq!(rule["id"], "acme-token");
    assert_eq!(rule["shortDescription"]["text"], "Acme API token");
    assert!(rule["fullDescription"]["text"].as_str().unwrap().len() > 10);
    assert_eq!(rule["helpUri"], "https://acme.invalid/settings/tokens");
    let md = rule["help"]["markdown"].as_str().unwrap();
    assert!(md.contains("<https://acme.invalid/settings/tokens>"), "{md}");
    assert!(md.contains("Revoke the token in Acme's settings."), "{md}");
    assert!(md.contains("`ACME_TOKEN`"), "{md}");
    assert!(rule["help"]["text"].as_str().unwrap().contains("Create a replacement"));
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    let props = &rule["properties"];
    assert!(props["tags"].as_array().unwrap().contains(&"security".into()));
    assert_eq!(props["precision"], "high");
    assert!(props["security-severity"].as_str().unwrap().parse::<f64>().unwrap() >= 9.0);

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let mut uris = Vec::new();
    for r in results {
        assert_eq!(r["ruleId"], "acme-token");
        assert_eq!(r["ruleIndex"], 0);
        assert_eq!(r["level"], "error");
        let fp = r["partialFingerprints"]["keylint/v1"].as_str().unwrap();
        assert!(fp.starts_with("sha256:") && fp.len() == 71);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        uris.push(loc["artifactLocation"]["uri"].as_str().unwrap().to_string());
    }
    uris.sort();
    assert_eq!(
        uris,
        [
            "conf/my%20key%231,a%3Ab.env",
            "deep/er/x.yaml",
            "deep/er/x.yaml",
            "docs/%C3%BCber.md",
            "src/app.py"
        ]
    );
    // The same key twice has the same fingerprint.
    let fp_of = |uri: &str, line: u64| {
        results
            .iter()
            .find(|r| {
                let l = &r["locations"][0]["physicalLocation"];
                l["artifactLocation"]["uri"] == uri && l["region"]["startLine"] == line
            })
            .map(|r| r["partialFingerprints"]["keylint/v1"].clone())
            .unwrap()
    };
    assert_eq!(fp_of("src/app.py", 1), fp_of("deep/er/x.yaml", 2));
    assert_ne!(fp_of("src/app.py", 1), fp_of("deep/er/x.yaml", 1));
    // Columns in UTF-16 code units; the end column is exclusive.
    let region = |uri: &str| {
        results
            .iter()
            .map(|r| &r["locations"][0]["physicalLocation"])
            .find(|l| l["artifactLocation"]["uri"] == uri)
            .map(|l| l["region"].clone())
            .unwrap()
    };
    assert_eq!(
        region("docs/%C3%BCber.md"),
        serde_json::json!({"startLine": 1, "startColumn": 8, "endLine": 1, "endColumn": 33})
    );
    assert_eq!(
        region("src/app.py"),
        serde_json::json!({"startLine": 1, "startColumn": 10, "endLine": 1, "endColumn": 35})
    );
    assert_eq!(run["columnKind"], "utf16CodeUnits");
}

#[test]
fn sarif_paths_are_relative_to_the_repository_root_from_a_subdirectory() {
    let (dir, _) = awkward_tree();
    let (doc, _) = sarif(&dir.path().join("src"), &["."]);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let a = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(a["uri"], "src/app.py");
    assert_eq!(a["uriBaseId"], "%SRCROOT%");
}

#[test]
fn no_secret_in_sarif_or_annotations_even_with_show_secrets() {
    let (dir, keys) = awkward_tree();
    for format in ["sarif", "github"] {
        for extra in [&[][..], &["--show-secrets"][..]] {
            let out = keylint()
                .current_dir(dir.path())
                .args(["scan", "--format", format, "--rules"])
                .arg(acme_rules())
                .args(extra)
                .assert()
                .code(1);
            let o = out.get_output();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(all.len() > 200, "{all}");
            for k in &keys {
                assert!(!all.contains(k.as_str()), "{format} {extra:?} leaks {k}:\n{all}");
                assert!(!all.contains(&k[5..]), "{format} {extra:?} leaks part of {k}");
            }
        }
    }
    // The bundled demo fixture with the built-in rules: its two keys never appear.
    let env = std::fs::read_to_string(fixture("trees/demo/.env")).unwrap();
    let gh = env.lines().find_map(|l| l.strip_prefix("GITHUB_TOKEN=")).unwrap().to_string();
    let py = std::fs::read_to_string(fixture("trees/demo/app.py")).unwrap();
    let start = py.find("sk-proj-").unwrap();
    let oa = py[start..].split('"').next().unwrap().to_string();
    for format in ["sarif", "github"] {
        let out = keylint()
            .args(["scan", "--show-secrets", "--format", format])
            .arg(fixture("trees/demo"))
            .assert()
            .code(1);
        let o = out.get_output();
        let all =
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(all.contains("openai") || all.contains("OpenAI"), "{all}");
        assert!(!all.contains(&gh) && !all.contains(&oa), "{format} leaks a demo key:\n{all}");
    }
}

#[test]
fn github_annotations_are_escaped_workflow_commands() {
    let (dir, keys) = awkward_tree();
    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "github", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines.iter().all(|l| l.starts_with("::error file=")), "{text}");
    let message = "Acme API token (acme-token, high confidence). Rotate it at \
                   https://acme.invalid/settings/tokens and load the replacement from ACME_TOKEN.";
    assert!(
        text.contains(&format!(
            "::error file=conf/my key#1%2Ca%3Ab.env,line=1,endLine=1,col=12,endColumn=36,\
         title=keylint%3A Acme API token::{message}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("::error file=docs/über.md,line=1,endLine=1,col=8,endColumn=32,title="),
        "{text}"
    );
    assert!(!text.contains(&keys[0]));
}

#[test]
fn findings_spanning_lines_have_a_multi_line_region() {
    let dir = repo_dir();
    let body = "Zk3Y9fQ2mZ7xW4vB8nR5tP1sL6dH0jC2";
    put(
        dir.path(),
        "corp.toml",
        &format!(
            r#"[provider]
id = "corp"
name = "Corp"
rotate_url = "https://corp.invalid/keys"
rotate = ["Revoke it at the Corp keys page."]

[[rule]]
id = "corp-block-key"
name = "Corp block key"
pattern = '''(?s)(-----BEGIN CORP KEY-----\n[A-Za-z0-9]{{32}}\n-----END CORP KEY-----)'''
keywords = ["BEGIN CORP KEY"]
confidence = "medium"
references = ["https://corp.invalid/docs"]
examples = ["-----BEGIN CORP KEY-----\n{body}\n-----END CORP KEY-----"]
"#
        ),
    );
    put(
        dir.path(),
        "k.pem",
        &format!("x\n-----BEGIN CORP KEY-----\n{body}\n-----END CORP KEY-----\n"),
    );
    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "sarif", "--rules", "corp.toml", "k.pem"])
        .assert()
        .code(1);
    let doc = json(&out.get_output().stdout);
    assert_valid(&validator(), &doc);
    let r = &doc["runs"][0]["results"][0];
    assert_eq!(r["level"], "warning");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 2, "startColumn": 1, "endLine": 4, "endColumn": 23})
    );
    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "github", "--rules", "corp.toml", "k.pem"])
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("::warning file=k.pem,line=2,endLine=4,title="), "{text}");
    assert!(!text.contains(body));
}

//! Inline suppression markers in each file syntax (issue 5): every marker
//! form hides exactly the finding it is about, and nothing else.

use crate::{
    common::{json, keylint},
    keys::{acme_rules, acme_token, put, repo_dir, where_found},
};

/// (file, text with `{K}` for a fresh key each time, lines still reported).
const CASES: &[(&str, &str, &[u64])] = &[
    (
        "app.py",
        r#"A = "{K}"  # keylint:allow test fixture
# keylint:allow
B = "{K}"
# keylint:allow

C = "{K}"
D = "{K}"  # gitleaks:allow
E = "{K}"  # pragma: allowlist secret
# pragma: allowlist nextline secret
F = "{K}"
G = "{K}"  # keylint:allow acme-token rotated in 2023
H = "{K}"  # keylint:allow neon-api-key only that rule
I = "{K}"  # keylint:allow
J = "{K}"
# gitleaks:allow
K = "{K}"
L = "{K}"
"#,
        // C: marker two lines up; H: marker for another rule; J: the marker
        // above ends a code line; K: gitleaks:allow is same-line only; L: none.
        &[6, 12, 14, 16, 17],
    ),
    (
        "web/app.js",
        r#"const a = "{K}"; // keylint:allow
/* keylint:allow */
const b = "{K}";
const c = "{K}"; /* keylint:allow acme-token test */
// keylint:allow
// unrelated comment
const d = "{K}";
const e = "{K}";
"#,
        &[7, 8],
    ),
    (
        "deploy/values.yaml",
        r#"a: {K}  # keylint:allow
# keylint:allow
b: "{K}"
c: {K}  # pragma: allowlist secret
d: {K}
"#,
        &[5],
    ),
    (
        "deploy.sh",
        r#"#!/bin/sh
export A={K}  # keylint:allow
  # keylint:allow reason: CI fixture
export B={K}
export C={K}  # gitleaks:allow
curl -H "Authorization: {K}" https://acme.invalid/
"#,
        &[6],
    ),
    (
        ".env",
        r#"# keylint:allow
A={K}
B={K} # keylint:allow
C={K}
# pragma: allowlist nextline secret
D={K}
"#,
        &[4],
    ),
    (
        "conf/app.xml",
        r#"<config>
  <!-- keylint:allow -->
  <key>{K}</key>
  <key>{K}</key> <!-- keylint:allow acme-token test -->
  <key>{K}</key>
</config>
"#,
        &[5],
    ),
    (
        "conf/app.properties",
        r#"# keylint:allow
a.key={K}
! keylint:allow
b.key={K}
c.key={K}
"#,
        &[5],
    ),
    (
        "db/seed.sql",
        r#"-- keylint:allow
INSERT INTO keys VALUES ('{K}');
INSERT INTO keys VALUES ('{K}'); -- keylint:allow
INSERT INTO keys VALUES ('{K}');
"#,
        &[4],
    ),
    (
        "conf/app.ini",
        r#"; keylint:allow
key = {K}
other = {K}
"#,
        &[3],
    ),
];

/// Fills each `{K}` with a fresh key; returns the text and the key count.
fn fill(template: &str, seed: &mut u64) -> (String, usize) {
    let parts: Vec<&str> = template.split("{K}").collect();
    let mut out = String::from(parts[0]);
    for p in &parts[1..] {
        *seed += 1;
        out.push_str(&acme_token(*seed));
        out.push_str(p);
    }
    (out, parts.len() - 1)
}

#[test]
fn each_marker_suppresses_exactly_its_finding_in_every_syntax() {
    let dir = repo_dir();
    let mut seed = 0;
    let mut keys = 0;
    let mut expected = Vec::new();
    for (file, template, lines) in CASES {
        let (text, n) = fill(template, &mut seed);
        put(dir.path(), file, &text);
        keys += n;
        expected.extend(lines.iter().map(|l| (file.to_string(), *l)));

        // Each file on its own, so a failure names the syntax.
        let out = keylint()
            .current_dir(dir.path())
            .args(["scan", "--format", "json", "--rules"])
            .arg(acme_rules())
            .arg(file)
            .assert();
        let found = where_found(&out.get_output().stdout);
        let want: Vec<(String, u64)> = lines.iter().map(|l| (file.to_string(), *l)).collect();
        assert_eq!(found, want, "{file}:\n{text}");
        let stats = &json(&out.get_output().stdout)["stats"];
        assert_eq!(stats["suppressed_inline"].as_u64(), Some((n - lines.len()) as u64), "{file}");
    }
    expected.sort();

    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(1);
    let mut found = where_found(&out.get_output().stdout);
    found.sort();
    assert_eq!(found, expected);
    let suppressed = keys - expected.len();

    // The human summary counts what the markers hid.
    let out =
        keylint().current_dir(dir.path()).args(["scan", "--rules"]).arg(acme_rules()).assert();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains(&format!("{suppressed} suppressed ({suppressed} inline)")), "{text}");

    // --no-inline-allow shows every key.
    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "--no-inline-allow", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(1);
    assert_eq!(where_found(&out.get_output().stdout).len(), keys);
    assert_eq!(json(&out.get_output().stdout)["stats"]["suppressed_inline"], 0);
}

#[test]
fn a_marker_in_a_string_does_not_cover_the_next_line() {
    let dir = repo_dir();
    let key = acme_token(99);
    put(
        dir.path(),
        "a.py",
        &format!("K = \"{key}\"\nX = 'keylint:allow'\nY = \"{}\"\n", acme_token(98)),
    );
    let out = keylint()
        .current_dir(dir.path())
        .args(["scan", "--format", "json", "--rules"])
        .arg(acme_rules())
        .assert()
        .code(1);
    // Line 2 is a code line, not a comment of its own: line 3 stays reported.
    assert_eq!(
        where_found(&out.get_output().stdout),
        [("a.py".to_string(), 1), ("a.py".to_string(), 3)]
    );
}

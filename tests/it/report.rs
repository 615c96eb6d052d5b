//! Output formats.

use crate::common::{fixture, keylint};

#[test]
fn human_report_groups_by_file_and_gives_rotation_advice() {
    let out = keylint().args(["scan"]).arg(fixture("trees/demo")).assert().code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains(".env\n"), "{text}");
    assert!(text.contains("app.py\n"), "{text}");
    assert!(text.contains("How to rotate what was found"), "{text}");
    assert!(text.contains("Revoke or regenerate at https://"), "{text}");
    assert!(text.contains("…(redacted)"), "{text}");
    assert!(text.contains("^^^"), "{text}");
    assert!(text.contains("2 secrets in 2 files"), "{text}");
    assert!(!text.contains('\x1b'), "colour with NO_COLOR: {text}");
    let env = std::fs::read_to_string(fixture("trees/demo/.env")).unwrap();
    let token = env.lines().find_map(|l| l.strip_prefix("GITHUB_TOKEN=")).unwrap();
    assert!(!text.contains(token));
}

#[test]
fn color_always_uses_ansi() {
    let out =
        keylint().args(["scan", "--color", "always"]).arg(fixture("trees/demo")).assert().code(1);
    assert!(out.get_output().stdout.contains(&b'\x1b'));
}

#[test]
fn output_file_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    keylint()
        .args(["scan", "--format", "json", "-o"])
        .arg(&path)
        .arg(fixture("trees/demo"))
        .assert()
        .code(1)
        .stdout("");
    let meta = std::fs::metadata(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert!(meta.len() > 0);
}

#[test]
fn unwritable_output_is_exit_two() {
    keylint()
        .args(["scan", "--format", "json", "-o", "/dev/full"])
        .arg(fixture("trees/demo"))
        .assert()
        .code(2);
    keylint()
        .args(["scan", "-o", "/nonexistent-dir/r.json"])
        .arg(fixture("trees/demo"))
        .assert()
        .code(2);
}

//! `keylint hook install`: a plain git pre-commit hook that runs `keylint
//! staged`.
//!
//! The hook goes where git looks for it: `core.hooksPath` when set (relative to
//! the work tree, as git reads it), else the `hooks` directory of the common
//! git dir (shared by all worktrees). A different existing hook is never
//! replaced without `force`; the file is written atomically (temporary file,
//! then rename) and made executable.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use git2::Repository;

/// The first line after the shebang of every hook keylint writes.
pub const HOOK_MARKER: &str = "# keylint pre-commit hook";

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// A new hook was written.
    New(PathBuf),
    /// An earlier keylint hook, or with `force` another hook, was replaced.
    Replaced(PathBuf),
    /// The same hook was already there.
    Unchanged(PathBuf),
}

impl Installed {
    /// Where the hook is.
    pub fn path(&self) -> &Path {
        match self {
            Installed::New(p) | Installed::Replaced(p) | Installed::Unchanged(p) => p,
        }
    }
}

/// Why the hook was not installed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Another tool's hook is there.
    #[error(
        "{path} already exists and is not keylint's hook; run `keylint staged` from it, \
         or replace it with `keylint hook install --force`"
    )]
    Exists {
        /// The existing hook.
        path: PathBuf,
    },
    /// The repository has no place for hooks git would run.
    #[error("{0}")]
    Config(String),
    /// Reading or writing the hook failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The directory git runs this repository's hooks from.
pub fn hooks_dir(repo: &Repository) -> Result<PathBuf, HookError> {
    let config = repo.config().map_err(|e| HookError::Config(e.message().to_string()))?;
    match config.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => Ok(p),
        // Git runs hooks from the top of the work tree (the git dir when bare).
        Ok(p) => Ok(repo.workdir().unwrap_or_else(|| repo.path()).join(p)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(repo.commondir().join("hooks")),
        Err(e) => Err(HookError::Config(format!("core.hooksPath: {}", e.message()))),
    }
}

/// The hook script: runs `keylint` at `exe` (or on PATH if it moved).
pub fn script(exe: &Path) -> String {
    let quoted = format!("'{}'", exe.to_string_lossy().replace('\'', r"'\''"));
    format!(
        r#"#!/bin/sh
{HOOK_MARKER}, written by `keylint hook install`.
# Scans what this commit adds (the index, not the work tree) and stops the
# commit if it adds a secret. Last resort to skip it once: git commit --no-verify
keylint={quoted}
if [ ! -x "$keylint" ]; then
  keylint=keylint
  if ! command -v keylint >/dev/null 2>&1; then
    echo "keylint pre-commit hook: keylint is not installed (was {quoted}); install it, or remove $0" >&2
    exit 1
  fi
fi
exec "$keylint" staged
"#
    )
}

/// Installs the pre-commit hook for `exe`.
pub fn install(repo: &Repository, exe: &Path, force: bool) -> Result<Installed, HookError> {
    let dir = hooks_dir(repo)?;
    let path = dir.join("pre-commit");
    let want = script(exe);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HookError::Io { path, source }
    };
    let replacing = match std::fs::read(&path) {
        Ok(existing) if existing == want.as_bytes() && is_executable(&path) => {
            return Ok(Installed::Unchanged(path));
        }
        Ok(existing) => {
            let ours = existing
                .split(|&b| b == b'\n')
                .nth(1)
                .is_some_and(|l| String::from_utf8_lossy(l).starts_with(HOOK_MARKER));
            if !ours && !force {
                return Err(HookError::Exists { path });
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is still someone's hook.
            if std::fs::symlink_metadata(&path).is_ok() && !force {
                return Err(HookError::Exists { path });
            }
            false
        }
        Err(e) => return Err(HookError::Io { path, source: e }),
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let tmp = dir.join(format!(".pre-commit.keylint-{}.tmp", std::process::id()));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o755);
        let mut f = opts.open(&tmp)?;
        f.write_all(want.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(HookError::Io { path, source: e });
    }
    Ok(if replacing { Installed::Replaced(path) } else { Installed::New(path) })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_the_path() {
        let s = script(Path::new("/opt/it's here/keylint"));
        assert!(s.starts_with("#!/bin/sh\n# keylint pre-commit hook"));
        assert!(s.contains(r"keylint='/opt/it'\''s here/keylint'"));
        assert!(s.contains("exec \"$keylint\" staged"));
    }
}

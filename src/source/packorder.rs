//! Where objects lie in a repository's pack files, read from the pack
//! indexes (`objects/pack/*.idx`, version 2), so the history scan can read
//! blobs in pack order.
//!
//! Most blobs in a pack are deltas against another blob stored near them.
//! Read in commit order, each blob makes libgit2 rebuild its delta chain
//! with little help from its cache of delta bases; read in pack order the
//! bases are still cached. On git/git, one thread reading all 165k blobs
//! took 34 s in random order and 4.1 s in descending pack offset.
//!
//! Read-only; an index that cannot be read just leaves its objects unordered.

use std::path::Path;

use super::history::Id;

/// The indexes of a repository's packs.
pub struct PackOrder {
    /// Raw `.idx` files (version 2), in file name order.
    indexes: Vec<Vec<u8>>,
}

/// Header of a version-2 pack index.
const MAGIC: [u8; 8] = [0xff, b't', b'O', b'c', 0, 0, 0, 2];
const FANOUT: usize = 8;
const IDS: usize = FANOUT + 256 * 4;

impl PackOrder {
    /// Reads the pack indexes of the object directory `objects`.
    pub fn read(objects: &Path) -> PackOrder {
        let mut names: Vec<_> = std::fs::read_dir(objects.join("pack"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let indexes = names
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|b| b.len() >= IDS && b[..8] == MAGIC && Self::count(b).is_some())
            .collect();
        PackOrder { indexes }
    }

    /// Number of objects of a well-formed index (None if its tables do not fit).
    fn count(idx: &[u8]) -> Option<usize> {
        let n = u32_at(idx, FANOUT + 255 * 4)? as usize;
        // ids, CRCs and 4-byte offsets, then the large-offset table and trailer.
        (idx.len() >= IDS + n * 28).then_some(n)
    }

    /// A sort key putting objects in pack order, each pack's objects at
    /// descending offsets (a delta's base lies at a lower offset), packs in
    /// name order, and objects in no pack last.
    pub fn key(&self, id: &Id) -> (usize, std::cmp::Reverse<u64>) {
        for (p, idx) in self.indexes.iter().enumerate() {
            if let Some(offset) = find(idx, &id.0) {
                return (p, std::cmp::Reverse(offset));
            }
        }
        (usize::MAX, std::cmp::Reverse(0))
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The pack offset of `id` in a version-2 index.
fn find(idx: &[u8], id: &[u8; 20]) -> Option<u64> {
    let n = PackOrder::count(idx)?;
    let first = usize::from(id[0]);
    let lo = if first == 0 { 0 } else { u32_at(idx, FANOUT + (first - 1) * 4)? as usize };
    let hi = (u32_at(idx, FANOUT + first * 4)? as usize).min(n);
    let ids = &idx[IDS..IDS + n * 20];
    let (mut lo, mut hi) = (lo, hi);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match ids[mid * 20..mid * 20 + 20].cmp(&id[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                let small = u32_at(idx, IDS + n * 24 + mid * 4)?;
                if small & 0x8000_0000 == 0 {
                    return Some(u64::from(small));
                }
                let at = IDS + n * 28 + (small & 0x7fff_ffff) as usize * 8;
                return Some(u64::from_be_bytes(idx.get(at..at + 8)?.try_into().ok()?));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn offsets_agree_with_git_show_index() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        for i in 0..5 {
            std::fs::write(d.join("a.txt"), format!("line\n{}", "x\n".repeat(i * 10))).unwrap();
            std::fs::write(d.join(format!("f{i}.txt")), format!("file {i}\n")).unwrap();
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        git(d, &["repack", "-adq"]);
        let objects = d.join(".git/objects");
        let order = PackOrder::read(&objects);
        assert_eq!(order.indexes.len(), 1);
        let idx = std::fs::read_dir(objects.join("pack"))
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "idx"))
            .unwrap()
            .path();
        let listed = std::process::Command::new("git")
            .arg("show-index")
            .stdin(std::fs::File::open(idx).unwrap())
            .output()
            .unwrap();
        let listed = String::from_utf8(listed.stdout).unwrap();
        let mut count = 0;
        for line in listed.lines() {
            let mut parts = line.split(' ');
            let offset: u64 = parts.next().unwrap().parse().unwrap();
            let oid = git2::Oid::from_str(parts.next().unwrap()).unwrap();
            assert_eq!(order.key(&Id::of(oid)), (0, std::cmp::Reverse(offset)));
            count += 1;
        }
        assert!(count >= 15, "{listed}");
        let absent = Id::of(git2::Oid::from_str(&"ab".repeat(20)).unwrap());
        assert_eq!(order.key(&absent), (usize::MAX, std::cmp::Reverse(0)));
        // A damaged index is ignored, not trusted.
        assert!(PackOrder::read(&d.join("no-such-dir")).indexes.is_empty());
    }
}

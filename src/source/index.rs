//! A minimal read-only reader of git's index file (versions 2 to 4): each
//! entry's path, mode, blob id and stage, and the cache-tree extension
//! (`TREE`), which records the tree id of every directory whose entries have
//! not changed since the tree was last written.
//!
//! It exists for speed: `keylint staged` compares the index with HEAD by
//! skipping every directory whose cached tree id equals HEAD's, as git does,
//! instead of walking HEAD's whole tree. It does not verify the file's
//! checksum. Split indexes (`link`) and sparse indexes (`sdir`) are reported
//! as unsupported, and the caller uses libgit2 instead.

use super::history::Id;

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Path relative to the repository root, `/`-separated.
    pub path: Vec<u8>,
    /// File mode (`0o100644`, `0o100755`, `0o120000`, `0o160000`).
    pub mode: u32,
    /// Blob (or submodule commit) id.
    pub id: [u8; 20],
    /// Merge stage (0 unless the entry is in conflict).
    pub stage: u8,
}

/// One directory of the cache tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheTree {
    /// The directory's name (empty for the root).
    pub name: Vec<u8>,
    /// The tree id, if still valid.
    pub id: Option<[u8; 20]>,
    /// Subdirectories.
    pub children: Vec<CacheTree>,
}

impl CacheTree {
    /// A subdirectory by name.
    pub fn child(&self, name: &[u8]) -> Option<&CacheTree> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn valid_id(&self) -> Option<Id> {
        self.id.map(Id)
    }
}

/// A parsed index.
#[derive(Debug, Default)]
pub struct RawIndex {
    /// Entries, sorted by path (then stage).
    pub entries: Vec<IndexEntry>,
    /// The cache tree, if the index has one.
    pub tree: Option<CacheTree>,
    /// The index uses an extension this reader does not follow.
    pub unsupported: bool,
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// Git's offset varint (index v4 path prefixes).
fn varint(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut c = *data.first()?;
    let mut val = usize::from(c & 127);
    while c & 128 != 0 {
        i += 1;
        c = *data.get(i)?;
        val = val.checked_add(1)?.checked_mul(128)? + usize::from(c & 127);
    }
    Some((val, i + 1))
}

/// Parses an index file; None if it is not one this reader understands.
pub fn parse(data: &[u8]) -> Option<RawIndex> {
    if data.len() < 32 || &data[..4] != b"DIRC" {
        return None;
    }
    let version = be32(data, 4)?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = be32(data, 8)? as usize;
    let end = data.len() - 20; // the trailing checksum
    let mut index =
        RawIndex { entries: Vec::with_capacity(count.min(1 << 20)), ..Default::default() };
    let mut pos = 12;
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..count {
        let mode = be32(data, pos + 24)?;
        let id: [u8; 20] = data.get(pos + 40..pos + 60)?.try_into().ok()?;
        let flags = be16(data, pos + 60)?;
        let mut name_at = pos + 62;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return None;
            }
            name_at += 2;
        }
        let stage = ((flags >> 12) & 3) as u8;
        let path = if version == 4 {
            let (strip, used) = varint(data.get(name_at..end)?)?;
            let start = name_at + used;
            let nul = memchr::memchr(0, data.get(start..end)?)?;
            let mut path = prev.get(..prev.len().checked_sub(strip)?)?.to_vec();
            path.extend_from_slice(&data[start..start + nul]);
            pos = start + nul + 1;
            path
        } else {
            let nul = memchr::memchr(0, data.get(name_at..end)?)?;
            let path = data[name_at..name_at + nul].to_vec();
            // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
            pos += (name_at - pos + nul + 8) & !7;
            path
        };
        if version == 4 {
            prev.clone_from(&path);
        }
        index.entries.push(IndexEntry { path, mode, id, stage });
    }
    while pos + 8 <= end {
        let sig = &data[pos..pos + 4];
        let size = be32(data, pos + 4)? as usize;
        let body = data.get(pos + 8..(pos + 8).checked_add(size)?.min(end))?;
        match sig {
            b"TREE" => index.tree = Some(cache_tree(body, &mut 0)?),
            b"link" | b"sdir" => index.unsupported = true,
            _ => {}
        }
        pos += 8 + size;
    }
    Some(index)
}

/// One cache-tree node and its subtree, in pre-order.
fn cache_tree(data: &[u8], pos: &mut usize) -> Option<CacheTree> {
    let field = |pos: &mut usize, stop: u8| {
        let rest = data.get(*pos..)?;
        let n = memchr::memchr(stop, rest)?;
        *pos += n + 1;
        Some(&rest[..n])
    };
    let name = field(pos, 0)?.to_vec();
    let entries: i64 = std::str::from_utf8(field(pos, b' ')?).ok()?.parse().ok()?;
    let subtrees: usize = std::str::from_utf8(field(pos, b'\n')?).ok()?.parse().ok()?;
    let id = if entries >= 0 {
        let id: [u8; 20] = data.get(*pos..*pos + 20)?.try_into().ok()?;
        *pos += 20;
        Some(id)
    } else {
        None
    };
    let children =
        (0..subtrees).map(|_| cache_tree(data, pos)).collect::<Option<Vec<CacheTree>>>()?;
    Some(CacheTree { name, id, children })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: u32, path: &[u8], prev: &[u8]) -> Vec<u8> {
        let mut e = vec![0u8; 24];
        e.extend_from_slice(&0o100644u32.to_be_bytes());
        e.extend_from_slice(&[0; 12]);
        e.extend_from_slice(&[7; 20]);
        e.extend_from_slice(&(path.len() as u16).to_be_bytes());
        if v == 4 {
            let common = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
            e.push((prev.len() - common) as u8);
            e.extend_from_slice(&path[common..]);
            e.push(0);
        } else {
            e.extend_from_slice(path);
            let len = (62 + path.len() + 8) & !7;
            e.resize(len, 0);
        }
        e
    }

    fn index(v: u32, paths: &[&[u8]], ext: &[u8]) -> Vec<u8> {
        let mut d = b"DIRC".to_vec();
        d.extend_from_slice(&v.to_be_bytes());
        d.extend_from_slice(&(paths.len() as u32).to_be_bytes());
        let mut prev: &[u8] = b"";
        for p in paths {
            d.extend(entry(v, p, prev));
            prev = p;
        }
        d.extend_from_slice(ext);
        d.extend_from_slice(&[0; 20]);
        d
    }

    #[test]
    fn reads_entries_of_every_version_and_the_cache_tree() {
        let mut tree = b"TREE".to_vec();
        let mut body = b"\x002 1\n".to_vec();
        body.extend_from_slice(&[1; 20]);
        body.extend_from_slice(b"src\x00-1 0\n");
        tree.extend_from_slice(&(body.len() as u32).to_be_bytes());
        tree.extend(body);
        for v in [2, 3, 4] {
            let data = index(v, &[b"a.txt", b"src/lib.rs"], &tree);
            let idx = parse(&data).expect("parses");
            let paths: Vec<&[u8]> = idx.entries.iter().map(|e| e.path.as_slice()).collect();
            assert_eq!(paths, [&b"a.txt"[..], b"src/lib.rs"], "v{v}");
            assert_eq!(idx.entries[1].mode, 0o100644);
            let t = idx.tree.expect("cache tree");
            assert_eq!(t.id, Some([1; 20]));
            assert_eq!(t.child(b"src").expect("src").id, None);
        }
        assert!(parse(b"not an index at all, not at all").is_none());
        let mut link = b"link".to_vec();
        link.extend_from_slice(&0u32.to_be_bytes());
        assert!(parse(&index(2, &[b"a"], &link)).expect("parses").unsupported);
    }

    #[test]
    fn varints_are_gits_offset_encoding() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x80, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0x81, 0x7f]), Some((383, 2)));
    }
}

//! PMTiles v3: a header, a root directory, leaf directories and the tiles,
//! each found by its Hilbert tile id. Read with positioned reads, so the
//! threads drawing maps share the file without a lock; leaf directories
//! are kept once read.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// An open PMTiles file.
pub struct PmTiles {
    file: File,
    header: Header,
    root: Vec<Entry>,
    leaves: Mutex<HashMap<u64, Arc<Vec<Entry>>>>,
    /// The zoom levels it holds, lowest and highest.
    pub zooms: (u8, u8),
}

/// What the reader needs of the 127-byte header.
struct Header {
    root: (u64, u64),
    leaves_offset: u64,
    data_offset: u64,
    internal_gzip: bool,
    tile_gzip: bool,
}

/// A directory entry: a run of `run` tiles from `id` (all with the same
/// bytes), or with `run` 0 a leaf directory.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    id: u64,
    offset: u64,
    length: u64,
    run: u64,
}

/// Compression codes of the specification.
const NONE: u8 = 1;
const GZIP: u8 = 2;
/// Tile type codes: the maps decode PNG and JPEG.
const PNG: u8 = 2;
const JPEG: u8 = 3;

impl PmTiles {
    /// Opens `path`; an error says what in it cannot be read.
    pub fn open(path: &Path) -> Result<PmTiles, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let mut h = [0u8; 127];
        file.read_exact_at(&mut h, 0)
            .map_err(|_| "not a PMTiles file (shorter than its header)".to_string())?;
        if &h[..7] != b"PMTiles" || h[7] != 3 {
            return Err(format!("not a PMTiles version 3 file (version {})", h[7]));
        }
        let u = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8 bytes"));
        let compression = |code: u8, what: &str| match code {
            0 | NONE => Ok(false),
            GZIP => Ok(true),
            3 => Err(format!(
                "its {what} are brotli-compressed, which is not supported"
            )),
            4 => Err(format!(
                "its {what} are zstd-compressed, which is not supported"
            )),
            c => Err(format!("its {what} have an unknown compression ({c})")),
        };
        match h[99] {
            PNG | JPEG => {}
            1 => return Err("it holds vector tiles (MVT), not raster images".into()),
            4 => return Err("it holds WebP tiles; PNG or JPEG are supported".into()),
            t => {
                return Err(format!(
                    "it holds tiles of type {t}; PNG or JPEG are supported"
                ))
            }
        }
        let header = Header {
            root: (u(8), u(16)),
            leaves_offset: u(40),
            data_offset: u(56),
            internal_gzip: compression(h[97], "directories")?,
            tile_gzip: compression(h[98], "tiles")?,
        };
        let mut p = PmTiles {
            file,
            header,
            root: Vec::new(),
            leaves: Mutex::new(HashMap::new()),
            zooms: (h[100], h[101]),
        };
        let (offset, length) = p.header.root;
        p.root = p
            .directory(offset, length)
            .ok_or("its root directory cannot be read")?;
        Ok(p)
    }

    /// The bytes of the tile at zoom `z`, column `x`, row `y` from the north.
    pub fn raw(&self, z: u8, x: u32, y: u32) -> Option<Vec<u8>> {
        let coord = ::pmtiles::TileCoord::new(z, x, y).ok()?;
        let id = ::pmtiles::TileId::from(coord).value();
        let mut dir = None::<Arc<Vec<Entry>>>;
        // The specification allows leaves of leaves; three levels reach
        // any tile of a planet-sized file.
        for _ in 0..4 {
            let entries = dir.as_deref().map_or(&self.root[..], |d| &d[..]);
            let e = find(entries, id)?;
            if e.run > 0 {
                let bytes = self.read(self.header.data_offset + e.offset, e.length)?;
                return if self.header.tile_gzip {
                    gunzip(&bytes)
                } else {
                    Some(bytes)
                };
            }
            dir = Some(self.leaf(e.offset, e.length)?);
        }
        None
    }

    /// The leaf directory at `offset` in the leaves' section, read once.
    fn leaf(&self, offset: u64, length: u64) -> Option<Arc<Vec<Entry>>> {
        let cached = self.lock_leaves().get(&offset).cloned();
        if let Some(d) = cached {
            return Some(d);
        }
        let d = Arc::new(self.directory(self.header.leaves_offset + offset, length)?);
        self.lock_leaves().insert(offset, d.clone());
        Some(d)
    }

    fn lock_leaves(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Vec<Entry>>>> {
        self.leaves.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The directory stored at `offset`, decompressed and decoded.
    fn directory(&self, offset: u64, length: u64) -> Option<Vec<Entry>> {
        let bytes = self.read(offset, length)?;
        let bytes = if self.header.internal_gzip {
            gunzip(&bytes)?
        } else {
            bytes
        };
        decode_directory(&bytes)
    }

    fn read(&self, offset: u64, length: u64) -> Option<Vec<u8>> {
        // A directory or tile is small; a length beyond 256 MiB is a broken file.
        if length > 1 << 28 {
            return None;
        }
        let mut buf = vec![0; length as usize];
        self.file.read_exact_at(&mut buf, offset).ok()?;
        Some(buf)
    }
}

/// The entry holding tile `id`: the last one starting at or before it, if
/// it is a leaf or its run covers `id`.
fn find(entries: &[Entry], id: u64) -> Option<Entry> {
    let i = entries.partition_point(|e| e.id <= id).checked_sub(1)?;
    let e = entries[i];
    (e.run == 0 || id < e.id + e.run).then_some(e)
}

/// A directory's entries: their count, then the ids (as differences), the
/// run lengths, the lengths and the offsets (0: right after the previous
/// entry; else the offset plus one), each as varints.
fn decode_directory(bytes: &[u8]) -> Option<Vec<Entry>> {
    let mut at = 0;
    let mut next = || varint(bytes, &mut at);
    let n = usize::try_from(next()?).ok()?;
    if n > bytes.len() {
        return None;
    }
    let mut entries = vec![
        Entry {
            id: 0,
            offset: 0,
            length: 0,
            run: 0
        };
        n
    ];
    let mut id = 0u64;
    for e in entries.iter_mut() {
        id = id.checked_add(next()?)?;
        e.id = id;
    }
    for e in entries.iter_mut() {
        e.run = next()?;
    }
    for e in entries.iter_mut() {
        e.length = next()?;
    }
    for i in 0..n {
        let v = next()?;
        entries[i].offset = match (v, i) {
            (0, i) if i > 0 => entries[i - 1].offset + entries[i - 1].length,
            (0, _) => return None,
            (v, _) => v - 1,
        };
    }
    Some(entries)
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PMTiles file of every tile of zooms 0–7 (21,845 tiles, so the
    /// writer puts most of them in leaf directories), each tile's bytes
    /// its own "z/x/y".
    fn every_tile_to_zoom_7(path: &Path) {
        let file = File::create(path).unwrap();
        let mut w = ::pmtiles::PmTilesWriter::new(::pmtiles::TileType::Png)
            .max_zoom(7)
            .create(file)
            .unwrap();
        for z in 0..=7u8 {
            for x in 0..1u32 << z {
                for y in 0..1u32 << z {
                    let c = ::pmtiles::TileCoord::new(z, x, y).unwrap();
                    w.add_tile(c, format!("{z}/{x}/{y}").as_bytes()).unwrap();
                }
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn every_tile_is_found_through_root_and_leaf_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pmtiles");
        every_tile_to_zoom_7(&path);
        let p = PmTiles::open(&path).unwrap();
        assert_eq!(p.zooms, (0, 7));
        assert!(
            p.root.iter().any(|e| e.run == 0),
            "the test file should have leaf directories"
        );
        for z in 0..=7u8 {
            for x in 0..1u32 << z {
                for y in 0..1u32 << z {
                    let got = p.raw(z, x, y).map(|b| String::from_utf8(b).unwrap());
                    assert_eq!(got.as_deref(), Some(format!("{z}/{x}/{y}").as_str()));
                }
            }
        }
        assert_eq!(p.raw(8, 0, 0), None);
        assert_eq!(p.raw(3, 8, 0), None);
    }

    #[test]
    fn runs_of_equal_tiles_are_shared_and_gaps_are_empty() {
        // Entries: tiles 5–7 one run, a leaf at 10, tile 20 alone.
        let e = |id, run| Entry {
            id,
            offset: 0,
            length: 1,
            run,
        };
        let entries = [e(5, 3), e(10, 0), e(20, 1)];
        assert_eq!(find(&entries, 4), None);
        assert_eq!(find(&entries, 7), Some(entries[0]));
        assert_eq!(find(&entries, 8), None);
        assert_eq!(find(&entries, 15), Some(entries[1]));
        assert_eq!(find(&entries, 21), None);
    }

    #[test]
    fn a_vector_or_unreadable_file_is_refused_saying_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.pmtiles");
        let mut w = ::pmtiles::PmTilesWriter::new(::pmtiles::TileType::Mvt)
            .create(File::create(&path).unwrap())
            .unwrap();
        w.add_tile(::pmtiles::TileCoord::new(0, 0, 0).unwrap(), b"x")
            .unwrap();
        w.finalize().unwrap();
        let err = PmTiles::open(&path).err().unwrap();
        assert!(err.contains("vector tiles"), "{err}");
        std::fs::write(&path, b"PMTiles").unwrap();
        let err = PmTiles::open(&path).err().unwrap();
        assert!(err.contains("shorter than its header"), "{err}");
    }
}
